package conf

// Limits on what one parse may do. Real nats-server configurations are a few kilobytes,
// nest a handful of levels deep and include a few files; the bounds are far above that and
// exist so that a hostile or broken input (a fuzzer's, or `include /dev/zero`) fails with a
// positioned error instead of exhausting the stack, memory or time.
const (
	// maxFileBytes bounds each file read, the top-level one included. The default reader
	// stops reading past it, so including an endless device fails instead of hanging.
	maxFileBytes = 16 << 20

	// maxDepth bounds the nesting of maps and arrays (across includes), because the parser
	// recurses once per level and a goroutine stack overflow cannot be recovered.
	maxDepth = 100

	// maxIncludeDepth bounds how many includes may be open at once. Cycles are caught
	// precisely; this only stops absurd chains of distinct files.
	maxIncludeDepth = 32

	// maxIncludes bounds the includes processed by one parse: a file that includes another
	// twice, which includes another twice, ... would otherwise read 2^depth files.
	maxIncludes = 1000
)
