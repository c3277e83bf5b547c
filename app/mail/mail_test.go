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
	From:      "MEAE Administration de l'élection consulaire <administration@vote.example>",
	Label:     "Test du vote par internet",
	Signature: "Ministère de l'Europe et des Affaires étrangères",
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
		{"en", "Test du vote par internet – Forgotten identifier", "Following your request to renew your identifier"},
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
			if !strings.Contains(body, head.Signature) {
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
	if subject != "Test du vote par internet – Your password has been renewed" || !strings.Contains(ps["text/plain"], "sent to you by SMS") {
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
	for name, files := range map[string]fstest.MapFS{
		"no English":     {"templates/a.fr.tmpl": {Data: []byte(good)}},
		"no subject":     {"templates/a.fr.tmpl": {Data: []byte("Body\n")}, "templates/a.en.tmpl": {Data: []byte(good)}},
		"bad template":   {"templates/a.fr.tmpl": {Data: []byte("Subject: S\n\n{{.X")}, "templates/a.en.tmpl": {Data: []byte(good)}},
		"unknown kind":   {"templates/a.fr.txt": {Data: []byte(good)}},
		"no language":    {"templates/a.tmpl": {Data: []byte(good)}},
		"SMS in one":     {"templates/p.fr.sms": {Data: []byte("x")}},
		"two-line title": {"templates/a.fr.tmpl": {Data: []byte("Subject: S\nX\n\nB")}, "templates/a.en.tmpl": {Data: []byte(good)}},
	} {
		if _, err := load(files); err == nil {
			t.Errorf("%s: loaded", name)
		}
	}
	c, err := load(fstest.MapFS{"templates/a.fr.tmpl": {Data: []byte(good)}, "templates/a.en.tmpl": {Data: []byte(good)}})
	if err != nil || c.email("a", "de").subject != "S" {
		t.Errorf("a complete catalog: %v; an unknown language must fall back to French", err)
	}
}
