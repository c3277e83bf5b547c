package server

import (
	"encoding/json"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"time"

	"consulvote/app/api"
	"consulvote/app/portal"
)

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, err error) {
	body, status := api.ErrorFor(err)
	var pe *portal.Error
	if errors.As(err, &pe) && pe.Code == portal.CodeRateLimited && !pe.Until.IsZero() && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(time.Until(pe.Until).Seconds()+0.999))))
	}
	if errors.As(err, &pe) && pe.Code == portal.CodeUnavailable && w.Header().Get("Retry-After") == "" {
		// Busy (the hashing workers and their queue are full): soon.
		w.Header().Set("Retry-After", "1")
	}
	writeJSON(w, status, body)
}

// linkPage answers a renewal link opened in a browser (a mail client's
// preview, a scanner, or the voter): it says to open the link in the app,
// with a button that hands it over through the app's own URL scheme
// (consulvote://), and consumes nothing, looks nothing up.
func linkPage(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Robots-Tag", "noindex")
	// The button carries the token: no cache keeps the page.
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'")
	var data struct{ AppURL template.URL }
	if token, err := portal.ParseLinkToken(r.URL.RequestURI()); err == nil {
		// Safe as a URL: a fixed scheme and a checked base64url token.
		data.AppURL = template.URL(portal.AppLinkURL(token))
	}
	linkTemplate.Execute(w, data)
}

var linkTemplate = template.Must(template.New("link").Parse(`<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><title>Renouvellement de votre identifiant</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>body{font-family:sans-serif;max-width:40em;margin:2em auto;padding:0 1em;line-height:1.5}</style></head>
<body>
<h1>Renouvellement de votre identifiant</h1>
<p>Ce lien s'ouvre dans l'application <strong>consulvote</strong> du portail de vote.</p>
{{if .AppURL}}<p><a href="{{.AppURL}}" style="display:inline-block;padding:.6em 1.2em;background:#0b5ed7;color:#fff;border-radius:.3em;font-weight:bold;text-decoration:none">Ouvrir dans l'application</a></p>
<p>Si rien ne s'ouvre (l'application n'est pas installée sur cet appareil, ou le navigateur ne l'a pas permis) :</p>
{{end}}<ol>
<li>Copiez l'adresse complète de cette page (elle contient « renouvellement?jeton= »).</li>
<li>Dans l'application, cliquez sur « J'ai reçu le courriel de renouvellement » et collez-la.</li>
</ol>
<p>Le lien n'a pas été utilisé : il reste valable jusqu'à son expiration, pour un seul renouvellement.</p>
<hr>
<p lang="en">This link opens in the <strong>consulvote</strong> voting portal application{{if .AppURL}}: <a href="{{.AppURL}}">Open in the application</a>. If nothing opens{{end}}: copy this page's whole address, then in the application click “I received the renewal e-mail” and paste it. The link has not been used.</p>
</body></html>
`))
