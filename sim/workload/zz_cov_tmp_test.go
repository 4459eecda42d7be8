package workload

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"testing"

	"github.com/petrel-io/petrel/sim"
)

func TestTmpRaftCoverage(t *testing.T) {
	n, _ := strconv.Atoi(os.Getenv("RAFTCOV"))
	if n == 0 {
		t.Skip()
	}
	sum := map[string]int{}
	seedsHit := map[string]int{}
	for seed := uint64(1); seed <= uint64(n); seed++ {
		res := sim.Run(&Raft{}, seed, sim.Options{})
		if res.Failed() {
			fmt.Println("FAIL", seed, res.Err.Error()[:200])
		}
		for k, v := range res.Coverage {
			sum[k] += v
			seedsHit[k]++
		}
	}
	var keys []string
	for k := range sum {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		fmt.Printf("%-40s %6d in %d seeds\n", k, sum[k], seedsHit[k])
	}
}
