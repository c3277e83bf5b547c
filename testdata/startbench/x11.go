//go:build linux && cgo

package main

/*
#cgo LDFLAGS: -lX11
#define _GNU_SOURCE
#include <stdlib.h>
#include <string.h>
#include <X11/Xlib.h>
#include <X11/Xutil.h>

static int ignore(Display *d, XErrorEvent *e) { return 0; }

// find returns the first viewable window whose name holds title, 0 if none.
static Window find(Display *d, Window w, const char *title) {
	XTextProperty name;
	XWindowAttributes a;
	// _NET_WM_NAME, UTF-8 as GLFW and Wine write it (WM_NAME may be
	// compound text).
	if (XGetTextProperty(d, w, &name, XInternAtom(d, "_NET_WM_NAME", False)) && name.value) {
		int hit = memmem(name.value, name.nitems, title, strlen(title)) != NULL;
		XFree(name.value);
		if (hit && XGetWindowAttributes(d, w, &a) && a.map_state == IsViewable) return w;
	}
	Window root, parent, *kids = NULL;
	unsigned int n = 0;
	Window found = 0;
	if (XQueryTree(d, w, &root, &parent, &kids, &n)) {
		for (unsigned int i = 0; i < n && !found; i++) found = find(d, kids[i], title);
		if (kids) XFree(kids);
	}
	return found;
}

// colours counts distinct pixels of the window (every other one), up to
// limit; 0 when it cannot be read.
static int colours(Display *d, Window w, int limit) {
	XWindowAttributes a;
	if (!XGetWindowAttributes(d, w, &a) || a.width < 2 || a.height < 2) return 0;
	XImage *img = XGetImage(d, w, 0, 0, a.width, a.height, AllPlanes, ZPixmap);
	if (!img) return 0;
	unsigned long seen[64];
	int n = 0;
	for (int y = 0; y < a.height && n < limit && n < 64; y += 2)
		for (int x = 0; x < a.width && n < limit && n < 64; x += 2) {
			unsigned long p = XGetPixel(img, x, y);
			int i = 0;
			while (i < n && seen[i] != p) i++;
			if (i == n) seen[n++] = p;
		}
	XDestroyImage(img);
	return n;
}

static Display *open_display(void) {
	XSetErrorHandler(ignore);
	return XOpenDisplay(NULL);
}
*/
import "C"

import (
	"errors"
	"unsafe"
)

// display reads windows of the X server of $DISPLAY through Xlib: one
// poll costs about a millisecond, where xdotool and ImageMagick's import
// cost some 50 ms of the CPU the measured start needs.
type display struct{ d *C.Display }

func openDisplay() (*display, error) {
	d := C.open_display()
	if d == nil {
		return nil, errors.New("cannot open the X display $DISPLAY")
	}
	return &display{d}, nil
}

// painted reports whether a viewable window whose name contains title
// shows at least min colours: a frame has been drawn.
func (x *display) painted(title string, min int) bool {
	t := C.CString(title)
	defer C.free(unsafe.Pointer(t))
	w := C.find(x.d, C.XDefaultRootWindow(x.d), t)
	return w != 0 && int(C.colours(x.d, w, C.int(min))) >= min
}
