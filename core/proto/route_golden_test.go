package proto

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

var rewrite = flag.Bool("rewrite", false, "rewrite the expected ops in testdata/route from what the parser reads")

// routeGolden is one capture: the bytes each side sent on one route connection, and the
// ops the parser must read from them.
type routeGolden struct {
	header []string // comment lines and the mode, kept as written
	mode   RouteMode
	dirs   []string          // directions in file order ("b>a", "a>b")
	wire   map[string][]byte // direction → bytes
	ops    map[string][]string
}

func readRouteGolden(path string) (*routeGolden, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	g := &routeGolden{wire: map[string][]byte{}, ops: map[string][]string{}}
	section, dir := "", ""
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "-- wire "), strings.HasPrefix(line, "-- ops "):
			section, dir = strings.Fields(line)[1], strings.Fields(line)[2]
			if section == "wire" {
				g.dirs = append(g.dirs, dir)
			}
		case section == "" && strings.HasPrefix(line, "account "):
			g.mode.Account = strings.TrimPrefix(line, "account ")
			g.header = append(g.header, line)
		case section == "":
			g.header = append(g.header, line)
		case section == "wire":
			s, err := strconv.Unquote(line)
			if err != nil {
				return nil, fmt.Errorf("%s:%d: %v", path, n, err)
			}
			g.wire[dir] = append(g.wire[dir], s...)
		default:
			g.ops[dir] = append(g.ops[dir], line)
		}
	}
	return g, sc.Err()
}

// write puts the file back with the ops the parser read.
func (g *routeGolden) write(path string, got map[string][]string) error {
	var b bytes.Buffer
	for _, h := range g.header {
		fmt.Fprintln(&b, h)
	}
	for _, dir := range g.dirs {
		fmt.Fprintf(&b, "-- wire %s\n", dir)
		for rest := g.wire[dir]; len(rest) > 0; {
			i := bytes.IndexByte(rest, '\n') + 1
			if i == 0 {
				i = len(rest)
			}
			fmt.Fprintln(&b, strconv.Quote(string(rest[:i])))
			rest = rest[i:]
		}
	}
	for _, dir := range g.dirs {
		fmt.Fprintf(&b, "-- ops %s\n", dir)
		for _, op := range got[dir] {
			fmt.Fprintln(&b, op)
		}
	}
	return os.WriteFile(path, b.Bytes(), 0o644)
}

// TestRouteGolden reads what nats-server v2.15.2 sent on real routes (testdata/route, see
// its README): the parser must read the expected ops from each direction, whole and a byte
// at a time; the encoders must write the same bytes back from those ops; and every INFO and
// CONNECT must decode into RouteInfo / RouteConnect with no field left over and marshal
// back to the same JSON.
func TestRouteGolden(t *testing.T) {
	files, err := filepath.Glob("../../testdata/route/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no captures: %v", err)
	}
	for _, file := range files {
		t.Run(strings.TrimSuffix(filepath.Base(file), ".txt"), func(t *testing.T) {
			g, err := readRouteGolden(file)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string][]string{}
			for _, dir := range g.dirs {
				got[dir] = checkRouteDirection(t, g, dir)
			}
			if *rewrite {
				if err := g.write(file, got); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}

func checkRouteDirection(t *testing.T, g *routeGolden, dir string) []string {
	wire := g.wire[dir]
	r, err := parseRoute(g.mode, Limits{MaxControlLine: 4096}, string(wire))
	if err != nil {
		t.Fatalf("%s: %v", dir, err)
	}
	if !*rewrite && strings.Join(r.ops, "\n") != strings.Join(g.ops[dir], "\n") {
		t.Errorf("%s: parsed ops differ (run with -rewrite to see the change in git diff):\n got %q\nwant %q", dir, r.ops, g.ops[dir])
	}
	chunks := make([]string, len(wire))
	for i := range wire {
		chunks[i] = string(wire[i : i+1])
	}
	bytewise, err := parseRoute(g.mode, Limits{MaxControlLine: 4096}, chunks...)
	if err != nil {
		t.Fatalf("%s a byte at a time: %v", dir, err)
	}
	if strings.Join(bytewise.ops, "\n") != strings.Join(r.ops, "\n") {
		t.Errorf("%s: a byte at a time parses differently", dir)
	}
	var encoded []byte
	for _, enc := range r.enc {
		encoded = enc(encoded)
	}
	if !bytes.Equal(encoded, wire) {
		t.Errorf("%s: encoders write\n%q\nnats-server sent\n%q", dir, encoded, wire)
	}
	for _, op := range r.ops {
		checkRouteJSON(t, op)
	}
	return r.ops
}

// checkRouteJSON decodes an INFO or CONNECT strictly and marshals it back.
func checkRouteJSON(t *testing.T, op string) {
	var doc any
	switch {
	case strings.HasPrefix(op, "INFO "):
		doc = &RouteInfo{}
	case strings.HasPrefix(op, "CONNECT "):
		doc = &RouteConnect{}
	default:
		return
	}
	text := op[strings.IndexByte(op, ' ')+1:]
	dec := json.NewDecoder(strings.NewReader(text))
	dec.DisallowUnknownFields()
	if err := dec.Decode(doc); err != nil {
		t.Errorf("%.40s...: %v", op, err)
		return
	}
	back, err := json.Marshal(doc)
	if err != nil || string(back) != text {
		t.Errorf("%T marshals to\n%s\nnats-server sent\n%s (%v)", doc, back, text, err)
	}
}
