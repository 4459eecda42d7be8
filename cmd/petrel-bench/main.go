// Command petrel-bench measures core NATS throughput and latency of Petrel and, when
// NATS_SERVER_BIN names a nats-server binary, of nats-server too, alternating the two in
// one run so both see the same machine state, and prints the ratios. With NATS_CLI_BIN
// naming natscli, it then runs natscli's `nats bench` core scenarios the same way and
// reports each server's resident memory after each.
//
// The JetStream rows (natscli_jetstream.go) run each server with JetStream in a fresh store
// directory. -only runs the scenarios whose name holds a text; -profile writes a CPU profile
// of every Petrel run into a directory (petrel's --profile_cpu, stopped with SIGTERM).
//
//	petrel-bench [-petrel bin/petrel] [-rounds 3] [-msgs 2000000] [-size 16] [-cli-msgs 1000000] [-only js] [-profile dir]
package main

import (
	"flag"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"
)

// only, when set, restricts the run to scenarios whose name contains it.
var only string

func selected(name string) bool { return only == "" || strings.Contains(name, only) }

// scenario measures one thing; higher is better unless lowerIsBetter.
type scenario struct {
	name          string
	unit          string
	lowerIsBetter bool
	run           func(url string, cfg config) (float64, error)
	accounts      bool // run the servers with the accounts file (accounts.go)
}

type config struct {
	msgs int
	size int
	reqs int
}

func main() {
	petrel := flag.String("petrel", "bin/petrel", "the petrel binary")
	rounds := flag.Int("rounds", 3, "alternating rounds per scenario (the median is reported)")
	msgs := flag.Int("msgs", 1_000_000, "messages per throughput run")
	size := flag.Int("size", 16, "payload bytes")
	reqs := flag.Int("reqs", 20_000, "requests per latency run")
	cliMsgs := flag.Int("cli-msgs", 1_000_000, "messages per natscli run (requests: a fiftieth)")
	flag.StringVar(&only, "only", "", "run only the scenarios whose name contains this")
	flag.StringVar(&profileDir, "profile", "", "write a CPU profile of each petrel run into this directory")
	flag.Parse()
	cfg := config{msgs: *msgs, size: *size, reqs: *reqs}
	servers := []server{{name: "petrel", bin: *petrel}}
	if bin := os.Getenv("NATS_SERVER_BIN"); bin != "" {
		servers = append(servers, server{name: "nats-server", bin: bin})
	}
	scenarios := []scenario{
		{name: "publish", unit: "msgs/s", run: benchPublish},
		{name: "pub/sub 1:1", unit: "msgs/s", run: benchPubSub(1)},
		{name: "fan-out 1:4", unit: "msgs/s", run: benchPubSub(4)},
		{name: "request/reply", unit: "µs/req", lowerIsBetter: true, run: benchRequest},
	}
	scenarios = append(scenarios, accountScenarios()...)
	var chosen []scenario
	for _, sc := range scenarios {
		if selected(sc.name) {
			chosen = append(chosen, sc)
		}
	}
	if len(chosen) > 0 {
		fmt.Printf("%d-byte payloads, %d msgs per run, %d requests per latency run, median of %d alternating rounds\n\n",
			cfg.size, cfg.msgs, cfg.reqs, *rounds)
		fmt.Printf("%-15s %16s %16s %8s\n", "scenario", servers[0].name, peerName(servers), "ratio")
	}
	status := 0
	for _, sc := range chosen {
		results := make([][]float64, len(servers))
		for r := 0; r < *rounds; r++ {
			for i, srv := range servers {
				v, err := measure(srv, sc, cfg)
				if err != nil {
					fmt.Fprintf(os.Stderr, "%s on %s: %v\n", sc.name, srv.name, err)
					status = 1
					continue
				}
				results[i] = append(results[i], v)
			}
		}
		printRow(sc, results)
	}
	if cli := os.Getenv("NATS_CLI_BIN"); cli != "" {
		status = max(status, runCLI(cli, servers, *rounds, *cliMsgs))
	} else {
		fmt.Println("\n(NATS_CLI_BIN not set: natscli's nats bench scenarios skipped; make bench sets it)")
	}
	os.Exit(status)
}

func peerName(servers []server) string {
	if len(servers) > 1 {
		return servers[1].name
	}
	return "(no NATS_SERVER_BIN)"
}

func median(v []float64) float64 {
	if len(v) == 0 {
		return 0
	}
	s := append([]float64(nil), v...)
	sort.Float64s(s)
	return s[len(s)/2]
}

func printRow(sc scenario, results [][]float64) {
	own := median(results[0])
	line := fmt.Sprintf("%-15s %16s", sc.name, format(own, sc.unit))
	if len(results) > 1 && len(results[1]) > 0 {
		peer := median(results[1])
		ratio := own / peer
		if sc.lowerIsBetter {
			ratio = peer / own
		}
		line += fmt.Sprintf(" %16s %7.2fx", format(peer, sc.unit), ratio)
	}
	fmt.Println(line)
}

func format(v float64, unit string) string {
	if unit == "msgs/s" {
		return fmt.Sprintf("%.0f %s", v, unit)
	}
	return fmt.Sprintf("%.1f %s", v, unit)
}

// measure starts a fresh server for one run, so runs do not share state.
func measure(srv server, sc scenario, cfg config) (float64, error) {
	var args []string
	if sc.accounts {
		path, err := writeAccountsConf()
		if err != nil {
			return 0, err
		}
		args = []string{"-c", path}
	}
	p, err := srv.start(args...)
	if err != nil {
		return 0, err
	}
	defer p.stop()
	time.Sleep(50 * time.Millisecond) // let the listener settle
	return sc.run(p.url, cfg)
}
