package main

import (
	"errors"
	"flag"
	"io"
	"strings"
	"testing"

	"github.com/petrel-io/petrel/server"
)

func TestParseFlagsSpellings(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want server.Options
	}{
		{nil, server.Options{Host: "0.0.0.0", Port: 4222}},
		{[]string{"-a", "127.0.0.1", "-p", "5222", "-n", "n1"}, server.Options{Host: "127.0.0.1", Port: 5222, ServerName: "n1"}},
		{[]string{"--addr=::1", "--port", "1", "--server_name", "x"}, server.Options{Host: "::1", Port: 1, ServerName: "x"}},
		{[]string{"--net", "h", "--name", "y"}, server.Options{Host: "h", Port: 4222, ServerName: "y"}},
		{[]string{"-D"}, server.Options{Host: "0.0.0.0", Port: 4222, Debug: true}},
		{[]string{"-V"}, server.Options{Host: "0.0.0.0", Port: 4222, Trace: true}},
		{[]string{"-DV"}, server.Options{Host: "0.0.0.0", Port: 4222, Debug: true, Trace: true}},
		{[]string{"-js", "-sd", "/data"}, server.Options{Host: "0.0.0.0", Port: 4222, JetStream: true, StoreDir: "/data"}},
		{[]string{"--jetstream", "--store_dir=/d"}, server.Options{Host: "0.0.0.0", Port: 4222, JetStream: true, StoreDir: "/d"}},
	} {
		f, err := parseFlags(tc.args, io.Discard)
		if err != nil || f.opts != tc.want {
			t.Errorf("%q: got %+v, %v; want %+v", tc.args, f.opts, err, tc.want)
		}
	}
}

func TestParseFlagsAcceptedButUnsupported(t *testing.T) {
	f, err := parseFlags([]string{"-m", "8222"}, io.Discard)
	if err != nil || f.httpPort != 8222 {
		t.Errorf("-m: %+v, %v", f, err)
	}
	for _, args := range [][]string{{"-c", "petrel.conf"}, {"--config=petrel.conf"}} {
		_, err := parseFlags(args, io.Discard)
		if err == nil || !strings.Contains(err.Error(), "config files are not supported yet") {
			t.Errorf("%q: err = %v", args, err)
		}
	}
}

func TestParseFlagsErrors(t *testing.T) {
	if _, err := parseFlags([]string{"--bogus"}, io.Discard); !errors.Is(err, errUsage) {
		t.Errorf("unknown flag: %v", err)
	}
	if _, err := parseFlags([]string{"extra"}, io.Discard); err == nil {
		t.Error("a positional argument was accepted")
	}
	if _, err := parseFlags([]string{"-h"}, io.Discard); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
}
