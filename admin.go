package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"

	"consulvote/app/keyfile"
	"consulvote/app/service"
	"consulvote/app/store"
)

// adminCommand runs the headless commands of the consular office:
// `consulvote audit verify --db PATH`. It returns the exit code: 0 done,
// 1 failure (or tampering found), 2 bad usage.
func adminCommand(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	if len(args) < 2 {
		fmt.Fprintln(stderr, "usage: consulvote audit verify --db PATH")
		return 2
	}
	cmd := args[0] + " " + args[1]
	fs := flag.NewFlagSet("consulvote "+cmd, flag.ContinueOnError)
	fs.SetOutput(stderr)
	db := fs.String("db", os.Getenv("CONSULVOTE_DB"), "the database (CONSULVOTE_DB)")
	keyPath := fs.String("key", "", "the secret key file (default: beside the database)")
	if err := fs.Parse(args[2:]); err != nil {
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
	svc, st, err := openService(ctx, *db, *keyPath)
	if err != nil {
		fmt.Fprintf(stderr, "consulvote %s: %v\n", cmd, err)
		return 1
	}
	defer st.Close()
	switch cmd {
	case "audit verify":
		return auditVerify(ctx, svc, stdout)
	}
	fmt.Fprintf(stderr, "consulvote: unknown command %q\n", cmd)
	return 2
}

// openService opens an existing database and its key for a command.
func openService(ctx context.Context, path, keyPath string) (*service.Service, *store.DB, error) {
	if _, err := os.Stat(keyPath); errors.Is(err, os.ErrNotExist) {
		return nil, nil, fmt.Errorf("--key: %s does not exist", keyPath)
	}
	key, err := keyfile.LoadOrCreate(keyPath)
	if err != nil {
		return nil, nil, err
	}
	db, err := store.Open(ctx, path)
	if err != nil {
		return nil, nil, err
	}
	cfg := service.DefaultConfig()
	cfg.Secret = key
	svc, err := service.New(db, cfg, service.Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		db.Close()
		return nil, nil, err
	}
	return svc, db, nil
}

func auditVerify(ctx context.Context, svc *service.Service, out io.Writer) int {
	problems, rows, err := svc.VerifyAudit(ctx)
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
