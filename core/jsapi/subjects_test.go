package jsapi

import (
	"testing"

	"pgregory.net/rapid"
)

func TestParseAPISubject(t *testing.T) {
	cases := []struct {
		subj                   string
		verb                   Verb
		stream, consumer, rest string
	}{
		{"$JS.API.INFO", VerbAccountInfo, "", "", ""},
		{"$JS.API.STREAM.CREATE.ORDERS", VerbStreamCreate, "ORDERS", "", ""},
		{"$JS.API.STREAM.UPDATE.ORDERS", VerbStreamUpdate, "ORDERS", "", ""},
		{"$JS.API.STREAM.NAMES", VerbStreamNames, "", "", ""},
		{"$JS.API.STREAM.LIST", VerbStreamList, "", "", ""},
		{"$JS.API.STREAM.INFO.KV_b", VerbStreamInfo, "KV_b", "", ""},
		{"$JS.API.STREAM.DELETE.S", VerbStreamDelete, "S", "", ""},
		{"$JS.API.STREAM.PURGE.S", VerbStreamPurge, "S", "", ""},
		{"$JS.API.STREAM.SNAPSHOT.S", VerbStreamSnapshot, "S", "", ""},
		{"$JS.API.STREAM.RESTORE.S", VerbStreamRestore, "S", "", ""},
		{"$JS.API.STREAM.MSG.DELETE.S", VerbMsgDelete, "S", "", ""},
		{"$JS.API.STREAM.MSG.GET.S", VerbMsgGet, "S", "", ""},
		{"$JS.API.STREAM.LEADER.STEPDOWN.S", VerbStreamLeaderStepdown, "S", "", ""},
		{"$JS.API.STREAM.PEER.REMOVE.S", VerbStreamPeerRemove, "S", "", ""},
		{"$JS.API.STREAM.PEER.EVACUATE.S", VerbStreamPeerEvacuate, "S", "", ""},
		{"$JS.API.STREAM.CANCEL_MOVE.S", VerbStreamCancelMove, "S", "", ""},
		{"$JS.API.DIRECT.GET.KV_b", VerbDirectGet, "KV_b", "", ""},
		{"$JS.API.DIRECT.GET.KV_b.$KV.b.key", VerbDirectGetLast, "KV_b", "", "$KV.b.key"},
		{"$JS.API.DIRECT.GET.S.one", VerbDirectGetLast, "S", "", "one"},
		{"$JS.API.CONSUMER.CREATE.S", VerbConsumerCreateEphemeral, "S", "", ""},
		{"$JS.API.CONSUMER.CREATE.S.C", VerbConsumerCreate, "S", "C", ""},
		{"$JS.API.CONSUMER.CREATE.S.C.orders.*.eu", VerbConsumerCreate, "S", "C", "orders.*.eu"},
		{"$JS.API.CONSUMER.CREATE.S.C.>", VerbConsumerCreate, "S", "C", ">"},
		{"$JS.API.CONSUMER.DURABLE.CREATE.S.D", VerbConsumerDurableCreate, "S", "D", ""},
		{"$JS.API.CONSUMER.NAMES.S", VerbConsumerNames, "S", "", ""},
		{"$JS.API.CONSUMER.LIST.S", VerbConsumerList, "S", "", ""},
		{"$JS.API.CONSUMER.INFO.S.C", VerbConsumerInfo, "S", "C", ""},
		{"$JS.API.CONSUMER.DELETE.S.C", VerbConsumerDelete, "S", "C", ""},
		{"$JS.API.CONSUMER.PAUSE.S.C", VerbConsumerPause, "S", "C", ""},
		{"$JS.API.CONSUMER.UNPIN.S.C", VerbConsumerUnpin, "S", "C", ""},
		{"$JS.API.CONSUMER.RESET.S.C", VerbConsumerReset, "S", "C", ""},
		{"$JS.API.CONSUMER.MSG.NEXT.benchstream.nats-bench", VerbConsumerNext, "benchstream", "nats-bench", ""},
		{"$JS.API.CONSUMER.LEADER.STEPDOWN.S.C", VerbConsumerLeaderStepdown, "S", "C", ""},
		{"$JS.API.CONSUMER.PEER.REMOVE.S.C", VerbConsumerPeerRemove, "S", "C", ""},
		{"$JS.API.CONSUMER.PEER.EVACUATE.S.C", VerbConsumerPeerEvacuate, "S", "C", ""},
		{"$JS.API.META.LEADER.STEPDOWN", VerbMetaLeaderStepdown, "", "", ""},
		{"$JS.API.META.RESCUE", VerbMetaRescue, "", "", ""},
		{"$JS.API.SERVER.REMOVE", VerbServerRemove, "", "", ""},
		{"$JS.API.SERVER.EVACUATE", VerbServerEvacuate, "", "", ""},
		{"$JS.API.ACCOUNT.PURGE.ACME", VerbAccountPurge, "", "", "ACME"},
		{"$JS.API.ACCOUNT.STREAM.MOVE.ACME.S", VerbAccountStreamMove, "S", "", "ACME"},
		{"$JS.API.ACCOUNT.STREAM.CANCEL_MOVE.ACME.S", VerbAccountStreamCancelMove, "S", "", "ACME"},
	}
	for _, c := range cases {
		t.Run(c.subj, func(t *testing.T) {
			verb, stream, consumer, rest, ok := ParseAPISubject(c.subj)
			if !ok || verb != c.verb || stream != c.stream || consumer != c.consumer || rest != c.rest {
				t.Fatalf("got %v %q %q %q %v, want %v %q %q %q", verb, stream, consumer, rest, ok,
					c.verb, c.stream, c.consumer, c.rest)
			}
		})
	}
}

// Subjects that no nats-server API subscription matches get no answer: not ok.
func TestParseAPISubjectRefusesOtherShapes(t *testing.T) {
	for _, subj := range []string{
		"", "$JS.API", "$JS.API.", "$JS.API.INFO.x", "$JS.APIX.INFO", "$JS.API.INFOX",
		"$JS.API.STREAM.CREATE", "$JS.API.STREAM.CREATE.", "$JS.API.STREAM.CREATE.a.b",
		"$JS.API.STREAM.CREATE..", "$JS.API.STREAM.CREATEX.a", "$JS.API.STREAM.NAMES.x",
		"$JS.API.STREAM.INFO", "$JS.API.STREAM.MSG.GET", "$JS.API.DIRECT.GET",
		"$JS.API.DIRECT.GET.S.", "$JS.API.DIRECT.GET.S..x", "$JS.API.DIRECT.GET.S.x.",
		"$JS.API.CONSUMER.CREATE.S.", "$JS.API.CONSUMER.CREATE.S.C.", "$JS.API.CONSUMER.CREATE.S..x",
		"$JS.API.CONSUMER.DURABLE.CREATE.S", "$JS.API.CONSUMER.DURABLE.CREATE.S.D.x",
		"$JS.API.CONSUMER.INFO.S", "$JS.API.CONSUMER.INFO.S.C.x", "$JS.API.CONSUMER.MSG.NEXT.S",
		"$JS.API.ACCOUNT.PURGE", "$JS.API.ACCOUNT.STREAM.MOVE.A", "$JS.API.STREAM.TEMPLATE.CREATE.T",
		"$JS.ACK.S.C.1.1.1.1.0", "$JS.EVENT.ADVISORY.API", "$JS.API.UNKNOWN.S",
	} {
		if verb, _, _, _, ok := ParseAPISubject(subj); ok {
			t.Errorf("%q parsed as verb %d", subj, verb)
		}
	}
}

// Every verb has a shape, and every shape a test above: building a subject from random
// names and parsing it gives the names back.
func TestParseAPISubjectRoundTrip(t *testing.T) {
	name := rapid.StringMatching(`[A-Za-z0-9_$-]{1,12}`)
	rapid.Check(t, func(t *rapid.T) {
		shape := apiShapes[rapid.IntRange(0, len(apiShapes)-1).Draw(t, "shape")]
		subj := Prefix + shape.fixed
		var names [2]string
		for i := 0; i < shape.names; i++ {
			names[i] = name.Draw(t, "name")
			subj += "." + names[i]
		}
		rest := ""
		if shape.tail {
			rest = name.Draw(t, "tail") + rapid.SampledFrom([]string{"", ".x", ".*.>"}).Draw(t, "more")
			subj += "." + rest
		}
		verb, stream, consumer, gotRest, ok := ParseAPISubject(subj)
		if !ok || verb != shape.verb {
			t.Fatalf("%q: got verb %d ok %v, want %d", subj, verb, ok, shape.verb)
		}
		switch verb {
		case VerbAccountPurge:
			stream, gotRest = gotRest, ""
		case VerbAccountStreamMove, VerbAccountStreamCancelMove:
			stream, consumer, gotRest = gotRest, stream, ""
		}
		if stream != names[0] || consumer != names[1] || gotRest != rest {
			t.Fatalf("%q: got %q %q %q", subj, stream, consumer, gotRest)
		}
	})
	seen := map[Verb]bool{}
	for _, s := range apiShapes {
		seen[s.verb] = true
	}
	for v := VerbUnknown + 1; v < verbCount; v++ {
		if !seen[v] {
			t.Errorf("verb %d has no shape", v)
		}
	}
}

func TestSubjectBuilders(t *testing.T) {
	if got := ConsumerCreateSubject("S", "C", "a.b"); got != "$JS.API.CONSUMER.CREATE.S.C.a.b" {
		t.Fatal(got)
	}
	if got := ConsumerCreateSubject("S", "C", ""); got != "$JS.API.CONSUMER.CREATE.S.C" {
		t.Fatal(got)
	}
	if got := StreamCreateSubject("S"); got != "$JS.API.STREAM.CREATE.S" {
		t.Fatal(got)
	}
	if got := NextSubject("S", "C"); got != "$JS.API.CONSUMER.MSG.NEXT.S.C" {
		t.Fatal(got)
	}
}
