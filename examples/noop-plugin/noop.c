/* The smallest useful Rampart plugin: passes every request and chunk. Used by `rampart bench chain`
 * to measure what the chain itself costs per plugin. Build: cc -shared -fPIC -O2 -I ../../Core/CRampartPlugin/include noop.c -o libnoop.so */
#include <stddef.h>
#include "rampart_plugin.h"

static rp_status create(const rp_host_api *host, const uint8_t *config, size_t len, void **instance, rp_call *call) {
    (void)host; (void)config; (void)len; (void)call;
    *instance = NULL;
    return RP_OK;
}

static void destroy(void *instance) { (void)instance; }

static rp_status on_request(void *instance, void *stream, const uint8_t *req, size_t len, rp_host_buf *out, rp_call *call) {
    (void)instance; (void)stream; (void)req; (void)len; (void)out; (void)call;
    return RP_OK; /* no verdict written: pass */
}

static rp_status on_chunk(void *instance, void *stream, const char *text, size_t len, rp_chunk_action *action,
                          rp_host_buf *replacement, rp_call *call) {
    (void)instance; (void)stream; (void)text; (void)len; (void)replacement; (void)call;
    *action = RP_CHUNK_PASS;
    return RP_OK;
}

static const rp_plugin_v1 descriptor = {
    .magic = RP_PLUGIN_MAGIC,
    .struct_size = sizeof(rp_plugin_v1),
    .abi_major = RP_ABI_MAJOR,
    .abi_minor = RP_ABI_MINOR,
    .name = "noop",
    .version = "1.0.0",
    /* HOST_FIELDS (ABI 1.2): the host sends no protobuf request; it reads none. */
    .capabilities = RP_CAP_HOOK_REQUEST | RP_CAP_HOOK_CHUNK | RP_CAP_THREADSAFE | RP_CAP_HOST_FIELDS,
    .create = create,
    .destroy = destroy,
    .on_request = on_request,
    .on_chunk = on_chunk,
};

const rp_plugin_v1 *rampart_plugin_v1(uint16_t major, uint16_t minor) {
    (void)major; (void)minor;
    return &descriptor;
}
