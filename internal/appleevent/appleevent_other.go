//go:build !darwin || !cgo

package appleevent

// OnGetURL does nothing here: links come on the command line.
func OnGetURL(handle func(url string)) {}
