package portal

import (
	"errors"
	"fmt"
	"strings"
	"unicode"
)

// Scope is which voters an agent sees and acts on: those of its
// circonscriptions, or every voter for the central office. It is
// explicit: an agent given neither sees no voter, never all of them.
type Scope struct {
	Central          bool     `json:"central,omitempty"`
	Circonscriptions []string `json:"circonscriptions,omitempty"`
}

// centralMark is the central office's scope as stored; no circonscription
// is named "*".
const centralMark = "*"

// Sees reports whether a voter of circonscription is in the scope. Names
// compare without case, as agents type them and the roll spells them.
func (s Scope) Sees(circonscription string) bool {
	if s.Central {
		return true
	}
	circonscription = strings.TrimSpace(circonscription)
	for _, c := range s.Circonscriptions {
		if strings.EqualFold(c, circonscription) {
			return true
		}
	}
	return false
}

// String is the scope as stored: "*" for the central office, else its
// circonscriptions one per line ("" sees nothing).
func (s Scope) String() string {
	if s.Central {
		return centralMark
	}
	return strings.Join(s.Circonscriptions, "\n")
}

// ParseScope reads a scope as String writes it.
func ParseScope(stored string) Scope {
	switch stored {
	case centralMark:
		return Scope{Central: true}
	case "":
		return Scope{}
	}
	return Scope{Circonscriptions: strings.Split(stored, "\n")}
}

// Normalize trims the circonscriptions and drops repeated ones.
func (s Scope) Normalize() Scope {
	var out []string
	for _, c := range s.Circonscriptions {
		c = strings.TrimSpace(c)
		if !(Scope{Circonscriptions: out}).Sees(c) {
			out = append(out, c)
		}
	}
	s.Circonscriptions = out
	return s
}

// Validate checks a normalized scope: central, or one or more
// circonscriptions as the roll writes them (at most 100 characters).
func (s Scope) Validate() error {
	switch {
	case s.Central && len(s.Circonscriptions) > 0:
		return errors.New("scope: central or circonscriptions, not both")
	case !s.Central && len(s.Circonscriptions) == 0:
		return errors.New("scope: one circonscription at least, or central (the central office sees every voter)")
	}
	for _, c := range s.Circonscriptions {
		if c == "" || c == centralMark || len(c) > 100 || strings.ContainsFunc(c, unicode.IsControl) {
			return fmt.Errorf("circonscription %q: 1 to 100 characters, as in the roll", c)
		}
	}
	return nil
}
