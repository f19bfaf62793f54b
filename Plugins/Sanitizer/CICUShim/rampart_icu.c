#include "rampart_icu.h"

#include <pthread.h>
#include <stdlib.h>
#include <unicode/uspoof.h>
#include <unicode/unorm2.h>
#include <unicode/ustring.h>
#include <unicode/uversion.h>

static USpoofChecker *checker;
static const UNormalizer2 *nfkc;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void init_icu(void) {
    UErrorCode status = U_ZERO_ERROR;
    checker = uspoof_open(&status);
    if (U_FAILURE(status)) checker = NULL;
    status = U_ZERO_ERROR;
    nfkc = unorm2_getNFKCInstance(&status);
    if (U_FAILURE(status)) nfkc = NULL;
}

int32_t rampart_icu_skeleton(const char *utf8, int32_t len, char *out, int32_t cap) {
    pthread_once(&once, init_icu);
    if (checker == NULL || len < 0 || cap < 0) return -1;
    UErrorCode status = U_ZERO_ERROR;
    // getSkeleton only reads the checker: safe from several threads at once.
    int32_t n = uspoof_getSkeletonUTF8(checker, 0, utf8, len, out, cap, &status);
    if (status == U_BUFFER_OVERFLOW_ERROR || status == U_STRING_NOT_TERMINATED_WARNING) return n;
    return U_FAILURE(status) ? -1 : n;
}

int32_t rampart_icu_nfkc(const char *utf8, int32_t len, char *out, int32_t cap) {
    pthread_once(&once, init_icu);
    if (nfkc == NULL || len < 0 || cap < 0) return -1;
    UErrorCode status = U_ZERO_ERROR;
    int32_t units = 0;
    u_strFromUTF8(NULL, 0, &units, utf8, len, &status);
    if (status != U_BUFFER_OVERFLOW_ERROR && U_FAILURE(status)) return -1;
    status = U_ZERO_ERROR;
    UChar *source = malloc(sizeof(UChar) * (size_t)(units + 1));
    if (source == NULL) return -1;
    u_strFromUTF8(source, units + 1, NULL, utf8, len, &status);
    if (U_FAILURE(status)) { free(source); return -1; }
    // NFKC expands a code unit to at most 18 (U+FDFA); start with 3x and retry once if needed.
    int32_t capacity = units * 3 + 16;
    UChar *normal = malloc(sizeof(UChar) * (size_t)capacity);
    if (normal == NULL) { free(source); return -1; }
    int32_t normalLength = unorm2_normalize(nfkc, source, units, normal, capacity, &status);
    if (status == U_BUFFER_OVERFLOW_ERROR) {
        free(normal);
        capacity = normalLength + 1;
        normal = malloc(sizeof(UChar) * (size_t)capacity);
        if (normal == NULL) { free(source); return -1; }
        status = U_ZERO_ERROR;
        normalLength = unorm2_normalize(nfkc, source, units, normal, capacity, &status);
    }
    free(source);
    if (U_FAILURE(status)) { free(normal); return -1; }
    int32_t written = 0;
    u_strToUTF8(out, cap, &written, normal, normalLength, &status);
    free(normal);
    if (status == U_BUFFER_OVERFLOW_ERROR || status == U_STRING_NOT_TERMINATED_WARNING) return written;
    return U_FAILURE(status) ? -1 : written;
}

const char *rampart_icu_version(void) {
    return U_ICU_VERSION;
}
