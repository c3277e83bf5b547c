package storetest

import (
	"fmt"
	"testing"

	"consulvote/app/portal"
	"consulvote/app/service"
)

// testAgentScope: an agent's scope comes back as stored, by name and by
// session: central, one or several circonscriptions; an agent stored
// without one sees nothing.
func testAgentScope(t *testing.T, st Store) {
	scopes := map[string]portal.Scope{
		"central": {Central: true},
		"de":      {Circonscriptions: []string{"Allemagne"}},
		"deat":    {Circonscriptions: []string{"Allemagne", "Autriche"}},
		"none":    {},
	}
	update(t, st, func(tx service.Tx) error {
		for name, s := range scopes {
			id, err := tx.InsertAgent(service.Agent{Name: name, Role: "agent", PasswordHash: "x", CreatedAt: t0, Scope: s})
			if err != nil {
				return err
			}
			if err := tx.InsertAgentSession(service.AgentSessionRow{TokenHash: []byte(name), AgentID: id, CreatedAt: t0, ExpiresAt: t0.Add(1e9)}); err != nil {
				return err
			}
		}
		return nil
	})
	update(t, st, func(tx service.Tx) error {
		for name, want := range scopes {
			a, err := tx.AgentByName(name)
			b, _, err2 := tx.AgentBySession([]byte(name))
			if err != nil || err2 != nil || fmt.Sprint(a.Scope) != fmt.Sprint(want) || fmt.Sprint(b.Scope) != fmt.Sprint(want) {
				t.Errorf("%s: by name %+v %v, by session %+v %v; want %+v", name, a.Scope, err, b.Scope, err2, want)
			}
		}
		if a, _ := tx.AgentByName("none"); a.Scope.Sees("Allemagne") || a.Scope.Sees("") {
			t.Error("an agent stored without a scope sees voters")
		}
		return nil
	})
}
