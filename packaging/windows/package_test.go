//go:build linux

package windows

import (
	"bytes"
	"debug/pe"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func requirePackage(t *testing.T) string {
	t.Helper()
	if os.Getenv("CONSULVOTE_WINE") != "1" {
		t.Skip("needs the Windows package: `make test-windows` runs it (CONSULVOTE_WINE=1)")
	}
	return os.Getenv("CONSULVOTE_WINDOWS_DIR")
}

// TestExecutable checks what Windows shows of the executable: the GUI
// subsystem (no console window opens), the icon, and the version of
// FyneApp.toml in its version information.
func TestExecutable(t *testing.T) {
	dir := requirePackage(t)
	f, err := pe.Open(filepath.Join(dir, "consulvote.exe"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	oh, ok := f.OptionalHeader.(*pe.OptionalHeader64)
	if !ok || f.Machine != pe.IMAGE_FILE_MACHINE_AMD64 {
		t.Fatalf("not a 64-bit x86 executable: machine %#x", f.Machine)
	}
	if oh.Subsystem != pe.IMAGE_SUBSYSTEM_WINDOWS_GUI {
		t.Errorf("subsystem %d, want the GUI's (%d)", oh.Subsystem, pe.IMAGE_SUBSYSTEM_WINDOWS_GUI)
	}
	rsrc := f.Section(".rsrc")
	if rsrc == nil {
		t.Fatal("no resources: no icon, no version information")
	}
	data, err := rsrc.Data()
	if err != nil {
		t.Fatal(err)
	}
	toml, err := os.ReadFile("../../FyneApp.toml")
	if err != nil {
		t.Fatal(err)
	}
	version := regexp.MustCompile(`(?m)^Version = "(.*)"`).FindSubmatch(toml)
	build := regexp.MustCompile(`(?m)^Build = (\d+)`).FindSubmatch(toml)
	if version == nil || build == nil {
		t.Fatal("no Version or Build in FyneApp.toml")
	}
	want := string(version[1]) + "." + string(build[1])
	for _, s := range []string{"ProductVersion", want, "consulvote"} {
		if !bytes.Contains(data, utf16le(s)) {
			t.Errorf("the version information lacks %q", s)
		}
	}
	// An icon is a PNG or a bitmap (BITMAPINFOHEADER, 40 bytes) resource.
	if !bytes.Contains(data, []byte("\x89PNG")) && !bytes.Contains(data, []byte{40, 0, 0, 0}) {
		t.Error("no icon image in the resources")
	}
}

// TestSigning signs a copy of the installer with a throwaway certificate
// through scripts/sign-windows, as a release with WINDOWS_SIGN_PKCS12
// does, and checks the Authenticode signature with osslsigncode; the
// unsigned installer must fail the same check.
func TestSigning(t *testing.T) {
	dir := requirePackage(t)
	tmp := t.TempDir()
	run := func(env []string, name string, args ...string) (string, error) {
		cmd := exec.Command(name, args...)
		cmd.Dir, cmd.Env = tmp, append(os.Environ(), env...)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	must := func(name string, args ...string) {
		t.Helper()
		if out, err := run(nil, name, args...); err != nil {
			t.Fatalf("%s %v: %v\n%s", name, args, err, out)
		}
	}
	os.WriteFile(filepath.Join(tmp, "ext.cnf"), []byte("[leaf]\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=codeSigning\n"), 0o600)
	os.WriteFile(filepath.Join(tmp, "pass"), []byte("s3cret\n"), 0o600)
	must("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=consulvote test CA", "-keyout", "ca.key", "-out", "ca.pem")
	must("openssl", "req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=consulvote test signer", "-keyout", "leaf.key", "-out", "leaf.csr")
	must("openssl", "x509", "-req", "-in", "leaf.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
		"-extfile", "ext.cnf", "-extensions", "leaf", "-out", "leaf.pem")
	must("openssl", "pkcs12", "-export", "-inkey", "leaf.key", "-in", "leaf.pem", "-certfile", "ca.pem", "-passout", "file:pass", "-out", "signer.pfx")

	setup, err := os.ReadFile(filepath.Join(dir, "consulvote-setup.exe"))
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(tmp, "unsigned.exe"), setup, 0o644)
	os.WriteFile(filepath.Join(tmp, "signed.exe"), setup, 0o644)
	sign, err := filepath.Abs("../../scripts/sign-windows")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := run([]string{"WINDOWS_SIGN_PKCS12=signer.pfx", "WINDOWS_SIGN_PASSWORD_FILE=pass"}, sign, "signed.exe"); err != nil {
		t.Fatalf("sign-windows: %v\n%s", err, out)
	}
	if out, err := run(nil, "osslsigncode", "verify", "-CAfile", "ca.pem", "-in", "signed.exe"); err != nil || !strings.Contains(out, "Signature verification: ok") {
		t.Fatalf("the signed installer does not verify: %v\n%s", err, out)
	}
	if out, err := run(nil, "osslsigncode", "verify", "-CAfile", "ca.pem", "-in", "unsigned.exe"); err == nil {
		t.Fatalf("the unsigned installer verifies:\n%s", out)
	}
}

func utf16le(s string) []byte {
	var b []byte
	for _, r := range s {
		b = append(b, byte(r), byte(r>>8))
	}
	return b
}
