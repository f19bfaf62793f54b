#ifndef RAMPART_LIBFUZZER_DRIVER_H
#define RAMPART_LIBFUZZER_DRIVER_H
#include <stddef.h>
#include <stdint.h>

/// libFuzzer's driver entry point (compiler-rt, -fsanitize=fuzzer). SwiftPM links executables
/// with their own `main` (`<module>_main`), so the fuzz targets call the driver from there
/// instead of using libFuzzer's `main`.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*UserCb)(const uint8_t *Data, size_t Size));

#endif
