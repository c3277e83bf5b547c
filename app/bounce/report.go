package bounce

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"unicode"
)

// Limits of what a report may hold; past them it is malformed.
const (
	maxParts      = 8   // MIME parts of a report
	maxRecipients = 16  // per-recipient blocks of a delivery status
	maxText       = 200 // characters kept of a remote answer
)

// Recipient is one per-recipient block of a delivery status (RFC 3464
// section 2.3), as read: nothing of it is trusted yet.
type Recipient struct {
	Original, Final string // addresses, without their "rfc822;" type
	Action          string // failed, delayed, delivered, relayed, expanded
	Status          string // e.g. "5.1.1"
	Diagnostic      string // the remote server's answer, one line, bounded
}

// Parsed is what a message that came back to a return path says.
type Parsed struct {
	// Report is true for a delivery status notification (multipart/report;
	// report-type=delivery-status), false for any other message.
	Report     bool
	EnvelopeID string // Original-Envelope-Id
	Recipients []Recipient
	// MessageIDs are the Message-Ids the message quotes of the original
	// (in a report: those of the returned headers).
	MessageIDs []string
	// Loop is set when the returned message was itself a report, or was
	// sent to a return path of ours: a bounce of a bounce.
	Loop bool
	// Text is, for a message that is not a report, its first line that
	// reads like an SMTP answer ("550 5.1.1 …"), bounded.
	Text string
}

// ErrMalformed is a message that cannot be read as mail or as MIME, or
// exceeds the limits of a report.
var ErrMalformed = errors.New("bounce: malformed message")

// Parse reads a message that came back. The body of a returned copy of
// the original is never kept: only the headers of its own (Message-Id,
// and what shows a loop).
func Parse(r io.Reader, ours func(address string) bool) (Parsed, error) {
	msg, err := mail.ReadMessage(r)
	if err != nil {
		return Parsed{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	var p Parsed
	media, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(media, "multipart/") {
		// Not MIME, or a single part: the text as it is, read for the
		// original's Message-Id and an SMTP answer.
		return p, p.readText(msg.Body)
	}
	if params["boundary"] == "" {
		return Parsed{}, fmt.Errorf("%w: multipart without boundary", ErrMalformed)
	}
	p.Report = media == "multipart/report" && strings.EqualFold(params["report-type"], "delivery-status")
	mr := multipart.NewReader(msg.Body, params["boundary"])
	for i := 0; ; i++ {
		part, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil || i == maxParts {
			return Parsed{}, fmt.Errorf("%w: MIME parts: %v", ErrMalformed, err)
		}
		if err := p.readPart(part, ours); err != nil {
			return Parsed{}, err
		}
	}
	if p.Report && len(p.Recipients) == 0 {
		return Parsed{}, fmt.Errorf("%w: a report without a delivery status", ErrMalformed)
	}
	return p, nil
}

func (p *Parsed) readPart(part *multipart.Part, ours func(string) bool) error {
	media, _, _ := mime.ParseMediaType(part.Header.Get("Content-Type"))
	switch {
	case p.Report && (media == "message/delivery-status" || media == "message/global-delivery-status"):
		return p.readStatus(part)
	case media == "text/rfc822-headers" || media == "message/rfc822" ||
		media == "message/global" || media == "message/global-headers":
		return p.readReturned(part, ours)
	case !p.Report && strings.HasPrefix(media, "text/") || media == "":
		return p.readText(part)
	}
	return nil // another part (a picture, a human-readable part of a report): unread
}

// readStatus reads a message/delivery-status: the per-message fields,
// then one block per recipient, blank lines between them.
func (p *Parsed) readStatus(r io.Reader) error {
	tp := textproto.NewReader(bufio.NewReader(r))
	perMessage, err := tp.ReadMIMEHeader()
	if err != nil && err != io.EOF {
		return fmt.Errorf("%w: delivery status: %v", ErrMalformed, err)
	}
	p.EnvelopeID = strings.TrimSpace(perMessage.Get("Original-Envelope-Id"))
	for err != io.EOF {
		var h textproto.MIMEHeader
		h, err = tp.ReadMIMEHeader()
		if err != nil && err != io.EOF {
			return fmt.Errorf("%w: delivery status: %v", ErrMalformed, err)
		}
		if len(h) == 0 {
			continue
		}
		if len(p.Recipients) == maxRecipients {
			return fmt.Errorf("%w: more than %d recipients", ErrMalformed, maxRecipients)
		}
		p.Recipients = append(p.Recipients, Recipient{
			Original:   address(h.Get("Original-Recipient")),
			Final:      address(h.Get("Final-Recipient")),
			Action:     strings.ToLower(strings.TrimSpace(h.Get("Action"))),
			Status:     statusCode.FindString(h.Get("Status")),
			Diagnostic: diagnostic(h.Get("Diagnostic-Code")),
		})
	}
	return nil
}

// readReturned reads the headers of the returned original and drops its
// body, whatever the report's RET.
func (p *Parsed) readReturned(r io.Reader, ours func(string) bool) error {
	h, err := textproto.NewReader(bufio.NewReader(r)).ReadMIMEHeader()
	if err != nil && err != io.EOF {
		return fmt.Errorf("%w: returned headers: %v", ErrMalformed, err)
	}
	if id := strings.TrimSpace(h.Get("Message-Id")); id != "" {
		p.MessageIDs = append(p.MessageIDs, id)
	}
	media, params, _ := mime.ParseMediaType(h.Get("Content-Type"))
	if media == "multipart/report" || strings.EqualFold(params["report-type"], "delivery-status") {
		p.Loop = true
	}
	// The original went out with our return path as its Return-Path; one
	// that was sent to a return path of ours was a bounce itself.
	for _, k := range []string{"To", "X-Original-To", "Delivered-To"} {
		for _, v := range h.Values(k) {
			if as, err := mail.ParseAddressList(v); err == nil {
				for _, a := range as {
					p.Loop = p.Loop || ours(a.Address)
				}
			}
		}
	}
	return nil
}

var (
	statusCode = regexp.MustCompile(`\b[245]\.\d{1,3}\.\d{1,3}\b`)
	quotedID   = regexp.MustCompile(`(?im)^[ \t>]*Message-Id:[ \t]*(<[^<>\s]{1,250}>)`)
	smtpAnswer = regexp.MustCompile(`\b[45]\d\d[ -][245]\.\d{1,3}\.\d{1,3}\b.*`)
)

// readText reads a message that is not a report: the Message-Ids it
// quotes, and its first SMTP answer. The rest is dropped.
func (p *Parsed) readText(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	for _, m := range quotedID.FindAllSubmatch(b, 4) {
		p.MessageIDs = append(p.MessageIDs, string(m[1]))
	}
	if p.Text == "" {
		p.Text = oneLine(string(smtpAnswer.Find(b)))
	}
	if bytes.Contains(bytes.ToLower(b), []byte("report-type=delivery-status")) {
		p.Loop = true // a report quoted inside a bounce
	}
	return nil
}

// address takes the address out of "rfc822; someone@example.org".
func address(field string) string {
	if typ, a, ok := strings.Cut(field, ";"); ok && strings.EqualFold(strings.TrimSpace(typ), "rfc822") {
		return strings.ToLower(strings.Trim(strings.TrimSpace(a), "<>"))
	}
	return ""
}

// diagnostic takes the answer out of "smtp; 550 5.1.1 …".
func diagnostic(field string) string {
	if _, text, ok := strings.Cut(field, ";"); ok {
		field = text
	}
	return oneLine(field)
}

// oneLine makes s one line of printable characters, at most maxText.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) {
			return ' '
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	if r := []rune(s); len(r) > maxText {
		s = string(r[:maxText])
	}
	return s
}
