package main

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"consulvote/internal/testenv"
)

// TestRealWindowErrorInView drives the built app by keyboard only, as a
// voter would, in a real window at FYNE_SCALE=1.5 on a 1366×768 screen
// (`make smoke` runs it under an Xvfb of that size): E1 → "Identifiant
// oublié", a NUMIC, an e-mail and a wrong security code, Enter. Then, on
// a screenshot of the window, the focused field (its ring, in either
// theme's colour) and the red error message under it must both be drawn
// inside the window, itself inside the screen.
func TestRealWindowErrorInView(t *testing.T) {
	testenv.Need(t, "CONSULVOTE_SMOKE", []string{"DISPLAY", "DBUS_SESSION_BUS_ADDRESS"}, []string{"xdotool", "import"})
	screen := screenSize(t)
	if screen != image.Pt(1366, 768) {
		t.Fatalf("the screen is %v, want 1366×768 (make smoke starts Xvfb so)", screen)
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "consulvote")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	cmd := exec.Command(bin, "--demo", "--lang", "en")
	cmd.Env = append(os.Environ(), "HOME="+dir, "XDG_DATA_HOME="+dir+"/data", "XDG_CONFIG_HOME="+dir+"/config", "FYNE_SCALE=1.5")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	win := waitWindow(t, &stderr)
	shot := filepath.Join(dir, "window.png")
	// The first frame: the home page, its identifier field focused.
	waitPainted(t, win, shot)
	xdo(t, "windowfocus", "--sync", win)
	// Tab to "Forgotten identifier", Enter; the NUMIC field has the focus.
	keys(t, "Tab", "Return")
	time.Sleep(time.Second)
	typeText(t, "00012345")
	keys(t, "Tab")
	typeText(t, "marie.dupont@example.org")
	// Past "New code" and "Listen to the code", to the code's field.
	keys(t, "Tab", "Tab", "Tab")
	typeText(t, "1234")
	keys(t, "Return")

	var ring, red image.Rectangle
	var img image.Image
	for try := 0; try < 20; try++ {
		time.Sleep(300 * time.Millisecond)
		img = capture(t, win, shot)
		ring = box(img, img.Bounds(), ringColours)
		if ring.Empty() {
			continue
		}
		// The message is under the field (its help between them).
		below := image.Rect(ring.Min.X, ring.Max.Y, ring.Max.X, min(ring.Max.Y+300, img.Bounds().Max.Y))
		if red = box(img, below, errorColours); !red.Empty() {
			break
		}
	}
	if keep := os.Getenv("CONSULVOTE_SMOKE_SHOT"); keep != "" {
		b, _ := os.ReadFile(shot)
		os.WriteFile(strings.TrimSuffix(keep, ".png")+"-error.png", b, 0o644)
	}
	if ring.Empty() {
		t.Fatalf("no focused field drawn in the %v window after the wrong code (screenshot: CONSULVOTE_SMOKE_SHOT)", img.Bounds().Size())
	}
	if red.Empty() {
		t.Fatalf("the focused field is at %v, but no error message is drawn under it in the %v window", ring, img.Bounds().Size())
	}
	at := windowAt(t, win)
	if at.Y+red.Max.Y > screen.Y || at.X+red.Max.X > screen.X || at.X < 0 || at.Y < 0 {
		t.Fatalf("the error at %v in the window at %v lies off the %v screen", red, at, screen)
	}
	t.Logf("window %v at %v; focused field %v; its error %v", img.Bounds().Size(), at, ring, red)
}

var (
	// ringColours: the focus ring, light and dark themes (screens/ui/theme.go).
	ringColours = []color.NRGBA{{0x0a, 0x5f, 0xd6, 0xff}, {0x7f, 0xb0, 0xff, 0xff}}
	// errorColours: the error text, light and dark.
	errorColours = []color.NRGBA{{0xc9, 0x19, 0x1e, 0xff}, {0xff, 0x6f, 0x6a, 0xff}}
)

// box bounds the pixels of r close to one of cs; empty when fewer than
// 20 are.
func box(img image.Image, r image.Rectangle, cs []color.NRGBA) image.Rectangle {
	var b image.Rectangle
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			p := color.NRGBAModel.Convert(img.At(x, y)).(color.NRGBA)
			for _, c := range cs {
				if near(p.R, c.R) && near(p.G, c.G) && near(p.B, c.B) {
					b = b.Union(image.Rect(x, y, x+1, y+1))
					n++
				}
			}
		}
	}
	if n < 20 {
		return image.Rectangle{}
	}
	return b
}

func near(a, b uint8) bool { return a >= b-min(b, 12) && a <= b+min(255-b, 12) }

func screenSize(t *testing.T) image.Point {
	var p image.Point
	if _, err := fmt.Sscanf(xdo(t, "getdisplaygeometry"), "%d %d", &p.X, &p.Y); err != nil {
		t.Fatalf("xdotool getdisplaygeometry: %v", err)
	}
	return p
}

func waitWindow(t *testing.T, stderr *bytes.Buffer) string {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		out, _ := exec.Command("xdotool", "search", "--onlyvisible", "--name", "consulvote").Output()
		if win, _, _ := strings.Cut(strings.TrimSpace(string(out)), "\n"); win != "" {
			return win
		}
	}
	t.Fatalf("no window appeared in 30 s; stderr:\n%s", stderr.String())
	return ""
}

func waitPainted(t *testing.T, win, shot string) {
	for try := 0; try < 40; try++ {
		time.Sleep(250 * time.Millisecond)
		if img := capture(t, win, shot); !box(img, img.Bounds(), ringColours).Empty() {
			return
		}
	}
	t.Fatal("the first page never showed a focused field")
}

func capture(t *testing.T, win, shot string) image.Image {
	if out, err := exec.Command("import", "-window", win, shot).CombinedOutput(); err != nil {
		t.Fatalf("screenshot: %v\n%s", err, out)
	}
	f, err := os.Open(shot)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	return img
}

func windowAt(t *testing.T, win string) image.Point {
	out := xdo(t, "getwindowgeometry", "--shell", win)
	var p image.Point
	for _, line := range strings.Split(out, "\n") {
		k, v, _ := strings.Cut(line, "=")
		n, _ := strconv.Atoi(v)
		switch k {
		case "X":
			p.X = n
		case "Y":
			p.Y = n
		}
	}
	return p
}

func xdo(t *testing.T, args ...string) string {
	out, err := exec.Command("xdotool", args...).CombinedOutput()
	if err != nil {
		t.Fatalf("xdotool %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func keys(t *testing.T, names ...string) {
	for _, k := range names {
		xdo(t, "key", k)
		time.Sleep(150 * time.Millisecond)
	}
}

func typeText(t *testing.T, s string) {
	xdo(t, "type", "--delay", "60", s)
	time.Sleep(200 * time.Millisecond)
}
