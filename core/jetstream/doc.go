// Package jetstream is JetStream on one server: the `$JS.API` of each JetStream-enabled
// account, answered on the internal bus; the accounts' streams and consumers as actors; and
// their durable definitions on disk.
//
// Actors and executors:
//   - the Service runs on its own executor: the accounts, the registry of each account's
//     streams (names, configurations, subjects), the API requests that change that registry
//     (create, update, delete) and the definitions on disk;
//   - each stream runs on its own executor, with its consumers: the stream's state machine
//     (fsm/stream) over its store, the publishes it takes from its subjects, the requests
//     about its content (info, get, purge, consumer create/info/delete, pull requests) and
//     the deliveries and acks of its consumers. The store belongs to that executor, so
//     nothing else touches it.
//
// An API request that concerns one stream is posted to its executor and answered from
// there. Answers and deliveries go out through the bus, which is safe from any executor.
//
// On disk, per account: <store_dir>/jetstream/<account>/streams/<stream>/ holds meta.json
// (the configuration and creation time, with a checksum, written durably: temporary file,
// fsync, rename, directory fsync, before the create is answered), msgs/ (the store's
// blocks) and obs/<consumer>/ (the consumer's meta.json and state). A definition that fails
// its checksum is reported and its stream left offline with its data kept: a node never
// deletes what it cannot read.
package jetstream
