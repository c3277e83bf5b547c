package main

import (
	"fmt"
	"image/png"
	"io"
	"os"
	"strings"

	"github.com/boombuler/barcode"
	"github.com/boombuler/barcode/qr"

	"consulvote/app/portal"
	"consulvote/app/service"
)

// printEnrollment shows an agent's second factor once: the QR code of the
// otpauth:// URL in the terminal and in a PNG file (mode 0600: it is the
// secret), the secret in text for manual entry, and the recovery codes.
// None of it can be shown again: the database keeps it sealed or hashed.
//
// A PNG that cannot be written is reported after everything else is
// shown: the enrolment is already stored, and this is its only showing.
func printEnrollment(w io.Writer, enr service.Enrollment, pngPath string) error {
	code, err := qr.Encode(enr.URL, qr.M, qr.Auto)
	if err != nil {
		return fmt.Errorf("QR code: %w", err)
	}
	fmt.Fprintln(w, "\nSecond factor: scan this code with an authenticator app (TOTP, 6 digits, 30 s):")
	terminalQR(w, code)
	pngErr := writeQR(code, pngPath)
	if pngErr == nil {
		fmt.Fprintf(w, "The same code as an image: %s (delete it once scanned).\n", pngPath)
	}
	fmt.Fprintf(w, "Or type the secret: %s\n\n", enr.Secret)
	fmt.Fprintln(w, "Recovery codes, each good once if the authenticator is lost; keep them safe, they are shown only now:")
	for _, c := range enr.RecoveryCodes {
		fmt.Fprintln(w, "  "+c)
	}
	return pngErr
}

// writeQR writes code as a PNG at path, a new file readable by its owner
// only (it is the secret).
func writeQR(code barcode.Barcode, path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("QR code file: %w", err)
	}
	big, err := barcode.Scale(code, 8*code.Bounds().Dx(), 8*code.Bounds().Dy())
	if err == nil {
		err = png.Encode(f, big)
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(path)
		return fmt.Errorf("QR code file: %w", err)
	}
	return nil
}

// terminalQR draws code with Unicode half blocks, two modules per
// character cell, dark on light with the quiet zone the standard asks.
func terminalQR(w io.Writer, code barcode.Barcode) {
	const quiet = 2
	b := code.Bounds()
	dark := func(x, y int) bool {
		if x < b.Min.X || y < b.Min.Y || x >= b.Max.X || y >= b.Max.Y {
			return false
		}
		r, _, _, _ := code.At(x, y).RGBA()
		return r < 0x8000
	}
	var sb strings.Builder
	for y := b.Min.Y - quiet; y < b.Max.Y+quiet; y += 2 {
		for x := b.Min.X - quiet; x < b.Max.X+quiet; x++ {
			top, bottom := dark(x, y), dark(x, y+1)
			switch {
			case top && bottom:
				sb.WriteRune(' ')
			case top:
				sb.WriteRune('▄')
			case bottom:
				sb.WriteRune('▀')
			default:
				sb.WriteRune('█')
			}
		}
		sb.WriteRune('\n')
	}
	io.WriteString(w, sb.String())
}

// scopeWords says which voters an agent sees.
func scopeWords(s portal.Scope) string {
	if s.Central {
		return "central office: every circonscription"
	}
	return "circonscriptions: " + strings.Join(s.Circonscriptions, ", ")
}
