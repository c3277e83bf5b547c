package mail

import (
	"bytes"
	stdhtml "html"
	"mime"
	netmail "net/mail"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

var head = Letterhead{
	From:  "MEAE Administration de l'élection consulaire <administration@vote.example>",
	Label: map[string]string{"fr": "Test du vote par internet", "en": "Internet voting test"},
}

// signature is the templates' signature in lang.
func signature(lang string) string {
	_, s := head.Words(lang)
	return s
}

// parts parses raw and returns its header, decoded subject and parts.
func parts(t *testing.T, raw []byte) (*netmail.Message, string, map[string]string) {
	t.Helper()
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatalf("not an RFC 5322 message: %v", err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil {
		t.Fatal(err)
	}
	if mt, _, err := mime.ParseMediaType(m.Header.Get("Content-Type")); err != nil || !strings.HasPrefix(mt, "multipart/") {
		t.Fatalf("Content-Type %q: want multipart (%v)", mt, err)
	}
	text, html, err := Parts(raw)
	if err != nil {
		t.Fatal(err)
	}
	return m, subject, map[string]string{"text/plain": text, "text/html": html}
}

func TestRenewalLink(t *testing.T) {
	link := "https://vote.example/renouvellement?jeton=AAAABBBBCCCCDDDDEEEEFFFFGGGGHHHHIIIIJJJJKKK"
	date := time.Date(2026, 5, 6, 17, 25, 0, 0, time.UTC)
	for _, tc := range []struct {
		lang, subject, greeting string
	}{
		{"fr", "Test du vote par internet – Identifiant oublié", "Suite à votre demande de renouvellement de votre identifiant"},
		{"", "Test du vote par internet – Identifiant oublié", "Ceci est un message automatique. Merci de ne pas y répondre."},
		{"en", "Internet voting test – Forgotten identifier", "Following your request to renew your identifier"},
	} {
		msg, err := head.RenewalLink(Envelope{To: "marie@example.org", Lang: tc.lang, Date: date, MessageID: "abc123"}, link, date.Add(time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		m, subject, ps := parts(t, msg.Raw)
		if subject != tc.subject || msg.Subject != tc.subject {
			t.Errorf("%s: subject %q, want %q", tc.lang, subject, tc.subject)
		}
		if to, err := m.Header.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != "marie@example.org" {
			t.Errorf("To = %v, %v", to, err)
		}
		if got := m.Header.Get("Message-Id"); got != "<abc123@vote.example>" {
			t.Errorf("Message-Id = %q", got)
		}
		if d, err := m.Header.Date(); err != nil || !d.Equal(date) {
			t.Errorf("Date = %v, %v; want %v", d, err, date)
		}
		text, html := ps["text/plain"], ps["text/html"]
		html = stdhtml.UnescapeString(html)
		for name, body := range map[string]string{"text": text, "html": html} {
			if !strings.Contains(body, tc.greeting) {
				t.Errorf("%s %s part lacks %q:\n%s", tc.lang, name, tc.greeting, body)
			}
			if !strings.Contains(body, signature(tc.lang)) {
				t.Errorf("%s %s part lacks the signature", tc.lang, name)
			}
		}
		if !strings.Contains(text, link) {
			t.Errorf("text part lacks the link:\n%s", text)
		}
		if !strings.Contains(html, `href="`+link+`"`) {
			t.Errorf("html part lacks the link as href:\n%s", html)
		}
	}
}

func TestIdentifierChangedHasNoSecretSlot(t *testing.T) {
	msg, err := head.IdentifierChanged(Envelope{To: "a@example.org", Date: time.Now(), MessageID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	_, subject, ps := parts(t, msg.Raw)
	if subject != "Test du vote par internet – Votre identifiant a été renouvelé" {
		t.Errorf("subject %q", subject)
	}
	if !strings.Contains(ps["text/plain"], "L'ancien identifiant ne fonctionne plus") {
		t.Errorf("text part: %s", ps["text/plain"])
	}
}

func TestHTMLEscapesData(t *testing.T) {
	msg, err := head.RenewalLink(Envelope{To: "a@example.org", Date: time.Now(), MessageID: "x"}, `https://x/renouvellement?jeton="><script>`, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	_, _, ps := parts(t, msg.Raw)
	if strings.Contains(ps["text/html"], "<script>") {
		t.Fatal("html part holds an unescaped script tag")
	}
}

func TestLetterheadValidate(t *testing.T) {
	if err := head.Validate(); err != nil {
		t.Fatal(err)
	}
	if err := (Letterhead{From: "not an address"}).Validate(); err == nil {
		t.Fatal("Validate accepted a bad sender")
	}
}

func TestPasswordMessages(t *testing.T) {
	msg, err := head.PasswordChanged(Envelope{To: "a@example.org", Lang: "en", Date: time.Now(), MessageID: "x"})
	if err != nil {
		t.Fatal(err)
	}
	_, subject, ps := parts(t, msg.Raw)
	if subject != "Internet voting test – Your password has been renewed" || !strings.Contains(ps["text/plain"], "sent to you by SMS") {
		t.Errorf("notice: %q\n%s", subject, ps["text/plain"])
	}
	for lang, want := range map[string]string{"fr": "votre nouveau mot de passe", "en": "your new password", "": "votre nouveau mot de passe"} {
		sms := PasswordSMS(lang, "Ab3dEf6hIj9k")
		if !strings.Contains(sms, want) || !strings.Contains(sms, " Ab3dEf6hIj9k ") {
			t.Errorf("%s SMS: %q", lang, sms)
		}
		if len([]rune(sms)) > 160*2 {
			t.Errorf("%s SMS is %d characters, more than two SMS", lang, len([]rune(sms)))
		}
	}
}

// visible returns what a reader sees of an HTML part: the text without
// tags and entities, spaces collapsed.
func visible(h string) string {
	var b strings.Builder
	in := false
	for _, r := range h {
		switch {
		case r == '<':
			in = true
		case r == '>':
			in = false
			b.WriteByte(' ')
		case !in:
			b.WriteRune(r)
		}
	}
	return strings.Join(strings.Fields(stdhtml.UnescapeString(b.String())), " ")
}

// TestHTMLFromTheSameSource: for every e-mail in every language, the HTML
// part says exactly what the text part says.
func TestHTMLFromTheSameSource(t *testing.T) {
	env := func(lang string) Envelope {
		return Envelope{To: "a@example.org", Lang: lang, Date: time.Now(), MessageID: "x"}
	}
	for _, lang := range Languages {
		for name, compose := range map[string]func() (Message, error){
			"renewal-link": func() (Message, error) {
				return head.RenewalLink(env(lang), "https://vote.example/renouvellement?jeton=abc&x=1", time.Now())
			},
			"identifier-changed": func() (Message, error) { return head.IdentifierChanged(env(lang)) },
			"password-changed":   func() (Message, error) { return head.PasswordChanged(env(lang)) },
			"first-credentials":  func() (Message, error) { return head.FirstCredentials(env(lang), "Ab3dEf6hIj9k", "00012345") },
		} {
			msg, err := compose()
			if err != nil {
				t.Fatalf("%s.%s: %v", name, lang, err)
			}
			_, _, ps := parts(t, msg.Raw)
			text, html := strings.Join(strings.Fields(ps["text/plain"]), " "), visible(ps["text/html"])
			if text == "" || text != html {
				t.Errorf("%s.%s: the parts differ:\ntext: %s\nhtml: %s", name, lang, text, html)
			}
			if !strings.Contains(ps["text/html"], `<html lang="`+lang+`">`) {
				t.Errorf("%s.%s: the HTML part does not say its language", name, lang)
			}
			if strings.Contains(ps["text/plain"], "<") || strings.Contains(ps["text/plain"], "{{") {
				t.Errorf("%s.%s: markup in the text part:\n%s", name, lang, ps["text/plain"])
			}
		}
	}
}

func TestLoadRefusesAnIncompleteCatalog(t *testing.T) {
	good := "Subject: S\n\nBody {{.Signature}}\n"
	const goodHead = "Label: L\nSignature: S\n"
	// heads adds the good letterheads that files lacks.
	heads := func(files fstest.MapFS) fstest.MapFS {
		for _, lang := range Languages {
			if _, ok := files["templates/letterhead."+lang+".head"]; !ok {
				files["templates/letterhead."+lang+".head"] = &fstest.MapFile{Data: []byte(goodHead)}
			}
		}
		return files
	}
	for name, files := range map[string]fstest.MapFS{
		"no English letterhead":        {"templates/letterhead.fr.head": {Data: []byte(goodHead)}},
		"letterhead without signature": heads(fstest.MapFS{"templates/letterhead.fr.head": {Data: []byte("Label: L\n")}}),
		"letterhead, unknown line":     heads(fstest.MapFS{"templates/letterhead.en.head": {Data: []byte(goodHead + "Motto: M\n")}}),
		"letterhead on two lines":      heads(fstest.MapFS{"templates/letterhead.en.head": {Data: []byte("Label: L\nS\nSignature: S\n")}}),
		"another .head":                heads(fstest.MapFS{"templates/footer.fr.head": {Data: []byte(goodHead)}, "templates/footer.en.head": {Data: []byte(goodHead)}}),
		"no English":                   {"templates/a.fr.tmpl": {Data: []byte(good)}},
		"no subject":                   {"templates/a.fr.tmpl": {Data: []byte("Body\n")}, "templates/a.en.tmpl": {Data: []byte(good)}},
		"bad template":                 {"templates/a.fr.tmpl": {Data: []byte("Subject: S\n\n{{.X")}, "templates/a.en.tmpl": {Data: []byte(good)}},
		"unknown kind":                 {"templates/a.fr.txt": {Data: []byte(good)}},
		"no language":                  {"templates/a.tmpl": {Data: []byte(good)}},
		"SMS in one":                   {"templates/p.fr.sms": {Data: []byte("x")}},
		"two-line title":               {"templates/a.fr.tmpl": {Data: []byte("Subject: S\nX\n\nB")}, "templates/a.en.tmpl": {Data: []byte(good)}},
	} {
		if _, err := load(files); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
	c, err := load(fstest.MapFS{"templates/a.fr.tmpl": {Data: []byte(good)}, "templates/a.en.tmpl": {Data: []byte(good)},
		"templates/letterhead.fr.head": {Data: []byte(goodHead)}, "templates/letterhead.en.head": {Data: []byte(goodHead)}})
	if err != nil || c.email("a", "de").subject != "S" {
		t.Errorf("a complete catalog: %v; an unknown language must fall back to French", err)
	}
}

// TestLetterheadByLanguage: the subject's label and the signature are in
// the message's language — the templates' words unless the configuration
// gives its own for that language.
func TestLetterheadByLanguage(t *testing.T) {
	from := "MEAE <administration@vote.example>"
	for _, tc := range []struct {
		name                string
		l                   Letterhead
		lang                string
		subject, signed, no string
	}{
		{"default, fr", Letterhead{From: from}, "fr", "Élection consulaire – Identifiant oublié",
			"Ministère de l'Europe et des Affaires étrangères", "Ministry"},
		{"default, en", Letterhead{From: from}, "en", "Consular election – Forgotten identifier",
			"Ministry for Europe and Foreign Affairs", "Élection"},
		{"default, unknown language", Letterhead{From: from}, "de", "Élection consulaire – Identifiant oublié",
			"Ministère de l'Europe", "Ministry"},
		{"English set, French default", Letterhead{From: from, Label: map[string]string{"en": "Consular elections 2026"}}, "fr",
			"Élection consulaire – Identifiant oublié", "Ministère", "Consular"},
		{"English set", Letterhead{From: from, Label: map[string]string{"en": "Consular elections 2026"},
			Signature: map[string]string{"en": "Consulate General of France in London"}}, "en",
			"Consular elections 2026 – Forgotten identifier", "Consulate General of France in London", "Ministry"},
		{"empty means the default", Letterhead{From: from, Label: map[string]string{"fr": ""}}, "fr",
			"Élection consulaire – Identifiant oublié", "Ministère", "–  –"},
	} {
		if err := tc.l.Validate(); err != nil {
			t.Errorf("%s: %v", tc.name, err)
		}
		msg, err := tc.l.RenewalLink(Envelope{To: "a@example.org", Lang: tc.lang, Date: time.Now(), MessageID: "x"},
			"https://vote.example/renouvellement?jeton=abc", time.Now())
		if err != nil {
			t.Fatal(err)
		}
		_, subject, ps := parts(t, msg.Raw)
		if subject != tc.subject {
			t.Errorf("%s: subject %q, want %q", tc.name, subject, tc.subject)
		}
		for part, body := range ps {
			body = stdhtml.UnescapeString(body)
			if !strings.Contains(body, tc.signed) || strings.Contains(body, tc.no) {
				t.Errorf("%s: %s part signed wrongly (want %q, not %q):\n%s", tc.name, part, tc.signed, tc.no, body)
			}
		}
	}
	for name, l := range map[string]Letterhead{
		"a second header":      {From: from, Label: map[string]string{"fr": "Élection\r\nBcc: everyone@example.org"}},
		"a line break":         {From: from, Signature: map[string]string{"en": "Ministry\nof nothing"}},
		"an unknown language":  {From: from, Label: map[string]string{"de": "Konsularwahl"}},
		"a label too long":     {From: from, Label: map[string]string{"en": strings.Repeat("é", MaxLabel+1)}},
		"a signature too long": {From: from, Signature: map[string]string{"fr": strings.Repeat("x", MaxSignature+1)}},
		"blank":                {From: from, Label: map[string]string{"fr": "   "}},
		"not UTF-8":            {From: from, Label: map[string]string{"fr": "\xff"}},
	} {
		if err := l.Validate(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}
