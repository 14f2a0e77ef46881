/*
 * A stand-in bcryptprimitives.dll for Wine 8, which lacks it: Go (1.22+)
 * windows binaries load bcryptprimitives.dll!ProcessPrng at startup for all
 * their randomness and abort without it. ProcessPrng fills the buffer from
 * the system RNG through BCryptGenRandom, which Wine 8 implements.
 * .ci/wine-setup builds it with x86_64-w64-mingw32-gcc into the prefix's system32.
 */
#include <windows.h>
#include <bcrypt.h>

/* BCryptGenRandom takes a ULONG length; ProcessPrng takes a SIZE_T. */
#define MAX_CHUNK 0x40000000u

/* ProcessPrng never fails on Windows; here a failure returns FALSE, which
 * Go's runtime turns into a loud abort rather than silently unrandom bytes. */
__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG chunk = len > MAX_CHUNK ? MAX_CHUNK : (ULONG)len;
		if (!BCRYPT_SUCCESS(BCryptGenRandom(NULL, data, chunk,
						    BCRYPT_USE_SYSTEM_PREFERRED_RNG)))
			return FALSE;
		data += chunk;
		len -= chunk;
	}
	return TRUE;
}

/* Built without the C runtime (-nostdlib), so this is the entry point. */
BOOL WINAPI DllMain(HINSTANCE dll, DWORD reason, LPVOID reserved)
{
	(void)dll;
	(void)reason;
	(void)reserved;
	return TRUE;
}
