// Package postfixtest runs Debian's Postfix as a private relay for tests:
// a configuration and a queue in a temporary folder (postfix -c), smtpd on
// a free 127.0.0.1 port, and a transport map that sends each domain's mail
// to a loopback address the test chooses, so that the relay's own
// delivery status notifications, real ones, go where the test listens.
// Nothing leaves the machine: no DNS, no port but loopback ones.
//
// Postfix's master must start as root (Debian's package creates the
// postfix user and postdrop group it then runs as). Without Postfix, or
// not as root, tests skip, unless CI=true on Linux: then they fail. The Makefile
// installs it (postfix/main_mailer_type "No configuration": the package
// sets up no system instance).
package postfixtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Config chooses how the relay behaves.
type Config struct {
	// Routes sends the mail of a domain to a host:port on loopback
	// (transport_maps): the remote server of the recipients, and the
	// intake of the return paths' domain.
	Routes map[string]string
	// DelayWarning is delay_warning_time: a message deferred for that
	// long gets a "delayed" report (0: none).
	DelayWarning time.Duration
	// Lifetime is maximal_queue_lifetime: a message deferred for that
	// long is returned as failed (default an hour).
	Lifetime time.Duration
}

// Relay is a running private Postfix.
type Relay struct {
	Addr string // smtpd's host:port
	Dir  string // its configuration, queue and log

	done chan struct{} // closed when the master has exited; nil when stopped
}

// Start starts a private Postfix, stopped and removed when t ends.
func Start(t testing.TB, cfg Config) *Relay {
	t.Helper()
	if err := available(); err != nil {
		if os.Getenv("CI") == "true" && runtime.GOOS == "linux" {
			t.Fatalf("Postfix is needed (CI=true): %v", err)
		}
		t.Skipf("Postfix not usable here (make deps installs it; CI=true fails instead): %v", err)
	}
	dir, err := os.MkdirTemp("", "consulvote-postfix-")
	if err != nil {
		t.Fatal(err)
	}
	// The postfix user walks to its queue inside.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r := &Relay{Dir: dir}
	t.Cleanup(func() {
		r.stop()
		os.RemoveAll(dir)
	})
	for try := 0; ; try++ {
		if err = r.start(cfg); err == nil {
			return r
		}
		if try == 2 {
			t.Fatalf("postfix: %v\n%s", err, r.Log())
		}
	}
}

// available says why Postfix cannot run here, or nil.
func available() error {
	if _, err := exec.LookPath("postfix"); err != nil {
		if _, err2 := os.Stat("/usr/sbin/postfix"); err2 != nil {
			return err
		}
	}
	if runtime.GOOS != "linux" {
		return fmt.Errorf("the harness runs Debian's Postfix, on Linux")
	}
	if os.Geteuid() != 0 {
		return fmt.Errorf("its master starts as root")
	}
	if _, err := user.Lookup("postfix"); err != nil {
		return err
	}
	return nil
}

func postfix(args ...string) *exec.Cmd {
	bin := "/usr/sbin/postfix"
	if p, err := exec.LookPath("postfix"); err == nil {
		bin = p
	}
	return exec.Command(bin, args...)
}

func (r *Relay) start(cfg Config) error {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	r.Addr = l.Addr().String()
	l.Close()
	if err := r.write(cfg); err != nil {
		return err
	}
	for _, d := range []string{"queue", "data"} {
		if err := os.MkdirAll(filepath.Join(r.Dir, d), 0o755); err != nil {
			return err
		}
	}
	u, _ := user.Lookup("postfix")
	uid, _ := strconv.Atoi(u.Uid)
	if err := os.Chown(filepath.Join(r.Dir, "data"), uid, -1); err != nil {
		return err
	}
	// start-fg makes the queue's folders, with their owners and modes,
	// and runs the master as its child: it ends with the test binary.
	cmd := postfix("-c", r.Dir, "start-fg")
	endWithParent(cmd)
	if err := cmd.Start(); err != nil {
		return err
	}
	r.done = make(chan struct{})
	go func() { cmd.Wait(); close(r.done) }()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", r.Addr, time.Second); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	r.stop()
	return fmt.Errorf("smtpd not listening on %s after 20 s", r.Addr)
}

func (r *Relay) stop() {
	if r.done == nil {
		return
	}
	postfix("-c", r.Dir, "stop").Run()
	select {
	case <-r.done:
	case <-time.After(10 * time.Second):
	}
	r.done = nil
}

// Log returns the relay's log so far (for a failing test's message).
func (r *Relay) Log() string {
	b, _ := os.ReadFile(filepath.Join(r.Dir, "maillog"))
	return string(b)
}

func seconds(d time.Duration) string { return strconv.Itoa(max(1, int(d.Seconds()))) + "s" }

func (r *Relay) write(cfg Config) error {
	var routes []string
	for domain, addr := range cfg.Routes {
		routes = append(routes, domain+"=smtp:["+strings.Replace(addr, ":", "]:", 1))
	}
	sort.Strings(routes)
	lifetime := cfg.Lifetime
	if lifetime == 0 {
		lifetime = time.Hour
	}
	delay := "0h"
	if cfg.DelayWarning > 0 {
		delay = seconds(cfg.DelayWarning)
	}
	main := strings.NewReplacer("DIR", r.Dir, "ROUTES", strings.Join(routes, ", "), "DELAY", delay,
		"LIFETIME", seconds(lifetime)).Replace(mainCF)
	master := strings.Replace(masterCF, "ADDR", r.Addr, 1)
	if err := os.WriteFile(filepath.Join(r.Dir, "main.cf"), []byte(main), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(r.Dir, "master.cf"), []byte(master), 0o644)
}

// mainCF: a relay for loopback clients to the routes only, its log in a
// file, and retries every second, so that deferrals, warnings and
// expiries happen within a test.
const mainCF = `compatibility_level = 3.6
queue_directory = DIR/queue
data_directory = DIR/data
mail_owner = postfix
setgid_group = postdrop
myhostname = relay.test
mydomain = relay.test
myorigin = relay.test
mydestination =
inet_interfaces = loopback-only
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost =
transport_maps = inline:{ ROUTES }
default_transport = error:no route in the test relay
smtpd_relay_restrictions = permit_mynetworks, reject
alias_maps =
alias_database =
local_recipient_maps =
maillog_file = DIR/maillog
maillog_file_prefixes = DIR
smtp_dns_support_level = disabled
smtp_tls_security_level = none
smtpd_tls_security_level = none
delay_warning_time = DELAY
maximal_queue_lifetime = LIFETIME
bounce_queue_lifetime = LIFETIME
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 1s
smtp_connect_timeout = 5s
biff = no
`

// masterCF: the services a relay needs, none chrooted.
const masterCF = `ADDR inet n - n - - smtpd
cleanup   unix  n - n - 0 cleanup
qmgr      unix  n - n 300 1 qmgr
rewrite   unix  - - n - - trivial-rewrite
bounce    unix  - - n - 0 bounce
defer     unix  - - n - 0 bounce
trace     unix  - - n - 0 bounce
verify    unix  - - n - 1 verify
flush     unix  n - n 1000? 0 flush
proxymap  unix  - - n - - proxymap
smtp      unix  - - n - - smtp
relay     unix  - - n - - smtp
showq     unix  n - n - - showq
error     unix  - - n - - error
retry     unix  - - n - - error
discard   unix  - - n - - discard
anvil     unix  - - n - 1 anvil
scache    unix  - - n - 1 scache
postlog   unix-dgram n - n - 1 postlogd
`
