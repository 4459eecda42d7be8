package server

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// KV TTLs and Object Store watches through nats.go. Each runs against Petrel and, with
// NATS_SERVER_BIN set, against nats-server first, so what it expects is nats-server's
// behaviour too.

// onBothServers runs scenario against nats-server (when NATS_SERVER_BIN names one) and
// against Petrel, each freshly started with JetStream, as subtests.
func onBothServers(t *testing.T, scenario func(t *testing.T, url string)) {
	t.Helper()
	if bin := os.Getenv("NATS_SERVER_BIN"); bin != "" {
		t.Run("nats-server", func(t *testing.T) {
			port := freePort(t)
			startNatsServer(t, bin, []string{"-a", "127.0.0.1", "-p", port, "-js", "-sd", t.TempDir()})
			scenario(t, "nats://127.0.0.1:"+port)
		})
	}
	t.Run("petrel", func(t *testing.T) {
		p, _ := startJS(t)
		scenario(t, p.url())
	})
}

// jsOn connects to url with nats.go's jetstream package and a context bounding the test.
func jsOn(t *testing.T, url string) jetstream.JetStream {
	t.Helper()
	return newJS(t, connect(t, url))
}

// testCtx bounds a test's calls and ends with it.
func testCtx(t *testing.T) context.Context {
	ctx, cancel := jsContext(t)
	t.Cleanup(cancel)
	return ctx
}

// watchNext returns the next watch update, failing the test after testTimeout.
func watchNext[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(testTimeout):
		t.Fatalf("watch: no %s", what)
		panic("unreachable")
	}
}

// A bucket's TTL ages its values out; a key created with its own TTL (LimitMarkerTTL set)
// goes at that TTL, and a watcher sees the server's delete marker as a purge; the marker
// itself goes after the marker TTL.
func TestE2EKVTTL(t *testing.T) {
	onBothServers(t, func(t *testing.T, url string) {
		js, ctx := jsOn(t, url), testCtx(t)
		aged, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "aged", TTL: 700 * time.Millisecond})
		must(t, err)
		_, err = aged.Put(ctx, "k", []byte("v"))
		must(t, err)
		if st, err := aged.Status(ctx); err != nil || st.TTL() != 700*time.Millisecond {
			t.Fatalf("bucket status: %v %v", st, err)
		}
		time.Sleep(1500 * time.Millisecond) // past the bucket's TTL
		if _, err := aged.Get(ctx, "k"); !errors.Is(err, jetstream.ErrKeyNotFound) {
			t.Fatalf("a value past the bucket's TTL: %v", err)
		}

		kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "ttl", LimitMarkerTTL: time.Second})
		must(t, err)
		st, err := kv.Status(ctx)
		must(t, err)
		if st.LimitMarkerTTL() != time.Second {
			t.Fatalf("limit marker TTL %v", st.LimitMarkerTTL())
		}
		if info := st.(*jetstream.KeyValueBucketStatus).StreamInfo(); !info.Config.AllowMsgTTL ||
			info.Config.SubjectDeleteMarkerTTL != time.Second {
			t.Fatalf("the bucket's stream: allow_msg_ttl %v marker TTL %v", info.Config.AllowMsgTTL, info.Config.SubjectDeleteMarkerTTL)
		}
		w, err := kv.WatchAll(ctx)
		must(t, err)
		defer w.Stop()
		if e := watchNext(t, w.Updates(), "initial nil"); e != nil {
			t.Fatalf("an empty bucket's watch starts with nil, got %v", e)
		}
		_, err = kv.Create(ctx, "short", []byte("gone soon"), jetstream.KeyTTL(time.Second))
		must(t, err)
		_, err = kv.Put(ctx, "long", []byte("stays"))
		must(t, err)
		if _, err := kv.Create(ctx, "short", []byte("again"), jetstream.KeyTTL(time.Second)); !errors.Is(err, jetstream.ErrKeyExists) {
			t.Fatalf("create of a live key with a TTL: %v", err)
		}
		for _, want := range []string{"short", "long"} {
			if e := watchNext(t, w.Updates(), want); e.Key() != want || e.Operation() != jetstream.KeyValuePut {
				t.Fatalf("watch: %s %v, want a put of %s", e.Key(), e.Operation(), want)
			}
		}
		e := watchNext(t, w.Updates(), "the expiry's marker")
		if e.Key() != "short" || e.Operation() != jetstream.KeyValuePurge || len(e.Value()) != 0 {
			t.Fatalf("after the key's TTL: %s %v %q", e.Key(), e.Operation(), e.Value())
		}
		if _, err := kv.Get(ctx, "short"); !errors.Is(err, jetstream.ErrKeyNotFound) {
			t.Fatalf("an expired key: %v", err)
		}
		if v, err := kv.Get(ctx, "long"); err != nil || string(v.Value()) != "stays" {
			t.Fatalf("a key without a TTL: %v %v", v, err)
		}
		// The marker stands for a second, then the key's subject is empty.
		s, err := js.Stream(ctx, "KV_ttl")
		must(t, err)
		m, err := s.GetLastMsgForSubject(ctx, "$KV.ttl.short")
		if err != nil || m.Header.Get("Nats-Marker-Reason") != "MaxAge" || m.Header.Get("Nats-TTL") != "1s" ||
			m.Header.Get("Nats-Rollup") != "sub" {
			t.Fatalf("the marker: %+v %v", m, err)
		}
		time.Sleep(1500 * time.Millisecond) // past the marker's TTL
		if _, err := s.GetLastMsgForSubject(ctx, "$KV.ttl.short"); !errors.Is(err, jetstream.ErrMsgNotFound) {
			t.Fatalf("the marker past its TTL: %v", err)
		}
		// A fresh create after the expiry works without a revision.
		if _, err := kv.Create(ctx, "short", []byte("back")); err != nil {
			t.Fatalf("create after the expiry: %v", err)
		}
	})
}

// An object store watcher sees puts, updates, links and deletes as they happen; a link
// reads through to its target and a deleted target leaves it dangling.
func TestE2EObjectStoreWatchAndLinks(t *testing.T) {
	onBothServers(t, func(t *testing.T, url string) {
		js, ctx := jsOn(t, url), testCtx(t)
		obs, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: "w"})
		must(t, err)
		_, err = obs.PutString(ctx, "before", "old")
		must(t, err)
		w, err := obs.Watch(ctx)
		must(t, err)
		defer w.Stop()
		if i := watchNext(t, w.Updates(), "the existing object"); i == nil || i.Name != "before" || i.Size != 3 {
			t.Fatalf("watch starts with %+v, want the existing object", i)
		}
		if i := watchNext(t, w.Updates(), "the initial nil"); i != nil {
			t.Fatalf("after the existing objects: %+v, want nil", i)
		}
		_, err = obs.PutString(ctx, "a.txt", "one")
		must(t, err)
		_, err = obs.PutString(ctx, "a.txt", "three")
		must(t, err)
		info, err := obs.GetInfo(ctx, "a.txt")
		must(t, err)
		_, err = obs.AddLink(ctx, "l.txt", info)
		must(t, err)
		other, err := js.CreateObjectStore(ctx, jetstream.ObjectStoreConfig{Bucket: "other"})
		must(t, err)
		_, err = obs.AddBucketLink(ctx, "b.link", other)
		must(t, err)
		must(t, obs.Delete(ctx, "a.txt"))
		type seen struct {
			name    string
			size    uint64
			deleted bool
			link    bool
		}
		for _, want := range []seen{{"a.txt", 3, false, false}, {"a.txt", 5, false, false}, {"l.txt", 0, false, true},
			{"b.link", 0, false, true}, {"a.txt", 0, true, false}} {
			i := watchNext(t, w.Updates(), want.name)
			if got := (seen{i.Name, i.Size, i.Deleted, i.Opts != nil && i.Opts.Link != nil}); got != want {
				t.Fatalf("watch: %+v, want %+v", got, want)
			}
		}
		if _, err := obs.GetString(ctx, "l.txt"); !errors.Is(err, jetstream.ErrObjectNotFound) {
			t.Fatalf("a link to a deleted object: %v", err)
		}
		if _, err := obs.GetString(ctx, "b.link"); !errors.Is(err, jetstream.ErrCantGetBucket) {
			t.Fatalf("get through a bucket link: %v", err)
		}
		if ln, err := obs.GetInfo(ctx, "l.txt"); err != nil || ln.Opts.Link.Bucket != "w" || ln.Opts.Link.Name != "a.txt" {
			t.Fatalf("the link's info: %+v %v", ln, err)
		}
		if _, err := obs.AddLink(ctx, "l2.txt", &jetstream.ObjectInfo{ObjectMeta: jetstream.ObjectMeta{Name: "x"}, Bucket: "w", Deleted: true}); !errors.Is(err, jetstream.ErrNoLinkToDeleted) {
			t.Fatalf("a link to a deleted object: %v", err)
		}
	})
}

// Every JSON answer of the JetStream API is audited on $JS.EVENT.ADVISORY.API with its
// request and answer; a pull request (MSG.NEXT) is not.
func TestE2EJetStreamAPIAudit(t *testing.T) {
	onBothServers(t, func(t *testing.T, url string) {
		nc := connect(t, url, nats.Name("auditor"))
		adv, err := nc.SubscribeSync("$JS.EVENT.ADVISORY.API")
		must(t, err)
		must(t, nc.Flush())
		js, ctx := newJS(t, nc), testCtx(t)
		_, err = js.CreateStream(ctx, jetstream.StreamConfig{Name: "AU", Subjects: []string{"au"}})
		must(t, err)
		if _, err := js.Stream(ctx, "NOPE"); !errors.Is(err, jetstream.ErrStreamNotFound) {
			t.Fatalf("missing stream: %v", err)
		}
		_, err = nc.Request("$JS.API.CONSUMER.MSG.NEXT.AU.NOPE", []byte(`{"batch":1,"no_wait":true}`), time.Second)
		_ = err // answered by a status, or not at all: not audited either way
		type audit struct {
			Type     string `json:"type"`
			ID       string `json:"id"`
			Server   string `json:"server"`
			Subject  string `json:"subject"`
			Request  string `json:"request"`
			Response string `json:"response"`
			Client   struct {
				Account string `json:"acc"`
				Name    string `json:"name"`
			} `json:"client"`
		}
		var got []audit
		for {
			m, err := adv.NextMsg(500 * time.Millisecond)
			if err != nil {
				break
			}
			var a audit
			must(t, json.Unmarshal(m.Data, &a))
			got = append(got, a)
		}
		if len(got) != 2 {
			t.Fatalf("%d audits, want 2 (create, info): %+v", len(got), got)
		}
		// Answers go out from different actors (a stream's executor, the service's), so
		// their audits may come in either order: found by subject.
		if got[0].Subject != "$JS.API.STREAM.CREATE.AU" {
			got[0], got[1] = got[1], got[0]
		}
		c, i := got[0], got[1]
		if c.Type != "io.nats.jetstream.advisory.v1.api_audit" || c.ID == "" || c.Server == "" ||
			c.Subject != "$JS.API.STREAM.CREATE.AU" || !strings.Contains(c.Request, `"name":"AU"`) ||
			!strings.Contains(c.Response, `"type":"io.nats.jetstream.api.v1.stream_create_response"`) ||
			c.Client.Account != "$G" || c.Client.Name != "auditor" {
			t.Fatalf("the create's audit: %+v", c)
		}
		if i.Subject != "$JS.API.STREAM.INFO.NOPE" || !strings.Contains(i.Response, `"err_code":10059`) {
			t.Fatalf("the failed info's audit: %+v", i)
		}
	})
}
