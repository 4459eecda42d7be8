package filestore

import (
	"runtime"
	"strconv"
	"testing"

	"github.com/petrel-io/petrel/core/env"
)

// BenchmarkIndexMemory reports the live heap the file store holds per stored message (128 B
// payloads), on one subject as natscli's js bench publishes, and on a subject each as its kv
// put does: the in-memory index is what grows with a stream, so it is what a long run's RSS
// comes down to.
func BenchmarkIndexMemory(b *testing.B) {
	b.Run("subjects=1", func(b *testing.B) { benchIndexMemory(b, func(int) string { return "bench.js" }) })
	b.Run("subjects=all", func(b *testing.B) {
		benchIndexMemory(b, func(i int) string { return "$KV.bench." + strconv.Itoa(i) })
	})
}

func benchIndexMemory(b *testing.B, subject func(i int) string) {
	const msgs, perTurn = 200_000, 1000
	for range b.N {
		w := openBenchStore(b, b.TempDir(), Config{})
		before := liveHeap()
		payload := benchPayload(128)
		for turn := 0; turn < msgs/perTurn; turn++ {
			acked := make(chan error, 1)
			w.ex.Post(func() {
				for i := range perTurn {
					done := func(env.Seq, error) {}
					if i == perTurn-1 {
						done = func(_ env.Seq, err error) { acked <- err }
					}
					w.st.Store(subject(turn*perTurn+i), nil, payload, StoreOpts{}, done)
				}
			})
			if err := <-acked; err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(liveHeap()-before)/msgs, "heap-B/msg")
		w.close(b)
	}
}

func liveHeap() int64 {
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc)
}
