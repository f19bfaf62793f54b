/* An ABI 1.2 plugin that reads its input only through the host's field getters and answers
 * through host->deny / add_trailer / set_principal. What it does is chosen by the request's
 * `x-action` metadata; it reports what it saw as trailers, so the tests can check every getter. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include "rampart_plugin.h"

static const rp_host_api *host;

static rp_status create(const rp_host_api *h, const uint8_t *cfg, size_t len, void **inst, rp_call *call) {
    (void)cfg; (void)len; (void)call;
    host = h;
    *inst = (void *)1;
    return RP_OK;
}

static void destroy(void *inst) { (void)inst; }

static void trailer(rp_call *call, const char *key, const char *value) {
    host->add_trailer(call, key, strlen(key), value, strlen(value));
}

static void trailer_u64(rp_call *call, const char *key, uint64_t value) {
    char text[32];
    snprintf(text, sizeof text, "%llu", (unsigned long long)value);
    trailer(call, key, text);
}

static int str_is(rp_call *call, rp_field field, size_t index, const char *want) {
    const char *data = NULL;
    size_t len = 0;
    return host->get_str(call, field, index, &data, &len) && len == strlen(want) && memcmp(data, want, len) == 0;
}

/* The value of metadata `key`, copied NUL-terminated into `out`; "" when absent. */
static void metadata(rp_call *call, const char *key, char *out, size_t cap) {
    out[0] = 0;
    for (size_t i = 0;; i++) {
        const char *k = NULL, *v = NULL;
        size_t kl = 0, vl = 0;
        if (!host->get_str(call, RP_FIELD_METADATA_KEY, i, &k, &kl)) { return; }
        if (kl == strlen(key) && memcmp(k, key, kl) == 0 && host->get_str(call, RP_FIELD_METADATA_VALUE, i, &v, &vl)) {
            if (vl >= cap) { vl = cap - 1; }
            memcpy(out, v, vl);
            out[vl] = 0;
            return;
        }
    }
}

static rp_status on_request(void *inst, void *stream, const uint8_t *req, size_t len, rp_host_buf *out, rp_call *call) {
    (void)inst; (void)stream;
    if (req != NULL || len != 0) {
        const char *msg = "expected no protobuf";
        host->set_error(call, msg, strlen(msg));
        return RP_ERR_INTERNAL;
    }
    char action[64];
    metadata(call, "x-action", action, sizeof action);
    if (strcmp(action, "deny") == 0) {
        host->deny(call, 8, "slow down", 9, 1500);
        trailer(call, "x-limit", "requests");
    } else if (strcmp(action, "principal") == 0) {
        static const uint8_t principal[] = { 0x0a, 0x02, 'p', '1', 0x22, 0x05, 'i', 'n', 'f', 'e', 'r' };
        host->set_principal(call, principal, sizeof principal);
        trailer(call, "x-remaining", "41");
    } else if (strcmp(action, "both") == 0) {
        static const uint8_t pass[] = { 0x0a, 0x00 }; /* Verdict { pass {} } */
        host->deny(call, 7, "no", 2, 0);
        host->buf_append(out, pass, sizeof pass);
    } else if (strcmp(action, "bad") == 0) {
        /* Every bad argument is refused with a status, never a crash. */
        trailer_u64(call, "x-bad-key", (uint64_t)host->add_trailer(call, "Bad Key", 7, "v", 1));
        trailer_u64(call, "x-bad-utf8", (uint64_t)host->add_trailer(call, "k", 1, "\xff\xfe", 2));
        trailer_u64(call, "x-bad-code", (uint64_t)host->deny(call, 99, "x", 1, 0));
        trailer_u64(call, "x-bad-principal", (uint64_t)host->set_principal(call, (const uint8_t *)"\xff", 1));
        const char *data = NULL;
        size_t n = 0;
        trailer_u64(call, "x-unknown-field", (uint64_t)host->get_str(call, 999, 0, &data, &n));
        trailer_u64(call, "x-scope-out-of-range", (uint64_t)host->get_str(call, RP_FIELD_PRINCIPAL_SCOPE, 5, &data, &n));
        uint64_t v = 0;
        trailer_u64(call, "x-ending-in-request", (uint64_t)host->get_u64(call, RP_FIELD_STATUS_CODE, &v));
        trailer_u64(call, "x-null-out", (uint64_t)host->get_str(call, RP_FIELD_METHOD, 0, NULL, NULL));
    } else if (strcmp(action, "huge") == 0) {
        /* size_t lengths above SSIZE_MAX: refused, never read (they arrive negative in Swift). */
        const size_t huge = (size_t)-1;
        double v = 0;
        host->log(call, RP_LOG_INFO, "x", huge);
        host->set_error(call, "x", huge);
        host->signal_set(call, "k", huge, 1.0, 0);
        trailer_u64(call, "x-signal-get", (uint64_t)host->signal_get(call, "k", huge, &v));
        trailer_u64(call, "x-deny", (uint64_t)host->deny(call, 7, "x", huge, 0));
        trailer_u64(call, "x-trailer-key", (uint64_t)host->add_trailer(call, "k", huge, "v", 1));
        trailer_u64(call, "x-trailer-value", (uint64_t)host->add_trailer(call, "k", 1, "v", huge));
        trailer_u64(call, "x-principal", (uint64_t)host->set_principal(call, (const uint8_t *)"\x0a\x01p", huge));
        trailer_u64(call, "x-append", (uint64_t)host->buf_append(out, (const uint8_t *)"x", huge));
        trailer_u64(call, "x-append-max", (uint64_t)host->buf_append(out, (const uint8_t *)"x", huge / 2));
    } else if (strcmp(action, "clamp") == 0) {
        trailer_u64(call, "x-zero", (uint64_t)host->set_max_tokens(call, 0));
        host->set_max_tokens(call, 5);
    } else if (strcmp(action, "content") == 0) {
        /* The content fields: prompt, each message's role/content/name/tool call id, counts. */
        const char *data = NULL;
        size_t n = 0;
        uint64_t count = 0, v = 0;
        char key[32], value[256];
        if (host->get_str(call, RP_FIELD_PROMPT, 0, &data, &n)) {
            snprintf(value, sizeof value, "%.*s", (int)n, data);
            trailer(call, "x-prompt", value);
        }
        if (host->get_u64(call, RP_FIELD_MESSAGE_COUNT, &count)) { trailer_u64(call, "x-messages", count); }
        for (size_t i = 0; i < count && i < 8; i++) {
            static const rp_field fields[] = { RP_FIELD_MESSAGE_ROLE, RP_FIELD_MESSAGE_CONTENT, RP_FIELD_MESSAGE_NAME,
                                               RP_FIELD_MESSAGE_TOOL_CALL_ID };
            static const char *names[] = { "role", "content", "name", "tool-call-id" };
            for (size_t f = 0; f < 4; f++) {
                if (!host->get_str(call, fields[f], i, &data, &n)) { continue; }
                snprintf(key, sizeof key, "x-m%zu-%s", i, names[f]);
                snprintf(value, sizeof value, "%.*s", (int)n, data);
                trailer(call, key, value);
            }
        }
        trailer_u64(call, "x-past-last", (uint64_t)host->get_str(call, RP_FIELD_MESSAGE_CONTENT, count, &data, &n));
        trailer_u64(call, "x-prompt-index-1", (uint64_t)host->get_str(call, RP_FIELD_PROMPT, 1, &data, &n));
        if (host->get_u64(call, RP_FIELD_TOOL_COUNT, &v)) { trailer_u64(call, "x-tools", v); }
        if (host->get_u64(call, RP_FIELD_TOOL_CALL_COUNT, &v)) { trailer_u64(call, "x-tool-calls", v); }
    } else if (strcmp(action, "pb") == 0) {
        const uint8_t *pb = NULL;
        size_t n = 0;
        if (host->input_pb(call, &pb, &n) == RP_OK && pb != NULL) { trailer_u64(call, "x-pb-len", n); }
    } else {
        /* Report what the getters say. */
        uint64_t v = 0;
        trailer(call, "x-method-ok", str_is(call, RP_FIELD_METHOD, 0, "/rampart.v1.Inference/Generate") ? "1" : "0");
        trailer(call, "x-request-id-ok", str_is(call, RP_FIELD_REQUEST_ID, 0, "r-77") ? "1" : "0");
        trailer(call, "x-principal", str_is(call, RP_FIELD_PRINCIPAL_ID, 0, "p1") ? "p1"
              : (host->get_str(call, RP_FIELD_PRINCIPAL_ID, 0, &(const char *){0}, &(size_t){0}) ? "other" : "none"));
        if (host->get_u64(call, RP_FIELD_MAX_TOKENS, &v)) { trailer_u64(call, "x-max-tokens", v); }
        if (host->get_u64(call, RP_FIELD_PROMPT_BYTES, &v)) { trailer_u64(call, "x-prompt-bytes", v); }
        if (host->get_u64(call, RP_FIELD_PROMPT_TOKENS, &v)) { trailer_u64(call, "x-prompt-tokens", v); }
        if (host->get_u64(call, RP_FIELD_PEER_UID, &v)) { trailer_u64(call, "x-peer-uid", v); }
        if (host->get_u64(call, RP_FIELD_IS_INFERENCE, &v)) { trailer_u64(call, "x-inference", v); }
        char user[64];
        metadata(call, "x-user", user, sizeof user);
        trailer(call, "x-user-seen", user);
    }
    return RP_OK;
}

/* A response hook answers through the host too: a trailer on the success, or a denial when the
 * generated text is "deny". */
static rp_status on_response(void *inst, void *stream, const uint8_t *resp, size_t len, rp_host_buf *out, rp_call *call) {
    (void)inst; (void)stream; (void)out;
    if (resp != NULL || len != 0) { return RP_ERR_INTERNAL; }
    const uint8_t *pb = NULL;
    size_t n = 0;
    /* The response's text is only in its protobuf (no text field getter): "deny" is 4 bytes. */
    if (host->input_pb(call, &pb, &n) == RP_OK && n >= 4 && memmem(pb, n, "deny", 4) != NULL) {
        host->deny(call, 7, "response refused", 16, 0);
        trailer(call, "x-why", "output");
        return RP_OK;
    }
    trailer(call, "x-response-seen", "1");
    trailer_u64(call, "x-response-max-tokens", (uint64_t)host->set_max_tokens(call, 5));
    return RP_OK;
}

static rp_status on_stream_end(void *inst, void *stream, const uint8_t *summary, size_t len, rp_call *call) {
    (void)inst; (void)stream;
    if (summary != NULL || len != 0) { return RP_ERR_INTERNAL; }
    uint64_t status = 0, completion = 0;
    host->get_u64(call, RP_FIELD_STATUS_CODE, &status);
    host->get_u64(call, RP_FIELD_USAGE_COMPLETION_TOKENS, &completion);
    host->signal_set(call, "end:status", 10, (double)status, 0);
    host->signal_set(call, "end:completion", 14, (double)completion, 0);
    /* Answers are for request and response hooks only. */
    host->signal_set(call, "end:deny", 8, (double)host->deny(call, 7, "late", 4, 0), 0);
    return RP_OK;
}

static const rp_plugin_v1 descriptor = {
    .magic = RP_PLUGIN_MAGIC,
    .struct_size = sizeof(rp_plugin_v1),
    .abi_major = RP_ABI_MAJOR,
    .abi_minor = RP_ABI_MINOR,
    .name = "fields",
    .version = "1.2.0",
#ifdef NO_FIELDS_CAP
    .capabilities = RP_CAP_HOOK_REQUEST | RP_CAP_HOOK_RESPONSE | RP_CAP_HOOK_STREAM_END,
#elif defined(ABI_1_1)
    .capabilities = RP_CAP_HOOK_REQUEST | RP_CAP_HOOK_RESPONSE | RP_CAP_HOOK_STREAM_END | RP_CAP_HOST_FIELDS,
#else
    .capabilities = RP_CAP_HOOK_REQUEST | RP_CAP_HOOK_RESPONSE | RP_CAP_HOOK_STREAM_END | RP_CAP_HOST_FIELDS,
#endif
    .create = create,
    .destroy = destroy,
    .on_request = on_request,
    .on_response = on_response,
    .on_stream_end = on_stream_end,
};

#ifdef ABI_1_1
static rp_plugin_v1 old_descriptor;
const rp_plugin_v1 *rampart_plugin_v1(uint16_t major, uint16_t minor) {
    (void)major; (void)minor;
    old_descriptor = descriptor;
    old_descriptor.abi_minor = 1;
    return &old_descriptor;
}
#else
const rp_plugin_v1 *rampart_plugin_v1(uint16_t major, uint16_t minor) {
    (void)major; (void)minor;
    return &descriptor;
}
#endif
