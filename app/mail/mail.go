// Package mail composes the messages the portal sends, in French or
// English: e-mails with a plain-text and an HTML part, as complete RFC 5322
// messages ready to queue, and SMS texts. Sending them is the outbox's job.
//
// Each message is written once per language, in templates/ (embedded): a
// "Subject:" line, a blank line, then paragraphs separated by blank
// lines. The text part is that body; the HTML part is made from the same
// source, one <p> per paragraph. In a body, {{link .URL}} is the URL in the
// text and a link in the HTML, {{strong .X}} bold in the HTML only.
package mail

import (
	"bytes"
	"errors"
	"fmt"
	netmail "net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jordan-wright/email"
)

// Letterhead is what every message carries: who sends it and in whose
// name, in the message's language.
type Letterhead struct {
	// From is the sender, e.g.
	// "MEAE Administration de l'élection consulaire <administration@example.org>".
	From string
	// Label prefixes every subject, by language: {"fr": "Test du vote par
	// internet", "en": "Internet voting test"}. A language it does not
	// name (or names with "") gets the templates' words
	// (templates/letterhead.LANG.head: "Élection consulaire", "Consular
	// election").
	Label map[string]string
	// Signature closes every message, by language, likewise
	// ("Ministère de l'Europe et des Affaires étrangères", "Ministry for
	// Europe and Foreign Affairs").
	Signature map[string]string
}

// Validate checks that the sender parses as an address, and each label
// and signature.
func (l Letterhead) Validate() error {
	if _, err := netmail.ParseAddress(l.From); err != nil {
		return fmt.Errorf("mail: sender %q: %w", l.From, err)
	}
	for _, words := range []struct {
		what  string
		by    map[string]string
		check func(string) error
	}{{"label", l.Label, CheckLabel}, {"signature", l.Signature, CheckSignature}} {
		for lang, v := range words.by {
			if !slices.Contains(Languages, lang) {
				return fmt.Errorf("mail: %s in %q: the messages are written in %s", words.what, lang, strings.Join(Languages, " and "))
			}
			if err := words.check(v); v != "" && err != nil {
				return fmt.Errorf("mail: %s (%s): %w", words.what, lang, err)
			}
		}
	}
	return nil
}

// MaxLabel and MaxSignature bound a label and a signature, in characters:
// the label goes before every subject, and both stay one line.
const (
	MaxLabel     = 60
	MaxSignature = 120
)

// CheckLabel checks a subject's label: one line of at most MaxLabel
// characters, no control character (a line break in a subject would
// start a header of its own).
func CheckLabel(s string) error { return checkLine(s, MaxLabel) }

// CheckSignature checks a signature: one line of at most MaxSignature
// characters.
func CheckSignature(s string) error { return checkLine(s, MaxSignature) }

func checkLine(s string, max int) error {
	switch {
	case strings.TrimSpace(s) == "":
		return errors.New("empty")
	case !utf8.ValidString(s):
		return errors.New("not UTF-8 text")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		return errors.New("one line, without control characters")
	case utf8.RuneCountInString(s) > max:
		return fmt.Errorf("%d characters, more than %d", utf8.RuneCountInString(s), max)
	}
	return nil
}

// Words returns the label and the signature of a message in lang.
func (l Letterhead) Words(lang string) (label, signature string) {
	lang = language(lang)
	h := messages.heads[lang]
	label, signature = h.label, h.signature
	if v := l.Label[lang]; v != "" {
		label = v
	}
	if v := l.Signature[lang]; v != "" {
		signature = v
	}
	return label, signature
}

// Message is a composed e-mail.
type Message struct {
	To        string
	Subject   string
	MessageID string // its Message-Id header, "<…@…>"
	Raw       []byte // the whole RFC 5322 message
}

// Envelope says where and when a message goes. MessageID must be unique
// (random); the domain is taken from the sender.
type Envelope struct {
	To        string
	Lang      string // "fr" (default) or "en"
	Date      time.Time
	MessageID string
}

// RenewalLink composes the e-mail of screen E4: the single-use link that
// leads to a new identifier.
func (l Letterhead) RenewalLink(env Envelope, link string, expires time.Time) (Message, error) {
	return l.compose(env, "renewal-link", map[string]any{
		"Link":    link,
		"Expires": expires,
	})
}

// IdentifierChanged composes the notice sent after a renewal. It holds no
// secret: it only says that the identifier changed and whom to call if the
// voter did not ask for it.
func (l Letterhead) IdentifierChanged(env Envelope) (Message, error) {
	return l.compose(env, "identifier-changed", nil)
}

// FirstCredentials composes the e-mail that gives a voter its identifier,
// with the NUMIC recalled (the help pages send voters back to it). The
// password goes separately, by SMS.
func (l Letterhead) FirstCredentials(env Envelope, identifier, numic string) (Message, error) {
	return l.compose(env, "first-credentials", map[string]any{"Identifier": identifier, "NUMIC": numic})
}

// PasswordChanged composes the notice sent after a password renewal. It
// holds no secret: the password itself went by SMS.
func (l Letterhead) PasswordChanged(env Envelope) (Message, error) {
	return l.compose(env, "password-changed", nil)
}

// The reasons a renewal request is refused (RenewalRefused).
const (
	RefusedConflict    = "conflict"     // the other credential's renewal is pending or recent
	RefusedRateLimited = "rate_limited" // too many requests for the NUMIC
	RefusedLocked      = "locked"       // too many wrong passwords or codes
)

// RenewalRefused composes the e-mail that tells a voter, at the address on
// file, that a renewal of what ("identifier" or "password") was asked
// for but refused, why, and from when to try again (until; zero while a
// renewal is pending). The screen answers every request alike, so that it
// tells nobody whether the data matched: this e-mail is how the voter
// learns of the refusal. It holds no secret.
func (l Letterhead) RenewalRefused(env Envelope, what, reason string, until time.Time) (Message, error) {
	data := map[string]any{"Password": what == "password", "Reason": reason, "Until": ""}
	if !until.IsZero() {
		data["Until"] = until.UTC().Format("02/01/2006 15:04 UTC")
	}
	return l.compose(env, "renewal-refused", data)
}

// Reasons of an AgentAlert.
const (
	AlertSlowed      = "slowed"       // count failures in a row: the name's logins slowed down
	AlertCodesLocked = "codes_locked" // count wrong one-time codes with the right password
)

// AgentAlert tells an agent that the logins to its account name were
// slowed down (until the next try) or its one-time codes locked.
func (l Letterhead) AgentAlert(env Envelope, name, reason string, count int, until time.Time) (Message, error) {
	return l.compose(env, "agent-alert", map[string]any{"Name": name, "Reason": reason, "Count": count,
		"Until": until.UTC().Format("02/01/2006 15:04:05 UTC")})
}

// PasswordSMS is the text of the SMS that carries a new password.
func PasswordSMS(lang, password string) string {
	var b strings.Builder
	// The template is checked at start and takes one string: it cannot fail.
	_ = messages.sms("password", lang).Execute(&b, map[string]any{"Password": password})
	return b.String()
}

func (l Letterhead) compose(env Envelope, name string, data map[string]any) (Message, error) {
	t := messages.email(name, env.Lang)
	if data == nil {
		data = map[string]any{}
	}
	label, signature := l.Words(env.Lang)
	data["Signature"] = signature
	if exp, ok := data["Expires"].(time.Time); ok {
		data["Expires"] = exp.UTC().Format("02/01/2006 15:04 UTC")
	}

	var text, html bytes.Buffer
	if err := t.text.Execute(&text, data); err != nil {
		return Message{}, fmt.Errorf("mail: %s: text part: %w", name, err)
	}
	if err := t.html.Execute(&html, data); err != nil {
		return Message{}, fmt.Errorf("mail: %s: html part: %w", name, err)
	}

	// A paragraph whose condition is false leaves nothing behind.
	textPart := emptyParagraphs.ReplaceAll(text.Bytes(), []byte("\n\n"))
	htmlPart := bytes.ReplaceAll(html.Bytes(), []byte("<p></p>\n"), nil)

	subject := label + " – " + t.subject
	e := email.NewEmail()
	e.From = l.From
	e.To = []string{env.To}
	e.Subject = subject
	e.Text = textPart
	e.HTML = htmlPart
	e.Headers.Set("Date", env.Date.Format(time.RFC1123Z))
	messageID := "<" + env.MessageID + "@" + l.domain() + ">"
	e.Headers.Set("Message-Id", messageID)
	e.Headers.Set("Auto-Submitted", "auto-generated") // RFC 3834: no replies
	raw, err := e.Bytes()
	if err != nil {
		return Message{}, fmt.Errorf("mail: compose: %w", err)
	}
	return Message{To: env.To, Subject: subject, MessageID: messageID, Raw: raw}, nil
}

var emptyParagraphs = regexp.MustCompile(`\n{3,}`)

func (l Letterhead) domain() string {
	if a, err := netmail.ParseAddress(l.From); err == nil {
		if _, d, ok := strings.Cut(a.Address, "@"); ok {
			return d
		}
	}
	return "consulvote.invalid"
}
