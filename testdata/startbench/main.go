// Command startbench measures the app's start against the minimal Fyne
// window (testdata/minimal), for `make bench-ui`: the time from the
// process's start to its first painted frame (a viewable window of the
// title with at least 8 colours, polled every 5 ms through Xlib), its peak
// RSS (VmHWM) at that frame, and 2 s later. The starts are interleaved,
// each app then the minimal window, case after case, so that the load of
// a shared machine falls on both alike; each figure is given as
// min/median/max, and as ratios app ÷ minimal of each pair.
//
//	startbench -app ./consulvote -minimal ./minimal -n 10 -cases demo,demo-reset,new,big -big DB
//
// With -wine the binaries are Windows executables run by wine in the
// prefix of $WINEPREFIX (its data paths become Z:\…).
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	app := flag.String("app", "./consulvote", "the app's binary; several, comma-separated, are measured in turn (a build before a change, one after)")
	minimal := flag.String("minimal", "./minimal", "the minimal window's binary (testdata/minimal)")
	n := flag.Int("n", 10, "starts of each binary in each case")
	cases := flag.String("cases", "demo,demo-reset,new", "demo (the demonstration, seeded once before), demo-reset, new (a new --db each start), big (--db of -big)")
	big := flag.String("big", "", "a local database (with its .key) for the case big")
	wine := flag.Bool("wine", false, "run Windows executables through wine")
	settle := flag.Duration("settle", 2*time.Second, "how long after the frame the second peak RSS is read")
	flag.Parse()
	x, err := openDisplay()
	if err != nil {
		fatal(err)
	}
	dir, err := os.MkdirTemp("", "startbench-")
	if err != nil {
		fatal(err)
	}
	defer os.RemoveAll(dir)
	b := &bench{x: x, dir: dir, wine: *wine, settle: *settle}
	names := strings.Split(*cases, ",")
	appArgs := map[string]func(i int) []string{
		"demo":       func(int) []string { return []string{"--demo"} },
		"demo-reset": func(int) []string { return []string{"--demo-reset"} },
		"new":        func(i int) []string { return []string{"--db", b.path(filepath.Join(dir, fmt.Sprintf("new-%d.db", i)))} },
		"big":        func(int) []string { return []string{"--db", b.path(*big)} },
	}
	for _, c := range names {
		if appArgs[c] == nil || c == "big" && *big == "" {
			fatal(fmt.Errorf("unknown case %q, or big without -big", c))
		}
	}
	fmt.Printf("load average before: %s", loadavg())
	// A first start seeds the demonstration and warms the disk cache.
	apps := strings.Split(*app, ",")
	for _, a := range apps {
		b.start(a, appTitle, []string{"--demo"})
	}
	b.start(*minimal, "minimal consulvote yardstick", nil)
	// results[case][app], the minimal window's after the apps'.
	results := map[string][][]sample{}
	for i := range *n {
		for _, c := range names {
			if results[c] == nil {
				results[c] = make([][]sample, len(apps)+1)
			}
			r := results[c]
			for j, a := range apps {
				r[j] = append(r[j], b.start(a, appTitle, appArgs[c](i)))
				r[len(apps)] = append(r[len(apps)], b.start(*minimal, "minimal consulvote yardstick", nil))
			}
		}
	}
	fmt.Printf("load average after:  %s", loadavg())
	for _, c := range names {
		for j, a := range apps {
			// Each app against the minimal window's starts next to its own.
			var m []sample
			for k := j; k < len(results[c][len(apps)]); k += len(apps) {
				m = append(m, results[c][len(apps)][k])
			}
			report(c+", "+a, results[c][j], m)
		}
	}
}

// appTitle ends the app's window title ("Accueil – consulvote"); the
// minimal window's title holds "consulvote" too.
const appTitle = " – consulvote"

type bench struct {
	x      *display
	dir    string
	wine   bool
	settle time.Duration
}

// sample is one start: to the first frame, VmHWM then and after settle (KiB).
type sample struct {
	frame           time.Duration
	rssFrame, rssAt int64
}

// path is a file's name as the binary sees it.
func (b *bench) path(p string) string {
	if b.wine {
		return `Z:` + strings.ReplaceAll(p, "/", `\`)
	}
	return p
}

// start runs bin until its first painted frame and settle after, then
// stops it.
func (b *bench) start(bin, title string, args []string) sample {
	home := filepath.Join(b.dir, filepath.Base(bin)+"-home")
	name := bin
	if b.wine {
		name, args = "wine", append([]string{bin}, args...)
	}
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), "HOME="+home, "XDG_DATA_HOME="+home+"/data", "XDG_CONFIG_HOME="+home+"/config")
	// A file, not a pipe: Wine's services inherit the output and outlive
	// the program, and Wait would wait for them.
	out, err := os.CreateTemp(b.dir, "output-")
	if err != nil {
		fatal(err)
	}
	defer out.Close()
	cmd.Stdout, cmd.Stderr = out, out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fatal(err)
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM)
		cmd.Wait()
		// Under Wine the program's window and process may outlive the
		// launcher: the next start must not find them.
		for end := time.Now().Add(15 * time.Second); time.Now().Before(end) && (b.x.painted(title, 1) || b.peakRSS(0, bin) > 0); {
			time.Sleep(20 * time.Millisecond)
		}
	}()
	for time.Since(start) < 60*time.Second {
		if b.x.painted(title, 8) {
			s := sample{frame: time.Since(start), rssFrame: b.peakRSS(cmd.Process.Pid, bin)}
			time.Sleep(b.settle)
			s.rssAt = b.peakRSS(cmd.Process.Pid, bin)
			return s
		}
		time.Sleep(5 * time.Millisecond)
	}
	printed, _ := os.ReadFile(out.Name())
	fatal(fmt.Errorf("%s %s: no painted window in 60 s; output:\n%s", bin, strings.Join(args, " "), printed))
	return sample{}
}

// peakRSS is the VmHWM (KiB) of pid or, under Wine, of the process that
// runs bin (wine hands the program to a process of its own).
func (b *bench) peakRSS(pid int, bin string) int64 {
	if !b.wine {
		if pid == 0 {
			return 0
		}
		return vmHWM(pid)
	}
	var peak int64
	procs, _ := filepath.Glob("/proc/[0-9]*/cmdline")
	for _, p := range procs {
		cmdline, err := os.ReadFile(p)
		if err != nil || !strings.Contains(string(cmdline), filepath.Base(bin)) {
			continue
		}
		if id, err := strconv.Atoi(filepath.Base(filepath.Dir(p))); err == nil {
			peak = max(peak, vmHWM(id))
		}
	}
	return peak
}

func vmHWM(pid int) int64 {
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			n, _ := strconv.ParseInt(strings.Fields(v)[0], 10, 64)
			return n
		}
	}
	return 0
}

// report prints a case's figures: each as min/median/max for the app and
// the minimal window, then the ratios of the pairs.
func report(name string, app, minimal []sample) {
	fmt.Printf("\n%s: %d interleaved starts each\n", name, len(app))
	for _, f := range []struct {
		what, unit string
		get        func(sample) float64
	}{
		{"first frame", "ms", func(s sample) float64 { return float64(s.frame.Microseconds()) / 1000 }},
		{"peak RSS at first frame", "MiB", func(s sample) float64 { return float64(s.rssFrame) / 1024 }},
		{"peak RSS 2 s later", "MiB", func(s sample) float64 { return float64(s.rssAt) / 1024 }},
	} {
		var a, m, r []float64
		for i := range app {
			a, m = append(a, f.get(app[i])), append(m, f.get(minimal[i]))
			r = append(r, a[i]/m[i])
		}
		fmt.Printf("  %-24s app %s %s, minimal %s %s, ratio %s (of medians %.2f)\n", f.what+":",
			spread(a, "%.0f"), f.unit, spread(m, "%.0f"), f.unit, spread(r, "%.2f"), median(a)/median(m))
	}
}

// spread is min/median/max.
func spread(v []float64, format string) string {
	s := slices.Sorted(slices.Values(v))
	return fmt.Sprintf(format+"/"+format+"/"+format, s[0], median(s), s[len(s)-1])
}

func median(v []float64) float64 {
	s := slices.Sorted(slices.Values(v))
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	return string(b)
}

func fatal(err error) {
	fmt.Fprintln(os.Stderr, "startbench:", err)
	os.Exit(1)
}
