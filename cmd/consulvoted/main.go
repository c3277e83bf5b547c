// Command consulvoted is the portal's server and its headless commands,
// without Fyne or cgo: CGO_ENABLED=0 builds it into one static binary for
// a server that has no display.
//
//	consulvoted serve [options]                the HTTP API (see consulvoted serve -h)
//	consulvoted roll import --db PATH FILE     load the electoral roll
//	consulvoted credentials send --db PATH --campaign NAME
//	consulvoted agent add --db PATH NAME --role admin|agent --circonscription X (repeatable) | --central
//	consulvoted agent reset-totp --db PATH NAME  a new second factor, shown once
//	consulvoted audit verify --db PATH [--checkpoint SEQ:MAC]... [--checkpoints-from LOG]
//	consulvoted backup --db PATH --to FILE     a consistent copy of a live database
//	consulvoted restore --from FILE --db PATH  put a backup back (the server stopped)
//
// --db is a SQLite file or a PostgreSQL URL (postgres://…, with
// --key-file). Every flag has an environment twin (--db and CONSULVOTE_DB,
// …). Exit
// codes: 0 done, 1 failure (or tampering found), 2 bad usage or setting.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"slices"
	"strings"
	"syscall"

	"consulvote/app/backend"
	"consulvote/internal/envflag"
)

const usage = `usage: consulvoted serve [options]   (the HTTP API; consulvoted serve -h)
       consulvoted roll import --db PATH FILE [--errors REPORT.csv] [--create]
       consulvoted credentials send --db PATH --campaign NAME [--from SENDER]
       consulvoted agent add --db PATH NAME --role admin|agent --circonscription X… | --central   (password on the terminal, or the first line of stdin)
       consulvoted agent reset-totp --db PATH NAME [--qr FILE]   (a new second factor for an agent who lost it)
       consulvoted audit verify --db PATH [--checkpoint SEQ:MAC]... [--checkpoints-from LOG]
       consulvoted backup --db PATH --to FILE [--key-to KEYFILE] [--force]
       consulvoted restore --from FILE --db PATH [--key-from KEYFILE] [--force]
--db PATH is a SQLite file, or a PostgreSQL URL (postgres://user:password@host:port/database)
with --key-file PATH, the same key file on every instance.
Every flag has an environment twin: --db and CONSULVOTE_DB, and so on.`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// command is one of the program's commands: its flags, then what it does
// with the arguments left.
type command struct {
	name string
	// flags declares the command's flags on fs; run runs it on the
	// positional arguments.
	flags func(fs *flag.FlagSet) (run func(ctx context.Context, args []string, io stdio) error)
}

// stdio is where a command reads and writes.
type stdio struct {
	in       io.Reader
	out, err io.Writer
}

var commands = []command{
	{"serve", serveFlags},
	{"roll import", rollImportFlags},
	{"credentials send", credentialsSendFlags},
	{"agent add", agentAddFlags},
	{"agent reset-totp", agentResetTOTPFlags},
	{"audit verify", auditVerifyFlags},
	{"backup", backupFlags},
	{"restore", restoreFlags},
}

// usageError is bad usage: exit code 2.
type usageError struct{ msg string }

func (e *usageError) Error() string { return e.msg }

// errFailed is a command that ran and failed for a reason it has already
// said (tampering found, an import cancelled): exit code 1, nothing more.
var errFailed = errors.New("failed")

// run runs the command named by args and returns the exit code.
func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	var cmd *command
	n := 0
	for i := range commands {
		c := &commands[i]
		words := strings.Fields(c.name)
		if len(args) >= len(words) && slices.Equal(args[:len(words)], words) {
			cmd, n = c, len(words)
		}
	}
	if cmd == nil {
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			fmt.Fprintln(stdout, usage)
			return 0
		}
		fmt.Fprintln(stderr, usage)
		return 2
	}
	fs := flag.NewFlagSet("consulvoted "+cmd.name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	do := cmd.flags(fs)
	// Flags may come before and after the positional arguments.
	err := envflag.Parse(fs, args[n:])
	var positional []string
	for err == nil && fs.NArg() > 0 {
		positional = append(positional, fs.Arg(0))
		err = fs.Parse(fs.Args()[1:])
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		return 2 // the flag package said why
	}
	err = do(ctx, positional, stdio{stdin, stdout, stderr})
	var ue *usageError
	var ce *backend.ConfigError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errFailed):
		return 1
	case errors.As(err, &ue), errors.As(err, &ce):
		fmt.Fprintf(stderr, "consulvoted %s: %v\n", cmd.name, err)
		return 2
	}
	fmt.Fprintf(stderr, "consulvoted %s: %v\n", cmd.name, err)
	return 1
}

// storeFlags declares the flags every command has: where the data is and
// who sends the e-mails, in whose name.
func storeFlags(fs *flag.FlagSet, c *backend.Config) {
	fs.StringVar(&c.Database, "db", c.Database, "the SQLite database file, or a PostgreSQL URL: postgres://user:password@host:port/database")
	fs.StringVar(&c.KeyFile, "key-file", c.KeyFile, "the secret key file of the hashes and the outbox (default with SQLite: beside the database; required with PostgreSQL, the same file on every instance)")
	fs.StringVar(&c.From, "from", c.From, `sender of the e-mails, e.g. "MEAE <noreply@example.org>"`)
	c.MailFlags(fs)
}

// logFlag adds --log to a command that writes to the audit log: the
// checkpoint it signs when it ends is its witness outside the database
// (audit verify --checkpoints-from reads it), so it is never discarded.
func logFlag(fs *flag.FlagSet, path *string) {
	fs.StringVar(path, "log", "", `append the JSON log (its "audit checkpoint" lines) to this file instead of the standard error, e.g. the server's log file`)
}

// openCommand opens the backend of a command that writes to the audit
// log, with its JSON log on the standard error or appended to logPath;
// done closes both. The command calls Start once it is ready to write.
func openCommand(ctx context.Context, c backend.Config, logPath string, io stdio) (b *backend.Backend, done func(), err error) {
	closeLog := func() {}
	if logPath == "" {
		c.Logger = slog.New(slog.NewJSONHandler(io.err, nil))
	} else {
		f, err := os.OpenFile(logPath, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
		if err != nil {
			return nil, nil, &usageError{fmt.Sprintf("--log: %v", err)}
		}
		c.Logger = slog.New(slog.NewJSONHandler(f, nil))
		closeLog = func() { f.Close() }
	}
	if b, err = backend.Open(ctx, c); err != nil {
		closeLog()
		return nil, nil, err
	}
	return b, func() { b.Close(); closeLog() }, nil
}
