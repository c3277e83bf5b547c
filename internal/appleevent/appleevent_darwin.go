//go:build darwin && cgo

package appleevent

/*
#cgo CFLAGS: -x objective-c
#cgo LDFLAGS: -framework Foundation -framework AppKit

#include <stdint.h>
#include <stdlib.h>
#import <AppKit/AppKit.h>
#import <CoreServices/CoreServices.h>

void consulvoteGetURL(uintptr_t handle, char *url); // export_darwin.go

@interface ConsulvoteGetURL : NSObject
@property uintptr_t handle;
@end

@implementation ConsulvoteGetURL
- (void)handleGetURL:(NSAppleEventDescriptor *)event withReplyEvent:(NSAppleEventDescriptor *)reply {
	NSString *url = [[event paramDescriptorForKeyword:keyDirectObject] stringValue];
	if (url != nil) {
		consulvoteGetURL(self.handle, (char *)[url UTF8String]);
	}
}
- (void)install:(NSNotification *)note {
	[[NSAppleEventManager sharedAppleEventManager] setEventHandler:self
		andSelector:@selector(handleGetURL:withReplyEvent:)
		forEventClass:kInternetEventClass andEventID:kAEGetURL];
}
@end

static void consulvoteListen(uintptr_t handle) {
	// Never released: it receives events for the life of the app.
	ConsulvoteGetURL *receiver = [ConsulvoteGetURL new];
	receiver.handle = handle;
	[receiver install:nil];
	// Again when the application finishes launching (GLFW launches it in
	// glfwInit, at the first window), after AppKit's own handlers and
	// before the event of the link that started the app.
	[[NSNotificationCenter defaultCenter] addObserver:receiver selector:@selector(install:)
		name:NSApplicationWillFinishLaunchingNotification object:nil];
}

// consulvoteDispatch delivers a get-URL event to this process's handler
// as macOS would, for the test (no event loop needed).
static int consulvoteDispatch(const char *url) {
	NSAppleEventDescriptor *event = [NSAppleEventDescriptor appleEventWithEventClass:kInternetEventClass
		eventID:kAEGetURL targetDescriptor:[NSAppleEventDescriptor currentProcessDescriptor]
		returnID:kAutoGenerateReturnID transactionID:kAnyTransactionID];
	[event setParamDescriptor:[NSAppleEventDescriptor descriptorWithString:[NSString stringWithUTF8String:url]]
		forKeyword:keyDirectObject];
	AppleEvent reply = {typeNull, NULL};
	OSErr err = [[NSAppleEventManager sharedAppleEventManager] dispatchRawAppleEvent:[event aeDesc]
		withRawReply:&reply handlerRefCon:0];
	AEDisposeDesc(&reply);
	return err;
}
*/
import "C"

import (
	"fmt"
	"runtime/cgo"
	"unsafe"
)

// OnGetURL has handle called with each URL macOS opens with the app. Call
// it before the first window, which launches the application. handle runs
// on the main thread, inside the event loop: it must not block.
func OnGetURL(handle func(url string)) {
	C.consulvoteListen(C.uintptr_t(cgo.NewHandle(handle)))
}

// dispatch sends url to this process's handler as macOS does (test only).
func dispatch(url string) error {
	s := C.CString(url)
	defer C.free(unsafe.Pointer(s))
	if err := C.consulvoteDispatch(s); err != 0 {
		return fmt.Errorf("dispatchRawAppleEvent: OSErr %d", err)
	}
	return nil
}
