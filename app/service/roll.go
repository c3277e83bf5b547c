package service

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"consulvote/app/portal"
)

// The columns of an electoral roll file, in the roll's own words.
var rollColumns = []string{"NUMIC", "nom", "prénoms", "adresse électronique", "mobile", "circonscription"}

// ImportBatch is how many lines one transaction stores.
const ImportBatch = 5000

// ImportRoll reads a roll in CSV (UTF-8, a header line, ";" or ","
// separated), checks every line, and stores the valid ones, ImportBatch
// lines per transaction: new voters are inserted, changed ones updated,
// identical ones left alone, so that importing a file twice changes
// nothing. A cancelled context stops between two batches, leaving whole
// batches stored. progress, when set, is called after each batch. actor
// names who imports, for the audit log.
func (s *Operator) ImportRoll(ctx context.Context, actor string, r io.Reader, progress func(portal.ImportReport)) (portal.ImportReport, error) {
	return s.importRoll(ctx, actor, r, progress)
}

// importRoll is ImportRoll, for the operator and the admin's ImportRollAs.
func (s *core) importRoll(ctx context.Context, actor string, r io.Reader, progress func(portal.ImportReport)) (portal.ImportReport, error) {
	im := &importRun{ctx: ctx, s: s, actor: actor, start: time.Now(), progress: progress,
		batch: make([]Voter, 0, ImportBatch), lines: make([]int, 0, ImportBatch)}
	rr, err := s.newRollReader(r)
	if err != nil {
		return im.rep, err
	}
	for !im.rep.Cancelled {
		v, prob, err := rr.next()
		im.rep.FileLines = rr.line - 1
		if errors.Is(err, io.EOF) {
			if err := im.store(); err != nil {
				return im.rep, err
			}
			break
		}
		if err != nil {
			return im.rep, err
		}
		im.rep.Lines++
		if prob != nil {
			im.rep.Problems = append(im.rep.Problems, *prob)
			continue
		}
		im.batch, im.lines = append(im.batch, v), append(im.lines, rr.line)
		if len(im.batch) == ImportBatch {
			if err := im.store(); err != nil {
				return im.rep, err
			}
		}
	}
	im.rep.Elapsed = time.Since(im.start)
	return im.rep, s.auditImport(ctx, actor, im.rep)
}

// importRun is one import: its report so far and the batch not stored yet.
type importRun struct {
	ctx      context.Context
	s        *core
	actor    string
	start    time.Time
	progress func(portal.ImportReport)
	rep      portal.ImportReport
	batch    []Voter
	lines    []int // the file's line of each voter of batch
}

// store stores the batch, or marks the import cancelled when ctx has
// ended (before the batch, or inside it: then it was rolled back whole).
func (im *importRun) store() error {
	if im.ctx.Err() != nil {
		im.rep.Cancelled = true
		return nil
	}
	if len(im.batch) == 0 {
		return nil
	}
	ins, upd, same, diffs, err := im.s.storeBatch(im.ctx, im.actor, im.batch, im.lines)
	if err != nil {
		if im.ctx.Err() != nil {
			im.rep.Cancelled = true
			return nil
		}
		return err
	}
	im.rep.Differences = append(im.rep.Differences, diffs...)
	im.rep.Inserted += ins
	im.rep.Updated += upd
	im.rep.Unchanged += same
	im.batch, im.lines = im.batch[:0], im.lines[:0]
	im.rep.Elapsed = time.Since(im.start)
	if im.progress != nil {
		im.progress(im.rep)
	}
	return nil
}

// auditImport records the import's outcome, even when it was cancelled.
func (s *core) auditImport(ctx context.Context, actor string, rep portal.ImportReport) error {
	now := s.clock.Now()
	return s.store.Update(context.WithoutCancel(ctx), func(tx Tx) error {
		return s.audit(tx, AuditEntry{At: now, Actor: actor, Action: "roll.imported", Detail: facts(
			"lines", strconv.Itoa(rep.Lines), "inserted", strconv.Itoa(rep.Inserted), "updated", strconv.Itoa(rep.Updated),
			"unchanged", strconv.Itoa(rep.Unchanged), "refused", strconv.Itoa(len(rep.Problems)),
			"kept_count", strconv.Itoa(len(rep.Differences)), "cancelled", strconv.FormatBool(rep.Cancelled))})
	})
}

// maxRollLine bounds a roll line, so that a quote that never closes, or a
// file without line ends, costs one line's memory and refuses one line,
// not the rest of the file: a valid line is under 700 bytes.
const maxRollLine = 4096

// rollReader reads a roll file: its header when made, then each line as a
// voter or as the problem found in it. A record is one line: a quoted
// field must close on the line it opens (no roll value holds a line end),
// so a stray quote refuses its own line only.
type rollReader struct {
	s     *core
	br    *bufio.Reader
	comma byte
	rec   []string
	buf   []byte           // a quoted line's fields, unquoted, end to end
	ends  []int            // where each field ends in buf
	seen  map[uint64]int32 // NUMIC → line, for duplicates in the file
	line  int              // of the line last read, counting the header as 1
}

// newRollReader reads and checks the header, and guesses the separator
// from it.
func (s *core) newRollReader(r io.Reader) (*rollReader, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	raw, long, err := readLine(br)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %w", portal.ErrRollUnreadable, err)
	}
	if long {
		return nil, fmt.Errorf("%w: the header is longer than %d bytes", portal.ErrRollHeader, maxRollLine)
	}
	header := strings.TrimPrefix(string(raw), "\uFEFF")
	comma := byte(';')
	if strings.Count(header, ",") > strings.Count(header, ";") {
		comma = ','
	}
	if err := checkHeader(header, rune(comma)); err != nil {
		return nil, err
	}
	return &rollReader{s: s, br: br, comma: comma, seen: map[uint64]int32{}, line: 1}, nil
}

// readLine returns the next line without its end; long when it is longer
// than maxRollLine, then the rest of it is skipped, unread; io.EOF after
// the last line.
func readLine(br *bufio.Reader) (line []byte, long bool, err error) {
	line, err = br.ReadSlice('\n')
	for errors.Is(err, bufio.ErrBufferFull) {
		long = true
		_, err = br.ReadSlice('\n')
	}
	long = long || len(line) > maxRollLine
	if errors.Is(err, io.EOF) && (long || len(line) > 0) {
		err = nil // the last line, without its end
	}
	if err != nil {
		return nil, false, err
	}
	line = bytes.TrimSuffix(line, []byte("\n"))
	return bytes.TrimSuffix(line, []byte("\r")), long, nil
}

// next returns the next line's voter, or the problem found in it; io.EOF
// after the last line, ErrRollUnreadable when the file fails. Empty lines
// are skipped.
func (rr *rollReader) next() (Voter, *portal.ImportProblem, error) {
	raw, long, err := readLine(rr.br)
	for err == nil && !long && len(raw) == 0 {
		rr.line++
		raw, long, err = readLine(rr.br)
	}
	if errors.Is(err, io.EOF) {
		return Voter{}, nil, io.EOF
	}
	if err != nil {
		return Voter{}, nil, fmt.Errorf("%w: line %d: %w", portal.ErrRollUnreadable, rr.line+1, err)
	}
	rr.line++
	bad := func(code portal.ProblemCode, n int, reason string) (Voter, *portal.ImportProblem, error) {
		return Voter{}, &portal.ImportProblem{Line: rr.line, Code: code, N: n, Reason: reason}, nil
	}
	if long {
		return bad(portal.ProblemLineTooLong, maxRollLine, fmt.Sprintf("line too long (%d bytes at most), skipped", maxRollLine))
	}
	rec, prob := rr.split(raw)
	switch prob {
	case portal.ProblemCSV:
		return bad(prob, 0, "quote opened on this line and not closed before its end (a field cannot span lines)")
	case portal.ProblemQuote:
		return bad(prob, 0, "misplaced quote: a quoted field starts and ends with a quote (\"\" for a quote in the text)")
	}
	v, p := rr.s.rollLine(rec, rr.line)
	if p != nil {
		return Voter{}, p, nil
	}
	key := numicKey(v.NUMIC)
	if first, dup := rr.seen[key]; dup {
		return Voter{}, &portal.ImportProblem{Line: rr.line, Column: "NUMIC", Code: portal.ProblemDuplicate, N: int(first),
			Reason: fmt.Sprintf("duplicate NUMIC (already on line %d)", first)}, nil
	}
	rr.seen[key] = int32(rr.line)
	return v, nil, nil
}

// split cuts a line into its fields as RFC 4180 says, within the line: a
// quoted field may hold the separator and doubled quotes and must close on
// its line (else ProblemCSV); a quote elsewhere is ProblemQuote, as
// encoding/csv refuses it. The fields share one string.
func (rr *rollReader) split(line []byte) ([]string, portal.ProblemCode) {
	rr.rec = rr.rec[:0]
	if bytes.IndexByte(line, '"') < 0 { // nearly every line
		s := string(line)
		for {
			i := strings.IndexByte(s, rr.comma)
			if i < 0 {
				return append(rr.rec, s), ""
			}
			rr.rec, s = append(rr.rec, s[:i]), s[i+1:]
		}
	}
	rr.buf, rr.ends = rr.buf[:0], rr.ends[:0]
	for {
		if len(line) > 0 && line[0] == '"' {
			line = line[1:]
			for {
				i := bytes.IndexByte(line, '"')
				if i < 0 {
					return nil, portal.ProblemCSV
				}
				rr.buf, line = append(rr.buf, line[:i]...), line[i+1:]
				if len(line) == 0 || line[0] != '"' {
					break
				}
				rr.buf, line = append(rr.buf, '"'), line[1:]
			}
			if len(line) > 0 && line[0] != rr.comma {
				return nil, portal.ProblemQuote
			}
		} else {
			i := bytes.IndexByte(line, rr.comma)
			if i < 0 {
				i = len(line)
			}
			if bytes.IndexByte(line[:i], '"') >= 0 {
				return nil, portal.ProblemQuote
			}
			rr.buf, line = append(rr.buf, line[:i]...), line[i:]
		}
		rr.ends = append(rr.ends, len(rr.buf))
		if len(line) == 0 {
			break
		}
		line = line[1:] // the separator
	}
	s, from := string(rr.buf), 0
	for _, to := range rr.ends {
		rr.rec, from = append(rr.rec, s[from:to]), to
	}
	return rr.rec, ""
}

// ImportRollAs implements portal.RollAdmin: ImportRoll for an admin.
func (s *Office) ImportRollAs(ctx context.Context, token string, r io.Reader, progress func(portal.ImportReport)) (portal.ImportReport, error) {
	a, err := s.agent(ctx, token, portal.RoleAdmin)
	if err == nil {
		err = central(a)
	}
	if err != nil {
		return portal.ImportReport{}, err
	}
	return s.importRoll(ctx, agentActor(a), r, progress)
}

// numicKey packs a NUMIC (digits, up to 12) and its length into a number:
// a map of numbers holds 2 million NUMICs in a few tens of megabytes.
func numicKey(n string) uint64 {
	v, _ := strconv.ParseUint(n, 10, 64)
	return v<<4 | uint64(len(n))
}

func checkHeader(header string, comma rune) error {
	cr := csv.NewReader(strings.NewReader(header))
	cr.Comma = comma
	cols, err := cr.Read()
	if err != nil {
		return fmt.Errorf("%w: %w", portal.ErrRollHeader, err)
	}
	if len(cols) != len(rollColumns) {
		return fmt.Errorf("%w: the header has %d columns; want %d: %s", portal.ErrRollHeader, len(cols), len(rollColumns), strings.Join(rollColumns, ";"))
	}
	for i, c := range cols {
		if fold(c) != fold(rollColumns[i]) {
			return fmt.Errorf("%w: column %d is %q; want %q (columns: %s)", portal.ErrRollHeader, i+1, c, rollColumns[i], strings.Join(rollColumns, ";"))
		}
	}
	return nil
}

// fold compares column names without case, accents or extra spaces.
func fold(s string) string {
	r := strings.NewReplacer("é", "e", "É", "e", "è", "e", "ê", "e")
	return strings.Join(strings.Fields(strings.ToLower(r.Replace(strings.TrimSpace(s)))), " ")
}

// rollLine checks one line and returns the voter it describes, or the
// first problem found.
func (s *core) rollLine(rec []string, line int) (Voter, *portal.ImportProblem) {
	bad := func(col string, code portal.ProblemCode, n int, reason string) (Voter, *portal.ImportProblem) {
		return Voter{}, &portal.ImportProblem{Line: line, Column: col, Code: code, N: n, Reason: reason}
	}
	if len(rec) != len(rollColumns) {
		return bad("", portal.ProblemColumns, len(rec), fmt.Sprintf("%d columns instead of %d", len(rec), len(rollColumns)))
	}
	for i, f := range rec {
		if !utf8.ValidString(f) {
			return bad(rollColumns[i], portal.ProblemNotUTF8, 0, "text that is not UTF-8")
		}
		// A NUL cannot be stored by PostgreSQL, and no name or address
		// holds a control character: refused here, line by line, rather
		// than failing a whole batch.
		if strings.ContainsFunc(f, unicode.IsControl) {
			return bad(rollColumns[i], portal.ProblemControl, 0, "control (invisible) character in the text")
		}
	}
	v := Voter{
		NUMIC: portal.NormalizeNUMIC(rec[0]), LastName: strings.TrimSpace(rec[1]), FirstNames: strings.TrimSpace(rec[2]),
		Email: portal.NormalizeEmail(rec[3]), Mobile: portal.NormalizeMobile(rec[4]), Circonscription: strings.TrimSpace(rec[5]), Lang: "fr",
	}
	switch {
	case v.NUMIC == "":
		return bad("NUMIC", portal.ProblemMissing, 0, "NUMIC missing")
	case !portal.ValidNUMIC(v.NUMIC, s.numic):
		return bad("NUMIC", portal.ProblemFormat, 0, "invalid NUMIC (digits only, 6 to 12)")
	case v.LastName == "":
		return bad("nom", portal.ProblemMissing, 0, "last name missing")
	case len(v.LastName) > 100:
		return bad("nom", portal.ProblemTooLong, 100, "last name too long (100 characters at most)")
	case v.FirstNames == "":
		return bad("prénoms", portal.ProblemMissing, 0, "first names missing")
	case len(v.FirstNames) > 150:
		return bad("prénoms", portal.ProblemTooLong, 150, "first names too long (150 characters at most)")
	case v.Email == "":
		return bad("adresse électronique", portal.ProblemMissing, 0, "e-mail address missing")
	case !portal.ValidEmail(v.Email):
		return bad("adresse électronique", portal.ProblemFormat, 0, "invalid e-mail address")
	case v.Mobile == "":
		return bad("mobile", portal.ProblemMissing, 0, "mobile number missing")
	case !portal.ValidMobile(v.Mobile):
		return bad("mobile", portal.ProblemFormat, 0, "invalid mobile number (international format expected, e.g. +33612345678)")
	case v.Circonscription == "":
		return bad("circonscription", portal.ProblemMissing, 0, "circonscription missing")
	case len(v.Circonscription) > 100:
		return bad("circonscription", portal.ProblemTooLong, 100, "circonscription too long (100 characters at most)")
	}
	return v, nil
}

// storeBatch stores one batch in one transaction and returns how many
// voters it inserted, updated and left unchanged, and the lines that
// differ from an e-mail or mobile the desk set, which it keeps (the store
// keeps them too, whatever commits meanwhile: Roll.UpdateRollData).
func (s *core) storeBatch(ctx context.Context, actor string, batch []Voter, lines []int) (ins, upd, same int, diffs []portal.ImportDifference, err error) {
	numics := make([]string, len(batch))
	for i, v := range batch {
		numics[i] = v.NUMIC
	}
	now := s.clock.Now()
	err = s.store.Update(ctx, func(tx Tx) error {
		ins, upd, same, diffs = 0, 0, 0, nil
		existing, err := tx.VotersByNUMIC(numics)
		if err != nil {
			return err
		}
		var fresh []Voter
		// Audited after the batch's writes.
		var kept []AuditEntry
		for i, v := range batch {
			old, ok := existing[v.NUMIC]
			if !ok {
				fresh = append(fresh, v)
				ins++
				continue
			}
			changed, clear, d, k := rollChanges(old, v, lines[i], actor, now)
			diffs, kept = append(diffs, d...), append(kept, k...)
			if changed || clear {
				v.ID = old.ID
				if err := tx.UpdateRollData(v); err != nil {
					return err
				}
			}
			if changed {
				upd++
			} else {
				same++
			}
		}
		if err := tx.InsertVoters(fresh); err != nil {
			return err
		}
		if err := s.auditAll(tx, kept...); err != nil {
			return err
		}
		if ins+upd == 0 {
			return nil
		}
		return s.audit(tx, AuditEntry{At: now, Actor: actor, Action: "roll.batch",
			Detail: facts("first", strconv.Itoa(lines[0]), "last", strconv.Itoa(lines[len(lines)-1]),
				"inserted", strconv.Itoa(ins), "updated", strconv.Itoa(upd))})
	})
	if err != nil {
		return 0, 0, 0, nil, fmt.Errorf("roll batch at line %d: %w", lines[0], err)
	}
	return ins, upd, same, diffs, nil
}

// rollChanges compares voter v of the roll (at line) with old, as stored:
// changed if the roll changes a field, clear if it now agrees with a
// contact the desk set (its mark ends); a contact the desk set that the
// roll contradicts is kept, and returned as a difference with its audit
// entry.
func rollChanges(old, v Voter, line int, actor string, now time.Time) (changed, clear bool, diffs []portal.ImportDifference, kept []AuditEntry) {
	changed = old.LastName != v.LastName || old.FirstNames != v.FirstNames || old.Circonscription != v.Circonscription
	for _, f := range []struct {
		field, column, old, roll string
		byDesk                   time.Time
	}{{"email", rollColumns[3], old.Email, v.Email, old.EmailByDesk}, {"mobile", rollColumns[4], old.Mobile, v.Mobile, old.MobileByDesk}} {
		switch {
		case f.byDesk.IsZero():
			changed = changed || f.old != f.roll
		case f.old == f.roll:
			clear = true
		default:
			diffs = append(diffs, portal.ImportDifference{Line: line, NUMIC: v.NUMIC, Column: f.column,
				Kept: f.old, Roll: f.roll, Since: f.byDesk})
			kept = append(kept, AuditEntry{At: now, Actor: actor, Action: "roll.difference_kept", VoterID: old.ID,
				Detail: facts("field", f.field, "kept", f.old, "roll", f.roll, "since", stamp(f.byDesk))})
		}
	}
	return changed, clear, diffs, kept
}
