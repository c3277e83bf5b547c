//go:build !(linux && cgo)

package main

import "errors"

type display struct{}

func openDisplay() (*display, error) {
	return nil, errors.New("startbench runs on Linux under X (Xvfb), with cgo")
}

func (*display) painted(string, int) bool { return false }
