// Command genroll writes a test electoral roll: genroll N BAD_EVERY FILE
// (BAD_EVERY 0 for none), for the import measurements (make bench-roll).
package main

import (
	"fmt"
	"os"
	"strconv"

	"consulvote/app/service/servicetest"
)

func main() {
	if len(os.Args) != 4 {
		fmt.Fprintln(os.Stderr, "usage: genroll N BAD_EVERY FILE")
		os.Exit(2)
	}
	n, err1 := strconv.Atoi(os.Args[1])
	bad, err2 := strconv.Atoi(os.Args[2])
	if err1 != nil || err2 != nil {
		fmt.Fprintln(os.Stderr, "genroll: N and BAD_EVERY are numbers")
		os.Exit(2)
	}
	f, err := os.Create(os.Args[3])
	if err == nil {
		_, err = servicetest.WriteRoll(f, n, bad)
	}
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "genroll:", err)
		os.Exit(1)
	}
}
