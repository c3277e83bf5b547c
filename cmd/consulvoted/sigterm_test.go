package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"consulvote/app/api"
	"consulvote/app/backend"
	"consulvote/app/keyfile"
	"consulvote/app/outbox/smtptest"
	"consulvote/app/seal"
	"consulvote/app/service/servicetest"
)

// serverProcess is `consulvoted serve` running as a process.
type serverProcess struct {
	cmd  *exec.Cmd
	addr string
	logs *bytes.Buffer
	mu   *sync.Mutex
	done chan error
}

// startProcess starts bin serve with args and waits until it listens.
func startProcess(t *testing.T, bin string, args ...string) *serverProcess {
	t.Helper()
	cmd := exec.Command(bin, append([]string{"serve"}, args...)...)
	stderr, _ := cmd.StderrPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p := &serverProcess{cmd: cmd, logs: &bytes.Buffer{}, mu: &sync.Mutex{}, done: make(chan error, 1)}
	t.Cleanup(func() { cmd.Process.Kill() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			p.mu.Lock()
			p.logs.WriteString(line + "\n")
			p.mu.Unlock()
			if i := strings.Index(line, `"addr":"`); i >= 0 && strings.Contains(line, `"msg":"serving"`) {
				a := line[i+len(`"addr":"`):]
				addr <- a[:strings.Index(a, `"`)]
			}
		}
		p.done <- cmd.Wait()
	}()
	select {
	case p.addr = <-addr:
	case err := <-p.done:
		t.Fatalf("serve exited: %v\n%s", err, p.logs)
	case <-time.After(20 * time.Second):
		t.Fatal("the server did not start in 20 s")
	}
	return p
}

// TestSIGTERMUnderLoad runs the real server under 16 clients making
// renewal requests, with a relay that takes 20 ms per message, and sends
// it SIGTERM: it exits 0 within its --stop-timeout, every request it
// accepted (202) has its e-mail queued, the relay got exactly the
// messages marked sent (the one in flight at the stop finished and was
// recorded), and a restarted server delivers the rest: each accepted
// request's link arrives once.
func TestSIGTERMUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the server")
	}
	dir := t.TempDir()
	bin := build(t)
	db := filepath.Join(dir, "portal.db")
	const voters = 3000
	roll := filepath.Join(dir, "roll.csv")
	os.WriteFile(roll, []byte(rollLines(0, voters)), 0o600)
	if code, out, errs := runCmd("", "roll", "import", "--create", "--db", db, roll); code != 0 {
		t.Fatalf("roll import: %d %s %s", code, out, errs)
	}
	key, err := keyfile.LoadOrCreate(db + ".key")
	if err != nil {
		t.Fatal(err)
	}
	// The operator holds the key: the test reads the security codes' digits
	// from their sealed ids, as a person reads the picture.
	codes, err := seal.New(key, "security-code")
	if err != nil {
		t.Fatal(err)
	}
	relay := smtptest.Start(t)
	relay.Stop()
	relay.Plain, relay.Hold = true, func() { time.Sleep(20 * time.Millisecond) }
	relay.Start()
	args := []string{"--db", db, "--listen", "127.0.0.1:0", "--insecure-loopback", "--public-url", "https://vote.example",
		"--per-client", "-1", "--smtp", "smtp://relay:" + relay.Password() + "@" + relay.Addr, "--smtp-tls", "none",
		"--from", "vote@example.org", "--stop-timeout", "10s"}
	p := startProcess(t, bin, args...)

	client := &http.Client{Timeout: 20 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 16}}
	post := func(path string, body, out any) (int, error) {
		b, _ := json.Marshal(body)
		resp, err := client.Post("http://"+p.addr+path, api.ContentType, bytes.NewReader(b))
		if err != nil {
			return 0, err
		}
		defer resp.Body.Close()
		if out != nil {
			json.NewDecoder(resp.Body).Decode(out)
		}
		return resp.StatusCode, nil
	}
	var accepted sync.Map // voter number → true, once answered 202
	var nAccepted, nOther atomic.Int64
	var stopping atomic.Bool
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Go(func() {
			for i := g; i < voters; i += 16 {
				var c api.SecurityCode
				if st, err := post(api.SecurityCodes, struct{}{}, &c); err != nil || st != http.StatusCreated {
					if stopping.Load() {
						return // the listener is closed: nothing more is accepted
					}
					t.Errorf("security code: %d %v", st, err)
					return
				}
				sealed, _ := base64.RawURLEncoding.DecodeString(c.ID)
				plain, err := codes.Open(sealed, []byte("security-code-id"))
				if err != nil {
					t.Errorf("open code id: %v", err)
					return
				}
				st, err := post(api.IdentifierRenewals, api.IdentifierRenewalRequest{NUMIC: fmt.Sprintf("%08d", 60_000_000+i),
					Email: fmt.Sprintf("votant%d@example.org", i), CodeID: c.ID, Code: string(plain[:4])}, nil)
				switch {
				case err == nil && st == http.StatusAccepted:
					accepted.Store(i, true)
					nAccepted.Add(1)
				case stopping.Load():
					nOther.Add(1) // refused or cut by the stop: not accepted
				default:
					t.Errorf("renewal request before the stop: %d %v", st, err)
					return
				}
			}
		})
	}
	// The stop comes with requests in flight and the delivery worker busy
	// (on a fast machine, 300 requests are accepted before its first
	// round: the drain would then have nothing to finish).
	busy := time.Now().Add(30 * time.Second)
	for nAccepted.Load() < 300 || len(relay.Messages()) == 0 {
		if time.Now().After(busy) {
			t.Fatalf("after 30 s, %d requests accepted and %d messages delivered: want 300 and a delivery under way",
				nAccepted.Load(), len(relay.Messages()))
		}
		time.Sleep(10 * time.Millisecond)
	}
	stopping.Store(true)
	sent := time.Now()
	p.cmd.Process.Signal(syscall.SIGTERM)
	var exitErr error
	select {
	case exitErr = <-p.done:
	case <-time.After(20 * time.Second):
		t.Fatal("no exit 20 s after SIGTERM")
	}
	took := time.Since(sent)
	wg.Wait()
	if exitErr != nil {
		t.Fatalf("exit after SIGTERM: %v\n%s", exitErr, p.logs)
	}
	if took > 12*time.Second {
		t.Errorf("exit %v after SIGTERM, past the 10 s stop timeout", took)
	}
	t.Logf("SIGTERM to exit under load: %v (%d requests accepted, %d cut by the stop, %d messages delivered)",
		took.Round(time.Millisecond), nAccepted.Load(), nOther.Load(), len(relay.Messages()))

	// Every accepted request's e-mail is in the outbox; the relay got
	// exactly the messages marked sent.
	b, err := backend.Open(context.Background(), backend.Config{Database: db})
	if err != nil {
		t.Fatal(err)
	}
	ms := servicetest.Outbox(t, b.Service, b.Store, 10*voters)
	b.Close()
	queued := map[string]string{} // recipient → state, of the links
	for _, m := range ms {
		if m.Kind == "identifier.link" {
			queued[m.To] = m.State
		}
	}
	sentRows := 0
	accepted.Range(func(k, _ any) bool {
		to := fmt.Sprintf("votant%d@example.org", k.(int))
		if _, ok := queued[to]; !ok {
			t.Errorf("voter %d's request was accepted, and its e-mail is not in the outbox", k)
		}
		return true
	})
	got := map[string]int{}
	for _, m := range relay.Messages() {
		got[m.To]++
	}
	for to, st := range queued {
		if st == "sent" {
			sentRows++
			if got[to] != 1 {
				t.Errorf("%s marked sent, received %d times", to, got[to])
			}
		}
	}
	if len(relay.Messages()) != sentRows {
		t.Errorf("the relay got %d messages, %d are marked sent: one was delivered and not recorded", len(relay.Messages()), sentRows)
	}

	// Restarted, the server delivers the rest; each link arrives once.
	relay.Stop()
	relay.Hold = nil
	relay.Start()
	p2 := startProcess(t, bin, args...)
	deadline := time.Now().Add(60 * time.Second)
	for len(relay.Messages()) < len(queued) && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	p2.cmd.Process.Signal(syscall.SIGTERM)
	<-p2.done
	got = map[string]int{}
	for _, m := range relay.Messages() {
		got[m.To]++
	}
	accepted.Range(func(k, _ any) bool {
		if to := fmt.Sprintf("votant%d@example.org", k.(int)); got[to] != 1 {
			t.Errorf("voter %d's accepted request: its link arrived %d times, want once", k, got[to])
		}
		return true
	})
}
