package server

import (
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/petrel-io/petrel/core"
	"github.com/petrel-io/petrel/netstack"
)

// TestConcurrentClientsInProcess runs the engine on the real host in this process, with
// publishers, subscribers (plain, wildcard, queue), requesters and churning subscriptions
// all at once, so `make race` checks the engine's shared state under the race detector.
func TestConcurrentClientsInProcess(t *testing.T) {
	e := netstack.NewEnv("race", netstack.Options{LogWriter: io.Discard})
	s, err := New(Options{Core: core.Options{Host: "127.0.0.1", Port: 0}}, e)
	must(t, err)
	must(t, s.Start())
	defer s.Shutdown()
	url := "nats://" + s.Addr()

	const pubs, msgs = 4, 300
	var wg sync.WaitGroup
	counts := make([]int, 3)
	var mu sync.Mutex
	var subs []*nats.Conn
	for i, pattern := range []string{"load.>", "load.*", "load.1"} {
		nc := connect(t, url)
		subs = append(subs, nc)
		_, err := nc.Subscribe(pattern, func(*nats.Msg) { mu.Lock(); counts[i]++; mu.Unlock() })
		must(t, err)
		must(t, nc.Flush())
	}
	responder := connect(t, url)
	for i := 0; i < 2; i++ {
		_, err := responder.QueueSubscribe("rpc.req", "r", func(m *nats.Msg) { _ = m.Respond(m.Data) })
		must(t, err)
	}
	must(t, responder.Flush())
	churn := connect(t, url)
	stop := make(chan struct{})
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			sub, err := churn.Subscribe(fmt.Sprintf("load.%d", i%5), func(*nats.Msg) {})
			if err == nil {
				_ = sub.Unsubscribe()
			}
		}
	}()
	for p := 0; p < pubs; p++ {
		wg.Add(1)
		go func(p int) {
			defer wg.Done()
			nc, err := nats.Connect(url)
			if err != nil {
				t.Error(err)
				return
			}
			defer nc.Close()
			for i := 0; i < msgs; i++ {
				if err := nc.Publish(fmt.Sprintf("load.%d", p), []byte("x")); err != nil {
					t.Error(err)
					return
				}
				if i%50 == 0 {
					if _, err := nc.Request("rpc.req", []byte("q"), 5*time.Second); err != nil {
						t.Error(err)
						return
					}
				}
			}
			if err := nc.Flush(); err != nil {
				t.Error(err)
			}
		}(p)
	}
	wg.Wait()
	close(stop)
	for _, nc := range subs {
		must(t, nc.Flush())
	}
	deadline := time.Now().Add(testTimeout)
	for {
		mu.Lock()
		done := counts[0] == pubs*msgs && counts[1] == pubs*msgs && counts[2] == msgs
		got := append([]int(nil), counts...)
		mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("received %v, want [%d %d %d]", got, pubs*msgs, pubs*msgs, msgs)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if v := s.Core().Varz(core.VarzHost{}); v.InMsgs < pubs*msgs {
		t.Fatalf("varz in_msgs %d", v.InMsgs)
	}
}
