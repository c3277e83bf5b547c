//go:build !unix

package loadtest

import "time"

// cpuTime is not measured here: the figure reads 0.
func cpuTime() time.Duration { return 0 }
