package service

import (
	"errors"
	"reflect"
	"testing"
)

// TestTxMethods holds Tx to its budget (issue 20): a method more is one
// more for every store to keep and every reader to hold; a new need
// belongs in an existing method first (a filter, a field).
func TestTxMethods(t *testing.T) {
	const budget = 65
	tx := reflect.TypeFor[Tx]()
	if n := tx.NumMethod(); n > budget {
		t.Errorf("Tx has %d methods, more than its budget of %d", n, budget)
	}
}

// TestCommit: a refusal to commit is found through errors.As and Is; no
// refusal is no error (a CommitError around nil would read as a failure
// to every caller but the one that unwraps it); a failure to write what
// the refusal commits wins over it.
func TestCommit(t *testing.T) {
	refused, failed := errors.New("refused"), errors.New("write failed")
	var c *CommitError
	if err := Commit(refused); !errors.As(err, &c) || c.Err != refused || !errors.Is(err, refused) {
		t.Errorf("Commit(refused) = %v, want a CommitError around it", err)
	}
	if err := Commit(nil); err != nil {
		t.Errorf("Commit(nil) = %#v, want nil", err)
	}
	if err := commit(nil, nil); err != nil {
		t.Errorf("commit(nil, nil) = %#v, want nil", err)
	}
	if err := commit(refused, failed); err != failed {
		t.Errorf("commit(refused, failed) = %v, want the failure alone", err)
	}
}
