package account

// SubjectTransform is a stream's subject transform (a source's or mirror's
// subject_transforms, a stream's subject_transform): the mapping engine's rewrite, mapping
// functions allowed, with JetStream's conventions for empty sides.
type SubjectTransform struct{ t *transform }

// NewSubjectTransform parses a transform; an empty from stands for '>' and an empty to
// leaves a matching subject as it is.
func NewSubjectTransform(from, to string) (*SubjectTransform, error) {
	if from == "" {
		from = ">"
	}
	if to == "" {
		to = from
	}
	t, err := newTransform(from, to, false)
	if err != nil {
		return nil, err
	}
	return &SubjectTransform{t: t}, nil
}

// Map rewrites subj when it matches the transform's source; ok is false otherwise (and
// when the rewrite is not a publish subject).
func (s *SubjectTransform) Map(subj string) (string, bool) {
	return s.t.mapBytes([]byte(subj))
}
