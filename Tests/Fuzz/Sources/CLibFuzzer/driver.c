// Declarations only (include/libfuzzer_driver.h); the driver is in libclang_rt.fuzzer.
#include "libfuzzer_driver.h"
