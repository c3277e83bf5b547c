// Package mail composes the messages the portal sends, in French or
// English: e-mails with a plain-text and an HTML part, as complete RFC 5322
// messages ready to queue, and SMS texts. Sending them is the outbox's job.
package mail

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	netmail "net/mail"
	"strings"
	"text/template"
	"time"

	"github.com/jordan-wright/email"
)

// Letterhead is what every message carries: who sends it and in whose name.
type Letterhead struct {
	// From is the sender, e.g.
	// "MEAE Administration de l'élection consulaire <administration@example.org>".
	From string
	// Label prefixes every subject, e.g. "Test du vote par internet".
	Label string
	// Signature closes every message, e.g.
	// "Ministère de l'Europe et des Affaires étrangères".
	Signature string
}

// Validate checks that the sender parses as an address.
func (l Letterhead) Validate() error {
	if _, err := netmail.ParseAddress(l.From); err != nil {
		return fmt.Errorf("mail: sender %q: %w", l.From, err)
	}
	return nil
}

// Message is a composed e-mail.
type Message struct {
	To      string
	Subject string
	Raw     []byte // the whole RFC 5322 message
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
	return l.compose(env, renewalLink, map[string]any{
		"Link":    link,
		"Expires": expires,
	})
}

// IdentifierChanged composes the notice sent after a renewal. It holds no
// secret: it only says that the identifier changed and whom to call if the
// voter did not ask for it.
func (l Letterhead) IdentifierChanged(env Envelope) (Message, error) {
	return l.compose(env, identifierChanged, nil)
}

// FirstCredentials composes the e-mail that gives a voter its identifier,
// with the NUMIC recalled (the help pages send voters back to it). The
// password goes separately, by SMS.
func (l Letterhead) FirstCredentials(env Envelope, identifier, numic string) (Message, error) {
	return l.compose(env, firstCredentials, map[string]any{"Identifier": identifier, "NUMIC": numic})
}

// PasswordChanged composes the notice sent after a password renewal. It
// holds no secret: the password itself went by SMS.
func (l Letterhead) PasswordChanged(env Envelope) (Message, error) {
	return l.compose(env, passwordChanged, nil)
}

// PasswordSMS is the text of the SMS that carries a new password.
func PasswordSMS(lang, password string) string {
	if lang == "en" {
		return "Consular elections: your new password for the voting portal is " + password +
			" . Never share it. If you did not ask for it, contact the assistance cell."
	}
	return "Élections consulaires : votre nouveau mot de passe pour le portail de vote est " + password +
		" . Ne le communiquez à personne. Si vous ne l'avez pas demandé, contactez la cellule d'assistance."
}

type texts struct {
	subject string
	text    string // text/template
	html    string // html/template
}

// kind is one message in every language, its templates parsed once.
type kind map[string]parsed

type parsed struct {
	subject string
	text    *template.Template
	html    *htmltemplate.Template
}

func newKind(byLang map[string]texts) kind {
	k := kind{}
	for lang, t := range byLang {
		k[lang] = parsed{
			subject: t.subject,
			text:    template.Must(template.New(lang).Parse(t.text)),
			html:    htmltemplate.Must(htmltemplate.New(lang).Parse(t.html)),
		}
	}
	return k
}

func (l Letterhead) compose(env Envelope, k kind, data map[string]any) (Message, error) {
	t, ok := k[env.Lang]
	if !ok {
		t = k["fr"]
	}
	if data == nil {
		data = map[string]any{}
	}
	data["Signature"] = l.Signature
	if exp, ok := data["Expires"].(time.Time); ok {
		data["Expires"] = exp.UTC().Format("02/01/2006 15:04 UTC")
	}

	var text, html bytes.Buffer
	if err := t.text.Execute(&text, data); err != nil {
		return Message{}, fmt.Errorf("mail: text part: %w", err)
	}
	if err := t.html.Execute(&html, data); err != nil {
		return Message{}, fmt.Errorf("mail: html part: %w", err)
	}

	subject := t.subject
	if l.Label != "" {
		subject = l.Label + " – " + subject
	}
	e := email.NewEmail()
	e.From = l.From
	e.To = []string{env.To}
	e.Subject = subject
	e.Text = text.Bytes()
	e.HTML = html.Bytes()
	e.Headers.Set("Date", env.Date.Format(time.RFC1123Z))
	e.Headers.Set("Message-Id", "<"+env.MessageID+"@"+l.domain()+">")
	e.Headers.Set("Auto-Submitted", "auto-generated") // RFC 3834: no replies
	raw, err := e.Bytes()
	if err != nil {
		return Message{}, fmt.Errorf("mail: compose: %w", err)
	}
	return Message{To: env.To, Subject: subject, Raw: raw}, nil
}

func (l Letterhead) domain() string {
	if a, err := netmail.ParseAddress(l.From); err == nil {
		if _, d, ok := strings.Cut(a.Address, "@"); ok {
			return d
		}
	}
	return "consulvote.invalid"
}

var renewalLink = newKind(map[string]texts{
	"fr": {
		subject: "Identifiant oublié",
		text: `Bonjour,

Suite à votre demande de renouvellement de votre identifiant, veuillez cliquer sur ce lien :
{{.Link}}

Ce lien n'est valable que pour un seul renouvellement de l'identifiant, jusqu'au {{.Expires}}.

Ceci est un message automatique. Merci de ne pas y répondre.

{{.Signature}}
`,
		html: `<!DOCTYPE html>
<html lang="fr"><body>
<p>Bonjour,</p>
<p>Suite à votre demande de renouvellement de votre identifiant, veuillez cliquer sur ce <a href="{{.Link}}">lien</a>.</p>
<p>Ce lien n'est valable que pour un seul renouvellement de l'identifiant, jusqu'au {{.Expires}}.</p>
<p>Ceci est un message automatique. Merci de ne pas y répondre.</p>
<p>{{.Signature}}</p>
</body></html>
`,
	},
	"en": {
		subject: "Forgotten identifier",
		text: `Hello,

Following your request to renew your identifier, please click on this link:
{{.Link}}

This link is valid for one identifier renewal only, until {{.Expires}}.

This is an automatic message. Please do not reply.

{{.Signature}}
`,
		html: `<!DOCTYPE html>
<html lang="en"><body>
<p>Hello,</p>
<p>Following your request to renew your identifier, please click on this <a href="{{.Link}}">link</a>.</p>
<p>This link is valid for one identifier renewal only, until {{.Expires}}.</p>
<p>This is an automatic message. Please do not reply.</p>
<p>{{.Signature}}</p>
</body></html>
`,
	},
})

var identifierChanged = newKind(map[string]texts{
	"fr": {
		subject: "Votre identifiant a été renouvelé",
		text: `Bonjour,

Votre identifiant de connexion au portail de vote vient d'être renouvelé. L'ancien identifiant ne fonctionne plus.

Si vous n'êtes pas à l'origine de ce renouvellement, contactez sans attendre la cellule d'assistance.

Ceci est un message automatique. Merci de ne pas y répondre.

{{.Signature}}
`,
		html: `<!DOCTYPE html>
<html lang="fr"><body>
<p>Bonjour,</p>
<p>Votre identifiant de connexion au portail de vote vient d'être renouvelé. L'ancien identifiant ne fonctionne plus.</p>
<p>Si vous n'êtes pas à l'origine de ce renouvellement, contactez sans attendre la cellule d'assistance.</p>
<p>Ceci est un message automatique. Merci de ne pas y répondre.</p>
<p>{{.Signature}}</p>
</body></html>
`,
	},
	"en": {
		subject: "Your identifier has been renewed",
		text: `Hello,

Your login identifier for the voting portal has just been renewed. The old identifier no longer works.

If you did not ask for this renewal, contact the assistance cell at once.

This is an automatic message. Please do not reply.

{{.Signature}}
`,
		html: `<!DOCTYPE html>
<html lang="en"><body>
<p>Hello,</p>
<p>Your login identifier for the voting portal has just been renewed. The old identifier no longer works.</p>
<p>If you did not ask for this renewal, contact the assistance cell at once.</p>
<p>This is an automatic message. Please do not reply.</p>
<p>{{.Signature}}</p>
</body></html>
`,
	},
})

var passwordChanged = newKind(map[string]texts{
	"fr": {
		subject: "Votre mot de passe a été renouvelé",
		text: `Bonjour,

Le mot de passe de votre compte sur le portail de vote vient d'être renouvelé et vous a été envoyé par SMS. L'ancien mot de passe ne fonctionne plus.

Si vous n'êtes pas à l'origine de ce renouvellement, contactez sans attendre la cellule d'assistance.

Ceci est un message automatique. Merci de ne pas y répondre.

{{.Signature}}
`,
		html: `<!DOCTYPE html>
<html lang="fr"><body>
<p>Bonjour,</p>
<p>Le mot de passe de votre compte sur le portail de vote vient d'être renouvelé et vous a été envoyé par SMS. L'ancien mot de passe ne fonctionne plus.</p>
<p>Si vous n'êtes pas à l'origine de ce renouvellement, contactez sans attendre la cellule d'assistance.</p>
<p>Ceci est un message automatique. Merci de ne pas y répondre.</p>
<p>{{.Signature}}</p>
</body></html>
`,
	},
	"en": {
		subject: "Your password has been renewed",
		text: `Hello,

The password of your voting portal account has just been renewed and sent to you by SMS. The old password no longer works.

If you did not ask for this renewal, contact the assistance cell at once.

This is an automatic message. Please do not reply.

{{.Signature}}
`,
		html: `<!DOCTYPE html>
<html lang="en"><body>
<p>Hello,</p>
<p>The password of your voting portal account has just been renewed and sent to you by SMS. The old password no longer works.</p>
<p>If you did not ask for this renewal, contact the assistance cell at once.</p>
<p>This is an automatic message. Please do not reply.</p>
<p>{{.Signature}}</p>
</body></html>
`,
	},
})

var firstCredentials = newKind(map[string]texts{
	"fr": {
		subject: "Votre identifiant de connexion au portail de vote",
		text: `Bonjour,

Voici votre identifiant de connexion au portail de vote par Internet : {{.Identifier}}

Votre numéro d'identification consulaire (NUMIC) : {{.NUMIC}}

Votre mot de passe vous est envoyé séparément par SMS. Conservez ce courriel : en cas de perte de l'identifiant ou du mot de passe, le NUMIC vous sera demandé.

Ceci est un message automatique. Merci de ne pas y répondre.

{{.Signature}}
`,
		html: `<!DOCTYPE html>
<html lang="fr"><body>
<p>Bonjour,</p>
<p>Voici votre identifiant de connexion au portail de vote par Internet : <strong>{{.Identifier}}</strong></p>
<p>Votre numéro d'identification consulaire (NUMIC) : <strong>{{.NUMIC}}</strong></p>
<p>Votre mot de passe vous est envoyé séparément par SMS. Conservez ce courriel : en cas de perte de l'identifiant ou du mot de passe, le NUMIC vous sera demandé.</p>
<p>Ceci est un message automatique. Merci de ne pas y répondre.</p>
<p>{{.Signature}}</p>
</body></html>
`,
	},
	"en": {
		subject: "Your login identifier for the voting portal",
		text: `Hello,

Here is your login identifier for the internet voting portal: {{.Identifier}}

Your consular identification number (NUMIC): {{.NUMIC}}

Your password is sent separately by SMS. Keep this e-mail: if you lose the identifier or the password, you will be asked for the NUMIC.

This is an automatic message. Please do not reply.

{{.Signature}}
`,
		html: `<!DOCTYPE html>
<html lang="en"><body>
<p>Hello,</p>
<p>Here is your login identifier for the internet voting portal: <strong>{{.Identifier}}</strong></p>
<p>Your consular identification number (NUMIC): <strong>{{.NUMIC}}</strong></p>
<p>Your password is sent separately by SMS. Keep this e-mail: if you lose the identifier or the password, you will be asked for the NUMIC.</p>
<p>This is an automatic message. Please do not reply.</p>
<p>{{.Signature}}</p>
</body></html>
`,
	},
})
