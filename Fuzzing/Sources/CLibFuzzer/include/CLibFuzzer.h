// libFuzzer's driver entry point (compiler-rt, linked by -sanitize=fuzzer). SwiftPM links a debug
// executable with main aliased to `<Target>_main`, so each target calls the driver from there
// instead of relying on libFuzzer's own main.
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));
