package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/term"

	"consulvote/app/audit"
	"consulvote/app/backend"
	"consulvote/app/portal"
	"consulvote/internal/private"
)

// The headless commands. Each has one configuration struct, filled from
// its flags (and their twins), checked by Validate before anything opens.

// rollImportConfig is the configuration of `roll import`.
type rollImportConfig struct {
	Backend backend.Config
	Log     string // --log: where the audit checkpoint lines go ("": the standard error)
	File    string // the roll, CSV
	Errors  string // where to write the refused lines, CSV ("": the first 20 on stdout)
}

func (c rollImportConfig) Validate() error {
	if c.File == "" {
		return &usageError{"give one FILE"}
	}
	return c.Backend.Validate()
}

func rollImportFlags(fs *flag.FlagSet) func(context.Context, []string, stdio) error {
	var c rollImportConfig
	storeFlags(fs, &c.Backend)
	logFlag(fs, &c.Log)
	fs.BoolVar(&c.Backend.Create, "create", false, "make a new database (and its key) if --db does not exist")
	fs.StringVar(&c.Errors, "errors", "", "write the refused lines to this CSV file")
	return func(ctx context.Context, args []string, io stdio) error {
		if len(args) != 1 {
			return &usageError{"give one FILE"}
		}
		c.File = args[0]
		if err := c.Validate(); err != nil {
			return err
		}
		return rollImport(ctx, c, io)
	}
}

// rollImport imports a roll file; Ctrl-C stops it between two batches.
func rollImport(ctx context.Context, c rollImportConfig, io stdio) error {
	f, err := os.Open(c.File)
	if err != nil {
		return &usageError{err.Error()}
	}
	defer f.Close()
	b, done, err := openCommand(ctx, c.Backend, c.Log, io)
	if err != nil {
		return err
	}
	defer done()
	b.Start() // checkpoints while it runs, and a last one at the end
	rep, err := b.Service.Operator.ImportRoll(ctx, "cli", f, func(r portal.ImportReport) {
		fmt.Fprintf(io.err, "%d lines read, %d refused, %.0f lines/s\n", r.Lines, len(r.Problems), r.RowsPerSecond())
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(io.out, "%d lines read of the file's %d (after the header): %d added, %d updated, %d unchanged, %d refused (%.0f lines/s)%s\n",
		rep.Lines, rep.FileLines, rep.Inserted, rep.Updated, rep.Unchanged, len(rep.Problems), rep.RowsPerSecond(),
		map[bool]string{true: " — interrupted: the batches already stored are whole"}[rep.Cancelled])
	if c.Errors != "" {
		out, err := private.Create(c.Errors)
		if err == nil {
			err = errors.Join(rep.ProblemsCSV(out), out.Close())
		}
		if err != nil {
			return fmt.Errorf("--errors: %w", err)
		}
	} else {
		for i, p := range rep.Problems {
			if i == 20 {
				fmt.Fprintf(io.out, "  … and %d more (--errors FILE for the whole list)\n", len(rep.Problems)-20)
				break
			}
			fmt.Fprintf(io.out, "  line %d, %s: %s\n", p.Line, p.Column, p.Reason)
		}
	}
	if n := len(rep.Differences); n > 0 {
		// Never silent: what the roll would have undone of an approved
		// change of contact details, kept as the desk set it.
		fmt.Fprintf(io.out, "%d contact detail(s) changed at the desk kept, different from the roll:\n", n)
		for i, d := range rep.Differences {
			if i == 20 {
				fmt.Fprintf(io.out, "  … and %d more (--errors FILE for the whole list)\n", n-20)
				break
			}
			fmt.Fprintf(io.out, "  line %d, NUMIC %s, %s: kept %q (the desk's, %s), the roll has %q\n",
				d.Line, d.NUMIC, d.Column, d.Kept, d.Since.UTC().Format("2006-01-02 15:04 UTC"), d.Roll)
		}
	}
	if rep.Cancelled {
		return errFailed
	}
	return nil
}

// credentialsSendConfig is the configuration of `credentials send`.
type credentialsSendConfig struct {
	Backend  backend.Config
	Log      string // --log: where the audit checkpoint lines go ("": the standard error)
	Campaign string // a voter is served once per campaign
}

func (c credentialsSendConfig) Validate() error {
	if c.Campaign == "" {
		return &usageError{"--campaign: required (a voter is served once per campaign)"}
	}
	return c.Backend.Validate()
}

func credentialsSendFlags(fs *flag.FlagSet) func(context.Context, []string, stdio) error {
	var c credentialsSendConfig
	storeFlags(fs, &c.Backend)
	logFlag(fs, &c.Log)
	fs.StringVar(&c.Campaign, "campaign", "", "the campaign's name (a voter is served once per campaign)")
	return func(ctx context.Context, args []string, io stdio) error {
		if len(args) != 0 {
			return &usageError{fmt.Sprintf("unexpected %q", args[0])}
		}
		if err := c.Validate(); err != nil {
			return err
		}
		b, done, err := openCommand(ctx, c.Backend, c.Log, io)
		if err != nil {
			return err
		}
		defer done()
		b.Start()
		rep, err := b.Service.Operator.SendFirstCredentials(ctx, "cli", c.Campaign, func(r portal.CampaignReport) {
			fmt.Fprintf(io.err, "%d voters served, %d without a mobile\n", r.Sent, r.Skipped)
		})
		if err != nil {
			return err
		}
		fmt.Fprintf(io.out, "campaign %s: %d voters served (identifier by e-mail, password by SMS), %d without a valid mobile%s\n",
			c.Campaign, rep.Sent, rep.Skipped, map[bool]string{true: " — interrupted: run the same campaign again to resume it"}[rep.Cancelled])
		if rep.Cancelled {
			return errFailed
		}
		return nil
	}
}

// agentAddConfig is the configuration of `agent add`; the password is
// read from the terminal (twice) or from the first line of stdin.
type agentAddConfig struct {
	Backend backend.Config
	Log     string // --log: where the audit checkpoint lines go ("": the standard error)
	Name    string
	Role    portal.Role
	// NoSecondFactor: an agent (never an admin) without TOTP.
	NoSecondFactor bool
	// QRFile is where the TOTP secret's QR code is written as a PNG.
	QRFile string
	// Email is where the agent's security alerts go ("": none).
	Email string
	// Scope: the circonscriptions whose voters the agent sees, or all of
	// them (--central).
	Scope portal.Scope
}

func (c agentAddConfig) Validate() error {
	if c.Name == "" {
		return &usageError{"give one NAME"}
	}
	if c.Role != portal.RoleAdmin && c.Role != portal.RoleAgent {
		return &usageError{fmt.Sprintf("--role %q: admin or agent", c.Role)}
	}
	if c.NoSecondFactor && c.Role == portal.RoleAdmin {
		return &usageError{"--no-totp: an admin must have a second factor"}
	}
	if c.Email != "" && !portal.ValidEmail(portal.NormalizeEmail(c.Email)) {
		return &usageError{fmt.Sprintf("--email %q: not an e-mail address", c.Email)}
	}
	if err := c.Scope.Normalize().Validate(); err != nil {
		return &usageError{fmt.Sprintf("--circonscription NAME (repeatable) or --central: %v", err)}
	}
	return c.Backend.Validate()
}

func agentAddFlags(fs *flag.FlagSet) func(context.Context, []string, stdio) error {
	var c agentAddConfig
	storeFlags(fs, &c.Backend)
	logFlag(fs, &c.Log)
	fs.StringVar((*string)(&c.Role), "role", "", "admin or agent")
	fs.BoolVar(&c.NoSecondFactor, "no-totp", false, "no second factor (role agent only; an admin always has one)")
	fs.StringVar(&c.QRFile, "qr", "", "write the second factor's QR code to this PNG file (default: NAME-totp.png)")
	fs.StringVar(&c.Email, "email", "", "the agent's address for security alerts: logins slowed down after 20 failures in a row, one-time codes locked after 10 wrong ones")
	fs.Func("circonscription", "a circonscription whose voters the agent sees, as the roll writes it (repeatable)", func(v string) error {
		c.Scope.Circonscriptions = append(c.Scope.Circonscriptions, v)
		return nil
	})
	fs.BoolVar(&c.Scope.Central, "central", false, "the central office: the agent sees every circonscription's voters")
	return func(ctx context.Context, args []string, io stdio) error {
		if len(args) != 1 {
			return &usageError{"give one NAME"}
		}
		c.Name = args[0]
		if err := c.Validate(); err != nil {
			return err
		}
		qrFile := qrPath(c.QRFile, c.Name)
		if !c.NoSecondFactor {
			if err := checkQRFile(qrFile); err != nil {
				return err
			}
		}
		b, done, err := openCommand(ctx, c.Backend, c.Log, io)
		if err != nil {
			return err
		}
		defer done()
		password, err := readPassword(io.in, io.err)
		if err != nil {
			return err
		}
		b.Start()
		enr, err := b.Service.Operator.AddAgent(ctx, c.Name, c.Role, password, !c.NoSecondFactor, c.Scope)
		if err != nil {
			return err
		}
		fmt.Fprintf(io.out, "agent %s added (%s, %s)\n", c.Name, c.Role, scopeWords(c.Scope.Normalize()))
		if c.Email != "" {
			if err := b.Service.Operator.SetAgentEmail(ctx, "cli", c.Name, c.Email); err != nil {
				return fmt.Errorf("agent %s added without its e-mail: %w", c.Name, err)
			}
		}
		if c.NoSecondFactor {
			return nil
		}
		return printEnrollment(io.out, enr, qrFile)
	}
}

// agentResetTOTPConfig is the configuration of `agent reset-totp`.
type agentResetTOTPConfig struct {
	Backend backend.Config
	Log     string // --log: where the audit checkpoint lines go ("": the standard error)
	Name    string
	// QRFile is where the new secret's QR code is written as a PNG.
	QRFile string
}

func (c agentResetTOTPConfig) Validate() error {
	if c.Name == "" {
		return &usageError{"give one NAME"}
	}
	return c.Backend.Validate()
}

// agentResetTOTPFlags: `agent reset-totp NAME` gives an agent who lost the
// authenticator a new second factor, shown once like `agent add`'s; the
// old secret, its recovery codes and the agent's sessions stop working.
// It runs on the database, by whoever runs the server: nobody sees the
// old secret, and the office's API has no such call.
func agentResetTOTPFlags(fs *flag.FlagSet) func(context.Context, []string, stdio) error {
	var c agentResetTOTPConfig
	storeFlags(fs, &c.Backend)
	logFlag(fs, &c.Log)
	fs.StringVar(&c.QRFile, "qr", "", "write the new second factor's QR code to this PNG file (default: NAME-totp.png)")
	return func(ctx context.Context, args []string, io stdio) error {
		if len(args) != 1 {
			return &usageError{"give one NAME"}
		}
		c.Name = args[0]
		if err := c.Validate(); err != nil {
			return err
		}
		qrFile := qrPath(c.QRFile, c.Name)
		if err := checkQRFile(qrFile); err != nil {
			return err
		}
		b, done, err := openCommand(ctx, c.Backend, c.Log, io)
		if err != nil {
			return err
		}
		defer done()
		b.Start()
		enr, err := b.Service.Operator.ResetSecondFactor(ctx, "cli", c.Name)
		if err != nil {
			return err
		}
		fmt.Fprintf(io.out, "second factor of agent %s reset: its former codes, its recovery codes and its open sessions no longer work\n", c.Name)
		return printEnrollment(io.out, enr, qrFile)
	}
}

// qrPath is where a second factor's QR code goes: --qr, else NAME-totp.png.
func qrPath(flag, name string) string {
	if flag != "" {
		return flag
	}
	return name + "-totp.png"
}

// checkQRFile refuses, before anything changes, a QR code file that
// exists: the file is never overwritten (it may be another agent's
// secret), and the enrolment is shown only once.
func checkQRFile(path string) error {
	if _, err := os.Lstat(path); err == nil {
		return &usageError{fmt.Sprintf("--qr: %s exists: delete it (once scanned) or name another file", path)}
	} else if !errors.Is(err, os.ErrNotExist) {
		return &usageError{fmt.Sprintf("--qr: %v", err)}
	}
	return nil
}

// readPassword asks twice on a terminal, or reads the first line of a
// pipe (for scripts).
func readPassword(stdin io.Reader, stderr io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stderr, "Password: ")
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		fmt.Fprint(stderr, "Again: ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stderr)
		if err != nil {
			return "", err
		}
		if string(p1) != string(p2) {
			return "", errors.New("the two passwords differ")
		}
		return string(p1), nil
	}
	if stdin == nil {
		return "", errors.New("no password on stdin")
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

// auditVerifyConfig is the configuration of `audit verify`.
type auditVerifyConfig struct {
	Backend backend.Config
	// Checkpoints are checkpoints the server's log shows, each as SEQ:MAC
	// (its "seq" and "mac", hexadecimal): the database must still hold
	// each, signed so. Only such a witness outside the database shows a
	// log rolled back to an older checkpoint.
	Checkpoints []string
	// CheckpointsFrom are JSON logs (every instance's, every command's):
	// every "audit checkpoint" line of each is such a checkpoint.
	CheckpointsFrom []string
}

func (c auditVerifyConfig) Validate() error {
	if _, err := c.checkpoints(); err != nil {
		return err
	}
	return c.Backend.Validate()
}

// checkpoints parses Checkpoints and reads CheckpointsFrom.
func (c auditVerifyConfig) checkpoints() ([]audit.Checkpoint, error) {
	var out []audit.Checkpoint
	for _, cp := range c.Checkpoints {
		seqText, macText, _ := strings.Cut(cp, ":")
		seq, err := strconv.ParseInt(seqText, 10, 64)
		mac, err2 := hex.DecodeString(macText)
		if err != nil || err2 != nil || seq < 1 || len(mac) == 0 {
			return nil, &usageError{fmt.Sprintf("--checkpoint %q: want SEQ:MAC, the \"seq\" and \"mac\" of an \"audit checkpoint\" line of the server's log", cp)}
		}
		out = append(out, audit.Checkpoint{Seq: seq, MAC: mac})
	}
	logged := 0
	for _, path := range c.CheckpointsFrom {
		cps, err := readCheckpoints(path)
		if err != nil {
			return nil, err
		}
		out = append(out, cps...)
		logged += len(cps)
	}
	// A command that wrote nothing to the audit log signed no checkpoint:
	// its log may have none, and every log is meant to be given; but
	// logs with none at all are not the servers' JSON logs.
	if len(c.CheckpointsFrom) > 0 && logged == 0 {
		return nil, &usageError{fmt.Sprintf("--checkpoints-from %s: no \"audit checkpoint\" line: not the servers' JSON logs?",
			strings.Join(c.CheckpointsFrom, ", "))}
	}
	return out, nil
}

// readCheckpoints reads the "audit checkpoint" lines of a JSON log.
func readCheckpoints(path string) ([]audit.Checkpoint, error) {
	var out []audit.Checkpoint
	f, err := os.Open(path)
	if err != nil {
		return nil, &usageError{fmt.Sprintf("--checkpoints-from: %v", err)}
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 16<<20) // a checkpoint line names every chain that moved
	for n := 1; sc.Scan(); n++ {
		var line struct {
			Msg string          `json:"msg"`
			Seq *int64          `json:"seq"`
			MAC string          `json:"mac"`
			Err json.RawMessage `json:"err"`
		}
		// Lines that are not JSON (a line cut by a kill, another
		// program's output) are no checkpoint, nor a failure to sign one
		// (an "err", as servers of this branch before logged it).
		if json.Unmarshal(sc.Bytes(), &line) != nil || line.Msg != "audit checkpoint" || line.Err != nil {
			continue
		}
		mac, err := hex.DecodeString(line.MAC)
		if line.Seq == nil || *line.Seq < 1 || err != nil || len(mac) == 0 {
			return nil, &usageError{fmt.Sprintf("--checkpoints-from %s, line %d: an \"audit checkpoint\" line without a valid \"seq\" and \"mac\"", path, n)}
		}
		out = append(out, audit.Checkpoint{Seq: *line.Seq, MAC: mac})
	}
	if err := sc.Err(); err != nil {
		return nil, &usageError{fmt.Sprintf("--checkpoints-from %s: %v", path, err)}
	}
	return out, nil
}

func auditVerifyFlags(fs *flag.FlagSet) func(context.Context, []string, stdio) error {
	var c auditVerifyConfig
	storeFlags(fs, &c.Backend)
	fs.Func("checkpoint", `a checkpoint of the server's log, SEQ:MAC (the "seq" and "mac" of an "audit checkpoint" line), that the database must still hold (repeat it for several)`,
		func(v string) error { c.Checkpoints = append(c.Checkpoints, v); return nil })
	fs.Func("checkpoints-from", `a JSON log of a server or a command: every checkpoint of its "audit checkpoint" lines must still be in the database, signed so (repeat it for every instance's log)`,
		func(v string) error { c.CheckpointsFrom = append(c.CheckpointsFrom, v); return nil })
	return func(ctx context.Context, args []string, io stdio) error {
		if len(args) != 0 {
			return &usageError{fmt.Sprintf("unexpected %q", args[0])}
		}
		if err := c.Validate(); err != nil {
			return err
		}
		b, err := backend.Open(ctx, c.Backend)
		if err != nil {
			return err
		}
		defer b.Close()
		cps, _ := c.checkpoints() // read by Validate
		problems, rows, err := b.Service.Operator.VerifyAuditLog(ctx, cps...)
		if err != nil {
			return err
		}
		if len(problems) == 0 {
			fmt.Fprintf(io.out, "audit log intact: %d rows verified\n", rows)
			return nil
		}
		fmt.Fprintf(io.out, "audit log TAMPERED: %d problems in %d rows\n", len(problems), rows)
		for _, p := range problems {
			fmt.Fprintln(io.out, " ", p)
		}
		return errFailed
	}
}
