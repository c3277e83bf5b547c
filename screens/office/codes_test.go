package office

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"fyne.io/fyne/v2/test"

	"consulvote/app/portal"
	"consulvote/resources"
)

// TestEveryRecordedWordTranslated: every action, message kind, state and
// channel, and every actor the service records (app/portal/vocabulary.go,
// which servicetest holds the service to) has its words in each language,
// so that codeLabel never falls back to the code.
func TestEveryRecordedWordTranslated(t *testing.T) {
	var keys []string
	for _, w := range portal.AuditActions {
		keys = append(keys, "action."+w)
	}
	for _, w := range portal.MessageKinds {
		keys = append(keys, "kind."+w)
	}
	for _, w := range portal.MessageStates {
		keys = append(keys, "state."+w)
	}
	for _, w := range portal.Stages {
		keys = append(keys, "stage."+w)
	}
	for _, w := range portal.Channels {
		keys = append(keys, "channel."+w)
	}
	for _, w := range append(portal.Actors, "voter", "agent") {
		keys = append(keys, "actor."+w)
	}
	for _, language := range resources.Languages {
		b, err := resources.Translation(language)
		if err != nil {
			t.Fatal(err)
		}
		var table map[string]any
		if err := json.Unmarshal(b, &table); err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			if s, _ := table[k].(string); strings.TrimSpace(s) == "" {
				t.Errorf("%s: no words for %s", language, k)
			}
		}
	}
}

// TestEveryActionInWords: every action the service records has a
// sentence (historyText), so that the audit log and the voter's history
// never show a detail as the service stored it (TestHistoryInWords checks
// each sentence is in each language).
func TestEveryActionInWords(t *testing.T) {
	for _, a := range portal.AuditActions {
		if !historyWords["history."+a] {
			t.Errorf("no sentence for %s in screens/office/history.go", a)
		}
	}
}

// TestImportProblemsInLanguage: the refused lines of a roll are said, on
// the screen and in the saved report, in the agent's language.
func TestImportProblemsInLanguage(t *testing.T) {
	roll := "NUMIC;nom;prénoms;adresse électronique;mobile;circonscription\n" +
		"00070001;MARTIN;Léa;lea@example.org;+33612345678;Allemagne\n" +
		"00070002;;Paul;paul@example.org;+33612345679;Belgique\n" +
		"0007000A;X;Y;x@example.org;+33612345671;Z\n" +
		"00070004;X;Y;x4@example.org;+33612345674\n" +
		"00070001;X;Y;x1@example.org;+33612345675;Z\n" +
		"00070006;X;Y;x6@example.org;0612345676;Z\n" +
		"00070007;X;" + strings.Repeat("Y", 151) + ";x7@example.org;+33612345677;Z\n" +
		"00070009;X;Y;pas-une-adresse;+33612345679;Z\n"
	for _, tc := range []struct {
		language string
		screen   []string
		csv      string
	}{
		{"fr", []string{"Ligne 3, nom : vide, à renseigner", "Ligne 4, NUMIC : NUMIC invalide (chiffres uniquement, de 6 à 12)",
			"Ligne 5 : 5 colonnes au lieu de 6", "Ligne 6, NUMIC : NUMIC en double (déjà ligne 2)",
			"Ligne 7, mobile : numéro de mobile invalide", "Ligne 8, prénoms : trop long (150 caractères au plus)",
			"Ligne 9, adresse électronique : adresse électronique invalide"},
			"ligne;colonne;motif\n3;nom;vide, à renseigner\n"},
		{"en", []string{"Line 3, last name: empty, required", "Line 4, NUMIC: invalid NUMIC (digits only, 6 to 12)",
			"Line 5: 5 columns instead of 6", "Line 6, NUMIC: duplicate NUMIC (already on line 2)",
			"Line 7, mobile: invalid mobile number", "Line 8, first names: too long (150 characters at most)",
			"Line 9, e-mail address: invalid e-mail address"},
			"line;column;reason\n3;nom;empty, required\n"},
	} {
		t.Run(tc.language, func(t *testing.T) {
			if err := resources.LoadTranslations(tc.language); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { resources.LoadTranslations("fr") })
			h, _ := newOfficeHarness(t)
			dir := t.TempDir()
			path := filepath.Join(dir, "liste.csv")
			if err := os.WriteFile(path, []byte(roll), 0o600); err != nil {
				t.Fatal(err)
			}
			home := h.agentLogin("alice")
			h.Tap(home.roll)
			s := screenAs[*importScreen](h)
			if tc.language == "en" {
				h.Enter(s.file.Entry, path)         // Enter in the path starts it too
				h.NotSee(", adresse électronique:") // the header's French names stay only where the file needs them
			} else {
				test.Type(s.file.Entry, path)
				h.Tap(s.start)
			}
			for _, line := range tc.screen {
				h.See(line)
			}
			report := filepath.Join(dir, "report.csv")
			s.saveReport(report)
			b, err := os.ReadFile(report)
			if err != nil || !strings.HasPrefix(string(b), tc.csv) || strings.Count(string(b), "\n") != 8 {
				t.Errorf("report (%v):\n%s", err, b)
			}
		})
	}
}

// TestEveryImportProblemTranslated: each problem the service can find in
// a roll line has its words in each language.
func TestEveryImportProblemTranslated(t *testing.T) {
	for _, language := range resources.Languages {
		b, _ := resources.Translation(language)
		var table map[string]any
		if err := json.Unmarshal(b, &table); err != nil {
			t.Fatal(err)
		}
		for _, c := range portal.ProblemCodes {
			if table["import.problem."+string(c)] == nil {
				t.Errorf("%s: no words for the roll problem %q", language, c)
			}
		}
	}
}

// TestEveryAuditCauseTranslated: each problem the audit check can find
// has its words in each language.
func TestEveryAuditCauseTranslated(t *testing.T) {
	for _, language := range resources.Languages {
		b, _ := resources.Translation(language)
		var table map[string]any
		if err := json.Unmarshal(b, &table); err != nil {
			t.Fatal(err)
		}
		for _, c := range portal.AuditCauses {
			if s, _ := table["audit.finding."+c].(string); s == "" {
				t.Errorf("%s: no words for the audit problem %q", language, c)
			}
		}
	}
}

// TestAuditFindings: a problem of a row names the row, a checkpoint's the
// checkpoint, each in the agent's language.
func TestAuditFindings(t *testing.T) {
	r := portal.AuditReport{
		Problems: []string{"row 4: …", "checkpoint 3: …", "checkpoint 5: …"},
		Findings: []portal.AuditFinding{
			{Row: 4, Cause: "hash"},
			{Checkpoint: 3, Cause: "checkpoint_gap", N: 2, M: 2},
			{Checkpoint: 5, Cause: "signed_rows_gone", N: 7},
		},
	}
	for _, tc := range []struct {
		language string
		want     []string
	}{
		{"fr", []string{"Ligne 4 : son contenu ne correspond plus à son sceau",
			"Point de contrôle 3 : les points de contrôle 2 à 2 qui le précèdent ont disparu.",
			"Point de contrôle 5 : 7 des lignes qu'il a signées ont disparu."}},
		{"en", []string{"Row 4: its content does not match its seal",
			"Checkpoint 3: checkpoints 2 to 2 before it are missing.",
			"Checkpoint 5: 7 of the rows it signed are gone."}},
	} {
		if err := resources.LoadTranslations(tc.language); err != nil {
			t.Fatal(err)
		}
		got := findingsText(r)
		for i, w := range tc.want {
			if !strings.HasPrefix(got[i], w) {
				t.Errorf("%s: finding %d = %q, want %q…", tc.language, i, got[i], w)
			}
		}
	}
	resources.LoadTranslations("fr")
}
