package workload

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"sort"
	"time"

	"github.com/petrel-io/petrel/core/env"
	"github.com/petrel-io/petrel/filestore"
	"github.com/petrel-io/petrel/sim"
)

// Filestore runs a file store on a crashing node, written by several writers on executors of
// their own, under the seed's faults: process crashes and power losses, EIO on write (the
// store fails and is reopened) and on sync (the node halts), ENOSPC, and bits flipped at rest.
// The checker asserts, at every recovery and every read:
//   - every write acknowledged as durable is still there, byte for byte, except those lost to
//     flipped bits, and a flipped bit costs at most one acknowledged message: the count of
//     lost acknowledged messages never exceeds the bits flipped on the disk, nor the distinct
//     damage the store reported;
//   - nothing served is corrupt: every payload carries its own checksum, checked on read;
//   - no sequence is acknowledged twice (a lost last sequence would hand one out again);
//   - nothing below a compaction whose completion ran is ever served again (a lost marker or
//     deletion would bring messages back);
//   - recovery's verdicts hold against the bytes (filestore_verdict.go), and no bytes a sync
//     covered in a block synced in full are cut as a torn write (filestore_sealed.go);
//   - under the seed's limits (filestore_limits.go), an acknowledged message is gone only when
//     what the checker saw explains it.
//
// After faults stop, every writer must get writes acknowledged again.
type Filestore struct {
	w       *sim.World
	node    *sim.Node
	cfg     filestore.Config
	acked   map[env.Seq]uint64 // sequence → payload id acknowledged for it
	lost    map[env.Seq]bool   // acknowledged, later missing or corrupt
	named   map[env.Seq]fsLoss // lost and named by the damage report: may come back (see cameBack)
	opens   int                // recoveries so far
	gone    map[env.Seq]int    // evicted by a recovery that found its store overfull (fsLimits.overfull): at which open
	damage  map[string]bool    // distinct damage reported (block/offset), corrupt or unreadable
	writers []*fsWriterStats
	floor   env.Seq // every sequence below it was compacted away, durably
	asked   env.Seq // the highest compaction asked for: below it, absence is no loss
	lim     fsLimits
	limRand *env.PRNG // the limits' own draws, so the seed's other draws stay as they were
	oracle  fsOracle
	dmg     fsDamager // the workload's own targeted damage: torn tails, rotten records
	fsys    env.FS    // the running incarnation's FS, for the checker's listings
}

type fsWriterStats struct {
	acks, acksAtFaultsEnd int
}

const (
	fsWriters    = 4
	fsDir        = "data/stream"
	fsPayloadMax = 600
	// fsSubjectsPerWriter: each writer cycles over this many subjects of its own.
	fsSubjectsPerWriter = 5
	// fsMsgSizeMax bounds a message's size as MaxBytes counts it (fsMsgSize).
	fsMsgSizeMax   = 8 + fsPayloadMax + 4 + 16 + 16
	fsPauseMax     = 40 * time.Millisecond
	fsReopenDelay  = 50 * time.Millisecond
	fsLiveAcks     = 5
	fsVerifyPeriod = 200 * time.Millisecond
	// fsCompactPeriod and fsCompactKeep: now and then the server compacts away all but the
	// newest acknowledged messages, so markers and block removal face the faults too.
	fsCompactPeriod = time.Second
	fsCompactKeep   = 300
)

func (c *Filestore) Name() string { return "filestore" }

func (c *Filestore) Setup(w *sim.World) sim.Plan {
	c.w, c.acked, c.lost, c.damage = w, map[env.Seq]uint64{}, map[env.Seq]bool{}, map[string]bool{}
	c.named, c.gone = map[env.Seq]fsLoss{}, map[env.Seq]int{}
	r := w.Rand()
	c.cfg = filestore.Config{
		Dir:        fsDir,
		BlockBytes: int64(env.Between(r, 1<<10, 64<<10)),
	}
	if r.Intn(2) == 0 {
		c.cfg.Compression = filestore.CompressionS2
	}
	if k := r.Intn(3); k > 0 {
		c.cfg.Cipher = filestore.Cipher(k)
		c.cfg.Key = make([]byte, 32)
		r.Fill(c.cfg.Key)
	}
	c.limRand = env.NewPRNG(w.Seed ^ 0x6c696d697473) // "limits"
	c.lim.choose(c.limRand)
	c.cfg.Limits = c.lim.limits
	w.Note("filestore: limits %+v, own TTLs %v", c.lim.limits, c.lim.ttls)
	for range fsWriters {
		c.writers = append(c.writers, &fsWriterStats{})
	}
	plan := sim.Plan{Faults: 15 * time.Second, Liveness: 5 * time.Second}
	c.dmg.init(c, w, plan.Faults)
	c.node = w.AddNode("s1", sim.NodeConfig{Crashable: true}, c.program)
	c.oracle = fsOracle{w: w, node: c.node, cfg: c.cfg, track: &c.dmg.track}
	w.At(plan.Faults, func() {
		for _, st := range c.writers {
			st.acksAtFaultsEnd = st.acks
		}
	})
	return plan
}

func (c *Filestore) Check(w *sim.World) error {
	for i, st := range c.writers {
		if got := st.acks - st.acksAtFaultsEnd; got < fsLiveAcks {
			return fmt.Errorf("filestore: writer %d got %d writes acknowledged after faults stopped, want >= %d (%d in all)",
				i, got, fsLiveAcks, st.acks)
		}
	}
	return nil
}

// The checker's hooks.

func (c *Filestore) ack(writer int, seq env.Seq, id uint64, w fsWrite) {
	if prev, dup := c.acked[seq]; dup {
		env.Assertf(false, "filestore: seq %d acknowledged twice (payloads %x and %x): the last sequence went backwards", seq, prev, id)
	}
	c.acked[seq] = id
	c.lim.acked(seq, w)
	c.writers[writer].acks++
	c.oracle.acked(seq, id, time.Unix(0, c.lim.maxWall), c.lim.expired(seq))
}

// served checks a message the store returned.
func (c *Filestore) served(m *filestore.Msg) {
	env.Assertf(m.Seq >= c.floor, "filestore: seq %d served after a durable compaction to %d", m.Seq, c.floor)
	id, ok := checkPayload(m.Data)
	env.Assertf(ok, "filestore: seq %d served a payload that fails its own checksum", m.Seq)
	if want, acked := c.acked[m.Seq]; acked {
		env.Assertf(id == want, "filestore: seq %d served payload %x, acknowledged %x", m.Seq, id, want)
		if open, gone := c.gone[m.Seq]; gone {
			// An eviction is logged only after a sync that covers its cause; a crash or a
			// reopen before that brings the message back, and the next open applies the
			// limits again to what it recovered (which may have lost the cause: seed 304).
			env.Assertf(open < c.opens, "filestore: seq %d came back after this recovery evicted it", m.Seq)
			delete(c.gone, m.Seq)
			c.w.Note("filestore: seq %d, evicted by the recovery of open %d before it was logged, came back", m.Seq, open)
		}
		if c.lost[m.Seq] {
			c.cameBack(m.Seq)
		}
	}
}

// evicted reports whether the limits explain seq's absence by the acknowledged messages or,
// failing that, by those stored now.
func (c *Filestore) evicted(st filestore.Store, seq env.Seq) bool {
	if !c.lim.evicts() {
		return false
	}
	if c.lim.evicted(seq, nil) {
		return true
	}
	stored := map[env.Seq]fsStored{}
	_ = c.scan(st, seq+1, stored) // a failed store is found and reopened at its next use
	return c.lim.evicted(seq, stored)
}

// missing records an acknowledged message the store no longer has.
func (c *Filestore) missing(seq env.Seq, st filestore.Store) {
	if _, gone := c.gone[seq]; gone || c.lost[seq] || seq < c.asked || c.lim.expired(seq) {
		return
	}
	if c.evicted(st, seq) {
		if c.lim.overfull {
			c.gone[seq] = c.opens // only this recovery explains it: remember
		}
		return
	}
	c.lost[seq] = true
	c.noteDamage(st)
	c.noteNamed(st, seq)
	if c.dmg.rotted[seq] {
		// Lost to a record the workload rotted: the store must say so, naming it.
		env.Assertf(reportsSeq(st, seq), "filestore: acknowledged seq %d lost to the bit the workload flipped in its record, and no damage names it: silently lost", seq)
	}
	flips := c.node.Disk.Stats.BitFlips
	c.w.Note("filestore: acknowledged seq %d lost (%d lost, %d bits flipped)", seq, len(c.lost), flips)
	env.Assertf(len(c.lost) <= flips,
		"filestore: %d acknowledged messages lost with %d bits flipped: an acknowledged write was lost", len(c.lost), flips)
	env.Assertf(len(c.lost) <= len(c.damage),
		"filestore: %d acknowledged messages lost, only %d damaged records reported", len(c.lost), len(c.damage))
}

func (c *Filestore) noteDamage(st filestore.Store) {
	for _, d := range st.Damage() {
		if d.Kind == filestore.DamageCorrupt || d.Kind == filestore.DamageUnreadable {
			c.damage[fmt.Sprintf("%d/%d", d.Block, d.Offset)] = true
		}
	}
}

// verifyAll reads every stored message and every acknowledged one.
func (c *Filestore) verifyAll(st filestore.Store) {
	c.noteDamage(st)
	err := c.scan(st, 1, nil)
	env.Assertf(err == nil, "filestore: a freshly recovered store failed: %v", err)
	seqs := make([]env.Seq, 0, len(c.acked))
	for seq := range c.acked {
		seqs = append(seqs, seq)
	}
	sort.Slice(seqs, func(i, j int) bool { return seqs[i] < seqs[j] })
	for _, seq := range seqs {
		err := c.verifyOne(st, seq)
		env.Assertf(err == nil, "filestore: a freshly recovered store failed: %v", err)
	}
}

// scan reads every stored message from seq on, noting each in stored when it is not nil;
// it stops early only if the store failed.
func (c *Filestore) scan(st filestore.Store, seq env.Seq, stored map[env.Seq]fsStored) error {
	for {
		m, err := st.LoadNext(filestore.AllSubjects, seq)
		if errors.Is(err, filestore.ErrNotFound) {
			return nil
		}
		if err != nil {
			env.Assertf(errors.Is(err, filestore.ErrFailed), "filestore: scan: %v", err)
			return err
		}
		c.served(m)
		if stored != nil {
			stored[m.Seq] = fsStored{m.Subject, fsMsgSize(m.Subject, len(m.Header), len(m.Data))}
		}
		seq = m.Seq + 1
	}
}

func (c *Filestore) verifyOne(st filestore.Store, seq env.Seq) error {
	m, err := st.LoadMsg(seq)
	switch {
	case errors.Is(err, filestore.ErrFailed):
		return err
	case err == nil:
		c.served(m)
	case errors.Is(err, filestore.ErrNotFound) || errors.Is(err, filestore.ErrCorrupt):
		if _, acked := c.acked[seq]; acked {
			c.missing(seq, st)
		}
	default:
		env.Assertf(false, "filestore: load %d: %v", seq, err)
	}
	return nil
}

// Payloads: writer id and counter (8 bytes), random bytes, then a CRC32-C of all before it.
func makePayload(r env.Rand, id uint64) []byte {
	n := r.Intn(fsPayloadMax)
	p := make([]byte, 8+n+4)
	binary.LittleEndian.PutUint64(p, id)
	if r.Intn(2) == 0 {
		r.Fill(p[8 : 8+n])
	} else {
		for i := range n {
			p[8+i] = byte('a' + i%7) // compressible
		}
	}
	binary.LittleEndian.PutUint32(p[8+n:], crc32.Checksum(p[:8+n], crcTable))
	return p
}

func checkPayload(p []byte) (uint64, bool) {
	if len(p) < 12 || crc32.Checksum(p[:len(p)-4], crcTable) != binary.LittleEndian.Uint32(p[len(p)-4:]) {
		return 0, false
	}
	return binary.LittleEndian.Uint64(p), true
}

// fsServer is one incarnation of the storage node.
type fsServer struct {
	e    *env.Env  // the store's view of the node
	wall env.Clock // the node's clock, read without the store seeing it
	chk  *Filestore
	ex   env.Executor
	st   filestore.Store // nil while (re)opening
}

func (c *Filestore) program(e *env.Env) {
	wall := e.Clock
	shown := *e // the store's view of the node, whose wall clock the checker watches
	shown.Clock = fsWallClock{Clock: wall, l: &c.lim}
	shown.FS = c.dmg.track.wrap(e.FS)
	e = &shown
	c.fsys = e.FS
	c.dmg.boot(e)
	s := &fsServer{e: e, wall: wall, chk: c, ex: e.Exec.New("store")}
	s.ex.Post(s.open)
	c.dmg.startRot(s)
	e.Clock.AfterFunc(fsCompactPeriod, s.ex, s.compact)
	for i := range fsWriters {
		w := &fsWriter{s: s, index: i, ex: e.Exec.New(fmt.Sprintf("writer%d", i))}
		w.ex.Post(w.pause)
	}
	verifier := e.Exec.New("verifier")
	var verify func()
	verify = func() {
		s.ex.Post(func() {
			if s.st != nil && len(c.acked) > 0 {
				if c.verifyOne(s.st, env.Seq(1+e.Rand.Intn(int(maxSeq(c.acked))))) != nil {
					s.failed()
				}
			}
		})
		e.Clock.AfterFunc(fsVerifyPeriod, verifier, verify)
	}
	e.Clock.AfterFunc(fsVerifyPeriod, verifier, verify)
}

// compacted records a compaction whose completion ran: nothing below floor may come back.
func (c *Filestore) compacted(floor env.Seq) {
	if floor <= c.floor {
		return
	}
	c.floor = floor
	c.lim.forget(floor)
	for seq := range c.acked {
		if seq < floor {
			delete(c.acked, seq)
			delete(c.lost, seq)
			delete(c.named, seq)
			delete(c.gone, seq)
		}
	}
	c.w.Note("filestore: compacted below %d", floor)
}

// compact removes all but the newest acknowledged messages (fsCompactKeep, or fewer under a
// limit that refuses new messages).
func (s *fsServer) compact() {
	c := s.chk
	if keep := c.lim.compactKeep(fsCompactKeep); s.st != nil && len(c.acked) > keep {
		floor := maxSeq(c.acked) - env.Seq(keep)
		c.asked = max(c.asked, floor)
		_, err := s.st.Compact(floor, func(err error) {
			if err == nil {
				c.oracle.compacted(floor, time.Unix(0, c.lim.maxWall))
				c.compacted(floor)
			} else {
				s.failed()
			}
		})
		if err != nil {
			env.Assertf(errors.Is(err, filestore.ErrFailed), "filestore: compact: %v", err)
			s.failed()
		}
	}
	s.e.Clock.AfterFunc(fsCompactPeriod, s.ex, s.compact)
}

func maxSeq(m map[env.Seq]uint64) env.Seq {
	var top env.Seq
	for seq := range m {
		top = max(top, seq)
	}
	return top
}

// open recovers the store; on failure (ENOSPC during recovery, say) it tries again later.
func (s *fsServer) open() {
	cfg := s.chk.cfg
	cfg.Executor = s.ex
	cfg.Recovered = s.chk.judgeRecovery
	st, err := filestore.OpenFile(s.e, cfg)
	if err != nil {
		s.e.Log.Logf(env.LevelWarn, "filestore open: %v", err)
		s.e.Clock.AfterFunc(fsReopenDelay, s.ex, s.open)
		return
	}
	s.chk.opens++
	s.chk.verifyAll(st)
	s.chk.lim.overfull = false
	s.st = st
}

// failed handles a store broken by a write error: close it and recover from disk.
func (s *fsServer) failed() {
	st := s.st
	if st == nil {
		return
	}
	s.st = nil // first: Close runs the remaining completions, which land here again
	// The store already failed; Close reports that again and releases the files.
	_ = st.Close()
	s.e.Clock.AfterFunc(fsReopenDelay, s.ex, s.open)
}

// fsWriter stores one message at a time and waits for its acknowledgement.
type fsWriter struct {
	s     *fsServer
	index int
	ex    env.Executor
	count uint64
}

// pause waits before the next write; a third of the time it writes again at once, so that
// writers acknowledged by one commit come back together and the next batch is big enough
// to hand its sync to the sync executor (then in flight when faults land).
func (w *fsWriter) pause() {
	d := time.Duration(1 + w.s.e.Rand.Intn(int(fsPauseMax)))
	if w.s.e.Rand.Intn(3) == 0 {
		d = 0
	}
	w.s.e.Clock.AfterFunc(d, w.ex, w.write)
}

func (w *fsWriter) write() {
	w.count++
	id := uint64(w.index)<<32 | w.count
	payload := makePayload(w.s.e.Rand, id)
	subject := fmt.Sprintf("w.%d.%d", w.index, w.count%fsSubjectsPerWriter)
	s := w.s
	ttl := s.chk.lim.ttlFor(s.chk.limRand)
	s.ex.Post(func() {
		st := s.st
		if st == nil {
			w.ex.Post(w.pause)
			return
		}
		wr := fsWrite{subject, fsMsgSize(subject, 0, len(payload)), s.wall.Now().UnixNano(), ttl}
		st.Store(subject, nil, payload, filestore.StoreOpts{TTL: ttl}, func(seq env.Seq, err error) {
			switch {
			case err == nil:
				s.chk.ack(w.index, seq, id, wr)
			case s.chk.lim.refused(err):
			case errors.Is(err, filestore.ErrFailed):
				s.failed()
			default:
				env.Assertf(false, "filestore: store: %v", err)
			}
			w.ex.Post(w.pause)
		})
	})
}
