//go:build !linux

package pgtest

import (
	"fmt"
	"runtime"
)

// startPrivate: the private cluster is made the Linux way (Debian's
// package, the postgres user when run as root, a server that dies with
// the test binary through Pdeathsig). Elsewhere (the hosted Windows and
// macOS runners) the tests use CONSULVOTE_PG_URL's server, or skip.
func startPrivate() (*cluster, error) {
	missing = true
	return nil, fmt.Errorf("no private PostgreSQL cluster on %s", runtime.GOOS)
}
