package service

import (
	"errors"
	"strings"

	"consulvote/app/portal"
)

// An agent sees and acts on the voters of its circonscriptions only (the
// central office: all). The service decides it here, on every office
// call: a voter outside the scope is ErrNotFound, as a voter that does
// not exist, so that the answer tells an agent of another
// circonscription nothing.

// scopedVoter reads the voter id for the agent a.
func scopedVoter(tx Voters, a Agent, id int64) (Voter, error) {
	v, err := tx.VoterByID(id)
	if err == nil && !a.Scope.Sees(v.Circonscription) {
		return Voter{}, ErrNotFound
	}
	return v, err
}

// seesVoter reports whether a sees the voter id; a row about no voter
// (id 0: an import, a login) is the central office's.
func seesVoter(tx Voters, a Agent, id int64) (bool, error) {
	if a.Scope.Central {
		return true, nil
	}
	if id == 0 {
		return false, nil
	}
	_, err := scopedVoter(tx, a, id)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// central refuses an agent outside the central office: the roll and the
// first credentials cover every circonscription.
func central(a Agent) error {
	if !a.Scope.Central {
		return portal.ErrForbidden
	}
	return nil
}

// seesMessage reports whether a sees the voter of the failed message id
// (one the outbox screen lists).
func seesMessage(tx scopedOutbox, a Agent, id int64) (bool, error) {
	if a.Scope.Central {
		return true, nil
	}
	m, err := oneMessage(tx, MessageFilter{ID: id, State: "failed"})
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return seesVoter(tx, a, m.VoterID)
}

// scopeFact is a scope for the audit log.
func scopeFact(s portal.Scope) string {
	if s.Central {
		return "central"
	}
	return strings.Join(s.Circonscriptions, ", ")
}
