package screens

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
)

// importScreen imports the electoral roll, with a progress bar, the speed,
// a Cancel button and the report of refused lines.
type importScreen struct {
	u        *UI
	file     *field
	choose   *button
	start    *button
	cancelB  *button
	bar      *widget.ProgressBar
	rate     *widget.Label
	msg      *message
	problems *fyne.Container
	save     *button
	cancel   context.CancelFunc
	report   portal.ImportReport
}

func newImport(u *UI) *importScreen {
	s := &importScreen{u: u, file: newField(u, "field.file", "", false), bar: widget.NewProgressBar(),
		rate: widget.NewLabel(""), msg: newMessage(), problems: list()}
	// The bar's own "42%" is drawn on a tint of the primary colour that
	// no text colour reads well on, in either variant: the percentage is
	// in the line below instead.
	s.bar.TextFormatter = func() string { return "" }
	s.choose = u.button(lang.L("import.choose"), nil, s.chooseFile)
	s.start = u.button(lang.L("import.start"), nil, s.run)
	s.start.Importance = widget.HighImportance
	s.cancelB = u.button(lang.L("import.cancel"), nil, func() {
		if s.cancel != nil {
			s.cancel()
		}
	})
	s.cancelB.Disable()
	s.save = u.button(lang.L("import.save_report"), nil, s.chooseReportFile)
	s.save.Hide()
	// Enter in the path starts the import, as the button does.
	s.file.entry.OnSubmitted = func(string) {
		if !s.start.Disabled() {
			s.run()
		}
	}
	return s
}

func (s *importScreen) page() *page {
	c := container.NewVBox(heading(lang.L("import.page")), wrapped(lang.L("import.text")),
		s.file.object(), container.NewHBox(s.choose, s.start, s.cancelB), s.bar, s.rate, s.msg.label,
		container.NewHBox(s.save), s.problems)
	return &page{title: lang.L("import.page"), content: c, focus: s.file.entry, screen: s}
}

func (s *importScreen) chooseFile() {
	dialog.ShowFileOpen(func(r fyne.URIReadCloser, err error) {
		if err != nil || r == nil {
			return
		}
		r.Close()
		s.file.entry.SetText(r.URI().Path())
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
	path := strings.TrimSpace(s.file.entry.Text)
	if path == "" {
		s.file.setError(lang.L("err.file.required"))
		s.u.summarize([]*field{s.file})
		return
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
		s.file.setError(fileErrorText("err.file.open", err))
		s.u.summarize([]*field{s.file})
		return
	}
	s.file.setError("")
	s.u.summarize(nil)
	size := max(st.Size(), 1)
	cr := &countingReader{r: f}
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.start.Disable()
	s.cancelB.Enable()
	s.save.Hide()
	s.problems.RemoveAll()
	s.msg.set("", widget.MediumImportance)
	s.bar.SetValue(0)
	token := s.u.token() // read on the UI goroutine, before the call
	callCtx(s.u, ctx, func(ctx context.Context) (portal.ImportReport, error) {
		defer f.Close()
		return s.u.opt.RollAdmin.ImportRollAs(ctx, token, cr, func(r portal.ImportReport) {
			done := float64(cr.n.Load()) / float64(size)
			s.u.post(func() { s.showProgress(r, done) })
		})
	}, func(r portal.ImportReport, err error) {
		cancel()
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
		s.report = r
		s.showProgress(r, 1)
		if r.Cancelled {
			s.msg.set(lang.L("import.cancelled"), widget.WarningImportance)
		} else {
			s.msg.set(lang.X("import.done", "", map[string]any{"Lines": r.Lines, "FileLines": r.FileLines, "Inserted": r.Inserted,
				"Updated": r.Updated, "Unchanged": r.Unchanged, "Refused": len(r.Problems)}), widget.SuccessImportance)
		}
		for i, p := range r.Problems {
			if i == 100 {
				s.problems.Add(widget.NewLabel(fmt.Sprintf("… (%d)", len(r.Problems))))
				break
			}
			s.problems.Add(wrapped(problemLine(p)))
		}
		if len(r.Differences) > 0 {
			// What the roll would have undone of the desk's approved changes.
			s.problems.Add(wrapped(lang.X("import.differences", "", map[string]any{"Count": len(r.Differences)})))
			for i, d := range r.Differences {
				if i == 100 {
					s.problems.Add(widget.NewLabel(fmt.Sprintf("… (%d)", len(r.Differences))))
					break
				}
				field := lang.L("history.field.email")
				if d.Column == "mobile" {
					field = lang.L("history.field.mobile")
				}
				s.problems.Add(wrapped(lang.X("import.difference", "", map[string]any{"Line": d.Line, "NUMIC": d.NUMIC,
					"Field": field, "Time": formatTime(d.Since), "Kept": d.Kept, "Roll": d.Roll})))
			}
		}
		if len(r.Problems)+len(r.Differences) > 0 {
			s.save.Show()
		}
		// The focus stays where the import was started (the button or the
		// path), with its result in view below.
		s.u.reveal(s.start, s.msg.label)
	})
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
		s.msg.set(fileErrorText("err.file.save", err), widget.DangerImportance)
		return
	}
	s.msg.set(lang.X("import.report_saved", "", map[string]any{"Path": path}), widget.SuccessImportance)
}

// campaignScreen sends first credentials.
type campaignScreen struct {
	u        *UI
	name     *field
	start    *button
	cancelB  *button
	progress *widget.Label
	msg      *message
	cancel   context.CancelFunc
}

func newCampaign(u *UI) *campaignScreen {
	s := &campaignScreen{u: u, name: newField(u, "field.campaign", "", false), progress: widget.NewLabel(""), msg: newMessage()}
	s.start = u.button(lang.L("campaign.start"), nil, s.run)
	s.start.Importance = widget.HighImportance
	s.cancelB = u.button(lang.L("import.cancel"), nil, func() {
		if s.cancel != nil {
			s.cancel()
		}
	})
	s.cancelB.Disable()
	return s
}

func (s *campaignScreen) page() *page {
	c := container.NewVBox(heading(lang.L("campaign.page")), wrapped(lang.L("campaign.text")), s.name.object(),
		container.NewHBox(s.start, s.cancelB), s.progress, s.msg.label)
	return &page{title: lang.L("campaign.page"), content: c, focus: s.name.entry, screen: s}
}

func (s *campaignScreen) run() {
	name := strings.TrimSpace(s.name.entry.Text)
	if name == "" {
		s.name.setError(lang.L("err.campaign.required"))
		return
	}
	s.name.setError("")
	ctx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.start.Disable()
	s.cancelB.Enable()
	show := func(r portal.CampaignReport) {
		s.progress.SetText(lang.X("campaign.progress", "", map[string]any{"Sent": r.Sent, "Skipped": r.Skipped}))
	}
	token := s.u.token() // read on the UI goroutine, before the call
	callCtx(s.u, ctx, func(ctx context.Context) (portal.CampaignReport, error) {
		return s.u.opt.RollAdmin.SendFirstCredentialsAs(ctx, token, name, func(r portal.CampaignReport) {
			s.u.post(func() { show(r) })
		})
	}, func(r portal.CampaignReport, err error) {
		cancel()
		s.cancel = nil
		s.start.Enable()
		s.cancelB.Disable()
		if errors.Is(err, context.Canceled) {
			err, r.Cancelled = nil, true
		}
		if err != nil {
			s.u.officeFailed(err, s.msg)
			return
		}
		show(r)
		if r.Cancelled {
			s.msg.set(lang.L("import.cancelled"), widget.WarningImportance)
		} else {
			s.msg.set(lang.X("campaign.progress", "", map[string]any{"Sent": r.Sent, "Skipped": r.Skipped}), widget.SuccessImportance)
		}
	})
}

// problemLine says a refused roll line in the UI's language.
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
	return p.Reason // a problem newer than the translations: the service's French
}

// differenceText says, for the report, a roll line that would have undone
// a change made at the desk.
func differenceText(d portal.ImportDifference) string {
	return lang.X("import.difference_csv", "", map[string]any{"NUMIC": d.NUMIC, "Time": formatTime(d.Since), "Kept": d.Kept, "Roll": d.Roll})
}
