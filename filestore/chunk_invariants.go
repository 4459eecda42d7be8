//go:build invariants

package filestore

// seqChunkMax: small under the invariants build, see chunk_default.go.
const seqChunkMax = 16
