package envflag

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"
)

func newSet() (*flag.FlagSet, *string, *float64, *bool, *time.Duration) {
	fs := flag.NewFlagSet("test", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	s := fs.String("tls-cert", "default.pem", "certificate")
	f := fs.Float64("per-client", 2, "requests per second")
	b := fs.Bool("insecure-loopback", false, "plain HTTP on loopback")
	d := fs.Duration("poll", time.Second, "pause")
	return fs, s, f, b, d
}

func TestPrecedence(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"defaults", nil, nil, "default.pem 2 false 1s"},
		{"environment", map[string]string{"CONSULVOTE_TLS_CERT": "env.pem", "CONSULVOTE_PER_CLIENT": "-1",
			"CONSULVOTE_INSECURE_LOOPBACK": "true", "CONSULVOTE_POLL": "5s"}, nil, "env.pem -1 true 5s"},
		{"command line wins", map[string]string{"CONSULVOTE_TLS_CERT": "env.pem", "CONSULVOTE_PER_CLIENT": "7"},
			[]string{"--tls-cert", "flag.pem", "--per-client=0.5"}, "flag.pem 0.5 false 1s"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			fs, s, f, b, d := newSet()
			if err := Parse(fs, tc.args); err != nil {
				t.Fatal(err)
			}
			got := fmt.Sprint(*s, " ", *f, " ", *b, " ", *d)
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
			if len(tc.env) > 0 && !Given(fs, "tls-cert") {
				t.Error("a flag set by its twin is not reported as given")
			}
		})
	}
}

func TestBadTwinNamesTheVariable(t *testing.T) {
	t.Setenv("CONSULVOTE_PER_CLIENT", "lots")
	fs, _, _, _, _ := newSet()
	err := Parse(fs, nil)
	if err == nil || !strings.Contains(err.Error(), "CONSULVOTE_PER_CLIENT") {
		t.Fatalf("err = %v, want one naming CONSULVOTE_PER_CLIENT", err)
	}
}

func TestEveryFlagHelpNamesItsTwin(t *testing.T) {
	fs, _, _, _, _ := newSet()
	if err := Parse(fs, nil); err != nil {
		t.Fatal(err)
	}
	fs.VisitAll(func(f *flag.Flag) {
		if !strings.HasSuffix(f.Usage, "("+Name(f.Name)+")") {
			t.Errorf("--%s: help %q does not name %s", f.Name, f.Usage, Name(f.Name))
		}
	})
	// Parsing twice (a test that parses again) does not repeat it.
	Parse(fs, nil)
	fs.VisitAll(func(f *flag.Flag) {
		if strings.Count(f.Usage, Name(f.Name)) != 1 {
			t.Errorf("--%s: help %q", f.Name, f.Usage)
		}
	})
}
