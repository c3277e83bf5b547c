// Command loginload measures `consulvoted serve` under concurrent logins
// with unknown identifiers (each costs an argon2id check against the
// dummy hash): for each concurrency it starts the real binary on a fresh
// database, keeps that many clients logging in for a while, and prints the
// logins evaluated per second, the quick refusals (503), the latency and
// the server's peak RSS (VmHWM), next to cores ÷ one hash's time.
//
//	loginload -bin ./consulvoted -c 16,64,150 -d 10s
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/argon2"

	"consulvote/internal/rss"
)

func main() {
	bin := flag.String("bin", "./consulvote", "the consulvote binary to measure")
	levels := flag.String("c", "16,64,150", "concurrent clients, comma-separated")
	dur := flag.Duration("d", 10*time.Second, "how long each level runs")
	extra := flag.String("args", "", "more arguments for serve, space-separated")
	flag.Parse()

	hash := hashTime()
	fmt.Printf("binary %s, %d cores, one argon2id hash (m=19 MiB, t=2) %.1f ms: cores ÷ hash time = %.0f/s\n",
		*bin, runtime.NumCPU(), hash.Seconds()*1000, float64(runtime.NumCPU())/hash.Seconds())
	fmt.Printf("%8s %12s %10s %10s %10s %14s\n", "clients", "evaluated/s", "503/s", "p50 ms", "p99 ms", "peak RSS MiB")
	for _, s := range strings.Split(*levels, ",") {
		c, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || c < 1 {
			fmt.Fprintln(os.Stderr, "loginload: -c: bad level", s)
			os.Exit(2)
		}
		if err := level(*bin, c, *dur, strings.Fields(*extra)); err != nil {
			fmt.Fprintln(os.Stderr, "loginload:", err)
			os.Exit(1)
		}
	}
}

// hashTime is the median of a few bare hashes with the service's
// parameters, measured here while nothing else runs.
func hashTime() time.Duration {
	salt := make([]byte, 16)
	var ts []time.Duration
	for range 7 {
		t0 := time.Now()
		argon2.IDKey([]byte("password"), salt, 2, 19*1024, 1, 32)
		ts = append(ts, time.Since(t0))
	}
	slices.Sort(ts)
	return ts[len(ts)/2]
}

var addrRE = regexp.MustCompile(`"addr":"([^"]+)"`)

func level(bin string, conc int, dur time.Duration, extra []string) error {
	dir, err := os.MkdirTemp("", "loginload")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	cmd, base, err := startServer(bin, dir, extra)
	if cmd != nil {
		defer func() { cmd.Process.Kill(); cmd.Wait() }()
	}
	if err != nil {
		return err
	}
	start := time.Now()
	r := drive(base, conc, dur)
	elapsed := time.Since(start)
	peak := rss.MiB(cmd.Process.Pid)
	if r.other > 0 {
		fmt.Fprintf(os.Stderr, "loginload: %d answers neither 401 nor 503 at %d clients\n", r.other, conc)
	}
	slices.Sort(r.lat)
	p := func(q float64) float64 {
		if len(r.lat) == 0 {
			return 0
		}
		return float64(r.lat[int(float64(len(r.lat)-1)*q)].Microseconds()) / 1000
	}
	fmt.Printf("%8d %12.1f %10.1f %10.1f %10.1f %14.1f\n", conc, float64(len(r.lat))/elapsed.Seconds(),
		float64(r.busy)/elapsed.Seconds(), p(0.5), p(0.99), peak)
	return nil
}

// startServer starts bin's server on a new database in dir and returns it
// with its base URL, once its log names the address it listens on.
func startServer(bin, dir string, extra []string) (*exec.Cmd, string, error) {
	args := append([]string{"serve", "--db", filepath.Join(dir, "portal.db"), "--insecure-loopback",
		"--public-url", "https://vote.example", "--listen", "127.0.0.1:0", "--per-client", "-1"}, extra...)
	cmd := exec.Command(bin, args...)
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, "", err
	}
	if err := cmd.Start(); err != nil {
		return nil, "", err
	}
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			if m := addrRE.FindStringSubmatch(sc.Text()); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
	}()
	select {
	case a := <-addr:
		return cmd, "http://" + a, nil
	case <-time.After(30 * time.Second):
		return cmd, "", fmt.Errorf("the server did not start")
	}
}

// results are a level's answers: the evaluated logins' latencies, the
// quick refusals (503) and anything else.
type results struct {
	mu          sync.Mutex
	lat         []time.Duration
	busy, other int
}

// drive sends wrong logins from conc clients for dur.
func drive(base string, conc int, dur time.Duration) *results {
	client := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: conc, MaxConnsPerHost: conc}}
	ctx, cancel := context.WithTimeout(context.Background(), dur)
	defer cancel()
	r := &results{}
	var wg sync.WaitGroup
	for g := range conc {
		wg.Go(func() {
			for i := 0; ctx.Err() == nil; i++ {
				r.login(ctx, client, base, fmt.Sprintf("inconnu%d-%d", g, i))
			}
		})
	}
	wg.Wait()
	return r
}

// login tries one wrong login and records its answer; after a 503 it
// waits what Retry-After says, as a polite client does.
func (r *results) login(ctx context.Context, client *http.Client, base, identifier string) {
	body, _ := json.Marshal(map[string]string{"identifier": identifier, "password": "mauvais-mot-de-passe"})
	t0 := time.Now()
	resp, err := client.Post(base+"/api/v1/sessions", "application/json", bytes.NewReader(body))
	if err != nil {
		if ctx.Err() == nil {
			r.mu.Lock()
			r.other++
			r.mu.Unlock()
		}
		return
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	d := time.Since(t0)
	r.mu.Lock()
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		r.lat = append(r.lat, d)
	case http.StatusServiceUnavailable:
		r.busy++
	default:
		r.other++
	}
	r.mu.Unlock()
	if resp.StatusCode == http.StatusServiceUnavailable {
		wait, _ := strconv.Atoi(resp.Header.Get("Retry-After"))
		select {
		case <-ctx.Done():
		case <-time.After(time.Duration(max(wait, 1)) * time.Second):
		}
	}
}
