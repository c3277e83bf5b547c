/* A test shim, never shipped: Fyne's screen-reader bridge (-tags
 * accessibility) calls UiaRaiseStructureChangedEvent, which Wine 8.0
 * (Debian 12) leaves unimplemented: the process aborts at the first
 * change of the window's content. In the test's own Wine prefix only, this
 * DLL stands in for uiautomationcore.dll with the five functions Fyne
 * looks up, doing nothing (no screen reader listens under Wine). The app
 * tested is the one shipped; its UI Automation is not exercised here. */
#include <windows.h>

__declspec(dllexport) LRESULT WINAPI UiaReturnRawElementProvider(HWND hwnd, WPARAM wp, LPARAM lp, void *el)
{
	return 0;
}

__declspec(dllexport) HRESULT WINAPI UiaHostProviderFromHwnd(HWND hwnd, void **provider)
{
	if (provider)
		*provider = NULL;
	return S_OK;
}

__declspec(dllexport) HRESULT WINAPI UiaRaiseAutomationEvent(void *provider, int id)
{
	return S_OK;
}

__declspec(dllexport) HRESULT WINAPI UiaRaiseStructureChangedEvent(void *provider, int type, int *id, int len)
{
	return S_OK;
}

__declspec(dllexport) HRESULT WINAPI UiaDisconnectProvider(void *provider)
{
	return S_OK;
}
