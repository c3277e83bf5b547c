package instance

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// helperEnv makes the test binary a start of the app (see TestMain):
// "claim" claims the folder, says so and waits to be killed; "start N"
// starts as the app does with its link and, as the primary, reads N links.
const helperEnv = "CONSULVOTE_INSTANCE_HELPER"

func TestMain(m *testing.M) {
	if role := os.Getenv(helperEnv); role != "" {
		os.Exit(helper(role, os.Getenv("HELPER_DIR"), os.Getenv("HELPER_LINK")))
	}
	os.Exit(m.Run())
}

func helper(role, dir, link string) int {
	switch {
	case role == "claim":
		if _, err := Claim(dir); err != nil {
			fmt.Println("error:", err)
			return 1
		}
		fmt.Println("claimed")
		time.Sleep(time.Minute) // killed by the test
		return 0
	case strings.HasPrefix(role, "start "):
		var want int
		fmt.Sscan(strings.TrimPrefix(role, "start "), &want)
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		p, err := Start(ctx, dir, link)
		if errors.Is(err, ErrHandedOver) {
			fmt.Println("handed")
			return 0
		}
		if err != nil {
			fmt.Println("error:", err)
			return 1
		}
		defer p.Close()
		var got []string
		for len(got) < want {
			select {
			case l := <-p.Links():
				got = append(got, l)
			case <-ctx.Done():
				fmt.Println("error: primary got only", got)
				return 1
			}
		}
		slices.Sort(got)
		fmt.Println("primary", strings.Join(got, ","))
		return 0
	}
	return 2
}

// helperCmd is the test binary run as a start of the app.
func helperCmd(t *testing.T, role, dir, link string) *exec.Cmd {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^$")
	cmd.Env = append(os.Environ(), helperEnv+"="+role, "HELPER_DIR="+dir, "HELPER_LINK="+link)
	return cmd
}

// tempDir is t.TempDir, emptied file by file: these tests also run under
// Wine (make test-windows), where Go 1.26's os.RemoveAll fails ("Invalid
// function": Wine 8 lacks the POSIX-semantics delete it uses) and
// os.Remove works.
func tempDir(t *testing.T) string {
	dir, err := os.MkdirTemp("", "instance-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
				t.Error(err)
			}
		}
		if err := os.Remove(dir); err != nil {
			t.Error(err)
		}
	})
	return dir
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return c
}

// collect reads the primary's links until stop is closed.
func collect(p *Primary, stop chan struct{}) func() []string {
	var mu sync.Mutex
	var got []string
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			select {
			case l := <-p.Links():
				mu.Lock()
				got = append(got, l)
				mu.Unlock()
			case <-stop:
				return
			}
		}
	}()
	return func() []string {
		<-done
		mu.Lock()
		defer mu.Unlock()
		return got
	}
}

func TestHandOver(t *testing.T) {
	dir := tempDir(t)
	p, err := Start(ctx(t), dir, "consulvote://renouvellement?jeton=first")
	if err != nil {
		t.Fatalf("first start: %v", err)
	}
	defer p.Close()
	stop := make(chan struct{})
	links := collect(p, stop)
	for _, link := range []string{"consulvote://renouvellement?jeton=second", ""} {
		if q, err := Start(ctx(t), dir, link); !errors.Is(err, ErrHandedOver) {
			t.Fatalf("second start with %q: %v, %v; want ErrHandedOver", link, q, err)
		}
	}
	close(stop)
	if got := links(); !slices.Equal(got, []string{"consulvote://renouvellement?jeton=second", ""}) {
		t.Errorf("the primary got %q", got)
	}
	if runtime.GOOS != "windows" {
		st, err := os.Stat(filepath.Join(dir, infoName))
		if err != nil || st.Mode().Perm() != 0o600 {
			t.Errorf("info file: %v, mode %v; want 0600", err, st.Mode().Perm())
		}
	}
}

// TestWrongToken: whoever reaches the port without the token of the
// user's info file is refused, and nothing reaches the app.
func TestWrongToken(t *testing.T) {
	dir := tempDir(t)
	p, err := Claim(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer p.Close()
	info := filepath.Join(dir, infoName)
	good, _ := os.ReadFile(info)
	addr, token, _ := strings.Cut(strings.TrimSpace(string(good)), " ")

	stop := make(chan struct{})
	links := collect(p, stop)
	flipped := token[:len(token)-1] + map[bool]string{true: "1", false: "0"}[token[len(token)-1] == '0']
	for _, bad := range []string{"", token[:len(token)-1], flipped, token + "0", strings.Repeat("0", len(token))} {
		if err := os.WriteFile(info, []byte(addr+" "+bad+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := Send(ctx(t), dir, "consulvote://renouvellement?jeton=pushed"); !errors.Is(err, ErrRefused) {
			t.Errorf("token %q: %v, want ErrRefused", bad, err)
		}
	}
	// Not JSON, or far too long: closed without a word.
	for _, raw := range []string{"GET / HTTP/1.0\r\n\r\n", `{"token":"` + strings.Repeat("a", maxMessage) + `"}`} {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c.SetDeadline(time.Now().Add(10 * time.Second))
		fmt.Fprint(c, raw)
		if line, err := bufio.NewReader(c).ReadString('\n'); err == nil {
			t.Errorf("%.20q…: answered %q", raw, line)
		}
		c.Close()
	}
	// The file's owner still gets through.
	os.WriteFile(info, good, 0o600)
	if err := Send(ctx(t), dir, "consulvote://renouvellement?jeton=owner"); err != nil {
		t.Errorf("right token: %v", err)
	}
	close(stop)
	if got := links(); !slices.Equal(got, []string{"consulvote://renouvellement?jeton=owner"}) {
		t.Errorf("the app got %q; want only the owner's link", got)
	}
}

// TestNotLoopback: an info file naming another host is not followed.
func TestNotLoopback(t *testing.T) {
	dir := tempDir(t)
	for _, addr := range []string{"192.0.2.1:443", "example.org:80", "not-an-address"} {
		os.WriteFile(filepath.Join(dir, infoName), []byte(addr+" 00\n"), 0o600)
		if err := Send(ctx(t), dir, "x"); !errors.Is(err, ErrRefused) {
			t.Errorf("%s: %v, want ErrRefused", addr, err)
		}
	}
}

// TestStale: an app that crashed (killed: no Close) leaves its info file;
// the next start becomes the primary at once, with a new token.
func TestStale(t *testing.T) {
	dir := tempDir(t)
	crashed := helperCmd(t, "claim", dir, "")
	out, err := crashed.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := crashed.Start(); err != nil {
		t.Fatal(err)
	}
	defer crashed.Process.Kill()
	if line, _ := bufio.NewReader(out).ReadString('\n'); line != "claimed\n" {
		crashed.Process.Kill()
		crashed.Wait()
		t.Fatalf("helper: %q", line)
	}
	if _, err := Claim(dir); !errors.Is(err, ErrRunning) {
		t.Fatalf("while the other runs: %v, want ErrRunning", err)
	}
	stale, _ := os.ReadFile(filepath.Join(dir, infoName))
	if err := crashed.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	crashed.Wait()
	if runtime.GOOS != "windows" {
		os.Chmod(filepath.Join(dir, infoName), 0o644) // as if written by an older version
	}

	p, err := Start(ctx(t), dir, "consulvote://renouvellement?jeton=after-crash")
	if err != nil {
		t.Fatalf("start after a crash: %v", err)
	}
	defer p.Close()
	fresh, _ := os.ReadFile(filepath.Join(dir, infoName))
	if len(stale) == 0 || string(fresh) == string(stale) {
		t.Errorf("info file %q, stale %q: not renewed", fresh, stale)
	}
	if runtime.GOOS != "windows" {
		if st, _ := os.Stat(filepath.Join(dir, infoName)); st.Mode().Perm() != 0o600 {
			t.Errorf("info file mode %v after a stale 0644 one, want 0600", st.Mode().Perm())
		}
	}
}

// TestQuitting: a link sent while the primary quits is not lost: the
// primary refuses what it has not read, and the sender, finding the lock
// free, becomes the primary itself.
func TestQuitting(t *testing.T) {
	dir := tempDir(t)
	p, err := Claim(dir)
	if err != nil {
		t.Fatal(err)
	}
	started := make(chan struct{})
	result := make(chan error, 1)
	var q *Primary
	go func() {
		close(started)
		var err error
		q, err = Start(ctx(t), dir, "consulvote://renouvellement?jeton=late")
		result <- err
	}()
	<-started
	time.Sleep(100 * time.Millisecond) // most often the sender waits on the primary by now
	p.Close()
	if err := <-result; err != nil {
		t.Fatalf("sender after the primary quit: %v; want to become the primary", err)
	}
	q.Close()
}

// TestConcurrentStarts: starts at once, as goroutines of one process and
// as processes: exactly one becomes the primary and gets every other's
// link.
func TestConcurrentStarts(t *testing.T) {
	const n = 8
	t.Run("goroutines", func(t *testing.T) {
		dir := tempDir(t)
		var wg sync.WaitGroup
		var mu sync.Mutex
		var primaries []*Primary
		handed := 0
		gate := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-gate
				p, err := Start(ctx(t), dir, fmt.Sprint("link-", i))
				mu.Lock()
				defer mu.Unlock()
				switch {
				case errors.Is(err, ErrHandedOver):
					handed++
				case err != nil:
					t.Errorf("start %d: %v", i, err)
				default:
					primaries = append(primaries, p)
					go func() {
						for range n - 1 {
							<-p.Links()
						}
					}()
				}
			}()
		}
		close(gate)
		wg.Wait()
		if len(primaries) != 1 || handed != n-1 {
			t.Fatalf("%d primaries, %d handed over; want 1 and %d", len(primaries), handed, n-1)
		}
		primaries[0].Close()
	})
	t.Run("processes", func(t *testing.T) {
		dir := tempDir(t)
		var cmds []*exec.Cmd
		var outs []*strings.Builder
		var want []string
		for i := range n {
			link := fmt.Sprint("link-", i)
			cmd := helperCmd(t, fmt.Sprint("start ", n-1), dir, link)
			out := &strings.Builder{}
			cmd.Stdout, cmd.Stderr = out, out
			cmds, outs = append(cmds, cmd), append(outs, out)
			want = append(want, link)
		}
		for _, cmd := range cmds {
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
		}
		primaries := 0
		for i, cmd := range cmds {
			err := cmd.Wait()
			got := strings.TrimSpace(outs[i].String())
			switch {
			case err != nil:
				t.Errorf("start %d: %v: %s", i, err, got)
			case got == "handed":
			case strings.HasPrefix(got, "primary "):
				primaries++
				links := strings.Split(strings.TrimPrefix(got, "primary "), ",")
				others := slices.DeleteFunc(slices.Clone(want), func(l string) bool { return l == fmt.Sprint("link-", i) })
				if !slices.Equal(links, others) {
					t.Errorf("the primary (start %d) got %q, want %q", i, links, others)
				}
			default:
				t.Errorf("start %d: %q", i, got)
			}
		}
		if primaries != 1 {
			t.Errorf("%d primaries, want 1", primaries)
		}
	})
}
