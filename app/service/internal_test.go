package service

import (
	"crypto/rand"
	"runtime"
	"strings"
	"testing"
	"time"
)

func TestPasswordHash(t *testing.T) {
	h, err := hashPassword("Mdp4Demo2026", minArgon2, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(h, "$argon2id$v=19$m=19456,t=2,p=1$") {
		t.Errorf("hash %q lacks the PHC prefix with OWASP's parameters", h)
	}
	if strings.Contains(h, "Mdp4Demo2026") {
		t.Fatal("hash holds the password")
	}
	h2, _ := hashPassword("Mdp4Demo2026", minArgon2, rand.Reader)
	if h == h2 {
		t.Error("two hashes of one password are equal: the salt is not random")
	}
	if !checkPassword(h, "Mdp4Demo2026") {
		t.Error("right password refused")
	}
	// A hash keeps its own parameters: a stronger config still checks old hashes.
	strong := Argon2Params{MemoryKiB: 32 * 1024, Time: 3, Threads: 2}
	hs, _ := hashPassword("x", strong, rand.Reader)
	if !checkPassword(hs, "x") || !strings.Contains(hs, "m=32768,t=3,p=2") {
		t.Errorf("hash with other parameters: %q", hs)
	}
	parts := strings.Split(h, "$")
	for name, bad := range map[string]string{
		"wrong password": "",
		"empty hash":     "-",
		"bcrypt":         "$2a$10$abcdefghijklmnopqrstuv",
		"argon2i":        strings.Replace(h, "argon2id", "argon2i", 1),
		"old version":    strings.Replace(h, "v=19", "v=16", 1),
		"huge memory":    strings.Replace(h, "m=19456", "m=99999999", 1),
		"zero time":      strings.Replace(h, "t=2", "t=0", 1),
		"bad salt":       strings.Join(append(parts[:4:4], "!!", parts[5]), "$"),
		"no key":         strings.Join(append(parts[:5:5], ""), "$"),
	} {
		hash, pw := bad, "Mdp4Demo2026"
		if name == "wrong password" {
			hash, pw = h, "mdp4demo2026"
		}
		if checkPassword(hash, pw) {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	good := DefaultConfig()
	good.Secret = make([]byte, 32)
	if err := good.Validate(); err != nil {
		t.Fatalf("default config with a secret: %v", err)
	}
	for _, tc := range []struct {
		name  string
		edit  func(*Config)
		field string
	}{
		{"no secret", func(c *Config) { c.Secret = nil }, "secret"},
		{"short secret", func(c *Config) { c.Secret = make([]byte, 16) }, "secret"},
		{"no URL", func(c *Config) { c.PublicURL = "" }, "public URL"},
		{"ftp URL", func(c *Config) { c.PublicURL = "ftp://vote.example" }, "public URL"},
		{"URL with query", func(c *Config) { c.PublicURL = "https://vote.example/?a=b" }, "public URL"},
		{"bad pattern", func(c *Config) { c.NUMICPattern = "([0-9]" }, "NUMIC pattern"},
		{"zero link TTL", func(c *Config) { c.LinkTTL = 0 }, "link lifetime"},
		{"negative cool-down", func(c *Config) { c.Cooldown = -time.Hour }, "cool-down"},
		{"no failures allowed", func(c *Config) { c.MaxFailures = 0 }, "max failures"},
		{"no requests allowed", func(c *Config) { c.MaxRequests = 0 }, "max requests"},
		{"weak argon2", func(c *Config) { c.Argon2.MemoryKiB = 1024 }, "argon2"},
		{"one pass", func(c *Config) { c.Argon2.Time = 1 }, "argon2"},
		{"bad sender", func(c *Config) { c.Mail.From = "nobody" }, "mail sender"},
	} {
		c := good
		tc.edit(&c)
		err := c.Validate()
		if err == nil || !strings.Contains(err.Error(), tc.field) {
			t.Errorf("%s: %v, want an error naming %q", tc.name, err, tc.field)
		}
	}
}

func TestNewIdentifier(t *testing.T) {
	s := &core{rand: rand.Reader}
	counts := map[rune]int{}
	seen := map[string]bool{}
	for range 2000 {
		id, err := s.newCredential()
		if err != nil {
			t.Fatal(err)
		}
		if len(id) != 12 || seen[id] {
			t.Fatalf("identifier %q: wrong length or repeated", id)
		}
		seen[id] = true
		for _, r := range id {
			if !strings.ContainsRune(credentialAlphabet, r) {
				t.Fatalf("identifier %q has %q outside [A-Za-z0-9]", id, r)
			}
			counts[r]++
		}
	}
	// 24,000 characters over 62 symbols: each about 387. A biased draw
	// (modulo bias, a missing class) would leave some far off.
	if len(counts) != len(credentialAlphabet) {
		t.Fatalf("only %d symbols used", len(counts))
	}
	for r, n := range counts {
		if n < 250 || n > 550 {
			t.Errorf("symbol %q drawn %d times, expected about 387", r, n)
		}
	}
}

// TestUnmatchedHash: the hash an unknown identifier is checked against
// looks like a voter's (parameters, salt and key lengths), matches no
// password, and checking against it runs argon2id with its 19 MiB, as a
// voter's hash does — while making it ran none.
func TestUnmatchedHash(t *testing.T) {
	real, _ := hashPassword("Mdp4Demo2026", minArgon2, rand.Reader)
	var m0, m1, m2 runtime.MemStats
	runtime.ReadMemStats(&m0)
	h, err := unmatchedHash(minArgon2, rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	runtime.ReadMemStats(&m1)
	if ok := checkPassword(h, "Mdp4Demo2026") || checkPassword(h, ""); ok {
		t.Error("a password matched the unmatched hash")
	}
	runtime.ReadMemStats(&m2)
	if cut := strings.LastIndex(real, "$") - 22; len(h) != len(real) || h[:cut] != real[:cut] {
		t.Errorf("unmatched hash %q, a voter's %q: not alike", h, real)
	}
	if made, checked := m1.TotalAlloc-m0.TotalAlloc, m2.TotalAlloc-m1.TotalAlloc; made > 1<<10 || checked < 2*19<<20 {
		t.Errorf("made with %d bytes, want none of argon2id's; 2 checks with %d, want 2 × 19 MiB", made, checked)
	}
}
