package service_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"

	"consulvote/app/portal"
	"consulvote/app/service"
	"consulvote/app/service/servicetest"
)

func (e *env) importRoll(data string) portal.ImportReport {
	e.t.Helper()
	rep, err := e.svc.Operator.ImportRoll(e.ctx, "cli", strings.NewReader(data), nil)
	if err != nil {
		e.t.Fatal(err)
	}
	return rep
}

const rollHeader = "NUMIC;nom;prénoms;adresse électronique;mobile;circonscription\n"

// withoutRace skips a large import under -race: an import runs in one
// goroutine, where the detector has nothing to see, and it slows SQLite
// forty times. make unit runs app/service's TestImport* without it.
func withoutRace(t *testing.T) {
	t.Helper()
	if !strings.HasPrefix(t.Name(), "TestImport") {
		t.Fatalf("%s: make unit runs only app/service's TestImport* without -race", t.Name())
	}
	if raceEnabled {
		t.Skip("one goroutine on a large roll: make unit runs it without -race")
	}
}

func TestImportRollLines(t *testing.T) {
	e := newEnv(t)
	data := "\uFEFF" + rollHeader +
		"000 700 01;MARTIN;Léa;Lea.Martin@Example.org;+33 6 12 34 56 78;Allemagne\n" +
		"00070002;\"DURAND; dit Dudu\";Paul;paul@example.org;0033612345679;Belgique\n" +
		"00070003;;Paul;paul3@example.org;+33612345670;Belgique\n" +
		"0007000A;X;Y;x@example.org;+33612345671;Z\n" +
		"00070005;X;Y;x@;+33612345672;Z\n" +
		"00070006;X;Y;x6@example.org;0612345673;Z\n" +
		"00070007;X;Y;x7@example.org;+33612345674\n" +
		"00070001;X;Y;x1@example.org;+33612345675;Z\n" +
		"00070009;X;Y;x9@example.org;+33612345676;\n" +
		"00070010;X;\"Y\"\"\";x10@example.org;+33612345677;Z\n" +
		"00070011;X;Y;x11@example.org;+33612345678;\xff\xfe\n" +
		"00070012;X\x00Y;Y;x12@example.org;+33612345679;Z\n"
	rep := e.importRoll(data)
	want := map[int]string{
		4: "nom: last name missing", 5: "NUMIC: invalid NUMIC", 6: "adresse électronique: invalid e-mail address",
		7: "mobile: invalid mobile number", 8: ": 5 columns instead of 6", 9: "NUMIC: duplicate NUMIC (already on line 2)",
		10: "circonscription: circonscription missing", 12: "circonscription: text that is not UTF-8",
		13: "nom: control (invisible) character",
	}
	// And each with its code, for the screens to say it in the agent's
	// language.
	wantCode := map[int]string{4: "missing", 5: "format", 6: "format", 7: "format", 8: "columns 5", 9: "duplicate 2",
		10: "missing", 12: "not_utf8", 13: "control"}
	got := map[int]string{}
	for _, p := range rep.Problems {
		got[p.Line] = p.Column + ": " + p.Reason
		code := string(p.Code)
		if p.N != 0 {
			code += " " + strconv.Itoa(p.N)
		}
		if code != wantCode[p.Line] {
			t.Errorf("line %d: code %q, want %q", p.Line, code, wantCode[p.Line])
		}
	}
	for line, w := range want {
		if !strings.HasPrefix(got[line], w) {
			t.Errorf("line %d: %q, want %q", line, got[line], w)
		}
	}
	if len(got) != len(want) || rep.Lines != 12 || rep.Inserted != 3 {
		t.Fatalf("report %+v", rep)
	}
	vs, _ := e.svc.Portal.Messages(e.ctx, 1) // unrelated: nothing queued by an import
	if len(vs) != 0 {
		t.Error("the import queued messages")
	}
	var mobile, email, last string
	e.raw.QueryRow(`SELECT mobile, email FROM voters WHERE numic = '00070001'`).Scan(&mobile, &email)
	e.raw.QueryRow(`SELECT last_name FROM voters WHERE numic = '00070002'`).Scan(&last)
	if mobile != "+33612345678" || email != "lea.martin@example.org" || last != "DURAND; dit Dudu" {
		t.Errorf("stored %q %q %q", mobile, email, last)
	}
	var csvOut bytes.Buffer
	rep.ProblemsCSV(&csvOut)
	if !strings.HasPrefix(csvOut.String(), "line;column;reason\n4;nom;last name missing\n") {
		t.Errorf("problems CSV:\n%s", csvOut.String())
	}

	// Again: nothing changes. Then one changed line is an update.
	audit := e.count("audit", "1")
	if rep := e.importRoll(data); rep.Inserted+rep.Updated != 0 || rep.Unchanged != 3 {
		t.Fatalf("second run: %+v", rep)
	}
	if n := e.count("audit", "1"); n != audit+1 {
		t.Errorf("a run that changes nothing wrote %d audit rows, want the summary only", n-audit)
	}
	if rep := e.importRoll(rollHeader + "00070001;MARTIN;Léa;lea.nouvelle@example.org;+33612345678;Allemagne\n"); rep.Updated != 1 {
		t.Fatalf("changed line: %+v", rep)
	}
	// Credentials are never touched by an import.
	e.importRoll(rollHeader + "00012345;DUPONT;Marie;autre@example.org;+33600000000;Allemagne\n")
	if _, err := e.svc.Portal.Login(e.ctx, marie.Identifier, marie.Password); err != nil {
		t.Errorf("marie cannot log in after a re-import: %v", err)
	}
}

func TestImportRollHeaderAndSeparator(t *testing.T) {
	e := newEnv(t)
	if rep := e.importRoll("numic,Nom,Prenoms,Adresse electronique,MOBILE,Circonscription\n00080001,A,B,a@example.org,+33612345678,C\n"); rep.Inserted != 1 {
		t.Fatalf("comma file: %+v", rep)
	}
	for _, bad := range []string{"", "NUMIC;nom\n", "NUMIC;nom;prénoms;courriel;mobile;circonscription\n"} {
		if _, err := e.svc.Operator.ImportRoll(e.ctx, "cli", strings.NewReader(bad), nil); !errors.Is(err, portal.ErrRollHeader) {
			t.Errorf("header %q: %v, want portal.ErrRollHeader for the screens to map", bad, err)
		}
	}
	// A file that fails to read half-way is a portal error too; the OS's
	// words stay in the chain, for the logs.
	broken := io.MultiReader(strings.NewReader(rollHeader+"00080002;A;B;b@example.org;+33612345678;C\n"), iotest.ErrReader(errors.New("input/output error")))
	_, err := e.svc.Operator.ImportRoll(e.ctx, "cli", broken, nil)
	if !errors.Is(err, portal.ErrRollUnreadable) || !strings.Contains(err.Error(), "input/output error") {
		t.Errorf("unreadable file: %v, want portal.ErrRollUnreadable wrapping the cause", err)
	}
}

func TestImportRollCancel(t *testing.T) {
	withoutRace(t)
	e := newEnv(t)
	var buf bytes.Buffer
	servicetest.WriteRoll(&buf, 3*service.ImportBatch+10, 0)
	ctx, cancel := context.WithCancel(e.ctx)
	batches := 0
	rep, err := e.svc.Operator.ImportRoll(ctx, "cli", bytes.NewReader(buf.Bytes()), func(portal.ImportReport) {
		batches++
		if batches == 2 {
			cancel() // the agent clicks "Annuler"
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	if !rep.Cancelled || rep.Inserted != 2*service.ImportBatch {
		t.Fatalf("cancelled import: %+v", rep)
	}
	if n := e.count("voters", "numic >= '50000000'"); n != 2*service.ImportBatch {
		t.Fatalf("%d voters stored, want two whole batches", n)
	}
	// Resuming is importing again.
	rep = e.importRoll(buf.String())
	if rep.Inserted != service.ImportBatch+10 || rep.Unchanged != 2*service.ImportBatch {
		t.Fatalf("resume: %+v", rep)
	}
}

// TestImportLargeRoll imports 500,000 lines with 1% bad ones: every bad
// line is reported with the right reason, every good one stored, and a
// second run changes nothing.
func TestImportLargeRoll(t *testing.T) {
	if testing.Short() {
		t.Skip("large import")
	}
	withoutRace(t)
	n := 500_000
	e := newEnv(t)
	var buf bytes.Buffer
	bad, err := servicetest.WriteRoll(&buf, n, 100)
	if err != nil {
		t.Fatal(err)
	}
	rep := e.importRoll(buf.String())
	if len(bad) != n/100 || len(rep.Problems) != len(bad) {
		t.Fatalf("%d problems reported, %d made", len(rep.Problems), len(bad))
	}
	for i, b := range bad {
		p := rep.Problems[i]
		if p.Line != b.Line || p.Column != b.Column || !strings.HasPrefix(p.Reason, b.Reason) {
			t.Fatalf("bad line %d: reported %+v, want %+v", b.Line, p, b)
		}
	}
	good := n - len(bad)
	if rep.Inserted != good || e.count("voters", "numic >= '50000000'") != good {
		t.Fatalf("inserted %d, want %d", rep.Inserted, good)
	}
	t.Logf("%d lines in %v: %.0f lines/s", rep.Lines, rep.Elapsed, rep.RowsPerSecond())
	again := e.importRoll(buf.String())
	if again.Inserted != 0 || again.Updated != 0 || again.Unchanged != good || len(again.Problems) != len(bad) {
		t.Fatalf("second run: %+v", again)
	}
}

// TestImportRollStrayQuote: a quote opening line 2 of a 200,000-line roll
// refuses line 2 alone, naming it; so does a quote closing three lines
// further (which encoding/csv took for one field over four lines), a quote
// inside a field and a line over the limit; every other line is
// imported, and the report reads every line of the file.
func TestImportRollStrayQuote(t *testing.T) {
	withoutRace(t)
	n := 200_000
	e := newEnv(t)
	var buf bytes.Buffer
	if _, err := servicetest.WriteRoll(&buf, n, 0); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(buf.String(), "\n")
	lines[1] = `"` + lines[1]                                  // line 2: never closes
	lines[100] = `"` + lines[100]                              // line 101: closes on line 104
	lines[103] = strings.Replace(lines[103], ";", `";`, 1)     //
	lines[200] = strings.Replace(lines[200], "NOM", `N"OM`, 1) // line 201
	lines[300] = strings.Replace(lines[300], "NOM", strings.Repeat("N", 5000), 1)
	lines[400] = strings.Replace(lines[400], "NOM", `"NOM ""le grand"""`, 1) // well quoted: kept
	lines = append(lines[:500], append([]string{"\n"}, lines[500:]...)...)   // an empty line 501
	rep := e.importRoll(strings.Join(lines, ""))
	want := []string{"2 csv", "101 csv", "104 quote", "201 quote", "301 line_too_long"}
	var got []string
	for _, p := range rep.Problems {
		got = append(got, strconv.Itoa(p.Line)+" "+string(p.Code))
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("problems %v, want %v", got, want)
	}
	if rep.Inserted != n-len(want) || rep.Lines != n || rep.FileLines != n+1 {
		t.Errorf("inserted %d of %d, read %d lines of %d; want %d, %d, %d", rep.Inserted, n, rep.Lines, rep.FileLines, n-len(want), n, n+1)
	}
	if c := e.count("voters", "numic >= '50000000'"); c != n-len(want) {
		t.Errorf("%d voters stored, want %d", c, n-len(want))
	}
	var last string
	e.raw.QueryRow(`SELECT last_name FROM voters WHERE numic = '50000399'`).Scan(&last)
	if last != `NOM "le grand"` {
		t.Errorf("quoted name stored as %q", last)
	}
	if len(rep.Problems) > 0 && !strings.Contains(rep.Problems[0].Reason, "quote opened on this line") {
		t.Errorf("line 2: %q", rep.Problems[0].Reason)
	}
}
