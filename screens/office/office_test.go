package office

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2/test"

	"consulvote/app/service"
	"consulvote/app/service/servicetest"
	"consulvote/internal/testenv"
	"consulvote/resources"
)

func TestOfficeLoginAndRoles(t *testing.T) {
	h, _ := newOfficeHarness(t)
	h.ui.Open()
	l := screenAs[*officeLoginScreen](h)
	test.Type(l.name.Entry, "bob")
	h.Enter(l.password.Entry, "wrong")
	// The screen asks for an agent name, and so does its error.
	h.See("Nom d'agent, mot de passe ou code à usage unique incorrect.")
	h.NotSee("Identifiant ou mot de passe incorrect.")
	for range 4 {
		h.Enter(l.password.Entry, "wrong")
	}
	h.See("Trop d'essais incorrects depuis ce poste : par sécurité, réessayez à partir du")
	h.clock.Advance(time.Minute)
	h.ui.Home()
	home := h.agentLogin("bob")
	h.See("Connecté : bob (agent)")
	h.See("Administration centrale : électeurs de toutes les circonscriptions")
	if home.roll != nil || home.campaign != nil || home.auditB != nil {
		t.Fatal("an agent is offered admin actions")
	}
	h.Tap(home.logout)
	screenAs[firstPage](h)
	admin := h.agentLogin("alice")
	if admin.roll == nil || admin.campaign == nil || admin.auditB == nil {
		t.Fatal("the admin lacks admin actions")
	}
}

func TestVoterDeskScreen(t *testing.T) {
	t.Run("local", func(t *testing.T) { h, e := newOfficeHarness(t); testVoterDesk(t, h, e) })
	t.Run("remote", func(t *testing.T) { h, e := newRemoteOfficeHarness(t); testVoterDesk(t, h, e) })
}

func testVoterDesk(t *testing.T, h *harness, e *servicetest.Env) {
	for range 5 {
		e.Service.Portal.Login(context.Background(), marie.Identifier, "wrong")
	}
	home := h.agentLogin("bob")
	h.Tap(home.desk)
	d := screenAs[*deskScreen](h)
	h.Enter(d.query.Entry, "99999999")
	h.See("Aucun électeur ne correspond.")
	d.query.Entry.SetText("")
	h.Enter(d.query.Entry, marie.Email)
	if len(d.found) != 1 {
		t.Fatalf("%d voters found", len(d.found))
	}
	h.Tap(d.found[0])
	f := screenAs[*voterFileScreen](h)
	h.See("DUPONT Marie Claire")
	h.See("Compte bloqué jusqu'au")
	h.See("Identifiant délivré : oui — mot de passe délivré : oui")
	h.NotSee(marie.Identifier)
	h.NotSee(marie.Password)
	h.Tap(f.unlock) // no reason
	h.See("Saisissez le motif de l'action.")
	test.Type(f.reason.Entry, "appel téléphonique, identité vérifiée")
	h.Tap(f.unlock)
	h.See("Compte débloqué.")
	h.See("Compte non bloqué")
	h.See("Agent bob a débloqué le compte. Motif : appel téléphonique, identité vérifiée")
	h.NotSee("voter.unlocked")
	if _, err := e.Service.Portal.Login(context.Background(), marie.Identifier, marie.Password); err != nil {
		t.Fatalf("marie still locked: %v", err)
	}
}

func TestImportScreen(t *testing.T) {
	h, _ := newOfficeHarness(t)
	dir := t.TempDir()
	roll := filepath.Join(dir, "liste.csv")
	f, _ := os.Create(roll)
	bad, _ := servicetest.WriteRoll(f, 3*service.ImportBatch, 500)
	f.Close()
	home := h.agentLogin("alice")
	h.Tap(home.roll)
	s := screenAs[*importScreen](h)
	h.Tap(s.start)
	h.See("Choisissez le fichier de la liste électorale.")
	test.Type(s.file.Entry, roll)
	h.Tap(s.start)
	if s.bar.Value != 1 {
		t.Errorf("progress bar at %v after the import", s.bar.Value)
	}
	h.See("lignes/s")
	h.See("Terminé : 15000 lignes lues sur 15000 dans le fichier (après l'en-tête), 14970 ajoutées, 0 modifiées, 0 inchangées, 30 refusées.")
	h.See("Ligne " + strconv.Itoa(bad[0].Line) + ", NUMIC : NUMIC invalide")
	report := filepath.Join(dir, "refus.csv")
	// The save dialog makes the file with the umask's mode before
	// saveReport writes NUMICs, e-mails and mobiles into it.
	os.WriteFile(report, nil, 0o644)
	os.Chmod(report, 0o644)
	s.saveReport(report)
	if st, err := os.Stat(report); testenv.FileModes && (err != nil || st.Mode().Perm() != 0o600) {
		t.Errorf("saved report: %v %v, want mode 0600", st, err)
	}
	b, _ := os.ReadFile(report)
	if lines := strings.Count(string(b), "\n"); lines != 31 {
		t.Errorf("report has %d lines, want 31", lines)
	}
	// Again: nothing changes.
	h.Tap(s.start)
	h.See("0 ajoutées, 0 modifiées, 14970 inchangées")
}

// TestLeftImportScreenReleased: once the agent has left the import's
// page, by Back or Home, its report (the refused lines: thousands on a
// large roll) can be collected, though Fyne keeps the page's widgets,
// and through them the screen, for a minute or more.
func TestLeftImportScreenReleased(t *testing.T) {
	for _, leave := range []string{"back", "home"} {
		t.Run(leave, func(t *testing.T) {
			h, _ := newOfficeHarness(t)
			roll := filepath.Join(t.TempDir(), "liste.csv")
			f, _ := os.Create(roll)
			servicetest.WriteRoll(f, service.ImportBatch, 500)
			f.Close()
			home := h.agentLogin("alice")
			h.Tap(home.roll)
			s := screenAs[*importScreen](h)
			test.Type(s.file.Entry, roll)
			h.Tap(s.start)
			if len(s.report.Problems) == 0 {
				t.Fatal("the import refused no line")
			}
			released := make(chan struct{})
			runtime.AddCleanup(&s.report.Problems[0], func(ch chan struct{}) { close(ch) }, released)
			s = nil
			if leave == "back" {
				h.ui.Back()
			} else {
				h.ui.Home()
			}
			for end := time.Now().Add(5 * time.Second); time.Now().Before(end); {
				runtime.GC()
				select {
				case <-released:
					return
				case <-time.After(20 * time.Millisecond):
				}
			}
			t.Fatal("the import's report is still held after its page was left")
		})
	}
}

func TestImportScreenCancel(t *testing.T) {
	h, e := newOfficeHarness(t)
	roll := filepath.Join(t.TempDir(), "liste.csv")
	f, _ := os.Create(roll)
	servicetest.WriteRoll(f, 10*service.ImportBatch, 0)
	f.Close()
	home := h.agentLogin("alice")
	h.Tap(home.roll)
	s := screenAs[*importScreen](h)
	test.Type(s.file.Entry, roll)
	test.Tap(s.start)
	test.Tap(s.cancelB) // at once: the import stops at the next batch
	h.Wait()
	h.See("Import annulé : les lots déjà enregistrés sont complets")
	raw, _ := sql.Open("sqlite", e.Path)
	defer raw.Close()
	var n int
	raw.QueryRow(`SELECT COUNT(*) FROM voters WHERE numic >= '50000000'`).Scan(&n)
	if n%service.ImportBatch != 0 || n == 10*service.ImportBatch {
		t.Fatalf("%d voters after cancel: want whole batches, not all", n)
	}
}

func TestAuditScreen(t *testing.T) {
	t.Run("local", func(t *testing.T) { h, e := newOfficeHarness(t); testAuditScreen(t, h, e) })
	t.Run("remote", func(t *testing.T) { h, e := newRemoteOfficeHarness(t); testAuditScreen(t, h, e) })
}

func testAuditScreen(t *testing.T, h *harness, e *servicetest.Env) {
	home := h.agentLogin("alice")
	h.Tap(home.auditB)
	a := screenAs[*auditScreen](h)
	h.See("Agent alice s'est connecté à l'espace consulat.")
	h.Tap(a.verify)
	h.See("Journal intact")
	// The action is chosen in words; only that action is shown.
	a.action.SetSelected("Connexion d'un agent")
	h.Wait()
	if a.shown != 1 {
		t.Errorf("%d entries for an agent's login, want 1", a.shown)
	}
	a.action.SetSelected("Compte d'agent créé")
	h.Wait()
	if a.shown != 2 {
		t.Errorf("%d entries for agent.added, want 2", a.shown)
	}
	h.NotSee("Agent alice s'est connecté à l'espace consulat.")
	a.action.SetSelectedIndex(0)
	h.Wait()
	h.See("Agent alice s'est connecté à l'espace consulat.")
	raw, _ := sql.Open("sqlite", e.Path)
	raw.Exec(`UPDATE audit SET detail = 'rien' WHERE id = 2`)
	raw.Close()
	h.Tap(a.verify)
	h.See("JOURNAL ALTÉRÉ : 1 anomalie(s)")
	h.See("Ligne 2 : son contenu ne correspond plus à son sceau (modifiée, ou écrite sans la clé).")
	h.NotSee("row 2")
}

// TestSecondFactorResetInWords: `consulvoted agent reset-totp` is in the
// audit viewer in words, in both languages, and ends the agent's session
// on screen too.
func TestSecondFactorResetInWords(t *testing.T) {
	for _, tc := range []struct{ language, action, want string }{
		{"fr", "Second facteur d'un agent renouvelé", "Ligne de commande (consulvoted) a donné un nouveau second facteur à l'agent bob (agent) : l'ancien, ses codes de secours et ses sessions ouvertes (1) ne servent plus."},
		{"en", "Agent's second factor reset", "Command line (consulvoted) gave agent bob (agent) a new second factor: the old one, its recovery codes and the agent's open sessions (1) no longer work."},
	} {
		t.Run(tc.language, func(t *testing.T) {
			if err := resources.LoadTranslations(tc.language); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { resources.LoadTranslations("fr") })
			h, e := newOfficeHarness(t)
			bob := h.agentLogin("bob")
			if _, err := e.Service.Operator.ResetSecondFactor(context.Background(), "cli", "bob"); err != nil {
				t.Fatal(err)
			}
			h.Tap(bob.outbox)
			screenAs[*officeLoginScreen](h) // the session ended with the old factor
			h.ui.Home()
			home := h.agentLogin("alice")
			h.Tap(home.auditB)
			a := screenAs[*auditScreen](h)
			a.action.SetSelected(tc.action)
			h.Wait()
			h.See(tc.want)
			h.NotSee("agent.second_factor_reset")
			h.NotSee(`"sessions_ended"`)
		})
	}
}

func TestOfficeSessionExpires(t *testing.T) {
	h, e := newOfficeHarness(t)
	home := h.agentLogin("bob")
	e.Clock.Advance(service.AgentSessionTTL)
	h.Tap(home.outbox)
	screenAs[*officeLoginScreen](h)
	h.See("Votre session a expiré ou n'est plus valable : reconnectez-vous.")
}

// TestImportScreenFileErrors: a file that cannot be read is said so in
// the agent's language, never with the system's English error.
func TestImportScreenFileErrors(t *testing.T) {
	h, _ := newOfficeHarness(t)
	home := h.agentLogin("alice")
	h.Tap(home.roll)
	s := screenAs[*importScreen](h)
	dir := t.TempDir()
	for path, want := range map[string]string{
		filepath.Join(dir, "absent.csv"): "Ce fichier ne peut pas être ouvert : il n'existe pas.",
		dir:                              "Ce fichier ne peut pas être ouvert : c'est un dossier, pas un fichier.",
	} {
		s.file.Entry.SetText(path)
		h.Tap(s.start)
		h.See(want)
		h.NotSee("no such file")
		h.NotSee("open ")
	}
	s.saveReport(filepath.Join(dir, "absent", "refus.csv"))
	h.See("Le rapport n'a pas pu être enregistré : il n'existe pas.")
}
