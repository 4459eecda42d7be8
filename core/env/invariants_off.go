//go:build !invariants

package env

// Invariants reports whether expensive invariant checks are compiled in (build tag
// "invariants", on in CI, sim sweeps and fuzzing).
const Invariants = false
