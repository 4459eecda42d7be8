package workload

import "hash/crc32"

// castagnoliTable is CRC-32C, the checksum of the filestore's and the raft WAL's records; the
// checkers recompute it independently of the code under test.
var castagnoliTable = crc32.MakeTable(crc32.Castagnoli)
