package service

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"testing"
)

// BenchmarkRollReader reads and checks a roll of 2,000,000 lines (one
// per thousand refused), the store left out: the reader's own speed.
func BenchmarkRollReader(b *testing.B) {
	var buf bytes.Buffer
	buf.WriteString("NUMIC;nom;prénoms;adresse électronique;mobile;circonscription\n")
	for i := range 2_000_000 {
		numic := fmt.Sprintf("%08d", 50_000_000+i)
		if i%1000 == 999 {
			numic = "12AB" + numic[4:]
		}
		fmt.Fprintf(&buf, "%s;NOM;Prénom Deux;votant%d@example.org;+3361%07d;Allemagne\n", numic, i, i)
	}
	s := &core{numic: regexp.MustCompile(DefaultConfig().NUMICPattern)}
	b.SetBytes(int64(buf.Len()))
	b.ResetTimer()
	for range b.N {
		rr, err := s.newRollReader(bytes.NewReader(buf.Bytes()))
		if err != nil {
			b.Fatal(err)
		}
		lines := 0
		for {
			_, _, err := rr.next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				b.Fatal(err)
			}
			lines++
		}
		if lines != 2_000_000 {
			b.Fatalf("%d lines read", lines)
		}
	}
}
