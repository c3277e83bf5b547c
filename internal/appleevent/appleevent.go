// Package appleevent receives the links macOS opens with the app. A
// clicked consulvote:// link does not reach the app on its command line,
// as on Linux and Windows: macOS starts or activates the app and sends it
// a "get URL" Apple Event (kInternetEventClass, kAEGetURL), which neither
// GLFW nor Fyne 2.8.1 handle. Elsewhere OnGetURL does nothing.
package appleevent
