package jetstream

import "github.com/petrel-io/petrel/core/bus"

// consumer is one consumer of a stream; it lives on the stream's executor.
type consumer struct {
	st   *streamActor
	name string
}

func (c *consumer) close() {}

// kick tells the stream's consumers that there may be something new to deliver.
func (st *streamActor) kick() {}

// purged tells the consumers that messages went.
func (st *streamActor) purged() {}

func (st *streamActor) recoverConsumers() {}

func (a *account) consumerCreate(m bus.Msg, args []string)        {}
func (a *account) consumerDurableCreate(m bus.Msg, args []string) {}
func (a *account) consumerInfo(m bus.Msg, args []string)          {}
func (a *account) consumerDelete(m bus.Msg, args []string)        {}
func (a *account) consumerNames(m bus.Msg, args []string)         {}
func (a *account) consumerList(m bus.Msg, args []string)          {}
func (a *account) consumerNext(m bus.Msg, args []string)          {}
func (a *account) consumerPause(m bus.Msg, args []string)         {}
