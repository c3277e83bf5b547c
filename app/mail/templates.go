package mail

import (
	"embed"
	"errors"
	"fmt"
	"html"
	htmltemplate "html/template"
	"io/fs"
	"net/url"
	"path"
	"slices"
	"strings"
	"text/template"
)

//go:embed templates
var templateFiles embed.FS

// Languages are the languages every message is written in; the first is
// the default.
var Languages = []string{"fr", "en"}

// mailTemplate is one e-mail in one language, parsed once.
type mailTemplate struct {
	subject string
	text    *template.Template
	html    *htmltemplate.Template
}

// catalog holds every message in every language.
type catalog struct {
	emails map[string]mailTemplate       // "renewal-link.fr"
	texts  map[string]*template.Template // SMS: "password.fr"
	// heads are the letterhead's words by language (templates/
	// letterhead.LANG.head): the label before every subject and the
	// signature, used where the configuration gives none.
	heads map[string]letterWords
}

// letterWords is the wording of the letterhead in one language.
type letterWords struct {
	label, signature string
}

// language returns lang if the messages are written in it, else the
// default language.
func language(lang string) string {
	if slices.Contains(Languages, lang) {
		return lang
	}
	return Languages[0]
}

// messages is parsed from templates/ when the program starts: a broken
// template stops it at once rather than at the first voter's request.
var messages = mustLoad(templateFiles)

// email returns the e-mail name in lang, or in the default language.
func (c catalog) email(name, lang string) mailTemplate {
	if t, ok := c.emails[name+"."+lang]; ok {
		return t
	}
	return c.emails[name+"."+Languages[0]]
}

// sms returns the SMS name in lang, or in the default language.
func (c catalog) sms(name, lang string) *template.Template {
	if t, ok := c.texts[name+"."+lang]; ok {
		return t
	}
	return c.texts[name+"."+Languages[0]]
}

func mustLoad(fsys fs.FS) catalog {
	c, err := load(fsys)
	if err != nil {
		panic(err)
	}
	return c
}

// load parses templates/*.tmpl (e-mails) and templates/*.sms, and checks
// that every message exists in every language.
func load(fsys fs.FS) (catalog, error) {
	c := catalog{emails: map[string]mailTemplate{}, texts: map[string]*template.Template{}, heads: map[string]letterWords{}}
	names := map[string]map[string]bool{} // message → languages
	err := fs.WalkDir(fsys, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		src, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		ext := path.Ext(p)
		key := strings.TrimSuffix(path.Base(p), ext) // "renewal-link.fr"
		name, lang, ok := strings.Cut(key, ".")
		if !ok {
			return fmt.Errorf("mail: %s: want NAME.LANG%s", p, ext)
		}
		if err := c.add(key, name, lang, ext, string(src)); err != nil {
			return fmt.Errorf("mail: %s: %w", p, err)
		}
		if names[name+ext] == nil {
			names[name+ext] = map[string]bool{}
		}
		names[name+ext][lang] = true
		return nil
	})
	if err != nil {
		return catalog{}, err
	}
	for name, langs := range names {
		for _, lang := range Languages {
			if !langs[lang] {
				return catalog{}, fmt.Errorf("mail: %s has no %q version", name, lang)
			}
		}
	}
	for _, lang := range Languages {
		if _, ok := c.heads[lang]; !ok {
			return catalog{}, fmt.Errorf("mail: no letterhead.%s.head (the label and the signature in %q)", lang, lang)
		}
	}
	return c, nil
}

// add parses one template file's text src, message name in language
// lang, by its kind ext.
func (c *catalog) add(key, name, lang, ext, src string) error {
	switch ext {
	case ".tmpl":
		e, err := parseEmail(lang, src)
		if err != nil {
			return err
		}
		c.emails[key] = e
	case ".sms":
		t, err := template.New(key).Option("missingkey=error").Parse(src)
		if err != nil {
			return err
		}
		c.texts[key] = t
	case ".head":
		if name != "letterhead" {
			return fmt.Errorf("want letterhead.%s.head", lang)
		}
		h, err := parseHead(src)
		if err != nil {
			return err
		}
		c.heads[lang] = h
	default:
		return errors.New("unknown kind of template")
	}
	return nil
}

// parseHead reads a letterhead: a "Label: …" and a "Signature: …" line,
// each checked as the configuration's would be.
func parseHead(src string) (letterWords, error) {
	var h letterWords
	for _, line := range strings.Split(strings.TrimSpace(strings.ReplaceAll(src, "\r\n", "\n")), "\n") {
		k, v, ok := strings.Cut(line, ": ")
		switch {
		case !ok:
			return letterWords{}, fmt.Errorf("%q: want NAME: VALUE", line)
		case k == "Label":
			h.label = v
		case k == "Signature":
			h.signature = v
		default:
			return letterWords{}, fmt.Errorf("%q: unknown; Label or Signature", k)
		}
	}
	if err := CheckLabel(h.label); err != nil {
		return letterWords{}, fmt.Errorf("the %q line: %w", "Label", err)
	}
	if err := CheckSignature(h.signature); err != nil {
		return letterWords{}, fmt.Errorf("the %q line: %w", "Signature", err)
	}
	return h, nil
}

// parseEmail reads "Subject: …", a blank line and the body, and makes the
// text and the HTML templates from that one body.
func parseEmail(lang, src string) (mailTemplate, error) {
	src = strings.ReplaceAll(src, "\r\n", "\n")
	header, body, ok := strings.Cut(src, "\n\n")
	subject, hasSubject := strings.CutPrefix(header, "Subject: ")
	if !ok || !hasSubject || strings.Contains(subject, "\n") {
		return mailTemplate{}, fmt.Errorf(`want a "Subject: …" line, a blank line, then the body`)
	}
	body = strings.TrimSpace(body) + "\n"
	text, err := template.New(lang).Option("missingkey=error").Funcs(template.FuncMap{
		"link":   func(u string) string { return u },
		"strong": func(s string) string { return s },
	}).Parse(body)
	if err != nil {
		return mailTemplate{}, fmt.Errorf("text: %w", err)
	}
	// One <p> per paragraph, a <br> where a paragraph breaks its line;
	// html/template escapes the data by context.
	var h strings.Builder
	fmt.Fprintf(&h, "<!DOCTYPE html>\n<html lang=%q><body>\n", lang)
	for _, p := range strings.Split(strings.TrimSpace(body), "\n\n") {
		h.WriteString("<p>" + strings.ReplaceAll(strings.TrimSpace(p), "\n", "<br>\n") + "</p>\n")
	}
	h.WriteString("</body></html>\n")
	htm, err := htmltemplate.New(lang).Option("missingkey=error").Funcs(htmltemplate.FuncMap{
		"link": htmlLink,
		"strong": func(s string) htmltemplate.HTML {
			return htmltemplate.HTML("<strong>" + html.EscapeString(s) + "</strong>")
		},
	}).Parse(h.String())
	if err != nil {
		return mailTemplate{}, fmt.Errorf("html: %w", err)
	}
	return mailTemplate{subject: subject, text: text, html: htm}, nil
}

// htmlLink is a link whose text is its own address, so that the reader
// sees where it leads. Only http(s) links are made.
func htmlLink(u string) htmltemplate.HTML {
	if p, err := url.Parse(u); err != nil || (p.Scheme != "https" && p.Scheme != "http") {
		return htmltemplate.HTML(html.EscapeString(u))
	}
	e := html.EscapeString(u)
	return htmltemplate.HTML(`<a href="` + e + `">` + e + `</a>`)
}
