package screens

import (
	"regexp"
	"strconv"
	"strings"

	"fyne.io/fyne/v2/lang"
)

// frenchMonths are the month names an election line may be written with
// ("Mai 2026", the seeds' form).
var frenchMonths = []string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août",
	"septembre", "octobre", "novembre", "décembre"}

var monthYear = regexp.MustCompile(`^(\p{L}+) (\d{4})$`)
var yearMonth = regexp.MustCompile(`^(\d{4})-(\d{2})$`)

// electionLine writes the election's date line in the UI's language: a
// month and year given as "2026-05" or in French ("Mai 2026") is shown
// "Mai 2026" in French and "May 2026" in English; anything else as is.
func electionLine(s string) string {
	month, year := 0, ""
	if m := yearMonth.FindStringSubmatch(s); m != nil {
		month, _ = strconv.Atoi(m[2])
		year = m[1]
	} else if m := monthYear.FindStringSubmatch(s); m != nil {
		for i, name := range frenchMonths {
			if strings.EqualFold(m[1], name) {
				month, year = i+1, m[2]
			}
		}
	}
	if month < 1 || month > 12 {
		return s
	}
	return lang.L("month."+strconv.Itoa(month)) + " " + year
}
