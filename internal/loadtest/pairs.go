package loadtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"consulvote/app/api"
)

// clientEnv, set in a benchmark binary's environment, makes it the load
// generator of RunPairs (ClientMain) instead of running its tests.
const clientEnv = "CONSULVOTE_LOAD_CLIENT"

// codePlaceholder stands in a pair's request body for the id of the code
// drawn just before it, which the load generator puts in its place.
const codePlaceholder = "\x00code\x00"

// pairSpec is what RunPairs asks its load generator for: the pairs to
// send (bodies with codePlaceholder) and how.
type pairSpec struct {
	Conc   int
	Own    bool
	Bases  []string
	Path   string
	Want   int
	Bodies [][]byte
}

// pairResult is the load generator's answer: its own CPU over the run and
// the latency percentiles, in µs.
type pairResult struct {
	Failed                 int
	FirstError             string
	CPU, P50, P99, CodeP50 int64
}

// RunPairs is the voter's pair, b.N times from conc goroutines: a
// security code drawn (POST api.SecurityCodes at bases[i % len]), then
// the request that uses it (POST path at the next base: the code must
// hold on any instance), whose body bodyFor makes. With own, each
// goroutine comes from its own loopback address (a source of its own).
//
// The load generator is a child process (this test binary again, whose
// TestMain must call ClientMain first), so that this process's CPU is the
// servers' alone. It reports pairs per second, the CPU per pair of this
// process (server-cpu-µs/pair: the servers, and nothing else runs here
// meanwhile) and of the load generator (client-cpu-µs/pair), and the
// latency percentiles of the request (p50-ms, p99-ms) and of the draw
// (p50-code-ms), as the load generator saw them.
func RunPairs(b *testing.B, conc int, own bool, bases []string, path string, want int, bodyFor func(i int, code string) []byte, meters ...Meter) {
	spec := pairSpec{Conc: conc, Own: own, Bases: bases, Path: path, Want: want, Bodies: make([][]byte, b.N)}
	for i := range spec.Bodies {
		spec.Bodies[i] = bodyFor(i, codePlaceholder)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^$")
	cmd.Env = append(os.Environ(), clientEnv+"=1")
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer cmd.Wait()
	defer in.Close()
	out := bufio.NewReader(outPipe)
	if err := json.NewEncoder(in).Encode(spec); err != nil {
		b.Fatal(err)
	}
	if line, err := out.ReadString('\n'); line != "ready\n" {
		b.Fatalf("load generator: %q, %v (does TestMain call loadtest.ClientMain first?)", line, err)
	}
	b.ResetTimer()
	for _, m := range meters {
		m.Start(b)
	}
	start, cpu := time.Now(), cpuTime()
	var res pairResult
	_, err = in.Write([]byte("go\n"))
	if err == nil {
		err = json.NewDecoder(out).Decode(&res)
	}
	elapsed, cpuUsed := time.Since(start), cpuTime()-cpu
	for _, m := range meters {
		m.Stop(b, b.N)
	}
	b.StopTimer()
	switch {
	case err != nil:
		b.Fatalf("load generator: %v", err)
	case res.Failed > 0:
		b.Fatalf("%d of %d pairs failed, the first: %s", res.Failed, b.N, res.FirstError)
	}
	n := float64(b.N)
	b.ReportMetric(n/elapsed.Seconds(), "pairs/s")
	b.ReportMetric(float64(cpuUsed.Microseconds())/n, "server-cpu-µs/pair")
	b.ReportMetric(float64(res.CPU)/n, "client-cpu-µs/pair")
	b.ReportMetric(float64(res.P50)/1000, "p50-ms")
	b.ReportMetric(float64(res.P99)/1000, "p99-ms")
	b.ReportMetric(float64(res.CodeP50)/1000, "p50-code-ms")
}

// ClientMain, when RunPairs started this binary, is its load generator:
// it reads the pairSpec on standard input, answers "ready", sends the
// pairs at "go", writes the pairResult and exits. Otherwise it returns at
// once. A benchmark binary that uses RunPairs calls it first in TestMain.
func ClientMain() {
	if os.Getenv(clientEnv) == "" {
		return
	}
	in := bufio.NewReader(os.Stdin)
	var spec pairSpec
	if err := json.NewDecoder(in).Decode(&spec); err != nil {
		fmt.Fprintln(os.Stderr, "load generator:", err)
		os.Exit(2)
	}
	clients := clientsFor(spec.Conc, spec.Own)
	fmt.Println("ready")
	if _, err := in.ReadString('\n'); err != nil {
		os.Exit(2)
	}
	if err := json.NewEncoder(os.Stdout).Encode(sendPairs(spec, clients)); err != nil {
		os.Exit(2)
	}
	os.Exit(0)
}

// sendPairs sends spec's pairs, goroutine g through clients[g].
func sendPairs(spec pairSpec, clients []*http.Client) pairResult {
	n := len(spec.Bodies)
	lat, codeLat := make([]time.Duration, n), make([]time.Duration, n)
	var idx, failed atomic.Int64
	var firstErr atomic.Value
	fail := func(err error) {
		failed.Add(1)
		firstErr.CompareAndSwap(nil, err.Error())
	}
	cpu := cpuTime()
	var wg sync.WaitGroup
	for g := range spec.Conc {
		client := clients[g]
		wg.Go(func() {
			for i := int(idx.Add(1)) - 1; i < n; i = int(idx.Add(1)) - 1 {
				t0 := time.Now()
				var code api.SecurityCode
				if err := post(client, spec.Bases[i%len(spec.Bases)]+api.SecurityCodes, []byte("{}"), http.StatusCreated, &code); err != nil {
					fail(err)
					continue
				}
				t1 := time.Now()
				id, _ := json.Marshal(code.ID)
				body := bytes.Replace(spec.Bodies[i], []byte(`"\u0000code\u0000"`), id, 1)
				if err := post(client, spec.Bases[(i+1)%len(spec.Bases)]+spec.Path, body, spec.Want, nil); err != nil {
					fail(err)
				}
				codeLat[i], lat[i] = t1.Sub(t0), time.Since(t1)
			}
		})
	}
	wg.Wait()
	res := pairResult{Failed: int(failed.Load()), CPU: (cpuTime() - cpu).Microseconds()}
	if s, ok := firstErr.Load().(string); ok {
		res.FirstError = s
	}
	slices.Sort(lat)
	slices.Sort(codeLat)
	res.P50, res.P99 = lat[n/2].Microseconds(), lat[n*99/100].Microseconds()
	res.CodeP50 = codeLat[n/2].Microseconds()
	return res
}
