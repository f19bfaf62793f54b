// CRawPingPong — raw C ping-pong over a Unix stream socket; see include/raw_pingpong.h.
#if defined(__linux__)
#define _GNU_SOURCE
#elif defined(__APPLE__)
#define _DARWIN_C_SOURCE
#endif

#include "raw_pingpong.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

// Never let a peer that went away kill the process with SIGPIPE.
#if defined(MSG_NOSIGNAL)
#define RP_SEND_FLAGS MSG_NOSIGNAL
#else
#define RP_SEND_FLAGS 0
#endif

// MARK: - small helpers

static double rp_now_us(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static void rp_no_sigpipe(int fd) {
#if defined(SO_NOSIGPIPE)
    int one = 1;
    (void)setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one);
#else
    (void)fd;
#endif
}

static void rp_close_keep_errno(int fd) {
    int saved = errno;
    close(fd);
    errno = saved;
}

static void rp_put_be32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static uint32_t rp_get_be32(const uint8_t *p) {
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
}

/// Writes all `len` bytes, looping on partial writes and EINTR. 0 or -1 (errno set).
static int rp_write_all(int fd, const uint8_t *buf, size_t len) {
    while (len > 0) {
        ssize_t n = send(fd, buf, len, RP_SEND_FLAGS);
        if (n < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        buf += (size_t)n;
        len -= (size_t)n;
    }
    return 0;
}

/// A connection's receive buffer: bytes [0, have) are buffered input, capacity `cap`.
typedef struct {
    uint8_t *buf;
    size_t have;
    size_t cap;
} rp_inbuf;

static int rp_inbuf_reserve(rp_inbuf *in, size_t need) {
    if (need <= in->cap) return 0;
    size_t cap = in->cap ? in->cap : 4096;
    while (cap < need) cap *= 2;
    uint8_t *p = realloc(in->buf, cap);
    if (!p) {
        errno = ENOMEM;
        return -1;
    }
    in->buf = p;
    in->cap = cap;
    return 0;
}

/// Reads until at least `need` bytes are buffered, taking whatever else is already available in the
/// same read (so a whole small frame usually costs one syscall). 1 = ok, 0 = clean EOF before
/// `need`, -1 = error (errno set). An EOF with a partial frame buffered is reported as ECONNRESET.
static int rp_fill(int fd, rp_inbuf *in, size_t need) {
    if (rp_inbuf_reserve(in, need) != 0) return -1;
    while (in->have < need) {
        ssize_t n = recv(fd, in->buf + in->have, in->cap - in->have, 0);
        if (n > 0) {
            in->have += (size_t)n;
            continue;
        }
        if (n == 0) {
            if (in->have == 0) return 0;
            errno = ECONNRESET;
            return -1;
        }
        if (errno == EINTR) continue;
        return -1;
    }
    return 1;
}

/// Drops the first `used` bytes of the buffer (the frame just handled).
static void rp_consume(rp_inbuf *in, size_t used) {
    size_t rest = in->have - used;
    if (rest > 0) memmove(in->buf, in->buf + used, rest);
    in->have = rest;
}

static int rp_make_unix_addr(const char *path, struct sockaddr_un *addr) {
    if (!path || strlen(path) >= sizeof addr->sun_path) {
        errno = path ? ENAMETOOLONG : EINVAL;
        return -1;
    }
    memset(addr, 0, sizeof *addr);
    addr->sun_family = AF_UNIX;
    strcpy(addr->sun_path, path);
    return 0;
}

// MARK: - server

static void *rp_serve_connection(void *arg) {
    int fd = *(int *)arg;
    free(arg);
    rp_no_sigpipe(fd);

    rp_inbuf in = {0};
    for (;;) {
        if (rp_fill(fd, &in, 4) != 1) break;  // EOF or error: close
        uint32_t len = rp_get_be32(in.buf);
        if ((size_t)len > RP_MAX_PAYLOAD) break;
        size_t frame = 4 + (size_t)len;
        if (rp_fill(fd, &in, frame) != 1) break;
        if (rp_write_all(fd, in.buf, frame) != 0) break;  // echo the frame, header included
        rp_consume(&in, frame);
    }
    free(in.buf);
    close(fd);
    return NULL;
}

int rp_raw_serve(const char *socket_path) {
    struct sockaddr_un addr;
    if (rp_make_unix_addr(socket_path, &addr) != 0) return -1;

    if (unlink(socket_path) != 0 && errno != ENOENT) return -1;

    int lfd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (lfd < 0) return -1;
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(lfd, 128) != 0) {
        rp_close_keep_errno(lfd);
        return -1;
    }

    pthread_attr_t attr;
    int rc = pthread_attr_init(&attr);
    if (rc != 0) {
        close(lfd);
        errno = rc;
        return -1;
    }
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&attr, 256 * 1024);

    for (;;) {
        int cfd = accept(lfd, NULL, NULL);
        if (cfd < 0) {
            // The peer gave up before we accepted, or a signal: keep serving.
            if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO) continue;
            int saved = errno;
            pthread_attr_destroy(&attr);
            close(lfd);
            errno = saved;
            return -1;
        }
        int *arg = malloc(sizeof *arg);
        if (!arg) {
            close(cfd);
            continue;  // out of memory for one connection: drop it, keep serving
        }
        *arg = cfd;
        pthread_t tid;
        rc = pthread_create(&tid, &attr, rp_serve_connection, arg);
        if (rc != 0) {
            free(arg);
            close(cfd);  // e.g. EAGAIN (thread limit): drop this connection, keep serving
        }
    }
}

// MARK: - percentiles

static int rp_cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double rp_nearest_rank(const double *sorted, size_t n, size_t percent) {
    size_t rank = (n * percent + 99) / 100;  // ceil(n * percent / 100), 1-based
    if (rank < 1) rank = 1;
    if (rank > n) rank = n;
    return sorted[rank - 1];
}

void rp_percentiles(double *samples_us, size_t n, double *p50, double *p99, double *mean) {
    if (n == 0 || !samples_us) {
        if (p50) *p50 = 0;
        if (p99) *p99 = 0;
        if (mean) *mean = 0;
        return;
    }
    qsort(samples_us, n, sizeof *samples_us, rp_cmp_double);
    if (p50) *p50 = rp_nearest_rank(samples_us, n, 50);
    if (p99) *p99 = rp_nearest_rank(samples_us, n, 99);
    if (mean) {
        double sum = 0;
        for (size_t i = 0; i < n; i++) sum += samples_us[i];
        *mean = sum / (double)n;
    }
}

// MARK: - client (bench)

typedef struct {
    pthread_mutex_t lock;
    pthread_cond_t cond;
    bool go;
    double measure_start_us;
    double measure_end_us;
} rp_start_gate;

typedef struct {
    int fd;
    size_t payload_size;
    const rp_frame_request *frames;  ///< Rampart mode when set (rp_frame_bench), raw echo otherwise
    int streams;                     ///< calls kept in flight on the connection (Rampart mode)
    rp_start_gate *gate;
    double *samples;
    size_t n;
    size_t cap;
    double finished_us;
    int err;  // errno of the failure, 0 if none
} rp_worker;

static int rp_record(rp_worker *w, double latency_us) {
    if (w->n == w->cap) {
        size_t cap = w->cap ? w->cap * 2 : 65536;
        double *p = realloc(w->samples, cap * sizeof *p);
        if (!p) return -1;
        w->samples = p;
        w->cap = cap;
    }
    w->samples[w->n++] = latency_us;
    return 0;
}

// MARK: - Rampart frames

#define RP_FRAME_HEADER 12
#define RP_TYPE_MESSAGE 0x02
#define RP_TYPE_TRAILERS 0x03
#define RP_SERVER_PREFACE 24

/// Whether a TRAILERS payload carries status OK. OK trailers omit the status (proto3 default 0);
/// any other status starts with field 1.
static bool rp_trailers_ok(const uint8_t *payload, size_t length) {
    return !(length >= 2 && payload[0] == 0x08 && payload[1] != 0);
}

/// Sends the client preface and reads the server's; EPROTO when the server refused it.
static int rp_frame_handshake(int fd, const rp_frame_request *r, rp_inbuf *in) {
    if (rp_write_all(fd, r->preface, r->preface_len) != 0) return -1;
    int got = rp_fill(fd, in, RP_SERVER_PREFACE);
    if (got != 1) {
        if (got == 0) errno = ECONNRESET;
        return -1;
    }
    bool refused = in->buf[8] == 0 && in->buf[9] == 0;  // version 0
    rp_consume(in, RP_SERVER_PREFACE);
    if (refused) {
        errno = EPROTO;
        return -1;
    }
    return 0;
}

/// Sets the stream id of every frame in the request to `id`.
static void rp_set_stream(uint8_t *request, size_t len, uint32_t id) {
    size_t at = 0;
    while (at + RP_FRAME_HEADER <= len) {
        rp_put_be32(request + at + 8, id);
        at += RP_FRAME_HEADER + (size_t)rp_get_be32(request + at);
    }
}

/// One call: the request frames on stream `id`, then frames until that stream's TRAILERS. 0, or
/// -1 with errno (EPROTO: no MESSAGE before the TRAILERS, or a status other than OK).
static int rp_frame_call(int fd, uint8_t *request, size_t len, uint32_t id, rp_inbuf *in) {
    rp_set_stream(request, len, id);
    if (rp_write_all(fd, request, len) != 0) return -1;
    bool message = false;
    for (;;) {
        int r = rp_fill(fd, in, RP_FRAME_HEADER);
        if (r == 1) {
            size_t length = rp_get_be32(in->buf);
            if (length > RP_MAX_PAYLOAD) {
                errno = EPROTO;
                return -1;
            }
            r = rp_fill(fd, in, RP_FRAME_HEADER + length);
        }
        if (r != 1) {
            if (r == 0) errno = ECONNRESET;
            return -1;
        }
        size_t length = rp_get_be32(in->buf);
        uint8_t type = in->buf[4];
        bool mine = rp_get_be32(in->buf + 8) == id;
        const uint8_t *payload = in->buf + RP_FRAME_HEADER;
        bool failed = type == RP_TYPE_TRAILERS && !rp_trailers_ok(payload, length);
        if (mine && type == RP_TYPE_MESSAGE) message = true;
        rp_consume(in, RP_FRAME_HEADER + length);
        if (mine && type == RP_TYPE_TRAILERS) {
            if (failed || !message) {
                errno = EPROTO;
                return -1;
            }
            return 0;
        }
    }
}

/// One call in flight on a pipelined connection.
typedef struct {
    uint32_t id;     ///< 0 when the slot is free
    double sent_us;  ///< when its frames were handed to the socket
    bool message;    ///< a MESSAGE frame arrived for it
} rp_slot;

/// Rampart mode with `w->streams` calls in flight on one connection: the calls of every free slot
/// leave in one write; each read takes what the socket has, every whole frame in it is handled,
/// and a call whose TRAILERS arrived frees its slot. No new call starts after the window ends;
/// the worker returns when the last one in flight is answered.
static void rp_pipelined_worker(rp_worker *w, rp_inbuf *inbuf, double start, double end) {
    int depth = w->streams;
    size_t frame = w->frames->request_len;
    uint8_t *out = malloc(frame * (size_t)depth);
    rp_slot *slots = calloc((size_t)depth, sizeof *slots);
    rp_inbuf in = *inbuf;  // after the handshake
    if (!out || !slots || rp_inbuf_reserve(&in, 65536) != 0) w->err = ENOMEM;
    uint32_t stream = 0;
    int in_flight = 0;
    while (w->err == 0) {
        // Start a call in every free slot, all in one write.
        double now = rp_now_us();
        size_t batch = 0;
        for (int i = 0; i < depth && now < end; i++) {
            if (slots[i].id != 0) continue;
            uint8_t *call = out + batch;
            memcpy(call, w->frames->request, frame);
            slots[i] = (rp_slot){.id = ++stream, .sent_us = now, .message = false};
            rp_set_stream(call, frame, stream);
            batch += frame;
            in_flight++;
        }
        if (batch > 0 && rp_write_all(w->fd, out, batch) != 0) {
            w->err = errno;
            break;
        }
        if (in_flight == 0) break;
        // One read, then every whole frame buffered.
        if (in.cap - in.have < 4096 && rp_inbuf_reserve(&in, in.cap * 2) != 0) {
            w->err = ENOMEM;
            break;
        }
        ssize_t n = recv(w->fd, in.buf + in.have, in.cap - in.have, 0);
        if (n <= 0) {
            if (n < 0 && errno == EINTR) continue;
            w->err = n == 0 ? ECONNRESET : errno;
            break;
        }
        in.have += (size_t)n;
        double got = rp_now_us();
        size_t at = 0;
        while (w->err == 0 && in.have - at >= RP_FRAME_HEADER) {
            const uint8_t *h = in.buf + at;
            size_t length = rp_get_be32(h);
            if (length > RP_MAX_PAYLOAD) {
                w->err = EPROTO;
                break;
            }
            if (in.have - at < RP_FRAME_HEADER + length) {
                if (rp_inbuf_reserve(&in, RP_FRAME_HEADER + length) != 0) w->err = ENOMEM;
                break;
            }
            uint8_t type = h[4];
            uint32_t id = rp_get_be32(h + 8);
            const uint8_t *payload = h + RP_FRAME_HEADER;
            at += RP_FRAME_HEADER + length;
            rp_slot *slot = NULL;
            for (int i = 0; i < depth; i++) {
                if (slots[i].id == id && id != 0) slot = &slots[i];
            }
            if (!slot) continue;  // connection-level frames (stream 0)
            if (type == RP_TYPE_MESSAGE) slot->message = true;
            if (type != RP_TYPE_TRAILERS) continue;
            bool failed = !rp_trailers_ok(payload, length);
            if (failed || !slot->message) {
                w->err = EPROTO;
                break;
            }
            if (slot->sent_us >= start && rp_record(w, got - slot->sent_us) != 0) w->err = ENOMEM;
            slot->id = 0;
            in_flight--;
            w->finished_us = got;
        }
        rp_consume(&in, at);
    }
    free(out);
    free(slots);
    *inbuf = in;
}

static void *rp_bench_worker(void *arg) {
    rp_worker *w = arg;
    // `out` holds one raw frame, or one call's request frames in Rampart mode.
    size_t frame = w->frames ? w->frames->request_len : 4 + w->payload_size;
    uint8_t *out = malloc(frame);
    rp_inbuf in = {0};
    if (!out || rp_inbuf_reserve(&in, frame) != 0) {
        w->err = ENOMEM;
    } else if (w->frames) {
        memcpy(out, w->frames->request, w->frames->request_len);
        if (rp_frame_handshake(w->fd, w->frames, &in) != 0) w->err = errno;
    } else {
        rp_put_be32(out, (uint32_t)w->payload_size);
        for (size_t i = 0; i < w->payload_size; i++) out[4 + i] = (uint8_t)i;
    }
    uint32_t stream = 0;

    pthread_mutex_lock(&w->gate->lock);
    while (!w->gate->go) pthread_cond_wait(&w->gate->cond, &w->gate->lock);
    double start = w->gate->measure_start_us, end = w->gate->measure_end_us;
    pthread_mutex_unlock(&w->gate->lock);

    double t0 = rp_now_us();
    if (w->frames && w->streams > 1 && w->err == 0) {
        rp_pipelined_worker(w, &in, start, end);
        t0 = end;  // skips the one-call loop below
    }
    while (w->err == 0 && t0 < end) {
        if (w->frames) {
            if (rp_frame_call(w->fd, out, frame, ++stream, &in) != 0) {
                w->err = errno;
                break;
            }
        } else {
            if (rp_write_all(w->fd, out, frame) != 0) {
                w->err = errno;
                break;
            }
            int r = rp_fill(w->fd, &in, 4);
            if (r == 1) {
                if ((size_t)rp_get_be32(in.buf) != w->payload_size) {
                    w->err = EPROTO;
                    break;
                }
                r = rp_fill(w->fd, &in, frame);
            }
            if (r != 1) {
                w->err = r == 0 ? ECONNRESET : errno;
                break;
            }
            rp_consume(&in, frame);
        }
        double t1 = rp_now_us();
        if (t0 >= start && rp_record(w, t1 - t0) != 0) {
            w->err = ENOMEM;
            break;
        }
        t0 = t1;
    }
    w->finished_us = rp_now_us();
    free(out);
    free(in.buf);
    return NULL;
}

/// Connects to `addr`, retrying while the server is not up yet (no file / nobody listening).
static int rp_connect_retry(const struct sockaddr_un *addr, double timeout_s) {
    double deadline = rp_now_us() + timeout_s * 1e6;
    for (;;) {
        int fd = socket(AF_UNIX, SOCK_STREAM, 0);
        if (fd < 0) return -1;
        if (connect(fd, (const struct sockaddr *)addr, sizeof *addr) == 0) {
            rp_no_sigpipe(fd);
            return fd;
        }
        int e = errno;
        close(fd);
        if (e == EINTR) continue;
        if ((e == ENOENT || e == ECONNREFUSED || e == EAGAIN) && rp_now_us() < deadline) {
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
            continue;
        }
        errno = e;
        return -1;
    }
}

static int rp_bench(const char *socket_path, int connections, int streams, size_t payload_size,
                    const rp_frame_request *frames, double seconds, double warmup_seconds,
                    rp_bench_result *out) {
    if (!out || connections < 1 || streams < 1 || streams > RP_MAX_STREAMS || payload_size > RP_MAX_PAYLOAD || !(seconds > 0) ||
        !(warmup_seconds >= 0)) {
        errno = EINVAL;
        return -1;
    }
    memset(out, 0, sizeof *out);
    struct sockaddr_un addr;
    if (rp_make_unix_addr(socket_path, &addr) != 0) return -1;

    rp_worker *workers = calloc((size_t)connections, sizeof *workers);
    pthread_t *tids = calloc((size_t)connections, sizeof *tids);
    if (!workers || !tids) {
        free(workers);
        free(tids);
        errno = ENOMEM;
        return -1;
    }
    rp_start_gate gate = {.go = false};
    pthread_mutex_init(&gate.lock, NULL);
    pthread_cond_init(&gate.cond, NULL);

    int result = 0, err = 0, opened = 0, started = 0;
    for (; opened < connections; opened++) {
        workers[opened].fd = rp_connect_retry(&addr, 5.0);
        if (workers[opened].fd < 0) {
            err = errno;
            break;
        }
    }
    if (err == 0) {
        for (; started < connections; started++) {
            workers[started].payload_size = payload_size;
            workers[started].frames = frames;
            workers[started].streams = streams;
            workers[started].gate = &gate;
            int rc = pthread_create(&tids[started], NULL, rp_bench_worker, &workers[started]);
            if (rc != 0) {
                err = rc;
                break;
            }
        }
    }

    // Open the gate (also for the threads already started when something failed: with a window
    // that already ended they exit at once).
    pthread_mutex_lock(&gate.lock);
    double now = rp_now_us();
    gate.measure_start_us = err ? now : now + warmup_seconds * 1e6;
    gate.measure_end_us = err ? now : gate.measure_start_us + seconds * 1e6;
    gate.go = true;
    pthread_cond_broadcast(&gate.cond);
    pthread_mutex_unlock(&gate.lock);

    size_t total = 0;
    double last_finish = gate.measure_end_us;
    for (int i = 0; i < started; i++) {
        pthread_join(tids[i], NULL);
        if (workers[i].err != 0 && err == 0) err = workers[i].err;
        total += workers[i].n;
        if (workers[i].finished_us > last_finish) last_finish = workers[i].finished_us;
    }
    for (int i = 0; i < opened; i++) close(workers[i].fd);

    if (err == 0) {
        double *all = malloc((total ? total : 1) * sizeof *all);
        if (!all) {
            err = ENOMEM;
        } else {
            size_t k = 0;
            for (int i = 0; i < started; i++) {
                if (workers[i].n) memcpy(all + k, workers[i].samples, workers[i].n * sizeof *all);
                k += workers[i].n;
            }
            out->requests = (uint64_t)total;
            out->seconds = (last_finish - gate.measure_start_us) / 1e6;
            rp_percentiles(all, total, &out->p50_us, &out->p99_us, &out->mean_us);
            free(all);
        }
    }

    for (int i = 0; i < started; i++) free(workers[i].samples);
    free(workers);
    free(tids);
    pthread_mutex_destroy(&gate.lock);
    pthread_cond_destroy(&gate.cond);
    if (err != 0) {
        errno = err;
        result = -1;
    }
    return result;
}

int rp_raw_bench(const char *socket_path, int connections, size_t payload_size, double seconds,
                 double warmup_seconds, rp_bench_result *out) {
    return rp_bench(socket_path, connections, 1, payload_size, NULL, seconds, warmup_seconds, out);
}

int rp_frame_bench(const char *socket_path, int connections, int streams, const rp_frame_request *request,
                   double seconds, double warmup_seconds, rp_bench_result *out) {
    if (!request || !request->preface || !request->request || request->request_len < RP_FRAME_HEADER ||
        request->request_len > RP_MAX_PAYLOAD) {
        errno = EINVAL;
        return -1;
    }
    return rp_bench(socket_path, connections, streams, 0, request, seconds, warmup_seconds, out);
}
