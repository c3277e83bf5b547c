package screens

import (
	"regexp"
	"strconv"
	"strings"

	"fyne.io/fyne/v2/lang"
)

// codeLabel is the translation of a code the service records — an audit
// action, a message's kind, state or channel — under prefix ("action.",
// "kind.", "state.", "channel."); a code the translations do not know yet
// is shown as it is rather than hidden.
func codeLabel(prefix, code string) string {
	key := prefix + code
	if t := lang.L(key); t != key {
		return t
	}
	return code
}

// actorLabel names who did something in the audit log: "voter:12" is
// Électeur n° 12, "agent:alice" Agent alice, "system" Système.
func actorLabel(actor string) string {
	if id, ok := strings.CutPrefix(actor, "voter:"); ok {
		return lang.X("actor.voter", "", map[string]any{"ID": id})
	}
	if name, ok := strings.CutPrefix(actor, "agent:"); ok {
		return lang.X("actor.agent", "", map[string]any{"Name": name})
	}
	return codeLabel("actor.", actor)
}

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
