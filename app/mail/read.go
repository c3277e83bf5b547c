package mail

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
)

// Parts returns the decoded plain-text and HTML parts of a message, as a
// mail client would show them.
func Parts(raw []byte) (text, html string, err error) {
	m, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return "", "", fmt.Errorf("mail: read: %w", err)
	}
	ct, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil {
		ct = "text/plain"
	}
	if !strings.HasPrefix(ct, "multipart/") {
		b, err := decodeBody(m.Body, m.Header.Get("Content-Transfer-Encoding"))
		return b, "", err
	}
	r := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := r.NextPart() // undoes quoted-printable itself
		if errors.Is(err, io.EOF) {
			return text, html, nil
		}
		if err != nil {
			return "", "", fmt.Errorf("mail: part: %w", err)
		}
		b, err := io.ReadAll(p)
		if err != nil {
			return "", "", fmt.Errorf("mail: part: %w", err)
		}
		switch pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type")); pt {
		case "text/plain":
			text = string(b)
		case "text/html":
			html = string(b)
		}
	}
}

func decodeBody(r io.Reader, encoding string) (string, error) {
	if strings.EqualFold(encoding, "quoted-printable") {
		r = quotedprintable.NewReader(r)
	}
	b, err := io.ReadAll(r)
	if err != nil {
		return "", fmt.Errorf("mail: body: %w", err)
	}
	return string(b), nil
}
