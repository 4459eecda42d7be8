package filestore

// Recovery is what a file store's recovery kept and dropped, handed to Config.Recovered so a
// checker can judge the verdicts against the bytes on disk, independently of the scan that
// made them: every kept record must pass its checksum, and every byte of a block that recovery
// neither kept nor left as zeros must be covered by a reported Damage (a torn tail also cut).
type Recovery struct {
	// Kept lists every record replayed as intact, in block and file order. Offsets are those
	// of the block file as recovery left it (a corrected header is written back in place).
	Kept []KeptRecord
	// Dropped lists what recovery found broken: records skipped, bytes skipped, torn tails
	// cut, unusable or repaired block headers, corrected record headers.
	Dropped []Damage
	// Uncommitted lists the messages recovery removed as members of an atomic batch whose
	// batch record was not on disk (intact records, kept above, then deleted).
	Uncommitted []uint64
}

// KeptRecord is one record recovery kept.
type KeptRecord struct {
	Block  uint32
	Offset int64
	Length int64
	Kind   string // "msg", "commit", "marker", "erased", "snapend" or "batch"
	Seq    uint64 // the header's sequence field (the last sequence for commit records)
}

var kindNames = map[uint8]string{kindMsg: "msg", kindCommit: "commit", kindMarker: "marker", kindErased: "erased", kindSnapEnd: "snapend", kindBatch: "batch"}

// Probe points of recovery's and the read path's verdicts (env.Probe), so the simulator's
// coverage report shows each one firing.
const (
	probeTornTail      = "filestore.recover.torn-tail"
	probeSealedTail    = "filestore.recover.sealed-tail-damage"
	probeTornBlock     = "filestore.recover.torn-block"
	probeRotten        = "filestore.recover.rotten"
	probeUnreadable    = "filestore.recover.unreadable"
	probeRepaired      = "filestore.recover.header-repaired"
	probeBlockHeader   = "filestore.recover.block-header"
	probeRewrite       = "filestore.recover.rewrite"
	probeReadChecksum  = "filestore.read.checksum-reject"
	probeReadHeader    = "filestore.read.header-reject"
	probeReadRepaired  = "filestore.read.header-repaired"
	probeBodyUnusable  = "filestore.recover.body-unusable"
	probeReadUndecoded = "filestore.read.decode-reject"
	// a record in the read window failed to verify: the window is dropped and the record
	// read again from the file (readahead.go)
	probeReadWindowReject = "filestore.read.window-reject"
)

// damageProbes names the probe point of each kind of damage a scan finds (a torn tail counts
// where recovery cuts it).
var damageProbes = map[DamageKind]string{
	DamageCorrupt: probeRotten, DamageUnreadable: probeUnreadable, DamageRepaired: probeRepaired,
}

// noteKept records a record recovery kept, when someone asked for the report.
func (b *fileBackend) noteKept(blk *block, rec scannedRecord) {
	if b.recovery == nil {
		return
	}
	b.recovery.Kept = append(b.recovery.Kept, KeptRecord{Block: blk.id, Offset: rec.off, Length: int64(rec.hdr.length),
		Kind: kindNames[rec.hdr.kind], Seq: rec.hdr.seq})
}

// reportRecovery hands the report to Config.Recovered, once recovery made its result durable.
func (b *fileBackend) reportRecovery() {
	if b.recovery == nil {
		return
	}
	b.recovery.Dropped = b.damage()
	b.st.cfg.Recovered(*b.recovery)
	b.recovery = nil
}
