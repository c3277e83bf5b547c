package service

import (
	"bufio"
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
func (s *Service) ImportRoll(ctx context.Context, actor string, r io.Reader, progress func(portal.ImportReport)) (portal.ImportReport, error) {
	start := time.Now()
	var rep portal.ImportReport
	rr, err := s.newRollReader(r)
	if err != nil {
		return rep, err
	}
	batch := make([]Voter, 0, ImportBatch)
	lines := make([]int, 0, ImportBatch)
	// store stores the batch, or marks the import cancelled when ctx has
	// ended (before the batch, or inside it: then it was rolled back whole).
	store := func() error {
		if ctx.Err() != nil {
			rep.Cancelled = true
			return nil
		}
		if len(batch) == 0 {
			return nil
		}
		ins, upd, same, diffs, err := s.storeBatch(ctx, actor, batch, lines)
		if err != nil {
			if ctx.Err() != nil {
				rep.Cancelled = true
				return nil
			}
			return err
		}
		rep.Differences = append(rep.Differences, diffs...)
		rep.Inserted += ins
		rep.Updated += upd
		rep.Unchanged += same
		batch, lines = batch[:0], lines[:0]
		rep.Elapsed = time.Since(start)
		if progress != nil {
			progress(rep)
		}
		return nil
	}
	for !rep.Cancelled {
		v, prob, err := rr.next()
		if errors.Is(err, io.EOF) {
			if err := store(); err != nil {
				return rep, err
			}
			break
		}
		if err != nil {
			return rep, err
		}
		rep.Lines++
		if prob != nil {
			rep.Problems = append(rep.Problems, *prob)
			continue
		}
		batch, lines = append(batch, v), append(lines, rr.line)
		if len(batch) == ImportBatch {
			if err := store(); err != nil {
				return rep, err
			}
		}
	}
	rep.Elapsed = time.Since(start)
	return rep, s.auditImport(ctx, actor, rep)
}

// auditImport records the import's outcome, even when it was cancelled.
func (s *Service) auditImport(ctx context.Context, actor string, rep portal.ImportReport) error {
	now := s.clock.Now()
	return s.store.Update(context.WithoutCancel(ctx), func(tx Tx) error {
		return s.audit(tx, AuditEntry{At: now, Actor: actor, Action: "roll.imported", Detail: facts(
			"lines", strconv.Itoa(rep.Lines), "inserted", strconv.Itoa(rep.Inserted), "updated", strconv.Itoa(rep.Updated),
			"unchanged", strconv.Itoa(rep.Unchanged), "refused", strconv.Itoa(len(rep.Problems)),
			"kept_count", strconv.Itoa(len(rep.Differences)), "cancelled", strconv.FormatBool(rep.Cancelled))})
	})
}

// rollReader reads a roll file: its header when made, then each line as a
// voter or as the problem found in it.
type rollReader struct {
	s    *Service
	cr   *csv.Reader
	seen map[uint64]int32 // NUMIC → line, for duplicates in the file
	line int              // of the line last read, counting the header as 1
}

// newRollReader reads and checks the header, and guesses the separator
// from it.
func (s *Service) newRollReader(r io.Reader) (*rollReader, error) {
	br := bufio.NewReaderSize(r, 1<<20)
	header, err := br.ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%w: %w", portal.ErrRollUnreadable, err)
	}
	header = strings.TrimPrefix(strings.TrimRight(header, "\r\n"), "\uFEFF")
	comma := ';'
	if strings.Count(header, ",") > strings.Count(header, ";") {
		comma = ','
	}
	if err := checkHeader(header, comma); err != nil {
		return nil, err
	}
	cr := csv.NewReader(br)
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	return &rollReader{s: s, cr: cr, seen: map[uint64]int32{}, line: 1}, nil
}

// next returns the next line's voter, or the problem found in it; io.EOF
// after the last line, ErrRollUnreadable when the file fails.
func (rr *rollReader) next() (Voter, *portal.ImportProblem, error) {
	rec, err := rr.cr.Read()
	if errors.Is(err, io.EOF) {
		return Voter{}, nil, io.EOF
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			rr.line = pe.StartLine + 1
			return Voter{}, &portal.ImportProblem{Line: rr.line, Code: portal.ProblemCSV, Reason: "ligne CSV mal formée (guillemets)"}, nil
		}
		return Voter{}, nil, fmt.Errorf("%w: line %d: %w", portal.ErrRollUnreadable, rr.line+1, err)
	}
	// The reader counts from the first line after the header; a quoted
	// field may span lines.
	pl, _ := rr.cr.FieldPos(0)
	rr.line = pl + 1
	v, prob := rr.s.rollLine(rec, rr.line)
	if prob != nil {
		return Voter{}, prob, nil
	}
	key := numicKey(v.NUMIC)
	if first, dup := rr.seen[key]; dup {
		return Voter{}, &portal.ImportProblem{Line: rr.line, Column: "NUMIC", Code: portal.ProblemDuplicate, N: int(first),
			Reason: fmt.Sprintf("NUMIC en double (déjà ligne %d)", first)}, nil
	}
	rr.seen[key] = int32(rr.line)
	return v, nil, nil
}

// ImportRollAs implements portal.RollAdmin: ImportRoll for an admin.
func (s *Service) ImportRollAs(ctx context.Context, token string, r io.Reader, progress func(portal.ImportReport)) (portal.ImportReport, error) {
	a, err := s.agent(ctx, token, portal.RoleAdmin)
	if err != nil {
		return portal.ImportReport{}, err
	}
	return s.ImportRoll(ctx, agentActor(a), r, progress)
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
func (s *Service) rollLine(rec []string, line int) (Voter, *portal.ImportProblem) {
	bad := func(col string, code portal.ProblemCode, n int, reason string) (Voter, *portal.ImportProblem) {
		return Voter{}, &portal.ImportProblem{Line: line, Column: col, Code: code, N: n, Reason: reason}
	}
	if len(rec) != len(rollColumns) {
		return bad("", portal.ProblemColumns, len(rec), fmt.Sprintf("%d colonnes au lieu de %d", len(rec), len(rollColumns)))
	}
	for i, f := range rec {
		if !utf8.ValidString(f) {
			return bad(rollColumns[i], portal.ProblemNotUTF8, 0, "texte qui n'est pas en UTF-8")
		}
		// A NUL cannot be stored by PostgreSQL, and no name or address
		// holds a control character: refused here, line by line, rather
		// than failing a whole batch.
		if strings.ContainsFunc(f, unicode.IsControl) {
			return bad(rollColumns[i], portal.ProblemControl, 0, "caractère de contrôle (invisible) dans le texte")
		}
	}
	v := Voter{
		NUMIC: portal.NormalizeNUMIC(rec[0]), LastName: strings.TrimSpace(rec[1]), FirstNames: strings.TrimSpace(rec[2]),
		Email: portal.NormalizeEmail(rec[3]), Mobile: portal.NormalizeMobile(rec[4]), Circonscription: strings.TrimSpace(rec[5]), Lang: "fr",
	}
	switch {
	case v.NUMIC == "":
		return bad("NUMIC", portal.ProblemMissing, 0, "NUMIC manquant")
	case !portal.ValidNUMIC(v.NUMIC, s.numic):
		return bad("NUMIC", portal.ProblemFormat, 0, "NUMIC invalide (chiffres uniquement, de 6 à 12)")
	case v.LastName == "":
		return bad("nom", portal.ProblemMissing, 0, "nom manquant")
	case len(v.LastName) > 100:
		return bad("nom", portal.ProblemTooLong, 100, "nom trop long (100 caractères au plus)")
	case v.FirstNames == "":
		return bad("prénoms", portal.ProblemMissing, 0, "prénoms manquants")
	case len(v.FirstNames) > 150:
		return bad("prénoms", portal.ProblemTooLong, 150, "prénoms trop longs (150 caractères au plus)")
	case v.Email == "":
		return bad("adresse électronique", portal.ProblemMissing, 0, "adresse électronique manquante")
	case !portal.ValidEmail(v.Email):
		return bad("adresse électronique", portal.ProblemFormat, 0, "adresse électronique invalide")
	case v.Mobile == "":
		return bad("mobile", portal.ProblemMissing, 0, "numéro de mobile manquant")
	case !portal.ValidMobile(v.Mobile):
		return bad("mobile", portal.ProblemFormat, 0, "numéro de mobile invalide (format international attendu, ex. +33612345678)")
	case v.Circonscription == "":
		return bad("circonscription", portal.ProblemMissing, 0, "circonscription manquante")
	case len(v.Circonscription) > 100:
		return bad("circonscription", portal.ProblemTooLong, 100, "circonscription trop longue (100 caractères au plus)")
	}
	return v, nil
}

// storeBatch stores one batch in one transaction and returns how many
// voters it inserted, updated and left unchanged, and the lines that
// differ from an e-mail or mobile the desk set, which it keeps (the store
// keeps them too, whatever commits meanwhile: Roll.UpdateRollData).
func (s *Service) storeBatch(ctx context.Context, actor string, batch []Voter, lines []int) (ins, upd, same int, diffs []portal.ImportDifference, err error) {
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
			changed := old.LastName != v.LastName || old.FirstNames != v.FirstNames || old.Circonscription != v.Circonscription
			clear := false // the roll now agrees with the desk: its mark ends
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
					diffs = append(diffs, portal.ImportDifference{Line: lines[i], NUMIC: v.NUMIC, Column: f.column,
						Kept: f.old, Roll: f.roll, Since: f.byDesk})
					kept = append(kept, AuditEntry{At: now, Actor: actor, Action: "roll.difference_kept", VoterID: old.ID,
						Detail: facts("field", f.field, "kept", f.old, "roll", f.roll, "since", stamp(f.byDesk))})
				}
			}
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
