//go:build darwin && cgo

package appleevent

// #include <stdint.h>
import "C"

import "runtime/cgo"

// consulvoteGetURL is called by the Objective-C handler of appleevent_darwin.go.
//
//export consulvoteGetURL
func consulvoteGetURL(handle C.uintptr_t, url *C.char) {
	cgo.Handle(handle).Value().(func(string))(C.GoString(url))
}
