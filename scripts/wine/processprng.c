/* A test shim, never shipped: Go >= 1.22 on Windows needs ProcessPrng
 * from bcryptprimitives.dll, which Wine 8.0 (Debian 12) lacks. This DLL
 * gives it on top of RtlGenRandom (advapi32's SystemFunction036), in the
 * test's own Wine prefix only. Built by `make wine-shim` with mingw-w64. */
#include <windows.h>
#include <ntsecapi.h>

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!RtlGenRandom(data, n))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
