package jetstream_test

import (
	"bytes"
	"errors"
	"reflect"
	"testing"

	"github.com/petrel-io/petrel/core/jetstream"
	"github.com/petrel-io/petrel/core/jsapi"
)

// validSnapshot is a snapshot of a filled stream with one consumer, as the engine makes it.
func validSnapshot(t *testing.T) *jetstream.Snapshot {
	t.Helper()
	j := newSimJS(t)
	j.fillOrders(60)
	run := j.snapshot("ORDERS", jsapi.SnapshotRequest{}, true)
	snap, err := jetstream.DecodeSnapshot(run.data, jetstream.SnapshotBytesMax)
	if err != nil {
		t.Fatal(err)
	}
	return snap
}

// The container decodes to what was encoded, compressed or not, and encodes canonically.
func TestSnapshotContainerRoundTrip(t *testing.T) {
	snap := validSnapshot(t)
	raw, err := snap.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var back jetstream.Snapshot
	if err := back.UnmarshalBinary(raw); err != nil {
		t.Fatal(err)
	}
	again, _ := back.MarshalBinary()
	if !bytes.Equal(raw, again) || !reflect.DeepEqual(back.Store, snap.Store) || len(back.Consumers) != 1 ||
		!back.Consumers[0].State.Equal(snap.Consumers[0].State) || back.Config.Name != "ORDERS" {
		t.Fatalf("round trip changed the snapshot")
	}
	packed, err := jetstream.EncodeSnapshot(snap)
	if err != nil {
		t.Fatal(err)
	}
	if unpacked, err := jetstream.DecodeSnapshot(packed, jetstream.SnapshotBytesMax); err != nil || !reflect.DeepEqual(unpacked.Store, snap.Store) {
		t.Fatalf("compressed round trip: %v", err)
	}
}

// Every flipped byte, every truncation and any trailing byte is refused with
// ErrBadSnapshot, and a refused decode leaves its target untouched.
func TestSnapshotContainerRefusesDamage(t *testing.T) {
	raw, err := validSnapshot(t).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	refused := func(what string, data []byte) {
		t.Helper()
		s := jetstream.Snapshot{Store: []byte("untouched")}
		if err := s.UnmarshalBinary(data); !errors.Is(err, jetstream.ErrBadSnapshot) || string(s.Store) != "untouched" {
			t.Fatalf("%s: %v", what, err)
		}
	}
	for i := range raw {
		refused("flip", flipped(raw, i))
	}
	for n := 0; n < len(raw); n++ {
		refused("truncation", raw[:n])
	}
	refused("trailing byte", append(append([]byte(nil), raw...), 0))
}

// Two consumers of one name are refused.
func TestSnapshotContainerRefusesDuplicateConsumers(t *testing.T) {
	snap := validSnapshot(t)
	snap.Consumers = append(snap.Consumers, snap.Consumers[0])
	raw, err := snap.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	var back jetstream.Snapshot
	if err := back.UnmarshalBinary(raw); !errors.Is(err, jetstream.ErrBadSnapshot) {
		t.Fatalf("duplicate consumer: %v", err)
	}
}
