// Package instance keeps one app running per user: the first start becomes
// the primary instance and listens on loopback for the links of later
// starts (a consulvote:// link clicked while the app runs), which hand
// theirs over and exit.
//
// The primary holds an exclusive lock on a file of the data folder for as
// long as it runs; the operating system drops the lock when the process
// ends, however it ends, so a crashed app never blocks the next start.
// Beside the lock, a file readable by the user only (0600) holds the
// listener's address and a random token: another local user can reach the
// port but, without the token, cannot push links. A handed link is only
// shown (E5 with it), never consumed.
package instance

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"
)

const (
	lockName = "instance.lock"
	infoName = "instance"
	// maxMessage bounds what the primary reads from a connection: a link
	// is a few hundred bytes.
	maxMessage = 16 << 10
	// maxConns bounds the connections handled at once; more are closed.
	maxConns = 8
)

// Wait is how long the primary waits for its window to take a handed link
// (it may still be starting), and so the least a sender should wait.
const Wait = 10 * time.Second

var (
	// ErrHandedOver: the running app took the link; this start should end.
	ErrHandedOver = errors.New("handed over to the running app")
	// ErrRunning: another process is the primary.
	ErrRunning = errors.New("the app is already running")
	// ErrRefused: the listener of the info file did not take the link
	// (wrong token, a stale file, or an app that is quitting).
	ErrRefused = errors.New("the running app refused the link")
)

// message is what a later start sends to the primary: one JSON object.
type message struct {
	Token string `json:"token"`
	Link  string `json:"link"` // "": only raise the window
}

type reply struct {
	OK bool `json:"ok"`
}

// Primary is the running app's end: links handed by later starts arrive
// on Links.
type Primary struct {
	lock  *os.File
	ln    net.Listener
	info  string
	token string
	links chan string
	done  chan struct{}
	conns sync.WaitGroup
	once  sync.Once
}

// Start makes this process the primary instance for dir (the app's data
// folder), or hands link to the running primary. It returns ErrHandedOver
// when the running app took the link. It retries until ctx ends while
// another process holds the lock but does not answer yet (starting,
// or quitting: once its lock is free this process becomes the primary).
func Start(ctx context.Context, dir, link string) (*Primary, error) {
	for {
		p, err := Claim(dir)
		if !errors.Is(err, ErrRunning) {
			return p, err
		}
		sendErr := Send(ctx, dir, link)
		if sendErr == nil {
			return nil, ErrHandedOver
		}
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("instance: the running app did not take the link: %w", sendErr)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// Claim makes this process the primary for dir, or returns ErrRunning.
func Claim(dir string) (*Primary, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("instance: %w", err)
	}
	f, err := os.OpenFile(filepath.Join(dir, lockName), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("instance: %w", err)
	}
	if err := lockFile(f); err != nil {
		f.Close()
		if errors.Is(err, errLocked) {
			return nil, ErrRunning
		}
		return nil, fmt.Errorf("instance: lock: %w", err)
	}
	p := &Primary{lock: f, info: filepath.Join(dir, infoName), links: make(chan string), done: make(chan struct{})}
	if err := p.listen(); err != nil {
		p.Close()
		return nil, err
	}
	return p, nil
}

// listen opens the loopback listener and writes its address and a new
// token to the info file (0600; a stale one, left by a crash, is
// overwritten: the lock says it is no one's now).
func (p *Primary) listen() error {
	b := make([]byte, 32)
	rand.Read(b)
	p.token = hex.EncodeToString(b)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return fmt.Errorf("instance: %w", err)
	}
	p.ln = ln
	f, err := os.OpenFile(p.info, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err == nil {
		// A stale file keeps its old mode through O_CREATE: narrow it.
		err = f.Chmod(0o600)
		if err == nil {
			_, err = fmt.Fprintf(f, "%s %s\n", ln.Addr(), p.token)
		}
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}
	if err != nil {
		return fmt.Errorf("instance: %w", err)
	}
	go p.serve()
	return nil
}

// Links delivers each handed link, "" for a start without one (raise the
// window). A sender is told the link was taken only once it is read here.
func (p *Primary) Links() <-chan string { return p.links }

// Close stops listening and gives up the lock: a later start becomes the
// primary. A sender whose link was not read yet is refused and retries.
func (p *Primary) Close() error {
	p.once.Do(func() {
		close(p.done)
		if p.ln != nil {
			p.ln.Close()
		}
		p.conns.Wait()
		os.Remove(p.info)
		p.lock.Close() // releases the lock
	})
	return nil
}

func (p *Primary) serve() {
	sem := make(chan struct{}, maxConns)
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		select {
		case sem <- struct{}{}:
		default:
			c.Close()
			continue
		}
		p.conns.Add(1)
		go func() {
			defer func() { <-sem; p.conns.Done() }()
			p.handle(c)
		}()
	}
}

// handle reads one message; with the right token, it waits until the app
// reads the link, then says ok. Anything else is closed without a word.
func (p *Primary) handle(c net.Conn) {
	defer c.Close()
	c.SetDeadline(time.Now().Add(Wait + 2*time.Second))
	var m message
	if err := json.NewDecoder(io.LimitReader(c, maxMessage)).Decode(&m); err != nil {
		return
	}
	if subtle.ConstantTimeCompare([]byte(m.Token), []byte(p.token)) != 1 {
		return
	}
	t := time.NewTimer(Wait)
	defer t.Stop()
	select {
	case p.links <- m.Link:
		json.NewEncoder(c).Encode(reply{OK: true})
	case <-p.done:
	case <-t.C:
	}
}

// Send hands link to the primary of dir, as named by its info file.
func Send(ctx context.Context, dir, link string) error {
	b, err := os.ReadFile(filepath.Join(dir, infoName))
	if err != nil {
		return fmt.Errorf("instance: %w", err)
	}
	fields := strings.Fields(string(b))
	if len(fields) != 2 {
		return fmt.Errorf("instance: %w: unreadable info file", ErrRefused)
	}
	addr, token := fields[0], fields[1]
	// Only ever to this machine, whatever the file says.
	if host, _, err := net.SplitHostPort(addr); err != nil || !net.ParseIP(host).IsLoopback() {
		return fmt.Errorf("instance: %w: %q is not a loopback address", ErrRefused, addr)
	}
	var d net.Dialer
	c, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("instance: %w", err)
	}
	defer c.Close()
	deadline := time.Now().Add(Wait + time.Second)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.SetDeadline(deadline)
	allowForeground()
	if err := json.NewEncoder(c).Encode(message{Token: token, Link: link}); err != nil {
		return fmt.Errorf("instance: %w", err)
	}
	var r reply
	if err := json.NewDecoder(io.LimitReader(c, 1024)).Decode(&r); err != nil || !r.OK {
		return fmt.Errorf("instance: %w", ErrRefused)
	}
	return nil
}
