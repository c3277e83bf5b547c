package servicetest

import (
	"bufio"
	"fmt"
	"io"
)

// Bad is a deliberately wrong roll line: its line number, the column the
// import must name and the start of the reason it must give.
type Bad struct {
	Line   int
	Column string
	Reason string
}

// WriteRoll writes a roll of n data lines (";"-separated, with a header):
// voter i has NUMIC 50000000+i. Every badEvery-th line (0: none) is wrong
// in one of several ways, returned for the test to check.
func WriteRoll(w io.Writer, n, badEvery int) ([]Bad, error) {
	bw := bufio.NewWriterSize(w, 1<<20)
	fmt.Fprintln(bw, "NUMIC;nom;prénoms;adresse électronique;mobile;circonscription")
	var bad []Bad
	for i := range n {
		line := i + 2
		numic, last, first := fmt.Sprintf("%08d", 50_000_000+i), "NOM", "Prénom Deux"
		email, mobile, circ := fmt.Sprintf("votant%d@example.org", i), fmt.Sprintf("+3361%07d", i%10_000_000), "Allemagne"
		if badEvery > 0 && i%badEvery == badEvery-1 {
			switch len(bad) % 6 {
			case 0:
				numic = "12AB" + numic[4:]
				bad = append(bad, Bad{line, "NUMIC", "invalid NUMIC"})
			case 1:
				email = "pas-une-adresse"
				bad = append(bad, Bad{line, "adresse électronique", "invalid e-mail address"})
			case 2:
				mobile = "06 12"
				bad = append(bad, Bad{line, "mobile", "invalid mobile number"})
			case 3:
				last = ""
				bad = append(bad, Bad{line, "nom", "last name missing"})
			case 4:
				fmt.Fprintf(bw, "%s;%s;%s;%s\n", numic, last, first, email)
				bad = append(bad, Bad{line, "", "4 columns instead of 6"})
				continue
			case 5:
				numic = fmt.Sprintf("%08d", 50_000_000+i-1) // the line before's
				bad = append(bad, Bad{line, "NUMIC", "duplicate NUMIC"})
			}
		}
		fmt.Fprintf(bw, "%s;%s;%s;%s;%s;%s\n", numic, last, first, email, mobile, circ)
	}
	return bad, bw.Flush()
}
