# Petrel's build. `make run` starts a server; `make test` is what CI runs.
GO        ?= go
SIM_SEEDS ?= 200
SWEEP_SEEDS ?= 5000
FUZZ_TIME ?= 1000000x
FUZZ_BRIEF ?= 20000x
FUZZ_MINIMIZE ?= 1000x
DATA_DIR  ?= ./data
CLUSTER_DIR ?= ./cluster-data
# natscli drives the end-to-end flow-control tests (nats bench) and make bench; installed once
# into bin/tools and reused.
NATSCLI_VERSION ?= v0.5.0
NATS_CLI_BIN ?= $(CURDIR)/bin/tools/natscli-$(NATSCLI_VERSION)/nats
export NATS_CLI_BIN
FUZZ_TARGETS = $(shell grep -ho '^func Fuzz[A-Za-z0-9_]*' fuzz/*_test.go | sed 's/^func //')

.PHONY: build run cluster test vet tidy tzdata unit race sim sim-sweep fuzz fuzz-brief bench lint clean tools mutate mutate-brief mutate-open

build:
	$(GO) build -o bin/petrel ./cmd/petrel
	$(GO) build -o bin/petrel-sim ./cmd/petrel-sim

## run: one node, JetStream on, data in $(DATA_DIR)
run: build
	./bin/petrel -js -sd $(DATA_DIR)

## cluster: three local nodes (clients on 4222-4224, routes on 6222-6224, monitoring on
## 8222-8224), JetStream on, data in $(CLUSTER_DIR)/n1..n3; Ctrl-C stops all three
cluster: build
	@mkdir -p $(CLUSTER_DIR)
	@pids=""; trap 'kill $$pids 2>/dev/null; wait; exit 0' INT TERM; \
	for i in 1 2 3; do \
		./bin/petrel -c testdata/cluster/n$$i.conf -js -sd $(CLUSTER_DIR)/n$$i & pids="$$pids $$!"; \
	done; \
	wait

## test: everything CI checks, bounded to a few minutes on 2 cores
test: vet tidy unit race sim fuzz-brief mutate-brief

vet:
	$(GO) vet ./...

## tidy: the source-reading test that keeps deterministic packages deterministic
tidy:
	$(GO) test -count=1 -run 'TestDeterministicPackagesStayDeterministic|TestTidyCatches' ./core/

## tzdata: refresh core/tzdb's embedded zone database from the Go toolchain's copy (then
## update the tzdata release named in core/tzdb/tzdb.go and DESIGN.md: lib/time/update.bash)
tzdata:
	cp "$$($(GO) env GOROOT)/lib/time/zoneinfo.zip" core/tzdb/zoneinfo.zip
	grep '^DATA=' "$$($(GO) env GOROOT)/lib/time/update.bash"

## tools: natscli, for the end-to-end tests and benchmarks
tools: $(NATS_CLI_BIN)

$(NATS_CLI_BIN):
	GOBIN=$(dir $(NATS_CLI_BIN)) $(GO) install github.com/nats-io/natscli/nats@$(NATSCLI_VERSION)

## unit: all tests, with expensive invariants compiled in
unit: tools
	$(GO) test -count=1 -tags invariants ./...

## race: the packages where real goroutines meet, under the race detector
race: tools
	PETREL_E2E_RACE=1 $(GO) test -count=1 -race ./netstack/... ./server/... ./cmd/...

## sim: a bounded seed sweep of every workload (pinned regression seeds first)
sim:
	$(GO) run -tags invariants ./cmd/petrel-sim -seeds $(SIM_SEEDS) -coverage testdata/sim/coverage.txt

## sim-sweep: the long sweep
sim-sweep:
	$(GO) run -tags invariants ./cmd/petrel-sim -seeds $(SWEEP_SEEDS) -from 100000

## mutate: plant every bug of testdata/mutants in a scratch copy, one at a time; report which
## the unit tests and the sweep catch (first failing seed). Fails if the sweep misses any.
## mutate-brief (CI): MUTATE_BRIEF of them, sweep only, chosen by rotation over
## PETREL_MUTATE_KEY (a CI run counter; the day of the year when unset), so successive runs
## cover them all.
MUTATE_BRIEF ?= 2
mutate:
	@start=$$(date +%s); $(GO) run ./cmd/petrel-mutate $(MUTATE_FLAGS); status=$$?; \
		echo "make mutate: $$(( $$(date +%s) - start ))s"; exit $$status

## mutate-open: planted bugs the sweep does not catch yet (testdata/mutants/open): the gaps to close
mutate-open:
	$(GO) run ./cmd/petrel-mutate -dir testdata/mutants/open $(MUTATE_FLAGS)

mutate-brief:
	$(GO) run ./cmd/petrel-mutate -rotate $(MUTATE_BRIEF) -sweep-only

## fuzz: every fuzz target for FUZZ_TIME executions each; fuzz-brief: FUZZ_BRIEF each (CI).
## The budgets are execution counts (-fuzztime Nx), not durations, so that a run fails only on
## a failing input (written to fuzz/testdata/fuzz/<target>/ and named in the output), never on
## the fuzzing harness's own clock. With a duration, Go's coordinator (go1.26 and earlier,
## go.dev/issue/75804) can report its own -fuzztime deadline as "context deadline exceeded"
## and fail the target when the machine is loaded; an execution count sets no deadline, so
## there is nothing to race, and load makes the step slower instead of red. Minimizing (which
## the fuzzer does to every new interesting input, not only to crashers) is bounded by a count
## too: its default is 60 s of wall clock per input, which stalled a 20000x run for a minute.
## Idle, 20000 executions take under a second for the fast targets and 2-4 s for
## FuzzClientProtocol and FuzzFilestoreRecovery. A duration still works for a local run
## (make fuzz FUZZ_TIME=60s), with the risk above.
fuzz:
	@for t in $(FUZZ_TARGETS); do \
		echo "fuzzing $$t for $(FUZZ_TIME)"; \
		$(GO) test ./fuzz/ -run '^$$' -fuzz "^$$t$$" -fuzztime $(FUZZ_TIME) \
			-fuzzminimizetime $(FUZZ_MINIMIZE) || exit 1; \
	done

fuzz-brief:
	@$(MAKE) --no-print-directory fuzz FUZZ_TIME=$(FUZZ_BRIEF)

## bench: core NATS side by side with nats-server when NATS_SERVER_BIN names one (install it
## outside the repo: go install github.com/nats-io/nats-server/v2@v2.15.2), natscli's nats bench
## core scenarios the same way (with each server's RSS after the run), then Go benchmarks.
## The filestore's 64-writer cases run 8x longer: at 8000 messages a turn is ~16 rounds of 64
## writers and measures their start-up more than the steady state.
bench: build tools
	$(GO) build -o bin/petrel-bench ./cmd/petrel-bench
	./bin/petrel-bench -petrel bin/petrel
	$(GO) test -run '^$$' -bench . -benchtime 3x ./sim/...
	$(GO) test -run '^$$' -bench 'BenchmarkWrite/.*/.*/writers=1$$' -benchtime 8000x ./filestore/
	$(GO) test -run '^$$' -bench 'BenchmarkWrite/.*/.*/writers=64$$' -benchtime 64000x ./filestore/
	$(GO) test -run '^$$' -bench . ./core/...

lint: vet tidy
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi

clean:
	rm -rf bin $(DATA_DIR)
