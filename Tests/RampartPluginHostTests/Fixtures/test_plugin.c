/* A test plugin whose behaviour (and defects) are chosen with -D flags at compile time. It scans
 * the raw PluginRequest bytes for trigger words and hand-encodes its Verdicts, so the fixture needs
 * no protobuf library. */
#define _GNU_SOURCE
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include "rampart_plugin.h"

static const rp_host_api *host;

static rp_status create(const rp_host_api *h, const uint8_t *cfg, size_t len, void **inst, rp_call *call) {
    host = h;
#ifdef CREATE_FAILS
    (void)cfg; (void)len; (void)inst;
    const char *msg = "config: missing key 'threshold'";
    h->set_error(call, msg, strlen(msg));
    return RP_ERR_INVALID_ARGUMENT;
#else
    (void)call;
    *inst = (void *)1;
    if (len == 6 && memcmp(cfg, "reject", 6) == 0) {
        h->set_error(call, "config says reject", 18);
        return RP_ERR_INVALID_ARGUMENT;
    }
    return RP_OK;
#endif
}

static void destroy(void *inst) { (void)inst; }

static void put_string(rp_host_buf *out, uint8_t tag, const char *s) {
    uint8_t header[2] = { tag, (uint8_t)strlen(s) };
    host->buf_append(out, header, 2);
    host->buf_append(out, (const uint8_t *)s, strlen(s));
}

static rp_status on_request(void *inst, void *stream, const uint8_t *req, size_t len, rp_host_buf *out, rp_call *call) {
    (void)inst; (void)stream;
#ifdef MALFORMED_VERDICT
    (void)req; (void)len; (void)call;
    uint8_t junk[3] = { 0x1a, 0x7f, 0x00 };
    host->buf_append(out, junk, 3);
    return RP_OK;
#endif
#ifdef WIRE_GARBAGE
    /* Process isolation tests: the plugin scribbles on its host's socket (fd 3) mid-call. */
    if (memmem(req, len, "garbage-now", 11)) {
        static const uint8_t garbage[5] = { 0, 0, 0, 1, 0x08 }; /* a 1-byte frame: a truncated varint */
        if (write(3, garbage, sizeof garbage) != (ssize_t)sizeof garbage) { return RP_ERR_INTERNAL; }
    }
    if (memmem(req, len, "oversize-now", 12)) {
        static const uint8_t header[4] = { 0x7f, 0xff, 0xff, 0xff }; /* announces a 2 GiB frame */
        if (write(3, header, sizeof header) != (ssize_t)sizeof header) { return RP_ERR_INTERNAL; }
    }
#endif
    if (memmem(req, len, "crash-now", 9)) { raise(SIGSEGV); }
    if (memmem(req, len, "sleep-now", 9)) { usleep(300000); }
    if (memmem(req, len, "error-now", 9)) {
        host->set_error(call, "plugin exploded", 15);
        return RP_ERR_INTERNAL;
    }
    if (memmem(req, len, "forbidden", 9)) {
        /* Verdict { deny: Deny { code: 7, message: "forbidden word", retry_after_ms: 250 } } */
        const char *msg = "forbidden word";
        uint8_t inner_len = (uint8_t)(2 + 2 + strlen(msg) + 3);
        uint8_t deny[4] = { 0x1a, inner_len, 0x08, 0x07 };
        host->buf_append(out, deny, 4);
        put_string(out, 0x12, msg);
        uint8_t retry[3] = { 0x18, 0xfa, 0x01 };
        host->buf_append(out, retry, 3);
        return RP_OK;
    }
    if (memmem(req, len, "mutate-me", 9)) {
        /* Verdict { mutate: Mutation { replace_prompt: true, prompt: "mutated prompt" } } */
        const char *p = "mutated prompt";
        uint8_t inner_len = (uint8_t)(2 + 2 + strlen(p));
        uint8_t m[4] = { 0x12, inner_len, 0x18, 0x01 };
        host->buf_append(out, m, 4);
        put_string(out, 0x22, p);
        return RP_OK;
    }
    double seen = 0;
    host->signal_get(call, "calls", 5, &seen);
    host->signal_set(call, "calls", 5, seen + 1, 0);
    host->log(call, RP_LOG_DEBUG, "pass", 4);
    return RP_OK; /* nothing written: Pass */
}

#ifdef WITH_STREAMS
/* Per-call state: counts the chunks of each call; `live_streams` counts streams not yet freed. */
#include <stdio.h>
#include <stdlib.h>
typedef struct fixture_stream { int chunks; } fixture_stream;
static int live_streams;

static rp_status stream_new(void *inst, void **out, rp_call *call) {
    (void)inst;
    fixture_stream *s = calloc(1, sizeof *s);
    if (!s) { host->set_error(call, "out of memory", 13); return RP_ERR_INTERNAL; }
    live_streams++;
    *out = s;
    return RP_OK;
}

static void stream_free(void *inst, void *stream) {
    (void)inst;
    live_streams--;
    free(stream);
}
#endif

#ifdef WITH_LOGITS
static rp_status on_logits(void *inst, void *stream, float *logits, size_t vocab, const int32_t *prev, size_t n_prev,
                           rp_call *call) {
    (void)inst; (void)stream; (void)prev; (void)n_prev; (void)call;
    if (vocab > 0) logits[0] = -1e9f;
    return RP_OK;
}
#endif

static rp_status on_chunk(void *inst, void *stream, const char *utf8, size_t len, rp_chunk_action *action,
                          rp_host_buf *replacement, rp_call *call) {
    (void)inst; (void)stream; (void)call;
#ifdef WITH_STREAMS
    /* "count?" → "chunks=<n>" (this call's chunks so far); "live?" → "live=<n>" (open streams). */
    if (stream) {
        fixture_stream *s = stream;
        s->chunks++;
        char text[64];
        int n = -1;
        if (memmem(utf8, len, "count?", 6)) n = snprintf(text, sizeof text, "chunks=%d", s->chunks);
        if (memmem(utf8, len, "live?", 5)) n = snprintf(text, sizeof text, "live=%d", live_streams);
        if (n > 0) {
            *action = RP_CHUNK_REPLACE;
            host->buf_append(replacement, (const uint8_t *)text, (size_t)n);
            return RP_OK;
        }
    }
#endif
    if (memmem(utf8, len, "SECRET", 6)) { *action = RP_CHUNK_STOP; return RP_OK; }
    if (memmem(utf8, len, "cat", 3)) {
        *action = RP_CHUNK_REPLACE;
        host->buf_append(replacement, (const uint8_t *)"dog", 3);
        return RP_OK;
    }
    *action = RP_CHUNK_PASS;
    return RP_OK;
}

#if defined(WITH_METHODS) || defined(METHODS_NO_HANDLER) || defined(BAD_METHOD_NAME)
#ifdef BAD_METHOD_NAME
static const char *const methods[] = { "no-slash-here", NULL };
#else
static const char *const methods[] = { "test.Echo/Upper", "test.Echo/Fail", NULL };
#endif
/* Echoes the PluginMethodCall's body (field 3) upper-cased, and records an audit event;
 * test.Echo/Fail answers NOT_FOUND. */
static rp_status on_method(void *inst, const uint8_t *in, size_t len, rp_host_buf *out, rp_call *call) {
    (void)inst;
    static const uint8_t event[] = { 0x0a, 9, 'e','c','h','o','.','c','a','l','l', 0x12, 7, 's','u','c','c','e','s','s' };
    if (host->struct_size >= offsetof(rp_host_api, audit) + sizeof(void *) && host->audit) {
        host->audit(call, event, sizeof event);
    }
    if (memmem(in, len, "Fail", 4)) {
        host->set_error(call, "no such thing", 13);
        return 5;
    }
    /* Find the body: tag 0x1a, one-byte length (the tests send short bodies). */
    for (size_t i = 0; i + 1 < len; i++) {
        if (in[i] == 0x1a && i + 2 + in[i + 1] == len) {
            for (size_t j = 0; j < in[i + 1]; j++) {
                uint8_t c = in[i + 2 + j];
                if (c >= 'a' && c <= 'z') c -= 32;
                host->buf_append(out, &c, 1);
            }
            return RP_OK;
        }
    }
    return RP_OK;
}
#endif

static rp_plugin_v1 descriptor = {
#ifdef BAD_MAGIC
    .magic = 0xdeadbeef,
#else
    .magic = RP_PLUGIN_MAGIC,
#endif
#ifdef SMALL_STRUCT
    .struct_size = 16,
#else
    .struct_size = sizeof(rp_plugin_v1),
#endif
#ifdef ABI_TOO_NEW
    .abi_major = RP_ABI_MAJOR + 1,
#else
    .abi_major = RP_ABI_MAJOR,
#endif
#ifdef ABI_1_0
    .abi_minor = 0,
#else
    .abi_minor = RP_ABI_MINOR,
#endif
    .name = "test-plugin",
    .version = "0.0.1",
#ifdef CAP_MISMATCH
    .capabilities = RP_CAP_HOOK_REQUEST | RP_CAP_HOOK_CHUNK | RP_CAP_HOOK_RESPONSE,
#elif defined(ALL_METHODS)
    .capabilities = RP_CAP_HOOK_REQUEST | RP_CAP_HOOK_CHUNK | RP_CAP_ALL_METHODS,
#elif defined(WITH_LOGITS)
    .capabilities = RP_CAP_HOOK_REQUEST | RP_CAP_HOOK_CHUNK | RP_CAP_HOOK_LOGITS,
#else
    .capabilities = RP_CAP_HOOK_REQUEST | RP_CAP_HOOK_CHUNK,
#endif
    .create = create,
    .destroy = destroy,
    .on_request = on_request,
    .on_chunk = on_chunk,
#ifdef WITH_STREAMS
    .stream_new = stream_new,
    .stream_free = stream_free,
#endif
#ifdef WITH_LOGITS
    .on_logits = on_logits,
#endif
#if defined(WITH_METHODS) || defined(BAD_METHOD_NAME)
    .methods = methods,
    .on_method = on_method,
#elif defined(METHODS_NO_HANDLER)
    .methods = methods,
#endif
};

#ifndef NO_ENTRY
const rp_plugin_v1 *rampart_plugin_v1(uint16_t major, uint16_t minor) {
    (void)major; (void)minor;
    return &descriptor;
}
#endif
