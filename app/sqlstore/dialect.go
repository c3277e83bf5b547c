package sqlstore

import "database/sql"

// dialect is what SQLite and PostgreSQL spell differently; every
// statement is written once, with $n placeholders (SQLite reads $n as
// the n-th argument too), and takes these pieces where they differ.
type dialect struct {
	migrations []string
	updateOpts *sql.TxOptions
	viewOpts   *sql.TxOptions

	forUpdate  string // appended to a write transaction's lookups
	skipLocked string // appended to a claim: rows another claim holds are skipped
	rowID      string // the hidden column that names a row
	ilike      string // case-insensitive LIKE
	// writableWith: a WITH may hold an INSERT, UPDATE or DELETE.
	writableWith bool

	// lock takes a lock on (class, key) until the transaction ends; nil
	// where the single writer already holds every lock.
	lock func(t *Tx, class int32, key []byte) error
	// in returns "IN (the list bound at param)", and list the value to
	// bind for a Go slice.
	in   func(param string) string
	list func(slice any) any
	// sendAll runs statements in one round trip; nil where each is a call
	// (SQLite, in the process).
	sendAll func(t *Tx, later []stmt) error
	// copyRows inserts rows into table at once.
	copyRows func(t *Tx, table string, cols []string, rows [][]any) error
	// retryable reports a conflict that left nothing done: the
	// transaction may run again.
	retryable func(error) bool
	// missingRow reports a foreign key that found no row.
	missingRow func(error) bool
	// as reads expr as type typ (INTEGER, TEXT, BLOB) where a column may
	// hold a value of another type (SQLite), else expr.
	as func(expr, typ string) string
}
