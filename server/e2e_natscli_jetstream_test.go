package server

import (
	"encoding/json"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// natscli v0.5.0's stream, consumer and account commands, as a user types them, against
// Petrel; with NATS_SERVER_BIN set the same script runs against nats-server first, so the
// expected texts are known to be nats-server's too (the script's outputs were compared
// side by side by hand when it was written: they differ only in versions, timestamps,
// stored byte counts and the consumer details listed in the report of issue 12).

// cliStep is one natscli command with the texts its output must hold (or, with fails, the
// error text it must end with).
type cliStep struct {
	args  []string
	want  []string
	fails bool
	// not lists texts the output must not hold.
	not []string
}

// natscliJetStreamScript walks a stream and a pull consumer through their life: five
// messages, one deleted, two fetched with acks and one without, then purge and removal.
var natscliJetStreamScript = []cliStep{
	{args: []string{"stream", "add", "ORDERS", "--subjects", "orders.>", "--defaults"},
		want: []string{"Stream ORDERS was created", "Subjects: orders.>", "Storage: File", "Retention: Limits", "Duplicate Window: 2m0s"}},
	{args: []string{"pub", "orders.new", "msg {{Count}}", "--count", "5", "--jetstream"},
		want: []string{"Stored in Stream: ORDERS Sequence: 1", "Stored in Stream: ORDERS Sequence: 5"}},
	{args: []string{"stream", "info", "ORDERS"},
		want: []string{"Messages: 5", "First Sequence: 1 @", "Last Sequence: 5 @", "Number of Subjects: 1"}},
	{args: []string{"stream", "ls"}, want: []string{"ORDERS", "│ 5 "}},
	{args: []string{"stream", "ls", "--names"}, want: []string{"ORDERS"}},
	{args: []string{"stream", "get", "ORDERS", "2"}, want: []string{"ORDERS#2", "on Subject orders.new", "msg 2"}},
	{args: []string{"stream", "get", "ORDERS", "--last-for", "orders.new"}, want: []string{"ORDERS#5", "msg 5"}},
	{args: []string{"stream", "rmm", "ORDERS", "3", "--force"}},
	{args: []string{"stream", "get", "ORDERS", "3"}, fails: true, want: []string{"no message found (10037)"}},
	{args: []string{"stream", "info", "ORDERS"}, want: []string{"Messages: 4", "Deleted Messages: 1"}},
	{args: []string{"consumer", "add", "ORDERS", "C1", "--pull", "--defaults"},
		want: []string{"Information for Consumer ORDERS > C1", "Pull Mode: true", "Ack Policy: Explicit",
			"Ack Wait: 30.00s", "Max Ack Pending: 1,000", "Unprocessed Messages: 4"}},
	{args: []string{"consumer", "add", "ORDERS", "C2", "--pull", "--defaults", "--filter", "orders.other", "--max-deliver", "5"},
		want: []string{"Filter Subject: orders.other", "Maximum Deliveries: 5", "Unprocessed Messages: 0"}},
	{args: []string{"consumer", "next", "ORDERS", "NOPE"}, fails: true, want: []string{"consumer not found (10014)"}},
	{args: []string{"consumer", "next", "ORDERS", "C1", "--count", "2"},
		want: []string{"cons seq: 1 / str seq: 1 / pending: 3", "msg 1", "cons seq: 2 / str seq: 2 / pending: 2", "Acknowledged message"}},
	{args: []string{"consumer", "next", "ORDERS", "C1", "--no-ack"},
		want: []string{"tries: 1 / cons seq: 3 / str seq: 4 / pending: 1", "msg 4"}, not: []string{"Acknowledged"}},
	{args: []string{"consumer", "info", "ORDERS", "C1"},
		want: []string{"Last Delivered Message: Consumer sequence: 3 Stream sequence: 4", "Outstanding Acks: 1 out of maximum 1,000",
			"Unprocessed Messages: 1"}},
	{args: []string{"consumer", "ls", "ORDERS"}, want: []string{"│ C1 ", "│ C2 "}},
	{args: []string{"consumer", "ls", "ORDERS", "--names"}, want: []string{"C1\nC2"}},
	{args: []string{"account", "info"}, want: []string{"JetStream Account Information", "Streams: 1", "Consumers: 2", "Storage:"}},
	{args: []string{"consumer", "rm", "ORDERS", "C2", "--force"}},
	{args: []string{"consumer", "ls", "ORDERS", "--names"}, want: []string{"C1"}, not: []string{"C2"}},
	{args: []string{"stream", "purge", "ORDERS", "--subject", "orders.new", "--keep", "1", "--force"},
		want: []string{"Purged 3 messages from ORDERS", "Messages: 1", "First Sequence: 5 @"}},
	{args: []string{"stream", "purge", "ORDERS", "--force"}, want: []string{"Purged 1 messages from ORDERS", "Messages: 0", "First Sequence: 6"}},
	{args: []string{"stream", "add", "OVER", "--subjects", "orders.x", "--defaults"}, fails: true,
		want: []string{"subjects overlap with an existing stream (10065)"}},
	{args: []string{"stream", "rm", "ORDERS", "--force"}},
	{args: []string{"stream", "ls"}, want: []string{"No Streams defined"}},
	{args: []string{"account", "info"}, want: []string{"Streams: 0", "Consumers: 0"}},
}

func TestE2ENatscliJetStream(t *testing.T) {
	cli := natsCLI(t)
	if bin := os.Getenv("NATS_SERVER_BIN"); bin != "" {
		port := freePort(t)
		startNatsServer(t, bin, []string{"-a", "127.0.0.1", "-p", port, "-js", "-sd", t.TempDir()})
		runCLIScript(t, cli, "nats://127.0.0.1:"+port, natscliJetStreamScript)
	}
	p, _ := startJS(t)
	runCLIScript(t, cli, p.url(), natscliJetStreamScript)
}

// runCLIScript runs each step against url and checks its output.
func runCLIScript(t *testing.T, cli, url string, script []cliStep) {
	t.Helper()
	for _, step := range script {
		out, err := exec.Command(cli, append([]string{"-s", url, "--timeout", "5s"}, step.args...)...).CombinedOutput()
		if (err != nil) != step.fails {
			t.Fatalf("%s: nats %v: %v (want failure: %v)\n%s", url, step.args, err, step.fails, out)
		}
		for _, want := range step.want {
			if !strings.Contains(string(out), want) {
				t.Fatalf("%s: nats %v lacks %q:\n%s", url, step.args, want, out)
			}
		}
		for _, not := range step.not {
			if strings.Contains(string(out), not) {
				t.Fatalf("%s: nats %v holds %q:\n%s", url, step.args, not, out)
			}
		}
	}
}

// natscli's --json views decode into nats-server's shapes: the stream's configuration and
// state and the consumer's, as jsm.go reads them.
func TestE2ENatscliJetStreamJSON(t *testing.T) {
	cli := natsCLI(t)
	p, _ := startJS(t)
	runCLIScript(t, cli, p.url(), []cliStep{
		{args: []string{"stream", "add", "J", "--subjects", "j.*", "--storage", "memory", "--retention", "work",
			"--max-msgs", "100", "--max-bytes", "1MB", "--max-age", "1h", "--discard", "new", "--dupe-window", "1m",
			"--max-msg-size", "1KB", "--max-msgs-per-subject", "10", "--deny-delete", "--deny-purge", "--defaults"}},
		{args: []string{"pub", "j.a", "x", "--count", "3", "--jetstream"}},
		{args: []string{"consumer", "add", "J", "W", "--pull", "--defaults", "--filter", "j.a", "--wait", "5s"}},
	})
	var stream struct {
		Config struct {
			Retention   string            `json:"retention"`
			Storage     string            `json:"storage"`
			Discard     string            `json:"discard"`
			MaxMsgs     int64             `json:"max_msgs"`
			MaxBytes    int64             `json:"max_bytes"`
			MaxAge      int64             `json:"max_age"`
			Duplicates  int64             `json:"duplicate_window"`
			MaxMsgSize  int32             `json:"max_msg_size"`
			DenyDelete  bool              `json:"deny_delete"`
			DenyPurge   bool              `json:"deny_purge"`
			Metadata    map[string]string `json:"metadata"`
			PerSubject  int64             `json:"max_msgs_per_subject"`
			AllowDirect bool              `json:"allow_direct"`
		} `json:"config"`
		State struct {
			Msgs      uint64 `json:"messages"`
			LastSeq   uint64 `json:"last_seq"`
			Consumers int    `json:"consumer_count"`
		} `json:"state"`
	}
	cliJSON(t, cli, p.url(), &stream, "stream", "info", "J", "--json")
	c := stream.Config
	if c.Retention != "workqueue" || c.Storage != "memory" || c.Discard != "new" || c.MaxMsgs != 100 ||
		c.MaxBytes != 1<<20 || c.MaxAge != 3600e9 || c.Duplicates != 60e9 || c.MaxMsgSize != 1024 ||
		!c.DenyDelete || !c.DenyPurge || c.PerSubject != 10 || !c.AllowDirect || c.Metadata["_nats.req.level"] != "0" {
		t.Fatalf("stream config %+v", c)
	}
	if s := stream.State; s.Msgs != 3 || s.LastSeq != 3 || s.Consumers != 1 {
		t.Fatalf("stream state %+v", s)
	}
	var consumer struct {
		Config struct {
			Durable string `json:"durable_name"`
			Filter  string `json:"filter_subject"`
			AckWait int64  `json:"ack_wait"`
		} `json:"config"`
		NumPending uint64 `json:"num_pending"`
	}
	cliJSON(t, cli, p.url(), &consumer, "consumer", "info", "J", "W", "--json")
	if consumer.Config.Durable != "W" || consumer.Config.Filter != "j.a" || consumer.Config.AckWait != 5e9 || consumer.NumPending != 3 {
		t.Fatalf("consumer info %+v", consumer)
	}
}

// cliJSON runs natscli and decodes its output into v.
func cliJSON(t *testing.T, cli, url string, v any, args ...string) {
	t.Helper()
	out, err := exec.Command(cli, append([]string{"-s", url, "--timeout", "5s"}, args...)...).Output()
	if err != nil {
		t.Fatalf("nats %v: %v\n%s", args, err, out)
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("nats %v: %v\n%s", args, err, out)
	}
}
