package portal

import "testing"

func TestScope(t *testing.T) {
	for _, s := range []Scope{{Central: true}, {Circonscriptions: []string{"Allemagne"}}, {Circonscriptions: []string{"Allemagne", "Autriche"}}, {}} {
		if got := ParseScope(s.String()); got.String() != s.String() || got.Central != s.Central {
			t.Errorf("%+v stored as %q reads %+v", s, s.String(), got)
		}
	}
	de := Scope{Circonscriptions: []string{"Allemagne", "Autriche"}}
	if !de.Sees(" allemagne") || !de.Sees("Autriche") || de.Sees("Belgique") || de.Sees("") {
		t.Error("a circonscription's agent sees wrongly")
	}
	if (Scope{}).Sees("Allemagne") || (Scope{}).Sees("") {
		t.Error("no scope sees a voter")
	}
	if !(Scope{Central: true}).Sees("Belgique") {
		t.Error("the central office does not see a voter")
	}
	if n := (Scope{Circonscriptions: []string{" Allemagne", "allemagne", "Autriche"}}).Normalize(); len(n.Circonscriptions) != 2 || n.Circonscriptions[0] != "Allemagne" {
		t.Errorf("normalized: %v", n.Circonscriptions)
	}
	for _, bad := range []Scope{{}, {Central: true, Circonscriptions: []string{"X"}}, {Circonscriptions: []string{"*"}}, {Circonscriptions: []string{""}}, {Circonscriptions: []string{"a\nb"}}} {
		if bad.Validate() == nil {
			t.Errorf("%+v passes", bad)
		}
	}
}
