package server

import (
	"fmt"
	"time"
)

// The scenarios of TestJetStreamParity. Steps are named; the names key the transcript.

var jsParityScenarios = []jsParityScenario{
	{"counters", parityCounters},
	{"ttl", parityTTL},
	{"batch", parityBatch},
	{"direct", parityDirect},
	{"priority", parityPriority},
	{"pause", parityPause},
	{"pacing", parityPacing},
	{"schedules", paritySchedules},
	{"markers", parityMarkers},
}

// Subject delete markers: MaxAge expires a subject's last message and leaves a marker, which
// is republished like a published message, with the expired message as the subject's last;
// the marker's own expiry leaves nothing more.
func parityMarkers(c *parityClient) {
	sub, err := c.nc.SubscribeSync("rp.>")
	must(c.t, err)
	defer sub.Unsubscribe()
	c.apiNote("create", "STREAM.CREATE.MK", `{"name":"MK","subjects":["mk.>"],"max_age":1000000000,"allow_msg_ttl":true,"subject_delete_marker_ttl":1000000000,"republish":{"src":"mk.>","dest":"rp.>"},"storage":"file"}`)
	c.pub("pub-a", "mk.a", "1")
	c.pub("pub-b", "mk.b", "2")
	c.pub("pub-a2", "mk.a", "3")
	for i := 0; ; i++ {
		m, err := sub.NextMsg(3 * time.Second) // expiry after 1 s, the markers' after 2 s
		if err != nil {
			c.tr.note(fmt.Sprintf("republished.%d", i), "nothing more")
			return
		}
		c.tr.noteMsg(fmt.Sprintf("republished.%d", i), m)
	}
}

// Counters: Nats-Incr adds to a subject's value; the PubAck carries it; what a counter
// stream refuses.
func parityCounters(c *parityClient) {
	c.apiNote("create", "STREAM.CREATE.C", `{"name":"C","subjects":["c.>"],"allow_msg_counter":true,"storage":"memory"}`)
	c.pub("incr1", "c.a", "", "Nats-Incr", "1")
	c.pub("incr5", "c.a", "", "Nats-Incr", "+5")
	c.pub("decr", "c.a", "", "Nats-Incr", "-10")
	c.pub("other", "c.b", "", "Nats-Incr", "100")
	c.pub("bad-value", "c.a", "", "Nats-Incr", "x")
	c.pub("no-incr", "c.a", "plain")
	c.pub("with-body", "c.a", "data", "Nats-Incr", "1")
	c.pub("with-msg-id", "c.a", "", "Nats-Incr", "1", "Nats-Msg-Id", "m1")
	c.pub("with-ttl", "c.a", "", "Nats-Incr", "1", "Nats-TTL", "1s")
	c.pub("expect-last", "c.a", "", "Nats-Incr", "1", "Nats-Expected-Last-Sequence", "3")
	c.apiNote("get-last", "STREAM.MSG.GET.C", `{"last_by_subj":"c.a"}`)
	c.apiNote("plain-stream", "STREAM.CREATE.P", `{"name":"P","subjects":["p"],"storage":"memory"}`)
	c.pub("incr-plain", "p", "", "Nats-Incr", "1")
	c.apiNote("counter-with-discard-new", "STREAM.CREATE.X", `{"name":"X","subjects":["x"],"allow_msg_counter":true,"discard":"new","storage":"memory"}`)
	c.apiNote("counter-update-off", "STREAM.UPDATE.C", `{"name":"C","subjects":["c.>"],"allow_msg_counter":false,"storage":"memory"}`)
}

// Per-message TTL: refused unless allowed, a bad value, "never", expiry.
func parityTTL(c *parityClient) {
	c.apiNote("create-no-ttl", "STREAM.CREATE.N", `{"name":"N","subjects":["n"],"storage":"memory"}`)
	c.pub("ttl-not-allowed", "n", "x", "Nats-TTL", "1s")
	c.apiNote("create", "STREAM.CREATE.T", `{"name":"T","subjects":["t.>"],"allow_msg_ttl":true,"max_age":60000000000,"storage":"memory"}`)
	c.pub("ttl-bad", "t.a", "x", "Nats-TTL", "soon")
	c.pub("ttl-negative", "t.a", "x", "Nats-TTL", "-1s")
	c.pub("ttl-short", "t.a", "x", "Nats-TTL", "500ms")
	c.pub("ttl-seconds", "t.b", "y", "Nats-TTL", "1")
	c.pub("ttl-never", "t.c", "z", "Nats-TTL", "never")
	c.pub("ttl-over-max-age", "t.d", "w", "Nats-TTL", "2m")
	c.apiNote("get-short", "STREAM.MSG.GET.T", `{"seq":1}`)
	time.Sleep(1500 * time.Millisecond) // past the short TTLs
	c.apiNote("get-short-after", "STREAM.MSG.GET.T", `{"seq":1}`)
	c.apiNote("get-seconds-after", "STREAM.MSG.GET.T", `{"seq":2}`)
	c.apiNote("get-never", "STREAM.MSG.GET.T", `{"seq":3}`)
	c.apiNote("info", "STREAM.INFO.T", nil)
	c.apiNote("disallow", "STREAM.UPDATE.T", `{"name":"T","subjects":["t.>"],"allow_msg_ttl":false,"max_age":60000000000,"storage":"memory"}`)
	c.apiNote("markers-without-ttl", "STREAM.CREATE.M", `{"name":"M","subjects":["m"],"subject_delete_marker_ttl":1000000000,"storage":"memory"}`)
	c.apiNote("markers-too-short", "STREAM.CREATE.M2", `{"name":"M2","subjects":["m2"],"allow_msg_ttl":true,"subject_delete_marker_ttl":100000000,"storage":"memory"}`)
}

// Atomic batch publish: success, a gap, commit errors, not allowed.
func parityBatch(c *parityClient) {
	c.apiNote("create-off", "STREAM.CREATE.OFF", `{"name":"OFF","subjects":["off"],"storage":"memory"}`)
	c.pub("not-allowed", "off", "x", "Nats-Batch-Id", "b0", "Nats-Batch-Sequence", "1", "Nats-Batch-Commit", "1")
	c.apiNote("create", "STREAM.CREATE.B", `{"name":"B","subjects":["b.>"],"allow_atomic":true,"storage":"memory"}`)
	c.pub("ok.1", "b.a", "1", "Nats-Batch-Id", "b1", "Nats-Batch-Sequence", "1")
	c.pub("ok.2", "b.a", "2", "Nats-Batch-Id", "b1", "Nats-Batch-Sequence", "2")
	c.pub("ok.3", "b.b", "3", "Nats-Batch-Id", "b1", "Nats-Batch-Sequence", "3", "Nats-Batch-Commit", "1")
	c.pub("single", "b.a", "s", "Nats-Batch-Id", "b2", "Nats-Batch-Sequence", "1", "Nats-Batch-Commit", "1")
	c.pub("gap.1", "b.a", "1", "Nats-Batch-Id", "b3", "Nats-Batch-Sequence", "1")
	c.pub("gap.3", "b.a", "3", "Nats-Batch-Id", "b3", "Nats-Batch-Sequence", "3", "Nats-Batch-Commit", "1")
	c.pub("start-at-2", "b.a", "2", "Nats-Batch-Id", "b4", "Nats-Batch-Sequence", "2", "Nats-Batch-Commit", "1")
	c.pub("bad-commit", "b.a", "1", "Nats-Batch-Id", "b5", "Nats-Batch-Sequence", "1", "Nats-Batch-Commit", "yes")
	c.pub("eob-commit.1", "b.a", "1", "Nats-Batch-Id", "b6", "Nats-Batch-Sequence", "1")
	c.pub("eob-commit.2", "b.a", "not stored", "Nats-Batch-Id", "b6", "Nats-Batch-Sequence", "2", "Nats-Batch-Commit", "eob")
	c.pub("bad-seq", "b.a", "1", "Nats-Batch-Id", "b7", "Nats-Batch-Sequence", "zero")
	c.pub("msg-id", "b.a", "1", "Nats-Batch-Id", "b8", "Nats-Batch-Sequence", "1", "Nats-Msg-Id", "dup", "Nats-Batch-Commit", "1")
	c.pub("expect-fail.1", "b.a", "1", "Nats-Batch-Id", "b9", "Nats-Batch-Sequence", "1")
	c.pub("expect-fail.2", "b.a", "2", "Nats-Batch-Id", "b9", "Nats-Batch-Sequence", "2", "Nats-Expected-Last-Sequence", "1", "Nats-Batch-Commit", "1")
	c.apiNote("info", "STREAM.INFO.B", nil)
}

// Direct gets: batches with EOB, multi_last, errors.
func parityDirect(c *parityClient) {
	c.apiNote("create", "STREAM.CREATE.DG", `{"name":"DG","subjects":["dg.*"],"allow_direct":true,"storage":"memory"}`)
	for i, subj := range []string{"dg.a", "dg.b", "dg.a", "dg.c", "dg.b"} {
		c.pub(fmt.Sprintf("pub%d", i+1), subj, fmt.Sprint(i+1))
	}
	direct := func(step, body string) { c.collect(step, "$JS.API.DIRECT.GET.DG", body, time.Second, false) }
	direct("seq", `{"seq":2}`)
	direct("batch", `{"seq":2,"batch":2,"next_by_subj":"dg.*"}`)
	direct("batch-all", `{"seq":1,"batch":10}`)
	direct("batch-max-bytes", `{"seq":1,"batch":10,"max_bytes":20}`)
	direct("multi-last", `{"multi_last":["dg.a","dg.b"]}`)
	direct("multi-last-wild", `{"multi_last":["dg.*"],"up_to_seq":3}`)
	direct("multi-last-batch", `{"multi_last":["dg.*"],"batch":2}`)
	direct("multi-last-none", `{"multi_last":["dg.zzz"]}`)
	direct("missing", `{"seq":99}`)
	direct("empty", `{}`)
	direct("bad-json", `{`)
	direct("last-by-subj", `{"last_by_subj":"dg.b"}`)
	direct("next-by-subj", `{"seq":3,"next_by_subj":"dg.b"}`)
	direct("both", `{"seq":1,"last_by_subj":"dg.b"}`)
	direct("no-headers", `{"seq":1,"no_hdr":true}`)
}

// Priority groups: pinned client, pin id mismatch, overflow, UNPIN and its errors.
func parityPriority(c *parityClient) {
	c.apiNote("create", "STREAM.CREATE.PG", `{"name":"PG","subjects":["pg"],"storage":"memory"}`)
	for i := range 4 {
		c.pub(fmt.Sprintf("pub%d", i+1), "pg", fmt.Sprint(i+1))
	}
	c.apiNote("bad-policy", "CONSUMER.CREATE.PG.BAD", `{"stream_name":"PG","config":{"durable_name":"BAD","ack_policy":"explicit","priority_policy":"pinned_client"}}`)
	c.apiNote("pinned", "CONSUMER.CREATE.PG.PIN", `{"stream_name":"PG","config":{"durable_name":"PIN","ack_policy":"explicit","priority_groups":["g"],"priority_policy":"pinned_client","priority_timeout":5000000000}}`)
	c.pull("no-group", "PG", "PIN", `{"batch":1,"expires":300000000}`, time.Second)
	c.pull("unknown-group", "PG", "PIN", `{"batch":1,"expires":300000000,"group":"nope"}`, time.Second)
	c.pull("first", "PG", "PIN", `{"batch":1,"expires":300000000,"group":"g"}`, time.Second)
	c.pull("wrong-pin", "PG", "PIN", `{"batch":1,"expires":300000000,"group":"g","id":"bogus"}`, time.Second)
	c.pull("no-pin", "PG", "PIN", `{"batch":1,"expires":300000000,"group":"g"}`, time.Second)
	c.apiNote("unpin-unknown-group", "CONSUMER.UNPIN.PG.PIN", `{"group":"nope"}`)
	c.apiNote("unpin-no-group", "CONSUMER.UNPIN.PG.PIN", `{}`)
	c.apiNote("unpin-missing-consumer", "CONSUMER.UNPIN.PG.NOPE", `{"group":"g"}`)
	c.apiNote("unpin", "CONSUMER.UNPIN.PG.PIN", `{"group":"g"}`)
	c.pull("after-unpin", "PG", "PIN", `{"batch":1,"expires":300000000,"group":"g"}`, time.Second)
	c.apiNote("overflow", "CONSUMER.CREATE.PG.OVER", `{"stream_name":"PG","config":{"durable_name":"OVER","ack_policy":"explicit","priority_groups":["g"],"priority_policy":"overflow"}}`)
	c.apiNote("unpin-overflow", "CONSUMER.UNPIN.PG.OVER", `{"group":"g"}`)
	c.pull("below-min", "PG", "OVER", `{"batch":1,"expires":300000000,"group":"g","min_pending":10}`, time.Second)
	c.pull("at-min", "PG", "OVER", `{"batch":1,"expires":300000000,"group":"g","min_pending":2}`, time.Second)
	c.pull("no-min", "PG", "OVER", `{"batch":1,"expires":300000000,"group":"g"}`, time.Second)
	c.pull("no-group-overflow", "PG", "OVER", `{"batch":1,"expires":300000000}`, time.Second)
	c.pull("min-ack", "PG", "OVER", `{"batch":1,"expires":300000000,"group":"g","min_ack_pending":5}`, time.Second)
}

// Pause and resume: the answers, the info, a pull while paused.
func parityPause(c *parityClient) {
	c.apiNote("create", "STREAM.CREATE.PZ", `{"name":"PZ","subjects":["pz"],"storage":"memory"}`)
	c.pub("pub", "pz", "x")
	c.apiNote("consumer", "CONSUMER.CREATE.PZ.D", `{"stream_name":"PZ","config":{"durable_name":"D","ack_policy":"explicit"}}`)
	until := time.Now().Add(time.Hour).UTC().Format(time.RFC3339Nano)
	c.apiNote("pause", "CONSUMER.PAUSE.PZ.D", `{"pause_until":"`+until+`"}`)
	c.apiNote("info-paused", "CONSUMER.INFO.PZ.D", nil)
	c.pull("pull-paused", "PZ", "D", `{"batch":1,"expires":500000000}`, 2*time.Second)
	c.apiNote("resume", "CONSUMER.PAUSE.PZ.D", `{}`)
	c.apiNote("info-resumed", "CONSUMER.INFO.PZ.D", nil)
	c.pull("pull-resumed", "PZ", "D", `{"batch":1,"expires":500000000}`, 2*time.Second)
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339Nano)
	c.apiNote("pause-past", "CONSUMER.PAUSE.PZ.D", `{"pause_until":"`+past+`"}`)
	c.apiNote("pause-missing", "CONSUMER.PAUSE.PZ.NOPE", `{"pause_until":"`+until+`"}`)
	c.apiNote("pause-bad-json", "CONSUMER.PAUSE.PZ.D", `{`)
	c.apiNote("create-paused", "CONSUMER.CREATE.PZ.E", `{"stream_name":"PZ","config":{"durable_name":"E","ack_policy":"explicit","pause_until":"`+until+`"}}`)
}

// Replay original and rate limit: what is delivered and whether it was paced.
func parityPacing(c *parityClient) {
	c.apiNote("create", "STREAM.CREATE.RP", `{"name":"RP","subjects":["rp"],"max_msg_size":1000,"storage":"memory"}`)
	c.pub("pub1", "rp", "first")
	time.Sleep(500 * time.Millisecond)
	c.pub("pub2", "rp", "second")
	c.apiNote("consumer", "CONSUMER.CREATE.RP.R", `{"stream_name":"RP","config":{"durable_name":"R","ack_policy":"explicit","replay_policy":"original"}}`)
	start := time.Now()
	c.pull("replay", "RP", "R", `{"batch":2,"expires":3000000000}`, 3*time.Second)
	c.tr.note("replay-paced", "%v", time.Since(start) >= 400*time.Millisecond)
	c.apiNote("rate-on-pull", "CONSUMER.CREATE.RP.X", `{"stream_name":"RP","config":{"durable_name":"X","ack_policy":"explicit","rate_limit_bps":8000}}`)
	for i := range 10 {
		c.pub(fmt.Sprintf("big%d", i), "rp", string(make([]byte, 500)))
	}
	sub, err := c.nc.SubscribeSync("rate.deliver")
	must(c.t, err)
	defer sub.Unsubscribe()
	c.apiNote("rate-push", "CONSUMER.CREATE.RP.PUSH", `{"stream_name":"RP","config":{"durable_name":"PUSH","ack_policy":"none","deliver_subject":"rate.deliver","rate_limit_bps":8000}}`)
	time.Sleep(time.Second)
	n, _, _ := sub.Pending()
	// The bucket holds max_msg_size (1000 bytes): two messages at once, then two a second.
	c.tr.note("rate-limited", "%v", n > 0 && n < 8)
	// Without max_msg_size the bucket holds max_payload (1 MiB): all go at once.
	c.apiNote("create-burst", "STREAM.CREATE.RB", `{"name":"RB","subjects":["rb"],"storage":"memory"}`)
	for i := range 10 {
		c.pub(fmt.Sprintf("burst%d", i), "rb", string(make([]byte, 500)))
	}
	bsub, err := c.nc.SubscribeSync("burst.deliver")
	must(c.t, err)
	defer bsub.Unsubscribe()
	c.api("CONSUMER.CREATE.RB.PUSH", `{"stream_name":"RB","config":{"durable_name":"PUSH","ack_policy":"none","deliver_subject":"burst.deliver","rate_limit_bps":8000}}`)
	time.Sleep(500 * time.Millisecond)
	n, _, _ = bsub.Pending()
	c.tr.note("burst", "%d delivered", n)
}

// Message schedules: @at fires once and the schedule goes; @every repeats; what is refused.
func paritySchedules(c *parityClient) {
	c.apiNote("create-off", "STREAM.CREATE.OFF", `{"name":"OFF","subjects":["off.>"],"storage":"memory"}`)
	c.pub("not-allowed", "off.s", "x", "Nats-Schedule", "@every 1s", "Nats-Schedule-Target", "off.t")
	c.apiNote("create", "STREAM.CREATE.SC", `{"name":"SC","subjects":["sc.>"],"allow_msg_schedules":true,"storage":"memory"}`)
	at := time.Now().Add(time.Second).UTC().Format(time.RFC3339)
	c.pub("at", "sc.once", "later", "Nats-Schedule", "@at "+at, "Nats-Schedule-Target", "sc.out")
	c.pub("every", "sc.rep", "tick", "Nats-Schedule", "@every 1s", "Nats-Schedule-Target", "sc.ticks")
	c.pub("bad-pattern", "sc.bad", "x", "Nats-Schedule", "@sometimes", "Nats-Schedule-Target", "sc.out")
	c.pub("no-target", "sc.bad", "x", "Nats-Schedule", "@every 1s")
	c.pub("target-self", "sc.bad", "x", "Nats-Schedule", "@every 1s", "Nats-Schedule-Target", "sc.bad")
	c.pub("target-outside", "sc.bad", "x", "Nats-Schedule", "@every 1s", "Nats-Schedule-Target", "elsewhere")
	c.pub("short-every", "sc.bad", "x", "Nats-Schedule", "@every 10ms", "Nats-Schedule-Target", "sc.out")
	c.pub("cron", "sc.cron", "x", "Nats-Schedule", "0 0 0 1 1 *", "Nats-Schedule-Target", "sc.cronout")
	c.pub("bad-zone", "sc.zone", "x", "Nats-Schedule", "0 0 0 1 1 *", "Nats-Schedule-Target", "sc.cronout", "Nats-Schedule-Time-Zone", "Nowhere/Land")
	time.Sleep(2500 * time.Millisecond) // the @at has fired, the @every twice
	c.apiNoteUnsequenced("out", "STREAM.MSG.GET.SC", `{"last_by_subj":"sc.out"}`)
	c.apiNote("once-gone", "STREAM.MSG.GET.SC", `{"last_by_subj":"sc.once"}`)
	c.apiNote("schedule-kept", "STREAM.MSG.GET.SC", `{"last_by_subj":"sc.rep"}`)
	c.apiNoteUnsequenced("tick", "STREAM.MSG.GET.SC", `{"last_by_subj":"sc.ticks"}`)
	c.apiNote("disallow", "STREAM.UPDATE.SC", `{"name":"SC","subjects":["sc.>"],"allow_msg_schedules":false,"storage":"memory"}`)
}
