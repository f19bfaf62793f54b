/*
 * rampart_plugin.h — the Rampart plugin ABI, version 1.3. This header is the whole contract
 * between the Rampart host and a plugin. Pure C99, no dependencies.
 *
 * A plugin is a shared library that exports ONE symbol:
 *
 *     const rp_plugin_v1 *rampart_plugin_v1(uint16_t host_abi_major, uint16_t host_abi_minor);
 *
 * returning a static descriptor. The host refuses to load the plugin (with a precise error) when
 * the symbol is missing, it returns NULL, `magic` is wrong, `abi_major` differs from the host's,
 * `abi_minor` is newer than the host's, `struct_size` is smaller than the v1.0 size, or the
 * capability flags disagree with the hook pointers.
 *
 * Data: request/response hooks take protobuf-encoded messages from proto/rampart/v1/plugin.proto
 * (PluginRequest, PluginResponse, StreamSummary) and write a protobuf `Verdict` into a host-owned
 * output buffer. Streamed text and sampler logits use raw, non-protobuf hot paths.
 *
 * Conventions on every function below:
 *   OWNERSHIP: who owns each pointer and for how long it is valid.
 *   THREADING: which thread may call it and what is serialized.
 *
 * General rules:
 *   - Inputs are host-owned and valid only during the call. Copy what you keep.
 *   - Outputs go through host callbacks (rp_host_api.buf_append) into host-owned buffers; memory
 *     never crosses allocators. Memory the *host* is to free must come from host->alloc (no v1.0
 *     hook hands memory to the host; instances and stream states stay plugin-owned).
 *   - Host limits: a verdict is at most 16 MiB, a chunk replacement 1 MiB, an error message
 *     4096 bytes, a log line 16 KiB, a plugin name 64 bytes. Appends past a limit fail.
 *   - Calls for one stream are serialized: never concurrent, possibly on different threads.
 *   - Without RP_CAP_THREADSAFE the host serializes ALL calls into the instance.
 *   - Host callbacks may be used only during a hook call, on the calling thread.
 *   - The host never dlclose()s a plugin; reloads load a new content-addressed copy.
 *   - Structures are append-only across minor versions; check struct_size before using a field
 *     added after v1.0.
 *
 * Version history:
 *   1.0  hooks on_request/on_response/on_chunk/on_logits/on_stream_end, host table up to wall_ns.
 *   1.1  RP_CAP_ALL_METHODS (on_request sees every RPC, e.g. for authentication); plugin-served
 *        methods (rp_plugin_v1.methods + on_method, in former reserved slots); host->audit.
 *        PluginRequest.body/prompt_tokens, Mutation.principal/response_metadata, PluginMethodCall.
 *   1.2  The protobuf-free hot path: RP_CAP_HOST_FIELDS (the host may pass req_pb/summary_pb as
 *        NULL), host->get_str/get_u64/input_pb to read the call, host->deny/add_trailer/
 *        set_principal/set_max_tokens to answer without encoding a Verdict; Mutation.max_tokens.
 *   1.3  Mutation.replace_tool_calls/tool_calls: on_response may rewrite the response's tool calls.
 */
#ifndef RAMPART_PLUGIN_H
#define RAMPART_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define RP_ABI_MAJOR 1
#define RP_ABI_MINOR 3
/** 'RPPL' */
#define RP_PLUGIN_MAGIC 0x5250504Cu
/** The exported entry symbol's name. */
#define RP_ENTRY_SYMBOL "rampart_plugin_v1"

/** Status of a hook call. Anything but RP_OK is a plugin *error* (failure_mode applies); a
 *  decision to refuse a request is not an error: it is a Deny verdict with RP_OK.
 *  A fixed-width integer, not a C enum, so that no compiler flag (-fshort-enums) changes the ABI. */
typedef int32_t rp_status;
#define RP_OK 0
#define RP_ERR_INVALID_ARGUMENT 3
#define RP_ERR_FAILED_PRECONDITION 9
#define RP_ERR_UNIMPLEMENTED 12
#define RP_ERR_INTERNAL 13
#define RP_ERR_UNAVAILABLE 14

typedef int32_t rp_log_level;
#define RP_LOG_DEBUG 0
#define RP_LOG_INFO 1
#define RP_LOG_WARNING 2
#define RP_LOG_ERROR 3

/** Capability flags (rp_plugin_v1.capabilities). Each HOOK_ flag must match a non-NULL pointer. */
#define RP_CAP_HOOK_REQUEST    (1ull << 0)
#define RP_CAP_HOOK_RESPONSE   (1ull << 1)
#define RP_CAP_HOOK_CHUNK      (1ull << 2)
#define RP_CAP_HOOK_LOGITS     (1ull << 3)
#define RP_CAP_HOOK_STREAM_END (1ull << 4)
/** The instance may be called concurrently for different streams. */
#define RP_CAP_THREADSAFE      (1ull << 32)
/** (1.1) on_request is called for every RPC, not only inference calls: Health, Admin and
 *  plugin-served methods too (PluginRequest.context.method names it, .body holds its message).
 *  Authentication and authorization plugins set it. */
#define RP_CAP_ALL_METHODS     (1ull << 33)
/** (1.2) The plugin reads its input through the field getters (host->get_str, get_u64) or asks
 *  for the protobuf with host->input_pb: on_request and on_stream_end may then receive
 *  req_pb/summary_pb = NULL, len 0. When every plugin running a hook has this flag, the host
 *  never encodes the PluginRequest or StreamSummary: the hot path carries no protobuf. */
#define RP_CAP_HOST_FIELDS     (1ull << 34)

/** (1.2) Fields of the current call, read with host->get_str / host->get_u64 during on_request,
 *  on_response and on_stream_end. `index` selects an element of a repeated field (0 for others).
 *  A fixed-width integer, not a C enum. */
typedef int32_t rp_field;
/* strings (get_str) */
#define RP_FIELD_REQUEST_ID          1  /* the host's request id */
#define RP_FIELD_METHOD              2  /* "/rampart.v1.Inference/Generate" */
#define RP_FIELD_PRINCIPAL_ID        3  /* the principal an earlier plugin set; absent before */
#define RP_FIELD_PRINCIPAL_USER      4
#define RP_FIELD_PRINCIPAL_ORG       5
#define RP_FIELD_PRINCIPAL_SCOPE     6  /* repeated: index 0.. */
#define RP_FIELD_PRINCIPAL_CREDENTIAL 7 /* "api_key", "token", "peer" */
#define RP_FIELD_METADATA_KEY        8  /* repeated, sorted by key: index 0.. */
#define RP_FIELD_METADATA_VALUE      9  /* repeated: the value of METADATA_KEY at the same index */
#define RP_FIELD_MODEL              10  /* GenerateRequest.model */
#define RP_FIELD_CLIENT_REQUEST_ID  11  /* GenerateRequest.client_request_id */
/* The request's content (inference on_request), for plugins that read the text but not the tools.
 * Added within 1.2: a host that predates them leaves RP_FIELD_MESSAGE_COUNT absent; read the
 * PluginRequest with host->input_pb then. Tool definitions and tool calls have no fields: when
 * RP_FIELD_TOOL_COUNT or RP_FIELD_TOOL_CALL_COUNT is not 0, read the PluginRequest. */
#define RP_FIELD_PROMPT             12  /* GenerateRequest.prompt */
#define RP_FIELD_MESSAGE_ROLE       13  /* repeated, index 0..: "unspecified" "system" "user" "assistant" "tool" "retrieved" */
#define RP_FIELD_MESSAGE_CONTENT    14  /* repeated: ChatMessage.content of the message at index */
#define RP_FIELD_MESSAGE_NAME       15  /* repeated: ChatMessage.name */
#define RP_FIELD_MESSAGE_TOOL_CALL_ID 16 /* repeated: ChatMessage.tool_call_id */
/* numbers (get_u64) */
#define RP_FIELD_PEER_PID           32  /* absent when the peer's credentials are unknown */
#define RP_FIELD_PEER_UID           33
#define RP_FIELD_PEER_GID           34
#define RP_FIELD_DEADLINE_UNIX_US   35  /* absent without a deadline */
#define RP_FIELD_STREAM_ID          36
#define RP_FIELD_MAX_TOKENS         37  /* GenerateRequest.params.max_tokens (inference calls) */
#define RP_FIELD_PROMPT_TOKENS      38  /* the backend's count of the prompt (0 = unknown) */
#define RP_FIELD_PROMPT_BYTES       39  /* UTF-8 bytes of the prompt and every message's content */
#define RP_FIELD_IS_INFERENCE       40  /* 1 for Inference calls, 0 for other RPCs (RP_CAP_ALL_METHODS) */
#define RP_FIELD_MESSAGE_COUNT      41  /* messages of an inference call; absent on hosts without the content fields */
#define RP_FIELD_TOOL_COUNT         42  /* GenerateRequest.tools */
#define RP_FIELD_TOOL_CALL_COUNT    43  /* tool calls in all messages */
/* on_stream_end only */
#define RP_FIELD_STATUS_CODE        48  /* the call's final gRPC status (0 = OK) */
#define RP_FIELD_FINISH_REASON      49  /* FinishReason enum value */
#define RP_FIELD_USAGE_PROMPT_TOKENS     50
#define RP_FIELD_USAGE_COMPLETION_TOKENS 51
#define RP_FIELD_DELIVERED_BYTES    52

/** A host-owned growable output buffer. Opaque: write to it only with host->buf_append. */
typedef struct rp_host_buf rp_host_buf;
/** Per-call context handed to every hook; pass it back to host callbacks. Opaque. */
typedef struct rp_call rp_call;

/** What a chunk hook decided about a piece of streamed text (the host sets it to RP_CHUNK_PASS
 *  before the call). */
typedef int32_t rp_chunk_action;
/** Let the chunk through unchanged. */
#define RP_CHUNK_PASS 0
/** Replace the chunk with the bytes appended to `replacement` (may be empty: drop). */
#define RP_CHUNK_REPLACE 1
/** Stop the stream: the client receives nothing more (held-back text included) and an error trailer. */
#define RP_CHUNK_STOP 2

/**
 * Callbacks the host offers to plugins (an SQLite-style function table).
 * OWNERSHIP: the table is host-owned and valid from create() until destroy() returns.
 * THREADING: functions taking an rp_call may be called only from inside the hook (or create)
 *            that received that rp_call, on that thread. destroy() gets no rp_call: no callbacks
 *            except alloc/free/now_ns/wall_ns there.
 */
typedef struct rp_host_api {
    /** sizeof(rp_host_api) as compiled into the host; fields past it do not exist. */
    uint32_t struct_size;
    uint16_t abi_major;
    uint16_t abi_minor;

    /** Logs a message (not NUL-terminated; `len` bytes). OWNERSHIP: msg is borrowed. */
    void (*log)(rp_call *call, rp_log_level level, const char *msg, size_t len);
    /** Allocates memory the host may free. OWNERSHIP: caller owns the result until handed over. */
    void *(*alloc)(size_t size);
    /** Frees memory from alloc. */
    void (*free)(void *ptr);
    /** Appends bytes to a host buffer. OWNERSHIP: data is borrowed and copied. Returns RP_OK or
     *  RP_ERR_INVALID_ARGUMENT when the buffer would exceed its limit. */
    rp_status (*buf_append)(rp_host_buf *out, const uint8_t *data, size_t len);
    /** Sets the error message returned with a non-OK status. OWNERSHIP: msg is copied. */
    void (*set_error)(rp_call *call, const char *msg, size_t len);
    /** Reads a shared signal (small keyed number published by plugins, e.g. "risk:<principal>").
     *  Returns 1 and sets *value when present, 0 otherwise. OWNERSHIP: key is borrowed. */
    int (*signal_get)(rp_call *call, const char *key, size_t key_len, double *value);
    /** Publishes a shared signal with a time-to-live in milliseconds (0 = host default). */
    void (*signal_set)(rp_call *call, const char *key, size_t key_len, double value, uint64_t ttl_ms);
    /** Monotonic clock in nanoseconds. */
    uint64_t (*now_ns)(void);
    /** Wall clock, Unix epoch, in nanoseconds. */
    uint64_t (*wall_ns)(void);

    /* ---- 1.1: check struct_size >= offsetof(rp_host_api, audit) + sizeof(void *) ---- */

    /** Records a security event (a serialized AuditEvent) in the host's audit trail. The host
     *  fills time, request id, method, peer and source. Returns RP_OK, or RP_ERR_INVALID_ARGUMENT
     *  for bytes that are not an AuditEvent. OWNERSHIP: event_pb is borrowed and copied.
     *  Never put secret material in an event. */
    rp_status (*audit)(rp_call *call, const uint8_t *event_pb, size_t len);

    /* ---- 1.2: check struct_size >= offsetof(rp_host_api, set_max_tokens) + sizeof(void *) ---- */

    /** Reads a string field of the call (RP_FIELD_*). Returns 1 and sets *data and *len when present,
     *  0 when absent, out of range (index), not a string field, or outside a hook.
     *  OWNERSHIP: *data is host-owned, valid until the hook returns; not NUL-terminated. */
    int (*get_str)(rp_call *call, rp_field field, size_t index, const char **data, size_t *len);
    /** Reads a number field of the call. Returns 1 and sets *value when present, 0 otherwise. */
    int (*get_u64)(rp_call *call, rp_field field, uint64_t *value);
    /** The hook's protobuf input (the PluginRequest, PluginResponse or StreamSummary the hook
     *  would have received), encoded on demand and shared by the plugins of the call.
     *  OWNERSHIP: *data is host-owned, valid until the hook returns. Returns RP_OK, or
     *  RP_ERR_FAILED_PRECONDITION outside a hook. */
    rp_status (*input_pb)(rp_call *call, const uint8_t **data, size_t *len);
    /** on_request / on_response: refuse the call with a gRPC status (1-16; 0 = PERMISSION_DENIED)
     *  and a message for the client; retry_after_ms > 0 adds the `retry-after-ms` trailer.
     *  Same effect as a Deny verdict; a hook that calls it must not also write a Verdict.
     *  OWNERSHIP: msg is borrowed and copied (at most 4096 bytes). */
    rp_status (*deny)(rp_call *call, int32_t code, const char *msg, size_t len, uint64_t retry_after_ms);
    /** on_request / on_response: adds a trailer entry: to the error trailers when the call is
     *  refused (by this hook's deny), to a successful response's trailers otherwise (like
     *  Mutation.response_metadata). OWNERSHIP: key and value are borrowed and copied. Keys are
     *  1-128 bytes of [a-z0-9-_.]; values at most 4096 bytes of UTF-8. */
    rp_status (*add_trailer)(rp_call *call, const char *key, size_t key_len, const char *value, size_t value_len);
    /** on_request: sets the call's principal (a serialized Principal; like Mutation.principal).
     *  OWNERSHIP: principal_pb is borrowed and copied. */
    rp_status (*set_principal)(rp_call *call, const uint8_t *principal_pb, size_t len);
    /** on_request of an inference call: sets params.max_tokens alone (like Mutation.max_tokens),
     *  e.g. a token budget clamping the generation. max_tokens must be > 0. */
    rp_status (*set_max_tokens)(rp_call *call, uint32_t max_tokens);
} rp_host_api;

/**
 * The plugin descriptor returned by the entry symbol.
 * OWNERSHIP: plugin-owned static data, valid for the life of the process.
 */
typedef struct rp_plugin_v1 {
    /** RP_PLUGIN_MAGIC. */
    uint32_t magic;
    /** sizeof(rp_plugin_v1) as compiled into the plugin. */
    uint32_t struct_size;
    /** The ABI the plugin was built for: major must equal the host's, minor <= the host's. */
    uint16_t abi_major;
    uint16_t abi_minor;
    uint32_t reserved0;
    /** NUL-terminated name and version (e.g. "sanitizer", "1.2.0"). */
    const char *name;
    const char *version;
    /** RP_CAP_* flags. */
    uint64_t capabilities;

    /**
     * Creates an instance from opaque config bytes (the plugin's `config` from the host config).
     * OWNERSHIP: host, config borrowed; *instance_out is plugin-owned until destroy().
     * THREADING: control thread; never concurrent with any other call into this plugin.
     * Errors: return non-OK and explain with host->set_error(call, ...): the text reaches the operator.
     */
    rp_status (*create)(const rp_host_api *host, const uint8_t *config, size_t config_len,
                        void **instance_out, rp_call *call);
    /** Destroys an instance once no call uses it. THREADING: control thread. No rp_call: do not
     *  log or publish signals here. */
    void (*destroy)(void *instance);

    /** Per-stream state: called before the first hook of a call; *stream_out may be NULL.
     *  OWNERSHIP: *stream_out is plugin-owned until stream_free(). May be NULL (no state). */
    rp_status (*stream_new)(void *instance, void **stream_out, rp_call *call);
    /** Frees per-stream state. Called exactly once per successful stream_new. */
    void (*stream_free)(void *instance, void *stream);

    /**
     * Inspects a request before the backend runs.
     * OWNERSHIP: req_pb (a PluginRequest) is host-owned, valid during the call; write a Verdict
     *            into verdict_out with host->buf_append. Writing nothing means Pass.
     *            (1.2) With RP_CAP_HOST_FIELDS req_pb may be NULL (len 0): read the fields, and
     *            answer with host->deny/add_trailer/set_principal or a Verdict (not both).
     * THREADING: serialized per stream.
     */
    rp_status (*on_request)(void *instance, void *stream, const uint8_t *req_pb, size_t req_len,
                            rp_host_buf *verdict_out, rp_call *call);
    /** Inspects a complete unary response (a PluginResponse). Same rules as on_request. */
    rp_status (*on_response)(void *instance, void *stream, const uint8_t *resp_pb, size_t resp_len,
                             rp_host_buf *verdict_out, rp_call *call);
    /**
     * Raw hot path for streamed text: one call per chunk released from the hold-back window.
     * At the end of a successful output the host calls it once more with len == 0: a plugin
     * that holds back text of its own releases it then (as RP_CHUNK_REPLACE); others pass.
     * OWNERSHIP: utf8 is host-owned, valid during the call (valid UTF-8, not NUL-terminated).
     *            For RP_CHUNK_REPLACE, append the replacement text to `replacement`.
     * THREADING: serialized per stream.
     */
    rp_status (*on_chunk)(void *instance, void *stream, const char *utf8, size_t len,
                          rp_chunk_action *action_out, rp_host_buf *replacement, rp_call *call);
    /**
     * Sampler hook: called with the next-token logits before sampling; may modify them in place.
     * OWNERSHIP: logits (vocab_size floats) and previous (n_previous generated token ids) are
     *            host-owned, valid during the call.
     * THREADING: serialized per stream; on the generating thread; must be fast (no I/O).
     */
    rp_status (*on_logits)(void *instance, void *stream, float *logits, size_t vocab_size,
                           const int32_t *previous, size_t n_previous, rp_call *call);
    /** Called once when a call ends (a StreamSummary), after the last chunk and before
     *  stream_free. No verdict. */
    rp_status (*on_stream_end)(void *instance, void *stream, const uint8_t *summary_pb,
                               size_t summary_len, rp_call *call);

    /* ---- 1.1 (NULL in 1.0 plugins) ---- */

    /** NULL-terminated list of fully-qualified methods this plugin serves
     *  ("rampart.v1.Auth/IssueToken"); NULL = none. The host routes unary calls to them through
     *  on_method after every request hook (authentication, RBAC) has passed. A method that the
     *  host or an earlier plugin already serves is refused at load.
     *  OWNERSHIP: plugin-owned static data, valid for the life of the process. */
    const char *const *methods;
    /**
     * Serves one call to a method in `methods`.
     * OWNERSHIP: call_pb (a PluginMethodCall) is host-owned, valid during the call; append the
     *            serialized response message to response_out. On error return a non-OK status
     *            (any gRPC code 1-16) and explain with host->set_error: the client receives both.
     * THREADING: like on_request (serialized per instance without RP_CAP_THREADSAFE).
     */
    rp_status (*on_method)(void *instance, const uint8_t *call_pb, size_t call_len,
                           rp_host_buf *response_out, rp_call *call);

    /** Reserved for minor versions; must be NULL/0. */
    uintptr_t reserved[6];
} rp_plugin_v1;

/** The entry symbol's type. */
typedef const rp_plugin_v1 *(*rp_entry_fn)(uint16_t host_abi_major, uint16_t host_abi_minor);

#ifdef __cplusplus
}
#endif

#endif /* RAMPART_PLUGIN_H */
