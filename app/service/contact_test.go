package service_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"consulvote/app/portal"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
	"consulvote/app/sqlstore"
)

const agentPassword = "correct horse battery"

// agent adds an agent account (an admin with its second factor) and
// returns a session token for it.
func (e *env) agent(name string, role portal.Role) string {
	e.t.Helper()
	enr, err := e.svc.Operator.AddAgent(e.ctx, name, role, agentPassword, role == portal.RoleAdmin, portal.Scope{Central: true})
	if err != nil {
		e.t.Fatal(err)
	}
	if enr.Secret != "" {
		agentSecrets.Store(agentKey{e.svc, name}, enr.Secret)
	}
	return e.login(name)
}

// agentSecrets holds the test agents' TOTP secrets, and lastSteps the
// step of the code each used last: a code serves once.
var agentSecrets, lastSteps sync.Map

type agentKey struct {
	svc  *service.Service
	name string
}

// login opens a new session for an agent, with its second factor's code
// when it has one: the current step's, or the next one's (one step of
// drift is allowed) when the current one was used.
func (e *env) login(name string) string {
	e.t.Helper()
	return e.session(name).Token
}

// session is login's whole answer.
func (e *env) session(name string) portal.AgentSession {
	e.t.Helper()
	code := ""
	k := agentKey{e.svc, name}
	if secret, ok := agentSecrets.Load(k); ok {
		at := e.clock.Now().Truncate(30 * time.Second)
		if last, ok := lastSteps.Load(k); ok && !at.After(last.(time.Time)) {
			at = last.(time.Time).Add(30 * time.Second)
		}
		lastSteps.Store(k, at)
		code = servicetest.TOTP(e.t, secret.(string), at)
	}
	s, err := e.svc.Office.AgentLogin(e.ctx, name, agentPassword, code)
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

func (e *env) voter(numic string) service.Voter {
	e.t.Helper()
	var v service.Voter
	if err := e.db.View(e.ctx, func(tx service.Tx) (err error) { v, err = tx.VoterByNUMIC(numic); return err }); err != nil {
		e.t.Fatal(err)
	}
	return v
}

// audited returns the audit rows with that action, oldest first, their
// details read back as facts.
func (e *env) audited(action string) []auditRow {
	e.t.Helper()
	rows, err := e.raw.QueryContext(e.ctx, `SELECT actor, COALESCE(voter_id, 0), detail FROM audit WHERE action = ? ORDER BY id`, action)
	if err != nil {
		e.t.Fatal(err)
	}
	defer rows.Close()
	var out []auditRow
	for rows.Next() {
		var r auditRow
		if err := rows.Scan(&r.actor, &r.voter, &r.detail); err != nil {
			e.t.Fatal(err)
		}
		json.Unmarshal([]byte(r.detail), &r.facts)
		out = append(out, r)
	}
	return out
}

type auditRow struct {
	actor  string
	voter  int64
	detail string
	facts  map[string]string
}

func (e *env) propose(token string, voterID int64, email, mobile string) (portal.ContactChange, error) {
	return e.svc.Office.ProposeContactChange(e.ctx, token, portal.ContactChangeRequest{VoterID: voterID, Email: email,
		Mobile: mobile, Document: portal.DocPassport, Reason: "appel de l'électrice, passeport présenté au guichet"})
}

func wantCode(t *testing.T, what string, err error, code portal.Code) {
	t.Helper()
	if got := portal.ErrorCode(err); got != code {
		t.Errorf("%s: %v (code %q), want code %q", what, err, got, code)
	}
}

func wantField(t *testing.T, what string, err error, f portal.FieldError) {
	t.Helper()
	for _, fe := range portal.FieldErrors(err) {
		if fe == f {
			return
		}
	}
	t.Errorf("%s: %v, want field error %v", what, err, f)
}

func TestContactChangeApproved(t *testing.T) {
	e := newEnv(t)
	bob, alice := e.agent("bob", portal.RoleAgent), e.agent("alice", portal.RoleAdmin)
	m := e.voter(marie.NUMIC)
	before := len(e.outbox())

	c, err := e.propose(bob, m.ID, " Marie.Nouvelle@Example.org ", "+33 7 00 00 00 01")
	if err != nil {
		t.Fatal(err)
	}
	if c.State != portal.ChangePending || c.NewEmail != "marie.nouvelle@example.org" || c.NewMobile != "+33700000001" ||
		c.OldEmail != marie.Email || c.OldMobile != marie.Mobile || c.ProposedBy != "bob" || c.NUMIC != marie.NUMIC ||
		!c.ExpiresAt.Equal(servicetest.Start.Add(e.cfg.ChangeTTL)) {
		t.Fatalf("proposal %+v", c)
	}
	// Nothing changes until approved: not the voter, not the outbox.
	if v := e.voter(marie.NUMIC); v.Email != marie.Email || v.Mobile != marie.Mobile || !v.EmailByDesk.IsZero() {
		t.Fatalf("a proposal changed the voter: %+v", v)
	}
	if n := len(e.outbox()); n != before {
		t.Fatalf("a proposal queued %d messages", n-before)
	}
	pending, err := e.svc.Office.PendingContactChanges(e.ctx, bob)
	if err != nil || len(pending) != 1 || pending[0].ID != c.ID || pending[0].VoterName != "DUPONT Marie Claire" {
		t.Fatalf("pending = %+v, %v", pending, err)
	}

	e.clock.Advance(10 * time.Minute)
	got, err := e.svc.Office.ApproveContactChange(e.ctx, alice, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.State != portal.ChangeApproved || got.DecidedBy != "alice" {
		t.Fatalf("approved: %+v", got)
	}
	v := e.voter(marie.NUMIC)
	if v.Email != "marie.nouvelle@example.org" || v.Mobile != "+33700000001" ||
		!v.EmailByDesk.Equal(servicetest.Start.Add(10*time.Minute)) || !v.MobileByDesk.Equal(v.EmailByDesk) {
		t.Fatalf("after approval: %+v", v)
	}
	if pending, _ := e.svc.Office.PendingContactChanges(e.ctx, bob); len(pending) != 0 {
		t.Errorf("still pending after approval: %+v", pending)
	}

	// Notices to the old and the new addresses, e-mail and SMS, without
	// a secret: no link, no credential.
	ms := e.outbox()[:len(e.outbox())-before]
	to := map[string]string{}
	for _, m := range ms {
		if m.Kind != "contact.changed" {
			t.Errorf("approval queued a %s", m.Kind)
		}
		text := string(m.Raw)
		if m.Channel == service.ChannelEmail {
			text, _ = mailParts(t, m.Raw)
		}
		to[m.To] = text
		for _, secret := range []string{"jeton", "http", marie.Password, marie.Identifier, "marie.nouvelle", "+33700000001", "0001"} {
			if strings.Contains(text, secret) {
				t.Errorf("notice to %s holds %q:\n%s", m.To, secret, text)
			}
		}
	}
	if len(to) != 4 {
		t.Fatalf("notices went to %v, want the old and new e-mail and mobile", to)
	}
	if !strings.Contains(to[marie.Email], "ne seront plus envoyés à cette adresse") ||
		!strings.Contains(to["marie.nouvelle@example.org"], "désormais celle enregistrée") ||
		!strings.Contains(to[marie.Email], "numéro de mobile enregistré pour le portail de vote a été remplacé") {
		t.Errorf("e-mail notices:\n%s\n---\n%s", to[marie.Email], to["marie.nouvelle@example.org"])
	}
	if !strings.Contains(to[marie.Mobile], "n'est plus celui enregistré") || !strings.Contains(to["+33700000001"], "désormais celui enregistré") {
		t.Errorf("SMS notices: %q / %q", to[marie.Mobile], to["+33700000001"])
	}

	// The audit log has each step with the agent, the reason, the
	// document and the approver.
	p := e.audited("contact.change.proposed")
	a := e.audited("contact.change.approved")
	if len(p) != 1 || p[0].actor != "agent:bob" || p[0].voter != m.ID || p[0].facts["document"] != "passport" ||
		p[0].facts["reason"] != "appel de l'électrice, passeport présenté au guichet" || p[0].facts["email_new"] != "marie.nouvelle@example.org" {
		t.Errorf("proposal audited as %+v", p)
	}
	if len(a) != 1 || a[0].actor != "agent:alice" || a[0].facts["proposer"] != "bob" || a[0].facts["reason"] == "" ||
		a[0].facts["email_old"] != marie.Email || a[0].facts["mobile_new"] != "+33700000001" {
		t.Errorf("approval audited as %+v", a)
	}
	f, err := e.svc.Office.VoterFile(e.ctx, bob, m.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(f.ContactChanges) != 1 || f.ContactChanges[0].State != portal.ChangeApproved {
		t.Errorf("voter file changes: %+v", f.ContactChanges)
	}
	if h := f.History[0]; h.Action != "contact.change.approved" || h.Params["proposer"] != "bob" || h.Actor != "agent:alice" {
		t.Errorf("newest history entry %+v", h)
	}
}

func TestContactChangeKillsPendingLink(t *testing.T) {
	e := newEnv(t)
	bob, alice := e.agent("bob", portal.RoleAgent), e.agent("alice", portal.RoleAdmin)
	link := e.requestLink()
	m := e.voter(marie.NUMIC)
	// A mobile-only change leaves the link alone.
	c, err := e.propose(bob, m.ID, "", "+33700000001")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Office.ApproveContactChange(e.ctx, alice, c.ID); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.svc.Portal.InspectLink(e.ctx, link); st.State != portal.LinkValid {
		t.Fatalf("a mobile change left the link %s", st.State)
	}
	c, err = e.propose(bob, m.ID, "marie.nouvelle@example.org", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Office.ApproveContactChange(e.ctx, alice, c.ID); err != nil {
		t.Fatal(err)
	}
	if st, _ := e.svc.Portal.InspectLink(e.ctx, link); st.State != portal.LinkRevoked {
		t.Fatalf("the link sent to the old address is %s after the e-mail changed, want revoked", st.State)
	}
	if _, err := e.confirm(link, marie.Password); !errors.Is(err, portal.ErrLinkRevoked) {
		t.Fatalf("confirm with the old link: %v", err)
	}
	notice, _ := mailParts(t, e.outbox()[0].Raw)
	if !strings.Contains(notice, "Le lien de renouvellement de l'identifiant envoyé avant cette modification ne fonctionne plus") {
		t.Errorf("the notice does not say the link died:\n%s", notice)
	}
	// The voter's next request goes to the new address.
	if err := e.request(marie.NUMIC, "marie.nouvelle@example.org"); err != nil {
		t.Fatal(err)
	}
	if got := e.outbox()[0]; got.Kind != "identifier.link" || got.To != "marie.nouvelle@example.org" {
		t.Fatalf("next link went to %s (%s)", got.To, got.Kind)
	}
}

func TestContactChangeEnglishNotice(t *testing.T) {
	e := newEnv(t)
	bob, alice := e.agent("bob", portal.RoleAgent), e.agent("alice", portal.RoleAdmin)
	john := e.voter(service.DemoRoll[1].NUMIC) // lang en
	c, err := e.propose(bob, john.ID, "john.new@example.org", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Office.ApproveContactChange(e.ctx, alice, c.ID); err != nil {
		t.Fatal(err)
	}
	ms := e.outbox()
	if len(ms) != 2 {
		t.Fatalf("%d notices for an e-mail change, want 2 (no SMS)", len(ms))
	}
	for _, m := range ms {
		text, _ := mailParts(t, m.Raw)
		if !strings.Contains(m.Subject, "Your contact details have been changed") || !strings.Contains(text, "If you did not ask for it, contact the assistance cell") {
			t.Errorf("English notice to %s: %s\n%s", m.To, m.Subject, text)
		}
	}
}

func TestContactChangeRefusals(t *testing.T) {
	e := newEnv(t)
	bob, carl, alice, diane := e.agent("bob", portal.RoleAgent), e.agent("carl", portal.RoleAgent),
		e.agent("alice", portal.RoleAdmin), e.agent("diane", portal.RoleAdmin)
	m, john := e.voter(marie.NUMIC), e.voter(service.DemoRoll[1].NUMIC)
	req := func(email, mobile string, doc portal.Document, reason string) portal.ContactChangeRequest {
		return portal.ContactChangeRequest{VoterID: m.ID, Email: email, Mobile: mobile, Document: doc, Reason: reason}
	}
	for _, tc := range []struct {
		name string
		req  portal.ContactChangeRequest
		want portal.FieldError
	}{
		{"mobile not E.164", req("", "06 12 34 56 78", portal.DocPassport, "r"), portal.FieldError{Field: portal.FieldMobile, Reason: portal.ReasonFormat}},
		{"mobile with letters", req("", "+33 6 CALL ME", portal.DocPassport, "r"), portal.FieldError{Field: portal.FieldMobile, Reason: portal.ReasonFormat}},
		{"bad e-mail", req("marie@", "", portal.DocPassport, "r"), portal.FieldError{Field: portal.FieldEmail, Reason: portal.ReasonFormat}},
		{"nothing to change", req(" ", "", portal.DocPassport, "r"), portal.FieldError{Field: portal.FieldEmail, Reason: portal.ReasonRequired}},
		{"no document", req("a@example.org", "", "", "r"), portal.FieldError{Field: portal.FieldDocument, Reason: portal.ReasonRequired}},
		{"unknown document", req("a@example.org", "", "library_card", "r"), portal.FieldError{Field: portal.FieldDocument, Reason: portal.ReasonFormat}},
		{"no reason", req("a@example.org", "", portal.DocIDCard, "  "), portal.FieldError{Field: portal.FieldReason, Reason: portal.ReasonRequired}},
		{"e-mail of another voter", req(strings.ToUpper(john.Email), "", portal.DocIDCard, "r"), portal.FieldError{Field: portal.FieldEmail, Reason: portal.ReasonTaken}},
		{"the e-mail on file", req(marie.Email, "", portal.DocIDCard, "r"), portal.FieldError{Field: portal.FieldEmail, Reason: portal.ReasonUnchanged}},
		{"the mobile on file", req("", "0033612345678", portal.DocIDCard, "r"), portal.FieldError{Field: portal.FieldMobile, Reason: portal.ReasonUnchanged}},
	} {
		_, err := e.svc.Office.ProposeContactChange(e.ctx, bob, tc.req)
		wantCode(t, tc.name, err, portal.CodeInvalidInput)
		wantField(t, tc.name, err, tc.want)
	}
	if n := e.count("contact_changes", "1"); n != 0 {
		t.Fatalf("%d proposals stored from bad input", n)
	}
	if r := e.audited("contact.change.refused"); len(r) != 1 || r[0].facts["why"] != "email_taken" || r[0].actor != "agent:bob" {
		t.Errorf("refusals audited: %+v", r)
	}
	if _, err := e.svc.Office.ProposeContactChange(e.ctx, "not-a-session", req("a@example.org", "", portal.DocPassport, "r")); !errors.Is(err, portal.ErrUnauthorized) {
		t.Errorf("proposal without a session: %v", err)
	}
	if _, err := e.propose(bob, 99999, "a@example.org", ""); !errors.Is(err, portal.ErrNotFound) {
		t.Errorf("proposal for no voter: %v", err)
	}

	// A locked voter: the desk unlocks first.
	for range e.cfg.MaxFailures {
		e.svc.Portal.Login(e.ctx, marie.Identifier, "wrong")
	}
	_, err := e.propose(bob, m.ID, "a@example.org", "")
	var pe *portal.Error
	if !errors.As(err, &pe) || pe.Code != portal.CodeLocked || pe.Until.IsZero() {
		t.Fatalf("proposal on a locked voter: %v", err)
	}
	if err := e.svc.Office.UnlockVoter(e.ctx, bob, m.ID, "au téléphone"); err != nil {
		t.Fatal(err)
	}

	c, err := e.propose(bob, m.ID, "a@example.org", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.propose(carl, m.ID, "b@example.org", "")
	wantCode(t, "a second proposal while one is pending", err, portal.CodeChangePending)
	_, err = e.svc.Office.ApproveContactChange(e.ctx, bob, c.ID)
	wantCode(t, "approval by the proposer", err, portal.CodeSelfApproval)
	_, err = e.svc.Office.ApproveContactChange(e.ctx, carl, c.ID)
	wantCode(t, "approval by an agent when an admin must approve", err, portal.CodeForbidden)
	_, err = e.svc.Office.ApproveContactChange(e.ctx, alice, 12345)
	wantCode(t, "approval of no proposal", err, portal.CodeNotFound)
	if v := e.voter(marie.NUMIC); v.Email != marie.Email {
		t.Fatalf("refused approvals changed the e-mail to %s", v.Email)
	}
	refused := e.audited("contact.change.approval_refused")
	if len(refused) != 2 || refused[0].facts["why"] != "self" || refused[1].facts["why"] != "not_admin" || refused[1].actor != "agent:carl" {
		t.Errorf("refused approvals audited as %+v", refused)
	}

	// Locked between proposal and approval: refused too.
	for range e.cfg.MaxFailures {
		e.svc.Portal.Login(e.ctx, marie.Identifier, "wrong")
	}
	_, err = e.svc.Office.ApproveContactChange(e.ctx, alice, c.ID)
	wantCode(t, "approval on a voter locked since the proposal", err, portal.CodeLocked)
	e.svc.Office.UnlockVoter(e.ctx, bob, m.ID, "au téléphone")

	// The e-mail became another voter's since the proposal.
	e.exec(`UPDATE voters SET email = 'a@example.org' WHERE id = ?`, john.ID)
	_, err = e.svc.Office.ApproveContactChange(e.ctx, alice, c.ID)
	wantField(t, "approval of an e-mail taken since", err, portal.FieldError{Field: portal.FieldEmail, Reason: portal.ReasonTaken})
	e.exec(`UPDATE voters SET email = ? WHERE id = ?`, john.Email, john.ID)

	// What is on file changed since the proposal (a roll import, say).
	e.exec(`UPDATE voters SET mobile = '+33799999999' WHERE id = ?`, m.ID)
	_, err = e.svc.Office.ApproveContactChange(e.ctx, alice, c.ID)
	wantCode(t, "approval of a stale proposal", err, portal.CodeContactStale)
	e.exec(`UPDATE voters SET mobile = ? WHERE id = ?`, marie.Mobile, m.ID)

	if _, err := e.svc.Office.ApproveContactChange(e.ctx, alice, c.ID); err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Office.ApproveContactChange(e.ctx, diane, c.ID)
	wantCode(t, "a second approval", err, portal.CodeChangeDecided)
	_, err = e.svc.Office.RejectContactChange(e.ctx, diane, c.ID, "trop tard")
	wantCode(t, "a rejection after approval", err, portal.CodeChangeDecided)
	if n := e.count("audit", "action = 'contact.change.approved'"); n != 1 {
		t.Errorf("%d approvals audited, want 1", n)
	}

	// Expiry: at ChangeTTL exactly, no one can approve.
	c, err = e.propose(bob, m.ID, "c@example.org", "")
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(e.cfg.ChangeTTL)
	bob, carl, alice = e.login("bob"), e.login("carl"), e.login("alice")
	_, err = e.svc.Office.ApproveContactChange(e.ctx, alice, c.ID)
	wantCode(t, "approval at the expiry", err, portal.CodeChangeExpired)
	if ex := e.audited("contact.change.expired"); len(ex) != 1 || ex[0].actor != "system" || ex[0].facts["proposer"] != "bob" {
		t.Errorf("expiry audited as %+v", ex)
	}
	if v := e.voter(marie.NUMIC); v.Email != "a@example.org" {
		t.Errorf("e-mail %s after an expired proposal", v.Email)
	}
	// Expired, it no longer blocks a new proposal.
	c, err = e.propose(carl, m.ID, "d@example.org", "")
	if err != nil {
		t.Fatalf("proposal after an expired one: %v", err)
	}
	// Withdrawn by its proposer; rejected by another agent.
	_, err = e.svc.Office.RejectContactChange(e.ctx, carl, c.ID, "")
	wantField(t, "a rejection without a reason", err, portal.FieldError{Field: portal.FieldReason, Reason: portal.ReasonRequired})
	w, err := e.svc.Office.RejectContactChange(e.ctx, carl, c.ID, "erreur de saisie")
	if err != nil || w.State != portal.ChangeWithdrawn || w.DecisionReason != "erreur de saisie" {
		t.Fatalf("withdrawal: %+v, %v", w, err)
	}
	c, _ = e.propose(carl, m.ID, "d@example.org", "")
	r, err := e.svc.Office.RejectContactChange(e.ctx, bob, c.ID, "pièce d'identité douteuse")
	if err != nil || r.State != portal.ChangeRejected || r.DecidedBy != "bob" {
		t.Fatalf("rejection: %+v, %v", r, err)
	}
	_, err = e.svc.Office.ApproveContactChange(e.ctx, alice, c.ID)
	wantCode(t, "approval after a rejection", err, portal.CodeChangeDecided)
	if rj := e.audited("contact.change.rejected"); len(rj) != 1 || rj[0].facts["reason"] != "pièce d'identité douteuse" || rj[0].actor != "agent:bob" {
		t.Errorf("rejection audited as %+v", rj)
	}
	if v := e.voter(marie.NUMIC); v.Email != "a@example.org" {
		t.Errorf("e-mail %s after withdrawn and rejected proposals", v.Email)
	}
}

func TestContactApprovalByAnyAgent(t *testing.T) {
	e := newEnvCfg(t, func(c *service.Config) { c.ApprovalRole = portal.RoleAgent })
	bob, carl, alice := e.agent("bob", portal.RoleAgent), e.agent("carl", portal.RoleAgent), e.agent("alice", portal.RoleAdmin)
	m := e.voter(marie.NUMIC)
	c, err := e.propose(alice, m.ID, "a@example.org", "")
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.Office.ApproveContactChange(e.ctx, alice, c.ID)
	wantCode(t, "approval by the proposer, an admin", err, portal.CodeSelfApproval)
	if _, err := e.svc.Office.ApproveContactChange(e.ctx, bob, c.ID); err != nil {
		t.Fatalf("approval by another agent: %v", err)
	}
	c, _ = e.propose(bob, m.ID, "b@example.org", "")
	if _, err := e.svc.Office.ApproveContactChange(e.ctx, carl, c.ID); err != nil {
		t.Fatalf("approval of an agent's proposal by an agent: %v", err)
	}
	if v := e.voter(marie.NUMIC); v.Email != "b@example.org" {
		t.Fatalf("e-mail %s", v.Email)
	}
}

// TestSessionSaysWhatTheAgentMay: the session an agent gets at login says
// what it may do under the service's settings, and each permission is
// what the service then allows: an approval by a plain agent is offered
// and accepted only where any agent approves.
func TestSessionSaysWhatTheAgentMay(t *testing.T) {
	for _, approval := range []portal.Role{portal.RoleAdmin, portal.RoleAgent} {
		t.Run(string(approval), func(t *testing.T) {
			e := newEnvCfg(t, func(c *service.Config) { c.ApprovalRole = approval })
			bob := e.agent("bob", portal.RoleAgent)
			e.agent("carl", portal.RoleAgent)
			e.agent("alice", portal.RoleAdmin)
			m, j := e.voter(marie.NUMIC), e.voter(service.DemoRoll[1].NUMIC)
			for _, tc := range []struct {
				name string
				want portal.Permissions
			}{
				{"carl", portal.Permissions{ApproveContactChanges: approval == portal.RoleAgent}},
				{"alice", portal.Permissions{ApproveContactChanges: true, ManageRoll: true, Audit: true}},
			} {
				s := e.session(tc.name)
				if s.May != tc.want {
					t.Errorf("%s may %+v, want %+v", tc.name, s.May, tc.want)
				}
				c, err := e.propose(bob, m.ID, tc.name+"@example.org", "")
				if err != nil {
					t.Fatal(err)
				}
				_, err = e.svc.Office.ApproveContactChange(e.ctx, s.Token, c.ID)
				if allowed := err == nil; allowed != s.May.ApproveContactChanges {
					t.Errorf("%s: approval answered %v, yet the session says may approve: %v", tc.name, err, s.May.ApproveContactChanges)
				}
				if err != nil {
					wantCode(t, tc.name+" approving", err, portal.CodeForbidden)
					if _, err := e.svc.Office.RejectContactChange(e.ctx, s.Token, c.ID, "refusée au guichet"); err != nil {
						t.Errorf("%s may reject what it may not approve: %v", tc.name, err)
					}
				}
				_, err = e.svc.Office.ImportRollAs(e.ctx, s.Token, strings.NewReader("NUMIC;nom;prénoms;adresse électronique;mobile;circonscription\n"), nil)
				if allowed := err == nil; allowed != s.May.ManageRoll {
					t.Errorf("%s: roll import answered %v, yet the session says %v", tc.name, err, s.May.ManageRoll)
				}
				_, err = e.svc.Office.AuditEntries(e.ctx, s.Token, portal.AuditFilter{NUMIC: j.NUMIC})
				if allowed := err == nil; allowed != s.May.Audit {
					t.Errorf("%s: audit answered %v, yet the session says %v", tc.name, err, s.May.Audit)
				}
			}
		})
	}
}

// TestContactApprovalConcurrent: approving is a single-use rule. Many
// approvals and rejections at once, by several agents, apply one decision:
// one change, one set of notices, one audit row.
func TestContactApprovalConcurrent(t *testing.T) {
	e := newEnv(t)
	bob := e.agent("bob", portal.RoleAgent)
	var admins []string
	for i := range 4 {
		admins = append(admins, e.agent(fmt.Sprintf("admin%d", i), portal.RoleAdmin))
	}
	m := e.voter(marie.NUMIC)
	for round := range 3 {
		c, err := e.propose(bob, m.ID, fmt.Sprintf("round%d@example.org", round), fmt.Sprintf("+3370000000%d", round))
		if err != nil {
			t.Fatal(err)
		}
		before := len(e.outbox())
		const n = 48
		var wg sync.WaitGroup
		start := make(chan struct{})
		errs := make(chan error, n)
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				tok := admins[i%len(admins)]
				var err error
				if round == 2 && i%3 == 0 { // the last round mixes in rejections
					_, err = e.svc.Office.RejectContactChange(e.ctx, tok, c.ID, "non")
				} else {
					_, err = e.svc.Office.ApproveContactChange(e.ctx, tok, c.ID)
				}
				errs <- err
			}()
		}
		close(start)
		wg.Wait()
		close(errs)
		won := 0
		for err := range errs {
			switch {
			case err == nil:
				won++
			case !errors.Is(err, portal.ErrChangeDecided):
				t.Errorf("round %d: %v", round, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d decisions succeeded, want 1", round, won)
		}
		var state string
		e.raw.QueryRow(`SELECT state FROM contact_changes WHERE id = ?`, c.ID).Scan(&state)
		notices := len(e.outbox()) - before
		switch state {
		case service.ChangeApproved:
			if notices != 4 {
				t.Errorf("round %d: %d notices for one approval, want 4", round, notices)
			}
			if v := e.voter(marie.NUMIC); v.Email != fmt.Sprintf("round%d@example.org", round) {
				t.Errorf("round %d: e-mail %s", round, v.Email)
			}
		case service.ChangeRejected:
			if notices != 0 {
				t.Errorf("round %d: %d notices for a rejection", round, notices)
			}
		default:
			t.Fatalf("round %d: state %s", round, state)
		}
	}
	decided := e.count("audit", "action IN ('contact.change.approved', 'contact.change.rejected')")
	if decided != 3 {
		t.Errorf("%d decisions audited over 3 rounds, want 3", decided)
	}
}

// TestContactApprovalsOntoOneAddress: approvals moving different voters
// onto one new address at once, on SQLite (PostgreSQL: app/sqlstore).
func TestContactApprovalsOntoOneAddress(t *testing.T) {
	db, err := sqlstore.Open(t.Context(), filepath.Join(t.TempDir(), "portal.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	servicetest.SameAddressApprovals(t, db, 24, 6)
}

// TestContactProposalsConcurrent: one pending proposal per voter, however
// many agents propose at once.
func TestContactProposalsConcurrent(t *testing.T) {
	e := newEnv(t)
	tokens := []string{e.agent("bob", portal.RoleAgent), e.agent("carl", portal.RoleAgent)}
	m := e.voter(marie.NUMIC)
	var wg sync.WaitGroup
	var mu sync.Mutex
	won, pending := 0, 0
	for i := range 32 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := e.propose(tokens[i%2], m.ID, fmt.Sprintf("p%d@example.org", i), "")
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				won++
			case errors.Is(err, portal.ErrChangePending):
				pending++
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if won != 1 || pending != 31 {
		t.Fatalf("%d proposals stored, %d refused as pending; want 1 and 31", won, pending)
	}
}

func TestRollImportKeepsDeskChange(t *testing.T) {
	e := newEnv(t)
	bob, alice := e.agent("bob", portal.RoleAgent), e.agent("alice", portal.RoleAdmin)
	m := e.voter(marie.NUMIC)
	c, err := e.propose(bob, m.ID, "marie.nouvelle@example.org", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Office.ApproveContactChange(e.ctx, alice, c.ID); err != nil {
		t.Fatal(err)
	}
	line := func(email, mobile, last string) string {
		return rollHeader + fmt.Sprintf("%s;%s;%s;%s;%s;%s\n", marie.NUMIC, last, marie.FirstNames, email, mobile, marie.Circonscription)
	}
	// The roll still has the old address (and a new mobile, a new name).
	rep := e.importRoll(line(marie.Email, "+33711111111", "DUPONT-MARTIN"))
	if len(rep.Differences) != 1 {
		t.Fatalf("differences %+v, want the e-mail", rep.Differences)
	}
	d := rep.Differences[0]
	if d.Line != 2 || d.NUMIC != marie.NUMIC || d.Column != "adresse électronique" || d.Kept != "marie.nouvelle@example.org" ||
		d.Roll != marie.Email || !d.Since.Equal(servicetest.Start) {
		t.Errorf("difference %+v", d)
	}
	if rep.Updated != 1 || len(rep.Problems) != 0 {
		t.Errorf("report %+v", rep)
	}
	v := e.voter(marie.NUMIC)
	if v.Email != "marie.nouvelle@example.org" || v.Mobile != "+33711111111" || v.LastName != "DUPONT-MARTIN" {
		t.Fatalf("after the import: %+v; want the desk's e-mail kept, the roll's mobile and name", v)
	}
	var csv strings.Builder
	rep.ProblemsCSV(&csv)
	if !strings.Contains(csv.String(), "2;adresse électronique;NUMIC 00012345: differs from the value the desk changed on 2026-05-06 17:25 UTC: kept marie.nouvelle@example.org, the roll has marie.dupont@example.org\n") {
		t.Errorf("report CSV:\n%s", csv.String())
	}
	if k := e.audited("roll.difference_kept"); len(k) != 1 || k[0].voter != m.ID || k[0].facts["kept"] != "marie.nouvelle@example.org" || k[0].facts["roll"] != marie.Email {
		t.Errorf("difference audited as %+v", k)
	}
	// Again: reported again, nothing else changes.
	if rep := e.importRoll(line(marie.Email, "+33711111111", "DUPONT-MARTIN")); len(rep.Differences) != 1 || rep.Unchanged != 1 {
		t.Errorf("second import %+v", rep)
	}
	// The roll catches up: no difference, and later roll changes apply.
	if rep := e.importRoll(line("marie.nouvelle@example.org", "+33711111111", "DUPONT-MARTIN")); len(rep.Differences) != 0 {
		t.Errorf("import agreeing with the desk: %+v", rep.Differences)
	}
	e.importRoll(line("marie.autre@example.org", "+33711111111", "DUPONT-MARTIN"))
	if v := e.voter(marie.NUMIC); v.Email != "marie.autre@example.org" {
		t.Errorf("after the roll caught up, a later roll change did not apply: %s", v.Email)
	}
}

// TestDeskDefaults: docs/office.md states these defaults.
func TestDeskDefaults(t *testing.T) {
	d := service.DefaultConfig()
	if d.ChangeTTL != 48*time.Hour || d.DeskRenewals != 60 || d.ApprovalRole != portal.RoleAdmin {
		t.Errorf("proposal lifetime %v, renewals per agent %d, approver %q; docs/office.md says 48h, 60, admin",
			d.ChangeTTL, d.DeskRenewals, d.ApprovalRole)
	}
}
