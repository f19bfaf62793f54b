// A tiny shim over ICU's C API. ICU renames every symbol with a version suffix through macros
// (uspoof_open -> uspoof_open_72), which Swift cannot call; these functions have stable names.
#ifndef RAMPART_ICU_H
#define RAMPART_ICU_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// UTS #39 skeleton of `len` bytes of UTF-8 at `utf8`, written to `out` (capacity `cap` bytes,
/// not NUL-terminated). Returns the skeleton's length in bytes; a value above `cap` means `out`
/// was too small (call again with that capacity); -1 on an ICU error (e.g. invalid UTF-8).
int32_t rampart_icu_skeleton(const char *utf8, int32_t len, char *out, int32_t cap);

/// NFKC normalisation of `len` bytes of UTF-8; same output convention as rampart_icu_skeleton.
int32_t rampart_icu_nfkc(const char *utf8, int32_t len, char *out, int32_t cap);

/// The ICU version this shim was built against, e.g. "72.1" (static storage).
const char *rampart_icu_version(void);

#ifdef __cplusplus
}
#endif

#endif
