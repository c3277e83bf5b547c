package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"consulvote/app/portal"
	"consulvote/app/service"
)

// testAgents: service.Agents' accounts and sessions. A name is one
// agent's, a role one of the known ones; a session finds its agent until
// it is deleted.
func testAgents(t *testing.T, st Store) {
	var id int64
	update(t, st, func(tx service.Tx) (err error) {
		id, err = tx.InsertAgent(service.Agent{Name: "paul", Role: "admin", PasswordHash: "$argon2id$p", CreatedAt: t0}, nil)
		return err
	})
	for _, a := range []service.Agent{{Name: "paul", Role: "agent"}, {Name: "eve", Role: "root"}} {
		err := st.Update(context.Background(), func(tx service.Tx) error {
			_, err := tx.InsertAgent(service.Agent{Name: a.Name, Role: a.Role, PasswordHash: "x", CreatedAt: t0}, nil)
			return err
		})
		if err == nil {
			t.Errorf("agent %s with role %s stored (a second paul, or a role that does not exist)", a.Name, a.Role)
		}
	}
	update(t, st, func(tx service.Tx) error {
		a, err := tx.AgentByName("paul")
		if err != nil || a.ID != id || a.Role != "admin" || a.PasswordHash != "$argon2id$p" || !a.CreatedAt.Equal(t0) {
			t.Errorf("AgentByName = %+v, %v", a, err)
		}
		_, err = tx.AgentByName("nobody")
		wantNotFound(t, "AgentByName of an unknown name", err)
		if err := tx.SetAgentEmail(id, "paul@example.org"); err != nil {
			return err
		}
		if a, err := tx.AgentByName("paul"); err != nil || a.Email != "paul@example.org" {
			t.Errorf("after SetAgentEmail: %q, %v", a.Email, err)
		}
		return nil
	})
	update(t, st, func(tx service.Tx) error {
		if err := tx.InsertAgentSession(service.AgentSessionRow{TokenHash: []byte("s"), AgentID: id, CreatedAt: t0,
			ExpiresAt: t0.Add(time.Hour)}); err != nil {
			return err
		}
		a, expires, err := tx.AgentBySession([]byte("s"))
		if err != nil || a.ID != id || a.Name != "paul" || a.Role != "admin" || !expires.Equal(t0.Add(time.Hour)) {
			t.Errorf("AgentBySession = %+v, %v, %v", a, expires, err)
		}
		if err := tx.DeleteAgentSession([]byte("s")); err != nil {
			return err
		}
		_, _, err = tx.AgentBySession([]byte("s"))
		wantNotFound(t, "AgentBySession after DeleteAgentSession", err)
		return nil
	})
}

// testSecondFactorReset: the recovery codes stored with the agent serve
// once each; a reset gives a new secret and new codes, and nothing the
// old ones allowed stays (the last step, the old codes, the agent's
// sessions), while another agent keeps its own.
func testSecondFactorReset(t *testing.T, st Store) {
	var paul, rita int64
	update(t, st, func(tx service.Tx) (err error) {
		if paul, err = tx.InsertAgent(service.Agent{Name: "paul", Role: "admin", PasswordHash: "x", CreatedAt: t0},
			[][]byte{[]byte("p1")}); err != nil {
			return err
		}
		if rita, err = tx.InsertAgent(service.Agent{Name: "rita", Role: "agent", PasswordHash: "x", CreatedAt: t0,
			TOTPSecret: []byte("old")}, [][]byte{[]byte("r1"), []byte("r2"), []byte("r3")}); err != nil {
			return err
		}
		for who, tok := range map[int64][]string{rita: {"rita1", "rita2"}, paul: {"paul1"}} {
			for _, s := range tok {
				if err := tx.InsertAgentSession(service.AgentSessionRow{TokenHash: []byte(s), AgentID: who, CreatedAt: t0,
					ExpiresAt: t0.Add(time.Hour)}); err != nil {
					return err
				}
			}
		}
		if ok, err := tx.TakeRecoveryCode(rita, []byte("r3")); !ok || err != nil {
			return fmt.Errorf("TakeRecoveryCode of a stored code = %v, %v", ok, err)
		}
		if ok, err := tx.TakeRecoveryCode(rita, []byte("r3")); ok || err != nil {
			return fmt.Errorf("TakeRecoveryCode twice = %v, %v", ok, err)
		}
		_, err = tx.UseTOTPStep(rita, 100)
		return err
	})
	update(t, st, func(tx service.Tx) error {
		n, err := tx.ResetSecondFactor(rita, []byte("new"), [][]byte{[]byte("n1")})
		if err != nil || n != 2 {
			t.Errorf("ResetSecondFactor = %d sessions, %v; want 2", n, err)
		}
		_, err = tx.ResetSecondFactor(rita+paul+100, []byte("x"), nil)
		wantNotFound(t, "ResetSecondFactor of an unknown agent", err)
		return nil
	})
	update(t, st, func(tx service.Tx) error {
		if a, err := tx.AgentByName("rita"); err != nil || string(a.TOTPSecret) != "new" {
			t.Errorf("after the reset: secret %q, %v", a.TOTPSecret, err)
		}
		for code, want := range map[string]bool{"r1": false, "r2": false, "n1": true} {
			if ok, err := tx.TakeRecoveryCode(rita, []byte(code)); ok != want || err != nil {
				t.Errorf("after the reset, recovery code %s taken = %v (%v), want %v", code, ok, err, want)
			}
		}
		for _, s := range []string{"rita1", "rita2"} {
			_, _, err := tx.AgentBySession([]byte(s))
			wantNotFound(t, "a session after the reset", err)
		}
		if ok, err := tx.UseTOTPStep(rita, 50); !ok || err != nil {
			t.Errorf("the new secret's first step refused after the reset: %v", err)
		}
		if a, _, err := tx.AgentBySession([]byte("paul1")); err != nil || a.ID != paul {
			t.Errorf("another agent's session: %+v, %v", a, err)
		}
		if ok, err := tx.TakeRecoveryCode(paul, []byte("p1")); !ok || err != nil {
			t.Errorf("another agent's recovery code: %v, %v", ok, err)
		}
		return nil
	})
}

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
			id, err := tx.InsertAgent(service.Agent{Name: name, Role: "agent", PasswordHash: "x", CreatedAt: t0, Scope: s}, nil)
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
