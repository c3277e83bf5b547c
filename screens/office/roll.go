package office

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"sync/atomic"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/lang"
	"fyne.io/fyne/v2/storage"
	"fyne.io/fyne/v2/widget"

	"consulvote/app/portal"
	"consulvote/internal/private"
	"consulvote/screens/ui"
	"consulvote/screens/words"
)

// importScreen imports the electoral roll, with a progress bar, the speed,
// a Cancel button and the report of refused lines.
type importScreen struct {
	u        *UI
	file     *ui.Field
	choose   *ui.Button
	start    *ui.Button
	cancelB  *ui.Button
	bar      *widget.ProgressBar
	rate     *widget.Label
	msg      *ui.Message
	problems *fyne.Container
	save     *ui.Button
	cancel   context.CancelFunc
	report   portal.ImportReport // refused lines: thousands on a large roll
	left     bool                // the page is gone: an import under way keeps no report
}

func newImport(u *UI) *importScreen {
	s := &importScreen{u: u, file: u.NewField("field.file", "", false), bar: widget.NewProgressBar(),
		rate: widget.NewLabel(""), msg: ui.NewMessage(), problems: list()}
	// The bar's own "42%" is drawn on a tint of the primary colour that
	// no text colour reads well on, in either variant: the percentage is
	// in the line below instead.
	s.bar.TextFormatter = func() string { return "" }
	s.choose = u.Button(lang.L("import.choose"), nil, s.chooseFile)
	s.start = u.Button(lang.L("import.start"), nil, s.run)
	s.start.Importance = widget.HighImportance
	s.cancelB = u.Button(lang.L("import.cancel"), nil, func() {
		if s.cancel != nil {
			s.cancel()
		}
	})
	s.cancelB.Disable()
	s.save = u.Button(lang.L("import.save_report"), nil, s.chooseReportFile)
	s.save.Hide()
	// Enter in the path starts the import, as the button does.
	s.file.Entry.OnSubmitted = func(string) {
		if !s.start.Disabled() {
			s.run()
		}
	}
	return s
}

func (s *importScreen) page() *ui.Page {
	c := container.NewVBox(ui.Heading(lang.L("import.page")), ui.Wrapped(lang.L("import.text")),
		s.file.Object(), container.NewHBox(s.choose, s.start, s.cancelB), s.bar, s.rate, s.msg.Label,
		container.NewHBox(s.save), s.problems)
	return &ui.Page{Title: lang.L("import.page"), Content: c, Focus: s.file.Entry, Screen: s, Left: s.leave}
}

// leave lets go of the report, and of its lines listed.
func (s *importScreen) leave() {
	s.left, s.report = true, portal.ImportReport{}
	s.problems.RemoveAll()
}

func (s *importScreen) chooseFile() {
	dialog.ShowFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		r.Close()
		s.file.Entry.SetText(r.URI().Path())
	}, s.u.win)
}

var errIsDir = errors.New("is a directory")

// fileErrorText says in the agent's language why a file could not be
// opened or saved (what is a translation key: err.file.open or
// err.file.save): an OS error's text is in English, and names system
// calls.
func fileErrorText(what string, err error) string {
	why := "file.why.other"
	switch {
	case errors.Is(err, fs.ErrNotExist):
		why = "file.why.not_found"
	case errors.Is(err, fs.ErrPermission):
		why = "file.why.permission"
	case errors.Is(err, errIsDir):
		why = "file.why.is_dir"
	}
	return lang.X(what, "", map[string]any{"Why": lang.L(why)})
}

// countingReader counts what was read, for the progress bar.
type countingReader struct {
	r io.Reader
	n atomic.Int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

func (s *importScreen) run() {
	f, size, ok := s.open()
	if !ok {
		return
	}
	cr := &countingReader{r: f}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.start.Disable()
	s.cancelB.Enable()
	s.save.Hide()
	s.problems.RemoveAll()
	s.msg.Set("", widget.MediumImportance)
	s.bar.SetValue(0)
	officeCallCtx(s.u, ctx, func(ctx context.Context, token string) (portal.ImportReport, error) {
		defer f.Close()
		return s.u.opt.RollAdmin.ImportRollAs(ctx, token, cr, func(r portal.ImportReport) {
			done := float64(cr.n.Load()) / float64(size)
			s.u.calls.Progress(func() { s.showProgress(r, done) })
		})
	}, func(r portal.ImportReport, err error) {
		cancel()
		s.finished(r, err)
	})
}

// open opens the file named in the path field and returns it with its
// size (at least 1), or says under the field why it cannot.
func (s *importScreen) open() (*os.File, int64, bool) {
	path := strings.TrimSpace(s.file.Entry.Text)
	if path == "" {
		s.file.SetError(lang.L("err.file.required"))
		s.u.Summarize([]*ui.Field{s.file})
		return nil, 0, false
	}
	f, err := os.Open(path)
	var st os.FileInfo
	if err == nil {
		if st, err = f.Stat(); err == nil && st.IsDir() {
			err = errIsDir
		}
		if err != nil {
			f.Close()
		}
	}
	if err != nil {
		s.file.SetError(fileErrorText("err.file.open", err))
		s.u.Summarize([]*ui.Field{s.file})
		return nil, 0, false
	}
	s.file.SetError("")
	s.u.Summarize(nil)
	return f, max(st.Size(), 1), true
}

// finished shows the import's outcome.
func (s *importScreen) finished(r portal.ImportReport, err error) {
	s.cancel = nil
	s.start.Enable()
	s.cancelB.Disable()
	if errors.Is(err, context.Canceled) {
		err, r.Cancelled = nil, true // cancelled before the first batch
	}
	if err != nil {
		s.u.officeFailed(err, s.msg)
		return
	}
	if s.left {
		return
	}
	s.report = r
	s.showProgress(r, 1)
	if r.Cancelled {
		s.msg.Set(lang.L("import.cancelled"), widget.WarningImportance)
	} else {
		s.msg.Set(lang.X("import.done", "", map[string]any{"Lines": r.Lines, "FileLines": r.FileLines, "Inserted": r.Inserted,
			"Updated": r.Updated, "Unchanged": r.Unchanged, "Refused": len(r.Problems)}), widget.SuccessImportance)
	}
	s.listProblems(r)
	if len(r.Problems)+len(r.Differences) > 0 {
		s.save.Show()
	}
	// The focus stays where the import was started (the button or the
	// path), with its result in view below.
	s.u.Reveal(s.start, s.msg.Label)
}

// listProblems lists the report's first 100 refused lines, and its first
// 100 differences: what the roll would have undone of the desk's
// approved changes.
func (s *importScreen) listProblems(r portal.ImportReport) {
	for i, p := range r.Problems {
		if i == 100 {
			s.problems.Add(widget.NewLabel(fmt.Sprintf("… (%d)", len(r.Problems))))
			break
		}
		s.problems.Add(ui.Wrapped(problemLine(p)))
	}
	if len(r.Differences) == 0 {
		return
	}
	s.problems.Add(ui.Wrapped(lang.X("import.differences", "", map[string]any{"Count": len(r.Differences)})))
	for i, d := range r.Differences {
		if i == 100 {
			s.problems.Add(widget.NewLabel(fmt.Sprintf("… (%d)", len(r.Differences))))
			break
		}
		field := lang.L("history.field.email")
		if d.Column == "mobile" {
			field = lang.L("history.field.mobile")
		}
		s.problems.Add(ui.Wrapped(lang.X("import.difference", "", map[string]any{"Line": d.Line, "NUMIC": d.NUMIC,
			"Field": field, "Time": words.Time(d.Since), "Kept": d.Kept, "Roll": d.Roll})))
	}
}

func (s *importScreen) showProgress(r portal.ImportReport, done float64) {
	if !r.Cancelled {
		s.bar.SetValue(min(done, 1))
	}
	s.rate.SetText(lang.X("import.progress", "", map[string]any{"Lines": r.Lines, "Refused": len(r.Problems),
		"Rate": fmt.Sprintf("%.0f", r.RowsPerSecond()), "Percent": fmt.Sprintf("%.0f", 100*s.bar.Value)}))
}

func (s *importScreen) chooseReportFile() {
	d := dialog.NewFileSave(func(w fyne.URIWriteCloser, err error) {
		if err != nil || w == nil {
			return
		}
		path := w.URI().Path()
		w.Close()
		s.saveReport(path)
	}, s.u.win)
	d.SetFileName("lignes-refusees.csv")
	d.SetFilter(storage.NewExtensionFileFilter([]string{".csv"}))
	d.Show()
}

// saveReport writes the refused lines as CSV at path, mode 0600: they
// hold NUMICs, e-mails and mobiles.
func (s *importScreen) saveReport(path string) {
	f, err := private.Create(path)
	if err == nil {
		// In the agent's language, as the screen says it.
		err = errors.Join(s.report.ProblemsCSVIn(f,
			[3]string{lang.L("import.csv.line"), lang.L("import.csv.column"), lang.L("import.csv.reason")},
			problemText, differenceText), f.Close())
	}
	if err != nil {
		s.msg.Set(fileErrorText("err.file.save", err), widget.DangerImportance)
		return
	}
	s.msg.Set(lang.X("import.report_saved", "", map[string]any{"Path": path}), widget.SuccessImportance)
}

func problemLine(p portal.ImportProblem) string {
	if p.Column == "" {
		return lang.X("import.problem_line", "", map[string]any{"Line": p.Line, "Reason": problemText(p)})
	}
	column := p.Column
	if k, ok := rollColumnKeys[p.Column]; ok {
		column = lang.L("import.column." + k)
	}
	return lang.X("import.problem", "", map[string]any{"Line": p.Line, "Column": column, "Reason": problemText(p)})
}

// rollColumnKeys names the roll's columns (its header, in French) in the
// translations: an English screen says "e-mail address".
var rollColumnKeys = map[string]string{"NUMIC": "numic", "nom": "last_name", "prénoms": "first_names",
	"adresse électronique": "email", "mobile": "mobile", "circonscription": "circonscription"}

// problemText says what is wrong with a roll line, in the UI's language;
// a badly formed value says what is expected in its column.
func problemText(p portal.ImportProblem) string {
	key := "import.problem." + string(p.Code)
	if p.Code == portal.ProblemFormat {
		if c, ok := rollColumnKeys[p.Column]; ok && c != "last_name" && c != "first_names" && c != "circonscription" {
			key += "." + c
		}
	}
	if t := lang.XN(key, "", p.N, map[string]any{"N": p.N}); t != "" && t != key {
		return t
	}
	return p.Reason // a problem newer than the translations: the service's English
}

// differenceText says, for the report, a roll line that would have undone
// a change made at the desk.
func differenceText(d portal.ImportDifference) string {
	return lang.X("import.difference_csv", "", map[string]any{"NUMIC": d.NUMIC, "Time": words.Time(d.Since), "Kept": d.Kept, "Roll": d.Roll})
}
