// CRawPingPong — the floor of `rampart bench rpc`: a raw C ping-pong over a Unix stream socket.
//
// Wire format (both directions): a 4-byte big-endian payload length, then the payload. The server
// echoes every frame back unchanged. No framing library, no allocation on the hot path, one thread
// per connection: what this measures is the kernel's Unix-socket round trip plus two context
// switches, i.e. the best any RPC stack on this machine can do.
//
// Plain C11 + POSIX threads, no dependencies.
#ifndef RAMPART_RAW_PINGPONG_H
#define RAMPART_RAW_PINGPONG_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Largest payload either side accepts (a frame announcing more closes the connection).
#define RP_MAX_PAYLOAD ((size_t)64 * 1024 * 1024)

/// Most calls `rp_frame_bench` keeps in flight on one connection.
#define RP_MAX_STREAMS 1024

/// Result of one `rp_raw_bench` run. Latencies are per request round trip, in microseconds.
typedef struct {
    uint64_t requests;  ///< requests completed in the measured window (warm-up excluded)
    double seconds;     ///< length of the measured window, from its start to the last request's end
    double p50_us;
    double p99_us;
    double mean_us;
} rp_bench_result;

/// Binds a Unix stream socket at `socket_path` (a stale file there is unlinked first), listens, and
/// echoes frames on every accepted connection, one detached thread per connection, until the
/// process ends. A connection is closed on EOF, on an I/O error, or on a frame larger than
/// RP_MAX_PAYLOAD. Returns only on error: -1 with errno set.
int rp_raw_serve(const char *socket_path);

/// Opens `connections` connections to `socket_path` (retrying for up to 5 s while the socket does
/// not exist yet or refuses), then runs one thread per connection doing strict ping-pong of a
/// `payload_size`-byte frame: `warmup_seconds` unmeasured, then `seconds` measured, every request's
/// latency recorded (CLOCK_MONOTONIC). Fills `*out` with the merged totals and percentiles (computed
/// by `rp_percentiles`). Returns 0, or -1 with errno set (EINVAL for bad arguments, EPROTO for an
/// echo of the wrong length, ECONNRESET if the server closed a connection).
int rp_raw_bench(const char *socket_path, int connections, size_t payload_size, double seconds,
                 double warmup_seconds, rp_bench_result *out);

/// One Rampart call for `rp_frame_bench`, encoded by the caller with the real encoder.
typedef struct {
    const uint8_t *preface;  ///< the client preface, written once per connection
    size_t preface_len;
    const uint8_t *request;  ///< one call's frames (HEADERS, MESSAGE); the stream ids are set per call
    size_t request_len;
} rp_frame_request;

/// `rp_raw_bench` speaking the Rampart protocol (docs/PROTOCOL.md) with a client that costs what
/// the raw one costs: per connection the preface once (a refused one is EPROTO), then per call the
/// request's frames with their stream id set to 1, 2, 3, …, and frames read until that stream's
/// TRAILERS. A call counts when a MESSAGE frame came first and the TRAILERS carry status OK
/// (EPROTO otherwise). It does not decode the response: what it measures is the server and the
/// protocol, not a client library.
///
/// With `streams` > 1 each connection keeps that many calls in flight instead of one (stream ids
/// still 1, 2, 3, …): the calls of every slot that is free leave in one write, each read takes
/// whatever the socket holds and every whole frame in it is handled, and a call's latency runs
/// from its write to the read that brought its TRAILERS. No call starts after the window; the
/// ones in flight are still awaited. This is the shape of a multiplexing client (and of
/// grpc-swift-2's: concurrent calls on one HTTP/2 connection). 1 ≤ `streams` ≤ RP_MAX_STREAMS.
int rp_frame_bench(const char *socket_path, int connections, int streams, const rp_frame_request *request,
                   double seconds, double warmup_seconds, rp_bench_result *out);

/// The one percentile definition shared by every baseline of `rampart bench rpc`: sorts
/// `samples_us[0..n)` ascending in place, then p50/p99 are nearest-rank (the sample at index
/// ceil(p·n) − 1, computed in integers as (n·P + 99) / 100 − 1 for P = 50, 99) and `mean` the
/// arithmetic mean summed in ascending order. With n == 0 all three are 0. Any out pointer may be NULL.
void rp_percentiles(double *samples_us, size_t n, double *p50, double *p99, double *mean);

#ifdef __cplusplus
}
#endif

#endif  // RAMPART_RAW_PINGPONG_H
