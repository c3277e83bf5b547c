package service

import (
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
