/* Test-only stand-in for Windows' bcryptprimitives.dll, for running sockdbg.exe under Wine 8.
 *
 * Rust's std (1.78 and later) gets random bytes from ProcessPrng in bcryptprimitives.dll, which
 * Windows 10 and 11 have and Wine 8 lacks, so without this the exe does not start under Wine.
 * This DLL exports ProcessPrng over RtlGenRandom (advapi32's SystemFunction036), which Wine has.
 * Built by scripts/wine/build-shim.sh with mingw and put beside the exe in test directories
 * only: never shipped (a real Windows has its own). */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length); /* RtlGenRandom */

__declspec(dllexport) BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000 ? 0x10000000 : (ULONG)length;
        if (!SystemFunction036(data, chunk))
            return FALSE;
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
