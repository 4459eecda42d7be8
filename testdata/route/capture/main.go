// Command capture records the bytes two nats-server nodes exchange on their routes and writes
// them as golden files for core/proto's route codec (testdata/route/*.txt).
//
//	go run ./testdata/route/capture -nats /work/peer/nats-server -out testdata/route
//
// Node b solicits its routes through a recording TCP proxy in front of node a's cluster port;
// raw clients then subscribe (with queue groups) on one node and publish (with replies and
// headers) on the other, so every route op nats-server sends crosses the proxy. Each kept
// route connection becomes one file holding both directions, quoted line by line; the
// expected ops in each file are written by `go test ./core/proto -run TestRouteGolden -rewrite`.
package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

func main() {
	natsBin := flag.String("nats", "nats-server", "nats-server binary")
	out := flag.String("out", "testdata/route", "directory for the golden files")
	flag.Parse()
	for _, s := range scenarios {
		if err := run(*natsBin, *out, s); err != nil {
			log.Fatalf("%s: %v", s.name, err)
		}
	}
}

type scenario struct {
	name  string
	about string
	// configs for nodes a and b (and an optional leaf node l); %d verbs take the ports.
	a, b, l string
	script  func(a, b, l string) error
	keep    func(account string, wire []byte) bool
}

const (
	portA, portB, portL   = 24222, 24223, 24224
	routeA, routeB, proxy = 26222, 26223, 26229
	routeL, leafA         = 26224, 27422
)

var scenarios = []scenario{
	{
		name:  "pooled",
		about: "A default cluster of two nodes (route pool of 3, plus the system account's own route). Clients subscribe on b (a queue group of two members, a plain subscription) and publish on a: with a reply, with headers, to the queue group only, with an empty header block; b answers a reply; then b's subscriptions go (a queue weight drops, then RS-).",
		a:     "server_name: a\nport: %[1]d\ncluster { name: c1, listen: 127.0.0.1:%[4]d }\n",
		b:     "server_name: b\nport: %[2]d\ncluster { name: c1, listen: 127.0.0.1:%[5]d, routes: [nats://127.0.0.1:%[6]d] }\n",
		script: func(a, b, _ string) error {
			return pubSub(a, b, "")
		},
		keep: func(account string, wire []byte) bool {
			return account == "$SYS" || bytes.Contains(wire, []byte("RMSG"))
		},
	},
	{
		name:  "pinned",
		about: "A route pinned to account ACC (cluster accounts: [ACC]): its INFO names route_account, and its RS+, RS-, RMSG and HMSG leave the account out. Same traffic as pooled, by user u of ACC.",
		a:     "server_name: a\nport: %[1]d\naccounts { ACC: { users: [{user: u, password: p}] } }\ncluster { name: c1, listen: 127.0.0.1:%[4]d, accounts: [ACC] }\n",
		b:     "server_name: b\nport: %[2]d\naccounts { ACC: { users: [{user: u, password: p}] } }\ncluster { name: c1, listen: 127.0.0.1:%[5]d, accounts: [ACC], routes: [nats://127.0.0.1:%[6]d] }\n",
		script: func(a, b, _ string) error {
			return pubSub(a, b, `"user":"u","pass":"p",`)
		},
		keep: func(account string, _ []byte) bool { return account == "ACC" },
	},
	{
		name:   "leaf",
		about:  "A leaf node l (cluster lc) attached to a: its subscriptions reach b as LS+ and LS- with origin lc, and its messages as LMSG (always with a header size). b subscribes and publishes back through a.",
		a:      "server_name: a\nport: %[1]d\ncluster { name: c1, listen: 127.0.0.1:%[4]d }\nleafnodes { listen: 127.0.0.1:%[8]d }\n",
		b:      "server_name: b\nport: %[2]d\ncluster { name: c1, listen: 127.0.0.1:%[5]d, routes: [nats://127.0.0.1:%[6]d] }\n",
		l:      "server_name: l\nport: %[3]d\ncluster { name: lc, listen: 127.0.0.1:%[7]d }\nleafnodes { remotes: [{url: nats-leaf://127.0.0.1:%[8]d}] }\n",
		script: leafTraffic,
		keep: func(account string, wire []byte) bool {
			return account == "" && (bytes.Contains(wire, []byte("LMSG")) || bytes.Contains(wire, []byte("LS+")))
		},
	},
}

func run(natsBin, out string, s scenario) error {
	dir, err := os.MkdirTemp("", "routecapture")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	rec := &recorder{}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", proxy))
	if err != nil {
		return err
	}
	defer ln.Close()
	go rec.serve(ln, fmt.Sprintf("127.0.0.1:%d", routeA))
	var procs []*exec.Cmd
	defer func() {
		for _, p := range procs {
			_ = p.Process.Kill() // the capture is taken; how they die does not matter
			_ = p.Wait()
		}
	}()
	for _, node := range []struct{ name, conf string }{{"a", s.a}, {"b", s.b}, {"l", s.l}} {
		if node.conf == "" {
			continue
		}
		conf := filepath.Join(dir, node.name+".conf")
		text := fmt.Sprintf(node.conf, portA, portB, portL, routeA, routeB, proxy, routeL, leafA)
		if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
			return err
		}
		cmd := exec.Command(natsBin, "-c", conf)
		if err := cmd.Start(); err != nil {
			return err
		}
		procs = append(procs, cmd)
		time.Sleep(300 * time.Millisecond)
	}
	time.Sleep(2 * time.Second) // routes and the leaf connect, and send their subscriptions
	addr := func(p int) string { return fmt.Sprintf("127.0.0.1:%d", p) }
	if err := s.script(addr(portA), addr(portB), addr(portL)); err != nil {
		return err
	}
	time.Sleep(500 * time.Millisecond)
	return rec.write(out, s)
}

// pubSub: subscribers on b, a publisher (with a reply inbox) on a. auth goes into CONNECT.
func pubSub(a, b, auth string) error {
	sb, err := dial(b, auth)
	if err != nil {
		return err
	}
	pa, err := dial(a, auth)
	if err != nil {
		return err
	}
	steps := []struct {
		c    *client
		send string
	}{
		{sb, "SUB foo.> q1 1\r\nSUB foo.> q1 2\r\nSUB foo.bar 3\r\nSUB bar 4\r\n"},
		{pa, "SUB _INBOX.> 9\r\n"},
		{pa, "PUB foo.bar _INBOX.r1 5\r\nhello\r\n" +
			"HPUB foo.bar _INBOX.r2 23 25\r\nNATS/1.0\r\nX-Test: 1\r\n\r\nhi\r\n" +
			"PUB foo.x 1\r\nx\r\n" +
			"PUB bar _INBOX.r3 0\r\n\r\n" +
			"HPUB bar 12 12\r\nNATS/1.0\r\n\r\n\r\n"},
		{sb, "PUB _INBOX.r1 2\r\nok\r\nHPUB _INBOX.r2 23 23\r\nNATS/1.0\r\nX-Test: 2\r\n\r\n\r\n"},
		{sb, "UNSUB 2\r\nUNSUB 1\r\nUNSUB 4\r\n"},
	}
	for _, st := range steps {
		if err := st.c.do(st.send); err != nil {
			return err
		}
		time.Sleep(300 * time.Millisecond) // interest crosses the route before the next step
	}
	return nil
}

// leafTraffic: l's client subscribes and publishes; b's client subscribes and answers.
func leafTraffic(_, b, l string) error {
	sb, err := dial(b, "")
	if err != nil {
		return err
	}
	cl, err := dial(l, "")
	if err != nil {
		return err
	}
	steps := []struct {
		c    *client
		send string
	}{
		{sb, "SUB foo.> q1 1\r\nSUB foo.bar 2\r\n"},
		{cl, "SUB baz 1\r\nSUB baz q2 2\r\nSUB _INBOX.> 3\r\n"},
		{cl, "PUB foo.bar _INBOX.l1 5\r\nhello\r\nHPUB foo.bar 23 25\r\nNATS/1.0\r\nX-Test: 1\r\n\r\nhi\r\nPUB foo.x 1\r\nx\r\n"},
		{sb, "PUB baz _INBOX.l2 2\r\nok\r\n"},
		{cl, "UNSUB 1\r\nUNSUB 2\r\n"},
	}
	for _, st := range steps {
		if err := st.c.do(st.send); err != nil {
			return err
		}
		time.Sleep(300 * time.Millisecond)
	}
	return nil
}

// client is a raw NATS client: it sends bytes and waits for the PONG of a PING after them.
type client struct {
	conn  net.Conn
	pongs chan struct{}
}

func dial(addr, auth string) (*client, error) {
	conn, err := net.DialTimeout("tcp", addr, 2*time.Second)
	if err != nil {
		return nil, err
	}
	c := &client{conn: conn, pongs: make(chan struct{}, 16)}
	go func() {
		r := bufio.NewReader(conn)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			if strings.HasPrefix(line, "PONG") {
				c.pongs <- struct{}{}
			}
		}
	}()
	return c, c.do(`CONNECT {` + auth + `"verbose":false,"headers":true,"protocol":1}` + "\r\n")
}

func (c *client) do(s string) error {
	if _, err := io.WriteString(c.conn, s+"PING\r\n"); err != nil {
		return err
	}
	select {
	case <-c.pongs:
		return nil
	case <-time.After(3 * time.Second):
		return fmt.Errorf("no PONG after %q", s)
	}
}

// recorder is the proxy: every connection's bytes, both ways, in accept order.
type recorder struct {
	mu    sync.Mutex
	conns []*recorded
}

type recorded struct {
	toA, toB bytes.Buffer // what b sent to a, what a sent to b
}

func (r *recorder) serve(ln net.Listener, target string) {
	for {
		in, err := ln.Accept()
		if err != nil {
			return
		}
		outc, err := net.Dial("tcp", target)
		if err != nil {
			in.Close()
			continue
		}
		rc := &recorded{}
		r.mu.Lock()
		r.conns = append(r.conns, rc)
		r.mu.Unlock()
		go r.copy(outc, in, &rc.toA)
		go r.copy(in, outc, &rc.toB)
	}
}

func (r *recorder) copy(dst, src net.Conn, log *bytes.Buffer) {
	buf := make([]byte, 32*1024)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			r.mu.Lock()
			log.Write(buf[:n])
			r.mu.Unlock()
			if _, werr := dst.Write(buf[:n]); werr != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

var routeAccount = regexp.MustCompile(`"route_account":"([^"]*)"`)

func (r *recorder) write(out string, s scenario) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	kept := 0
	for _, rc := range r.conns {
		both := append(append([]byte{}, rc.toA.Bytes()...), rc.toB.Bytes()...)
		account := ""
		if m := routeAccount.FindSubmatch(both); m != nil {
			account = string(m[1])
		}
		if !s.keep(account, both) {
			continue
		}
		name := s.name
		if kept > 0 || s.name == "pooled" {
			name += "_" + strconv.Itoa(kept)
		}
		kept++
		var f bytes.Buffer
		fmt.Fprintf(&f, "# %s\n#\n# Captured from nats-server v2.15.2 by testdata/route/capture (see README.md).\n", s.about)
		if account != "" {
			fmt.Fprintf(&f, "account %s\n", account)
		}
		writeWire(&f, "b>a", rc.toA.Bytes())
		writeWire(&f, "a>b", rc.toB.Bytes())
		if err := os.WriteFile(filepath.Join(out, name+".txt"), f.Bytes(), 0o644); err != nil {
			return err
		}
	}
	if kept == 0 {
		return fmt.Errorf("no route connection kept out of %d", len(r.conns))
	}
	return nil
}

// writeWire writes one direction's bytes quoted, one line of the stream per line.
func writeWire(f *bytes.Buffer, dir string, b []byte) {
	fmt.Fprintf(f, "-- wire %s\n", dir)
	for len(b) > 0 {
		i := bytes.IndexByte(b, '\n') + 1
		if i == 0 {
			i = len(b)
		}
		fmt.Fprintf(f, "%s\n", strconv.Quote(string(b[:i])))
		b = b[i:]
	}
}
