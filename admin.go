package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"golang.org/x/term"

	"consulvote/app/portal"
	"consulvote/app/service"
	"consulvote/app/store"
)

const adminUsage = `usage: consulvote audit verify --db PATH
       consulvote roll import --db PATH FILE [--errors REPORT.csv]
       consulvote credentials send --db PATH --campaign NAME [--from SENDER]
       consulvote agent add --db PATH NAME --role admin|agent   (password on the terminal, or the first line of stdin)`

// adminCommand runs the headless commands of the consular office. It
// returns the exit code: 0 done, 1 failure (or tampering found), 2 bad
// usage.
func adminCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) < 2 {
		fmt.Fprintln(stderr, adminUsage)
		return 2
	}
	cmd := args[0] + " " + args[1]
	fs := flag.NewFlagSet("consulvote "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", os.Getenv("CONSULVOTE_DB"), "the database (CONSULVOTE_DB)")
	keyPath := fs.String("key", "", "the secret key file (default: beside the database)")
	role := fs.String("role", "", "agent add: admin or agent")
	errorsPath := fs.String("errors", "", "roll import: write the refused lines to this CSV file")
	campaign := fs.String("campaign", "", "credentials send: the campaign's name (a voter is served once per campaign)")
	from := fs.String("from", os.Getenv("CONSULVOTE_FROM"), "sender of the e-mails queued, as for serve (CONSULVOTE_FROM)")
	// Flags may come before and after the positional arguments.
	var positional []string
	rest := args[2:]
	for {
		if err := fs.Parse(rest); err != nil {
			return 2
		}
		if fs.NArg() == 0 {
			break
		}
		positional = append(positional, fs.Arg(0))
		rest = fs.Args()[1:]
	}
	if cmd != "audit verify" && cmd != "agent add" && cmd != "roll import" && cmd != "credentials send" {
		fmt.Fprintln(stderr, adminUsage)
		return 2
	}
	if *db == "" {
		fmt.Fprintf(stderr, "consulvote %s: --db: required\n", cmd)
		return 2
	}
	if _, err := os.Stat(*db); err != nil {
		fmt.Fprintf(stderr, "consulvote %s: --db: %v\n", cmd, err)
		return 2
	}
	if *keyPath == "" {
		*keyPath = *db + ".key"
	}
	ctx := context.Background()
	svc, st, err := openService(ctx, *db, *keyPath, *from)
	if err != nil {
		fmt.Fprintf(stderr, "consulvote %s: %v\n", cmd, err)
		return 1
	}
	defer st.Close()
	switch cmd {
	case "audit verify":
		return auditVerify(ctx, svc, stdout)
	case "roll import":
		if len(positional) != 1 {
			fmt.Fprintln(stderr, "consulvote roll import: give one FILE")
			return 2
		}
		return rollImport(ctx, svc, positional[0], *errorsPath, stdout, stderr)
	case "credentials send":
		ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
		defer stop()
		rep, err := svc.SendFirstCredentials(ctx, "cli", *campaign, func(r portal.CampaignReport) {
			fmt.Fprintf(stderr, "%d électeurs servis, %d sans mobile\n", r.Sent, r.Skipped)
		})
		if err != nil {
			fmt.Fprintln(stderr, "consulvote credentials send:", err)
			return 1
		}
		fmt.Fprintf(stdout, "campagne %s : %d électeurs servis (identifiant par courriel, mot de passe par SMS), %d sans mobile valide%s\n",
			*campaign, rep.Sent, rep.Skipped, map[bool]string{true: " — interrompue : relancez la même campagne pour la reprendre"}[rep.Cancelled])
		if rep.Cancelled {
			return 1
		}
		return 0
	case "agent add":
		if len(positional) != 1 {
			fmt.Fprintln(stderr, "consulvote agent add: give one NAME")
			return 2
		}
		password, err := readPassword(stdin, stderr)
		if err != nil {
			fmt.Fprintln(stderr, "consulvote agent add:", err)
			return 1
		}
		if err := svc.AddAgent(ctx, positional[0], portal.Role(*role), password); err != nil {
			fmt.Fprintln(stderr, "consulvote agent add:", err)
			return 1
		}
		fmt.Fprintf(stdout, "agent %s added (%s)\n", positional[0], *role)
		return 0
	}
	fmt.Fprintf(stderr, "consulvote: unknown command %q\n", cmd)
	return 2
}

// openService opens an existing database and its key for a command;
// from, when set, is the sender of the e-mails it queues.
func openService(ctx context.Context, path, keyPath, from string) (*service.Service, *store.DB, error) {
	if _, err := os.Stat(keyPath); errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("--key: %s does not exist", keyPath)
	}
	return openPortal(ctx, path, keyPath, func(cfg *service.Config) {
		if from != "" {
			cfg.Mail.From = from
		}
	}, nil)
}

// rollImport imports a roll file; Ctrl-C stops it between two batches.
func rollImport(ctx context.Context, svc *service.Service, path, errorsPath string, stdout, stderr io.Writer) int {
	f, err := os.Open(path)
	if err != nil {
		fmt.Fprintln(stderr, "consulvote roll import:", err)
		return 2
	}
	defer f.Close()
	ctx, stop := signal.NotifyContext(ctx, os.Interrupt, syscall.SIGTERM)
	defer stop()
	rep, err := svc.ImportRoll(ctx, "cli", f, func(r portal.ImportReport) {
		fmt.Fprintf(stderr, "%d lignes lues, %d refusées, %.0f lignes/s\n", r.Lines, len(r.Problems), r.RowsPerSecond())
	})
	if err != nil {
		fmt.Fprintln(stderr, "consulvote roll import:", err)
		return 1
	}
	fmt.Fprintf(stdout, "%d lignes : %d ajoutées, %d modifiées, %d inchangées, %d refusées (%.0f lignes/s)%s\n",
		rep.Lines, rep.Inserted, rep.Updated, rep.Unchanged, len(rep.Problems), rep.RowsPerSecond(),
		map[bool]string{true: " — interrompu : les lots déjà enregistrés sont complets"}[rep.Cancelled])
	if errorsPath != "" {
		out, err := os.Create(errorsPath)
		if err == nil {
			err = errors.Join(rep.ProblemsCSV(out), out.Close())
		}
		if err != nil {
			fmt.Fprintln(stderr, "consulvote roll import: --errors:", err)
			return 1
		}
	} else {
		for i, p := range rep.Problems {
			if i == 20 {
				fmt.Fprintf(stdout, "  … et %d autres (--errors FICHIER pour la liste complète)\n", len(rep.Problems)-20)
				break
			}
			fmt.Fprintf(stdout, "  ligne %d, %s : %s\n", p.Line, p.Column, p.Reason)
		}
	}
	if rep.Cancelled {
		return 1
	}
	return 0
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
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", err
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func auditVerify(ctx context.Context, svc *service.Service, out io.Writer) int {
	problems, rows, err := svc.VerifyAuditLog(ctx)
	if err != nil {
		fmt.Fprintln(out, "audit verify:", err)
		return 1
	}
	if len(problems) == 0 {
		fmt.Fprintf(out, "audit log intact: %d rows verified\n", rows)
		return 0
	}
	fmt.Fprintf(out, "audit log TAMPERED: %d problems in %d rows\n", len(problems), rows)
	for _, p := range problems {
		fmt.Fprintln(out, " ", p)
	}
	return 1
}
