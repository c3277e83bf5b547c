package bounce

import (
	"errors"
	"strings"
	"testing"
)

func TestReturnPath(t *testing.T) {
	a, err := NewAddresses("Bounce+{ref}@Vote.Example", []byte("key one"))
	if err != nil {
		t.Fatal(err)
	}
	addr, ref := a.ReturnPath(42)
	if !strings.HasPrefix(addr, "bounce+42-") || !strings.HasSuffix(addr, "@vote.example") || !strings.Contains(addr, ref) {
		t.Fatalf("ReturnPath(42) = %q, %q", addr, ref)
	}
	for _, ok := range []string{addr, strings.ToUpper(addr)} { // a relay may fold the case
		if id, err := a.Message(ok); err != nil || id != 42 {
			t.Errorf("Message(%q) = %d, %v", ok, id, err)
		}
	}
	other, _ := NewAddresses("bounce+{ref}@vote.example", []byte("key two"))
	otherAddr, _ := other.ReturnPath(42)
	_, ref43 := a.ReturnPath(43)
	mac43 := ref43[strings.Index(ref43, "-"):]
	for _, bad := range []string{
		"bounce+42@vote.example",                              // unsigned
		"bounce+43" + mac43[:len(mac43)-1] + "a@vote.example", // signature altered
		"bounce+42" + mac43 + "@vote.example",                 // another message's signature
		"bounce+042" + addr[9:],                               // the number spelt otherwise
		otherAddr,                                             // another server's key
		strings.Replace(addr, "vote.example", "evil.example", 1),
		strings.Replace(addr, "bounce+", "b+", 1),
		"bounce+-1-aaaa@vote.example", "bounce+@vote.example", "",
	} {
		if id, err := a.Message(bad); !errors.Is(err, ErrAddress) {
			t.Errorf("Message(%q) = %d, %v; want ErrAddress", bad, id, err)
		}
	}
	if !a.Ours("bounce+anything@vote.example") || a.Ours("voter@vote.example") {
		t.Error("Ours")
	}
}

func TestNewAddressesRefusesBadTemplates(t *testing.T) {
	for _, bad := range []string{"", "bounce@example.org", "bounce+{ref}", "{ref}+{ref}@example.org",
		"bounce@{ref}.example.org", "bounce+{ref}@", "bou nce+{ref}@example.org"} {
		if _, err := NewAddresses(bad, []byte("k")); err == nil {
			t.Errorf("template %q accepted", bad)
		}
	}
	if _, err := NewAddresses("b+{ref}@example.org", nil); err == nil {
		t.Error("no key accepted")
	}
}
