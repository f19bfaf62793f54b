/*
 * keyword_guard.c — an example Rampart plugin in plain C (ABI v1.0, libprotobuf-c).
 *
 * Config: the plugin's opaque config bytes are a comma-separated list of banned words
 * ("secret, password"). Matching is ASCII case-insensitive.
 *
 *   on_request  denies with PERMISSION_DENIED when the prompt or any chat message contains a
 *               banned word; when the prompt contains "shout", returns a Mutation that replaces
 *               the prompt with an upper-cased copy; otherwise writes nothing (Pass).
 *   on_chunk    replaces every banned word in streamed text with "[redacted]".
 *
 * Ownership (see rampart_plugin.h): inputs are borrowed for the duration of the call; unpacked
 * protobuf messages are freed before returning; every output goes through host->buf_append.
 * Threading: the instance is immutable after create, so it declares RP_CAP_THREADSAFE.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rampart_plugin.h"
#include "rampart/v1/plugin.pb-c.h"

/* Built with -fvisibility=hidden: only the entry symbol is exported. */
#define RP_EXPORT __attribute__((visibility("default")))

#define PLUGIN_NAME "keyword-guard-c"
#define MAX_CONFIG_BYTES 4096
#define MAX_WORDS 64
#define MAX_WORD_BYTES 64
#define GRPC_PERMISSION_DENIED 7

static const char REDACTED[] = "[redacted]";

typedef struct keyword_guard {
    const rp_host_api *host; /* valid from create() until destroy() returns */
    size_t n_words;
    size_t lengths[MAX_WORDS];
    char words[MAX_WORDS][MAX_WORD_BYTES + 1]; /* lower-case, NUL-terminated */
} keyword_guard;

/* ---- small helpers ------------------------------------------------------------------------ */

static unsigned char ascii_lower(unsigned char c) {
    return (c >= 'A' && c <= 'Z') ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Does `text` start with the lower-case `word` at offset `at` (ASCII case-insensitive)? */
static int matches_at(const char *text, size_t len, size_t at, const char *word, size_t wlen) {
    if (wlen == 0 || len - at < wlen) return 0;
    for (size_t i = 0; i < wlen; i++) {
        if (ascii_lower((unsigned char)text[at + i]) != (unsigned char)word[i]) return 0;
    }
    return 1;
}

static int contains_word(const char *text, size_t len, const char *word, size_t wlen) {
    if (text == NULL || wlen > len) return 0;
    for (size_t at = 0; at + wlen <= len; at++) {
        if (matches_at(text, len, at, word, wlen)) return 1;
    }
    return 0;
}

/* The first banned word found in a NUL-terminated string, or NULL. */
static const char *banned_word_in(const keyword_guard *g, const char *text) {
    if (text == NULL) return NULL;
    size_t len = strlen(text);
    for (size_t w = 0; w < g->n_words; w++) {
        if (contains_word(text, len, g->words[w], g->lengths[w])) return g->words[w];
    }
    return NULL;
}

static void fail(const rp_host_api *host, rp_call *call, const char *message) {
    host->set_error(call, message, strlen(message));
}

/* A ProtobufCBuffer that appends straight into a host buffer: no intermediate copy. */
typedef struct host_sink {
    ProtobufCBuffer base;
    const rp_host_api *host;
    rp_host_buf *out;
    rp_status status;
} host_sink;

static void host_sink_append(ProtobufCBuffer *buffer, size_t len, const uint8_t *data) {
    host_sink *sink = (host_sink *)buffer;
    if (sink->status == RP_OK && len > 0) sink->status = sink->host->buf_append(sink->out, data, len);
}

static rp_status write_verdict(const keyword_guard *g, const Rampart__V1__Verdict *verdict,
                               rp_host_buf *out, rp_call *call) {
    host_sink sink = { { host_sink_append }, g->host, out, RP_OK };
    rampart__v1__verdict__pack_to_buffer(verdict, &sink.base);
    if (sink.status != RP_OK) {
        fail(g->host, call, PLUGIN_NAME ": the verdict does not fit in the host's output buffer");
        return RP_ERR_INTERNAL;
    }
    return RP_OK;
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

/* Parses "word, word,..." into g; on error writes a message for the operator into `error`. */
static int parse_config(keyword_guard *g, const uint8_t *config, size_t len, char *error, size_t error_size) {
    if (config == NULL || len == 0) {
        snprintf(error, error_size, PLUGIN_NAME ": config is empty; expected a comma-separated list "
                 "of banned words, e.g. \"secret,password\"");
        return 0;
    }
    if (len > MAX_CONFIG_BYTES) {
        snprintf(error, error_size, PLUGIN_NAME ": config is %zu bytes; the limit is %d bytes",
                 len, MAX_CONFIG_BYTES);
        return 0;
    }
    size_t start = 0;
    while (start <= len) {
        size_t end = start;
        while (end < len && config[end] != ',') end++;
        size_t first = start, last = end; /* trim spaces and tabs */
        while (first < last && (config[first] == ' ' || config[first] == '\t')) first++;
        while (last > first && (config[last - 1] == ' ' || config[last - 1] == '\t')) last--;
        size_t wlen = last - first;
        size_t number = g->n_words + 1;
        if (wlen == 0) {
            snprintf(error, error_size, PLUGIN_NAME ": banned word %zu is empty (check for a doubled, "
                     "leading or trailing comma)", number);
            return 0;
        }
        if (wlen > MAX_WORD_BYTES) {
            snprintf(error, error_size, PLUGIN_NAME ": banned word %zu is %zu bytes long; the limit "
                     "is %d bytes", number, wlen, MAX_WORD_BYTES);
            return 0;
        }
        if (g->n_words == MAX_WORDS) {
            snprintf(error, error_size, PLUGIN_NAME ": more than %d banned words", MAX_WORDS);
            return 0;
        }
        for (size_t i = 0; i < wlen; i++) {
            unsigned char c = config[first + i];
            if (c == 0) {
                snprintf(error, error_size, PLUGIN_NAME ": banned word %zu contains a NUL byte", number);
                return 0;
            }
            g->words[g->n_words][i] = (char)ascii_lower(c);
        }
        g->words[g->n_words][wlen] = '\0';
        g->lengths[g->n_words] = wlen;
        g->n_words++;
        start = end + 1;
    }
    return 1;
}

static rp_status guard_create(const rp_host_api *host, const uint8_t *config, size_t config_len,
                              void **instance_out, rp_call *call) {
    if (host == NULL || host->struct_size < sizeof(rp_host_api) || host->abi_major != RP_ABI_MAJOR) {
        return RP_ERR_FAILED_PRECONDITION; /* not a host table we understand: no set_error to call */
    }
    if (instance_out == NULL) {
        fail(host, call, PLUGIN_NAME ": instance_out is NULL");
        return RP_ERR_INVALID_ARGUMENT;
    }
    *instance_out = NULL;
    keyword_guard *g = calloc(1, sizeof *g); /* plugin-owned until destroy() */
    if (g == NULL) {
        fail(host, call, PLUGIN_NAME ": out of memory");
        return RP_ERR_INTERNAL;
    }
    g->host = host;
    char error[256];
    if (!parse_config(g, config, config_len, error, sizeof error)) {
        free(g);
        fail(host, call, error);
        return RP_ERR_INVALID_ARGUMENT;
    }
    char line[96];
    snprintf(line, sizeof line, PLUGIN_NAME ": %zu banned words", g->n_words);
    host->log(call, RP_LOG_INFO, line, strlen(line));
    *instance_out = g;
    return RP_OK;
}

static void guard_destroy(void *instance) {
    free(instance);
}

/* ---- hooks -------------------------------------------------------------------------------- */

static rp_status guard_on_request(void *instance, void *stream, const uint8_t *req_pb, size_t req_len,
                                  rp_host_buf *verdict_out, rp_call *call) {
    (void)stream;
    const keyword_guard *g = instance;
    if (req_pb == NULL && req_len > 0) {
        fail(g->host, call, PLUGIN_NAME ": on_request: NULL input");
        return RP_ERR_INVALID_ARGUMENT;
    }
    Rampart__V1__PluginRequest *req = rampart__v1__plugin_request__unpack(NULL, req_len, req_pb);
    if (req == NULL) {
        fail(g->host, call, PLUGIN_NAME ": on_request: malformed PluginRequest");
        return RP_ERR_INVALID_ARGUMENT;
    }
    const Rampart__V1__GenerateRequest *gen = req->request; /* NULL when the field is absent */
    rp_status status = RP_OK;

    const char *word = NULL;
    if (gen != NULL) {
        word = banned_word_in(g, gen->prompt);
        for (size_t i = 0; word == NULL && i < gen->n_messages; i++) {
            if (gen->messages[i] != NULL) word = banned_word_in(g, gen->messages[i]->content);
        }
    }

    if (word != NULL) {
        char message[128];
        snprintf(message, sizeof message, "request mentions a banned word: %s", word);
        Rampart__V1__Deny deny = RAMPART__V1__DENY__INIT;
        deny.code = GRPC_PERMISSION_DENIED;
        deny.message = message;
        Rampart__V1__Verdict verdict = RAMPART__V1__VERDICT__INIT;
        verdict.action_case = RAMPART__V1__VERDICT__ACTION_DENY;
        verdict.deny = &deny;
        status = write_verdict(g, &verdict, verdict_out, call);
    } else if (gen != NULL && gen->prompt != NULL && contains_word(gen->prompt, strlen(gen->prompt), "shout", 5)) {
        size_t len = strlen(gen->prompt);
        char *upper = malloc(len + 1);
        if (upper == NULL) {
            fail(g->host, call, PLUGIN_NAME ": out of memory");
            status = RP_ERR_INTERNAL;
        } else {
            for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)gen->prompt[i];
                upper[i] = (char)((c >= 'a' && c <= 'z') ? c - 'a' + 'A' : c);
            }
            upper[len] = '\0';
            Rampart__V1__Mutation mutation = RAMPART__V1__MUTATION__INIT;
            mutation.replace_prompt = 1;
            mutation.prompt = upper;
            Rampart__V1__Verdict verdict = RAMPART__V1__VERDICT__INIT;
            verdict.action_case = RAMPART__V1__VERDICT__ACTION_MUTATE;
            verdict.mutate = &mutation;
            status = write_verdict(g, &verdict, verdict_out, call);
            free(upper);
        }
    }
    /* Otherwise nothing is written: Pass. */

    rampart__v1__plugin_request__free_unpacked(req, NULL);
    return status;
}

static rp_status guard_on_chunk(void *instance, void *stream, const char *utf8, size_t len,
                                rp_chunk_action *action_out, rp_host_buf *replacement, rp_call *call) {
    (void)stream;
    const keyword_guard *g = instance;
    if (action_out == NULL || (utf8 == NULL && len > 0)) {
        fail(g->host, call, PLUGIN_NAME ": on_chunk: NULL argument");
        return RP_ERR_INVALID_ARGUMENT;
    }
    *action_out = RP_CHUNK_PASS;
    size_t copied = 0; /* bytes of utf8 already appended (or replaced) */
    for (size_t at = 0; at < len;) {
        size_t matched = 0;
        for (size_t w = 0; w < g->n_words && matched == 0; w++) {
            if (matches_at(utf8, len, at, g->words[w], g->lengths[w])) matched = g->lengths[w];
        }
        if (matched == 0) {
            at++;
            continue;
        }
        /* The unchanged run before the word, then the marker. */
        if (g->host->buf_append(replacement, (const uint8_t *)utf8 + copied, at - copied) != RP_OK ||
            g->host->buf_append(replacement, (const uint8_t *)REDACTED, sizeof REDACTED - 1) != RP_OK) {
            fail(g->host, call, PLUGIN_NAME ": on_chunk: replacement does not fit in the host buffer");
            return RP_ERR_INTERNAL;
        }
        *action_out = RP_CHUNK_REPLACE;
        at += matched;
        copied = at;
    }
    if (*action_out == RP_CHUNK_REPLACE && copied < len &&
        g->host->buf_append(replacement, (const uint8_t *)utf8 + copied, len - copied) != RP_OK) {
        fail(g->host, call, PLUGIN_NAME ": on_chunk: replacement does not fit in the host buffer");
        return RP_ERR_INTERNAL;
    }
    return RP_OK;
}

/* ---- the descriptor and the entry symbol -------------------------------------------------- */

static const rp_plugin_v1 descriptor = {
    .magic = RP_PLUGIN_MAGIC,
    .struct_size = sizeof(rp_plugin_v1),
    .abi_major = RP_ABI_MAJOR,
    .abi_minor = RP_ABI_MINOR,
    .name = PLUGIN_NAME,
    .version = "1.0.0",
    /* Each HOOK_ flag matches a non-NULL hook pointer below; the host checks. */
    .capabilities = RP_CAP_HOOK_REQUEST | RP_CAP_HOOK_CHUNK | RP_CAP_THREADSAFE,
    .create = guard_create,
    .destroy = guard_destroy,
    .on_request = guard_on_request,
    .on_chunk = guard_on_chunk,
};

RP_EXPORT const rp_plugin_v1 *rampart_plugin_v1(uint16_t host_abi_major, uint16_t host_abi_minor) {
    (void)host_abi_minor; /* a v1.0 plugin runs on any 1.x host */
    return host_abi_major == RP_ABI_MAJOR ? &descriptor : NULL;
}
