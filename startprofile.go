//go:build startprofile

package main

// Built with -tags startprofile (make profile-start), the app records
// its start for Go's tools, in the folder of CONSULVOTE_PROFILE: an
// execution trace (trace.out, with the start's steps as regions), a CPU
// profile (cpu.pprof) and a heap profile (heap.pprof) taken
// CONSULVOTE_PROFILE_FOR (default 3s) after the process started.

import (
	"os"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"runtime/trace"
	"time"
)

func init() {
	dir := os.Getenv("CONSULVOTE_PROFILE")
	if dir == "" {
		return
	}
	d, err := time.ParseDuration(os.Getenv("CONSULVOTE_PROFILE_FOR"))
	if err != nil {
		d = 3 * time.Second
	}
	create := func(name string) *os.File {
		f, err := os.Create(filepath.Join(dir, name))
		if err != nil {
			panic(err)
		}
		return f
	}
	tf, cf := create("trace.out"), create("cpu.pprof")
	if err := trace.Start(tf); err != nil {
		panic(err)
	}
	if err := pprof.StartCPUProfile(cf); err != nil {
		panic(err)
	}
	time.AfterFunc(d, func() {
		trace.Stop()
		pprof.StopCPUProfile()
		tf.Close()
		cf.Close()
		hf := create("heap.pprof")
		defer hf.Close()
		runtime.GC()
		pprof.WriteHeapProfile(hf)
	})
}
