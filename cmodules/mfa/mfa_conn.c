// mfa_conn: HTTP/1.1 connection state machine shared by the lwIP and POSIX transports.
// See mfa_conn.h for the contract; this file has no MicroPython, no lwIP and no malloc.

#include <string.h>

#include "mfa_conn.h"

// Request flags cleared when a request ends.
#define MFA_CF_REQUEST (MFA_CF_KEEP_ALIVE | MFA_CF_HANDED | MFA_CF_CHUNKED_IN | \
    MFA_CF_HEAD_METHOD | MFA_CF_STREAMING | MFA_CF_CHUNKED_OUT | MFA_CF_CONTINUE | \
    MFA_CF_HTTP10 | MFA_CF_NO_BODY | MFA_CF_BODY_EXT | MFA_CF_BODY_DEFER | MFA_CF_BODY_PULL | \
    MFA_CF_BODY_DONE | MFA_CF_COLLECTED | MFA_CF_LENGTH_OUT)

#define MFA_BUSY_BODY "server busy"
const char mfa_conn_busy_response[] =
    "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 11\r\n"
    "Connection: close\r\n\r\n" MFA_BUSY_BODY;
const size_t mfa_conn_busy_response_len = sizeof(mfa_conn_busy_response) - 1;

// Case-insensitive compare of n bytes of `a` with the lower-case `lower`.
static bool ieq(const char *a, const char *lower, size_t n) {
    for (size_t i = 0; i < n; i++) {
        char ch = a[i];
        if (ch >= 'A' && ch <= 'Z') {
            ch = (char)(ch + 32);
        }
        if (ch != lower[i]) {
            return false;
        }
    }
    return true;
}

static const char continue_response[] = "HTTP/1.1 100 Continue\r\n\r\n";

static bool elapsed(uint32_t now, uint32_t since, uint32_t limit) {
    // Unsigned difference: correct across the wrap of a 32-bit millisecond clock.
    return (uint32_t)(now - since) > limit;
}

const char *mfa_conn_reason(int status) {
    switch (status) {
        case 100: return "Continue";
        case 101: return "Switching Protocols";
        case 200: return "OK";
        case 201: return "Created";
        case 202: return "Accepted";
        case 204: return "No Content";
        case 206: return "Partial Content";
        case 301: return "Moved Permanently";
        case 302: return "Found";
        case 303: return "See Other";
        case 304: return "Not Modified";
        case 307: return "Temporary Redirect";
        case 308: return "Permanent Redirect";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 406: return "Not Acceptable";
        case 408: return "Request Timeout";
        case 409: return "Conflict";
        case 410: return "Gone";
        case 411: return "Length Required";
        case 412: return "Precondition Failed";
        case 413: return "Content Too Large";
        case 414: return "URI Too Long";
        case 415: return "Unsupported Media Type";
        case 416: return "Range Not Satisfiable";
        case 417: return "Expectation Failed";
        case 422: return "Unprocessable Content";
        case 426: return "Upgrade Required";
        case 429: return "Too Many Requests";
        case 431: return "Request Header Fields Too Large";
        case 500: return "Internal Server Error";
        case 501: return "Not Implemented";
        case 502: return "Bad Gateway";
        case 503: return "Service Unavailable";
        case 504: return "Gateway Timeout";
        case 505: return "HTTP Version Not Supported";
        default: return "Unknown";
    }
}

bool mfa_conn_header_ok(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\r' || s[i] == '\n' || s[i] == '\0') {
            return false;
        }
    }
    return true;
}

// ---- small helpers ---------------------------------------------------------------------------

static size_t fmt_uint(char *dst, uint64_t v, unsigned base) {
    char tmp[24];
    size_t n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    for (size_t i = 0; i < n; i++) {
        dst[i] = tmp[n - 1 - i];
    }
    return n;
}

// A writer into the output buffer that can be rolled back: nothing counts until committed.
typedef struct {
    uint8_t *buf;
    size_t len, cap;
    bool overflow;
} wbuf_t;

static void w_put(wbuf_t *w, const void *p, size_t n) {
    if (w->overflow || n > w->cap - w->len) {
        w->overflow = true;
        return;
    }
    memcpy(w->buf + w->len, p, n);
    w->len += n;
}

static void w_str(wbuf_t *w, const char *s) {
    w_put(w, s, strlen(s));
}

static void w_uint(wbuf_t *w, uint64_t v, unsigned base) {
    char tmp[24];
    w_put(w, tmp, fmt_uint(tmp, v, base));
}

static size_t queued(const mfa_conn_t *c) {
    return (c->out_len - c->out_off) + (c->ref ? c->ref_len - c->ref_off : 0) + c->tail_len;
}

// Move pending output bytes to the front of the output buffer.
static void out_compact(mfa_conn_t *c) {
    if (c->out_off) {
        memmove(c->out, c->out + c->out_off, c->out_len - c->out_off);
        c->out_len -= c->out_off;
        c->out_off = 0;
    }
}

// Queue bytes behind everything queued so far. False when there is no room.
static bool out_append(mfa_conn_t *c, const void *p, size_t n, uint32_t now) {
    if (!queued(c)) {
        c->write_ms = now;
    }
    if (!c->ref && !c->tail_len) {
        out_compact(c);
        if (n <= MFA_CONN_OUT_BUF - c->out_len) {
            memcpy(c->out + c->out_len, p, n);
            c->out_len += n;
            return true;
        }
    }
    if (n <= sizeof(c->tail) - c->tail_len) {
        memcpy(c->tail + c->tail_len, p, n);
        c->tail_len = (uint8_t)(c->tail_len + n);
        return true;
    }
    return false;
}

static void body_free(mfa_pool_t *pool, mfa_conn_t *c) {
    if (c->body) {
        pool->io->free(pool->ctx, c->body, c->body_cap);
        c->body = NULL;
    }
    c->body_len = 0;
    c->body_cap = 0;
}

// A pulled body with bytes still to come from the client.
static bool body_pulling(const mfa_conn_t *c) {
    return (c->flags & (MFA_CF_BODY_PULL | MFA_CF_BODY_DONE)) == MFA_CF_BODY_PULL;
}

// A pulled body that waits for its client, not for the application: bytes of a Content-Length
// body are still to come beyond those in the buffer; a chunked body has none in the buffer
// (its decoder takes all there is at each read, so bytes there wait for the application).
static bool body_awaits_client(const mfa_conn_t *c) {
    if (c->flags & MFA_CF_CHUNKED_IN) {
        return c->in_len == c->head_len;
    }
    return c->in_len - c->head_len < c->body_left;
}

// ---- pool ------------------------------------------------------------------------------------

// A slot back to FREE with nothing in it. What belongs to the slot itself stays: its buffers,
// its index and its generation (which tells a stale handle from the connection now in it).
static void slot_reset(mfa_conn_t *c) {
    uint8_t *in = c->in, *out = c->out;
    uint16_t index = c->index;
    uint32_t gen = c->gen;
    memset(c, 0, sizeof(*c));
    c->in = in;
    c->out = out;
    c->index = index;
    c->gen = gen;
    c->content_length = -1;
}

void mfa_pool_init(mfa_pool_t *pool, mfa_conn_t *conns, size_t n, const mfa_conn_io_t *io,
    void *ctx) {
    uint32_t max_body = pool->max_body;
    uint32_t ht = pool->header_timeout_ms, bt = pool->body_timeout_ms, it = pool->idle_timeout_ms;
    uint32_t rate = pool->min_rate, grace = pool->rate_grace_ms;
    bool stream_bodies = pool->stream_bodies;
    memset(pool, 0, sizeof(*pool));
    pool->io = io;
    pool->ctx = ctx;
    pool->conns = conns;
    pool->n = n;
    pool->max_body = max_body;
    pool->header_timeout_ms = ht;
    pool->body_timeout_ms = bt;
    pool->idle_timeout_ms = it;
    pool->min_rate = rate;
    pool->rate_grace_ms = grace;
    pool->stream_bodies = stream_bodies;
    for (size_t i = 0; i < n; i++) {
        conns[i].index = (uint16_t)i;
        conns[i].gen = 0;
        slot_reset(&conns[i]);
    }
}

// Free the slot; the transport side is closed by io->close unless `handed_over` (io->linger).
static void conn_release(mfa_pool_t *pool, mfa_conn_t *c, bool abort, bool handed_over) {
    if (c->state == MFA_CONN_FREE) {
        return;
    }
    if (!handed_over) {
        pool->io->close(pool->ctx, c, abort);
    }
    body_free(pool, c);
    c->gen++;
    size_t lent = c->lent;
    slot_reset(c);
    c->lent = lent;  // (free_slot takes a slot that was lending bytes last)
    pool->open--;
}

static void conn_event(mfa_pool_t *pool, mfa_conn_t *c, int event) {
    if (pool->io->event) {
        pool->io->event(pool->ctx, c, event);
    }
}

void mfa_conn_close(mfa_pool_t *pool, mfa_conn_t *c, bool abort) {
    conn_release(pool, c, abort, false);
}

static bool conn_flush(mfa_pool_t *pool, mfa_conn_t *c, uint32_t now);

void mfa_conn_abort(mfa_pool_t *pool, mfa_conn_t *c, uint32_t now_ms) {
    if (c->state != MFA_CONN_FREE && (c->flags & MFA_CF_STREAMING) && queued(c)
        && !conn_flush(pool, c, now_ms)) {
        return;  // (it died meanwhile)
    }
    mfa_conn_close(pool, c, true);
}

static void conn_dead(mfa_pool_t *pool, mfa_conn_t *c) {
    pool->stats.resets++;
    conn_event(pool, c, MFA_EVT_RESET);
    mfa_conn_close(pool, c, true);
}

// Whether a HEAD-stage connection has begun a request: empty lines (CRLF) before a request
// line are ignored (RFC 9112 2.2, some clients send one after a POST body), so a connection
// holding only those (at most MFA_HTTP_MAX_EMPTY_LINES; the parser refuses more) is idle.
static bool head_started(const mfa_conn_t *c) {
    if (c->in_len == 0) {
        return false;
    }
    if (c->in_len % 2 || c->in_len > 2 * MFA_HTTP_MAX_EMPTY_LINES) {
        return true;
    }
    for (size_t i = 0; i < c->in_len; i += 2) {
        if (c->in[i] != '\r' || c->in[i + 1] != '\n') {
            return true;
        }
    }
    return false;
}

// What a full pool may take back, in the order it does (see mfa_pool_accept in mfa_conn.h).
typedef enum {
    TAKE_IDLE = 0,   // idle keep-alive
    TAKE_LINGER,     // last answer sent, draining
    TAKE_SILENT,     // nothing sent since connecting, for MFA_CONN_FRESH_MS
    TAKE_HEAD,       // a head still arriving
    TAKE_FRESH,      // nothing sent yet, connected less than MFA_CONN_FRESH_MS ago
    TAKE_GRACE,      // nothing sent yet, connected less than MFA_CONN_GRACE_MS ago: not taken
    TAKE_NONE,       // busy with a request
} take_t;

static take_t take_kind(const mfa_conn_t *c, uint32_t now, uint32_t *since) {
    if (queued(c)) {
        return TAKE_NONE;  // an answer is leaving
    }
    if (c->state == MFA_CONN_CLOSING) {
        *since = c->shut_ms;
        return (c->flags & MFA_CF_SHUT) ? TAKE_LINGER : TAKE_NONE;
    }
    if (c->state != MFA_CONN_HEAD) {
        return TAKE_NONE;
    }
    if (head_started(c)) {
        *since = c->started_ms;  // the head's first byte
        return TAKE_HEAD;
    }
    if (c->flags & MFA_CF_REUSED) {
        *since = c->last_used_ms;
        return TAKE_IDLE;
    }
    *since = c->started_ms;  // accepted
    if (!elapsed(now, c->started_ms, MFA_CONN_GRACE_MS)) {
        return TAKE_GRACE;
    }
    return elapsed(now, c->started_ms, MFA_CONN_FRESH_MS) ? TAKE_SILENT : TAKE_FRESH;
}

static void conn_read(mfa_pool_t *pool, mfa_conn_t *c, uint32_t now);

// A free slot; in a full pool, first take in what the head-stage connections have received:
// a request that has arrived is not a connection to give up (and a closed one frees its slot).
static mfa_conn_t *free_slot(mfa_pool_t *pool, uint32_t now) {
    // A slot closed while it lent body bytes (mfa_conn_body_peek; `lent` stays set until the
    // slot is taken again) is taken last: its handler may still be writing them out, and a new
    // client's bytes would land under them.
    mfa_conn_t *lent = NULL;
    for (size_t i = 0; i < pool->n; i++) {
        if (pool->conns[i].state == MFA_CONN_FREE) {
            if (!pool->conns[i].lent) {
                return &pool->conns[i];
            }
            lent = lent ? lent : &pool->conns[i];
        }
    }
    if (lent) {
        return lent;
    }
    mfa_conn_t *slot = NULL;
    for (size_t i = 0; i < pool->n; i++) {
        mfa_conn_t *c = &pool->conns[i];
        if (c->state == MFA_CONN_HEAD && !queued(c)) {
            conn_read(pool, c, now);
        }
        if (c->state == MFA_CONN_FREE && !slot) {
            slot = c;
        }
    }
    return slot;
}

// The connection a full pool would take back: the cheapest kind to lose first, the oldest of
// that kind; its kind in *kind (TAKE_GRACE or TAKE_NONE: none can be taken).
static mfa_conn_t *take_candidate(mfa_pool_t *pool, uint32_t now, take_t *kind) {
    mfa_conn_t *best = NULL;
    take_t best_kind = TAKE_NONE;
    uint32_t best_since = 0;
    for (size_t i = 0; i < pool->n; i++) {
        mfa_conn_t *c = &pool->conns[i];
        uint32_t since = 0;
        take_t k = take_kind(c, now, &since);
        if (k < best_kind || (k == best_kind && k != TAKE_NONE && (int32_t)(since - best_since) < 0)) {
            best = c;
            best_kind = k;
            best_since = since;
        }
    }
    *kind = best_kind;
    return best;
}

mfa_conn_t *mfa_pool_make_room(mfa_pool_t *pool, uint32_t now_ms, uint32_t *wait_ms) {
    if (wait_ms) {
        *wait_ms = 0;
    }
    mfa_conn_t *slot = free_slot(pool, now_ms);
    if (slot) {
        return slot;
    }
    take_t kind;
    slot = take_candidate(pool, now_ms, &kind);
    if (kind == TAKE_GRACE && wait_ms) {
        // The oldest in grace: its age is at most MFA_CONN_GRACE_MS (see elapsed), so >= 1.
        *wait_ms = MFA_CONN_GRACE_MS - (now_ms - slot->started_ms) + 1;
        return NULL;
    }
    if (kind == TAKE_NONE) {
        return NULL;
    }
    // A client of an idle keep-alive connection reconnects, as it must after any keep-alive
    // close; the other kinds have no request to lose.
    pool->stats.evicted++;
    mfa_conn_close(pool, slot, true);
    return slot;
}

mfa_conn_t *mfa_pool_admit(mfa_pool_t *pool, mfa_conn_t *room, uintptr_t handle, uint32_t now_ms) {
    if (!room) {
        pool->stats.rejected++;
        pool->stats.errors++;
        return NULL;
    }
    room->gen++;
    slot_reset(room);
    room->state = MFA_CONN_HEAD;
    room->handle = handle;
    room->started_ms = room->last_used_ms = room->write_ms = now_ms;
    pool->open++;
    pool->stats.accepted++;
    return room;
}

mfa_conn_t *mfa_pool_accept(mfa_pool_t *pool, uintptr_t handle, uint32_t now_ms) {
    return mfa_pool_admit(pool, mfa_pool_make_room(pool, now_ms, NULL), handle, now_ms);
}

// ---- sending ---------------------------------------------------------------------------------

// What is queued, sent in this order: the output buffer, then a body referenced in place (a
// bytes object of the app), then the few bytes that must follow that body (its chunk's CRLF).
typedef enum {
    OUT_BUF,
    OUT_REF,
    OUT_TAIL,
} out_part_t;

// Send as much as the transport takes. Returns false when the connection died (now FREE).
static bool conn_flush(mfa_pool_t *pool, mfa_conn_t *c, uint32_t now) {
    const mfa_conn_io_t *io = pool->io;
    for (;;) {
        const uint8_t *p;
        size_t n;
        out_part_t part;
        bool more;  // another part follows this one (lets the transport batch segments)
        if (c->out_off < c->out_len) {
            p = c->out + c->out_off;
            n = c->out_len - c->out_off;
            part = OUT_BUF;
            more = c->ref != NULL || c->tail_len;
        } else if (c->ref) {
            p = c->ref + c->ref_off;
            n = c->ref_len - c->ref_off;
            part = OUT_REF;
            more = c->tail_len;
        } else if (c->tail_len) {
            p = c->tail;
            n = c->tail_len;
            part = OUT_TAIL;
            more = false;
        } else {
            break;
        }
        int r = n ? io->send(pool->ctx, c, p, n, more) : 0;
        if (r < 0) {
            conn_dead(pool, c);
            return false;
        }
        if (r > 0) {
            c->write_ms = now;
        }
        size_t taken = (size_t)r;
        if (part == OUT_BUF) {
            c->out_off += taken;
            if (c->out_off == c->out_len) {
                c->out_off = c->out_len = 0;
            }
        } else if (part == OUT_REF) {
            c->ref_off += taken;
            if (c->ref_off == c->ref_len) {
                c->ref = NULL;
                c->ref_obj = NULL;
                c->ref_off = c->ref_len = 0;
            }
        } else {
            memmove(c->tail, c->tail + taken, c->tail_len - taken);
            c->tail_len = (uint8_t)(c->tail_len - taken);
        }
        if (taken < n) {
            break;
        }
    }
    if (c->state == MFA_CONN_CLOSING && !queued(c) && !(c->flags & MFA_CF_SHUT)) {
        if (c->flags & MFA_CF_PEER_EOF) {
            mfa_conn_close(pool, c, false);
            return false;
        }
        // All sent: half close, then read and discard until the peer closes or the linger
        // time is over, so a client still sending gets our answer instead of a reset.
        io->shutdown(pool->ctx, c);
        c->flags |= MFA_CF_SHUT;
        c->started_ms = c->shut_ms = now;
        if (io->linger && io->linger(pool->ctx, c, now)) {
            conn_release(pool, c, false, true);  // the transport lingers: the slot is free
            return false;
        }
    }
    return true;
}

// Answer a protocol error and close once it is sent.
static void conn_error(mfa_pool_t *pool, mfa_conn_t *c, int status, const char *reason,
    uint32_t now) {
    pool->stats.errors++;
    body_free(pool, c);
    c->in_len = 0;
    c->gen++;  // the request ends here: a handle the application holds is stale (gone)
    c->state = MFA_CONN_CLOSING;
    c->flags &= (uint32_t) ~MFA_CF_REQUEST;
    c->started_ms = now;
    char buf[256];
    wbuf_t w = { (uint8_t *)buf, 0, sizeof(buf), false };
    w_str(&w, "HTTP/1.1 ");
    w_uint(&w, (uint64_t)status, 10);
    w_str(&w, " ");
    w_str(&w, mfa_conn_reason(status));
    w_str(&w, "\r\nContent-Type: text/plain\r\nContent-Length: ");
    w_uint(&w, strlen(reason), 10);
    w_str(&w, "\r\nConnection: close\r\n\r\n");
    w_str(&w, reason);
    if (w.overflow || !out_append(c, buf, w.len, now)) {
        mfa_conn_close(pool, c, true);
        return;
    }
    conn_flush(pool, c, now);
}

// ---- receiving -------------------------------------------------------------------------------

static void conn_ready(mfa_pool_t *pool, mfa_conn_t *c) {
    c->state = MFA_CONN_READY;
    if (!(c->flags & MFA_CF_COLLECTED)) {
        pool->stats.requests++;  // (a collected body's request was counted when deferred)
    }
}

// Room for `need` more body bytes in the external body buffer (grows by doubling).
static bool body_reserve(mfa_pool_t *pool, mfa_conn_t *c, size_t need) {
    if (c->body_cap - c->body_len >= need) {
        return true;
    }
    size_t cap = c->body_cap ? c->body_cap : MFA_CONN_CHUNKED_START;
    while (cap - c->body_len < need) {
        cap *= 2;
    }
    if (cap > c->body_limit) {
        cap = c->body_limit;
    }
    void *p = c->body ? pool->io->realloc(pool->ctx, c->body, c->body_cap, cap)
                      : pool->io->alloc(pool->ctx, cap);
    if (!p) {
        return false;
    }
    c->body = p;
    c->body_cap = cap;
    return true;
}

// What the request line and headers say, kept in the slot as offsets into the input buffer.
static void head_store(mfa_conn_t *c, const mfa_http_request_t *req) {
    c->flags &= (uint32_t) ~MFA_CF_REQUEST;
    if (req->flags & MFA_HTTP_F_KEEP_ALIVE) {
        c->flags |= MFA_CF_KEEP_ALIVE;
    }
    if (req->minor_version == 0) {
        c->flags |= MFA_CF_HTTP10;
    }
    if (req->method_len == 4 && memcmp(req->method, "HEAD", 4) == 0) {
        c->flags |= MFA_CF_HEAD_METHOD;
    }
    c->method_len = (uint16_t)req->method_len;
    c->path_off = (uint16_t)(req->path - (const char *)c->in);
    c->path_len = (uint16_t)req->path_len;
    c->query_off = (uint16_t)(req->query_len ? req->query - (const char *)c->in : 0);
    c->query_len = (uint16_t)req->query_len;
    c->http_flags = (uint8_t)req->flags;
    c->minor_version = (uint8_t)req->minor_version;
    c->content_length = -1;
}

// A body larger than the input buffer can hold: one allocation of exactly its size, and the
// body bytes that came with the head move there.
static bool body_external(mfa_pool_t *pool, mfa_conn_t *c, size_t cl) {
    c->body = pool->io->alloc(pool->ctx, cl);
    if (!c->body) {
        return false;
    }
    c->body_cap = cl;
    c->flags |= MFA_CF_BODY_EXT;
    size_t have = c->in_len - c->head_len;
    size_t take = have < cl ? have : cl;
    memcpy(c->body, c->in + c->head_len, take);
    c->body_len = take;
    memmove(c->in + c->head_len, c->in + c->head_len + take, have - take);
    c->in_len -= take;
    return true;
}

// The head is complete: check the body's size, ask for it (100 Continue) and give it a place.
// False when the connection was answered (an error) or closed.
static bool body_start(mfa_pool_t *pool, mfa_conn_t *c, unsigned http_flags, uint64_t cl,
    uint32_t now) {
    if (http_flags & MFA_HTTP_F_CONTENT_LENGTH) {
        if (cl > c->body_limit) {
            conn_error(pool, c, 413, "request body too large", now);
            return false;
        }
        c->content_length = (int64_t)cl;
    }
    c->state = MFA_CONN_BODY;
    c->started_ms = now;
    c->rx = (uint32_t)(c->in_len - c->head_len);  // body bytes that came with the head
    body_free(pool, c);
    bool chunked = http_flags & MFA_HTTP_F_CHUNKED;
    if (chunked) {
        c->flags |= MFA_CF_CHUNKED_IN;
        mfa_chunked_init(&c->chunked);
    }
    if ((http_flags & MFA_HTTP_F_EXPECT_CONTINUE) && (chunked || cl)) {
        // The body is acceptable (size checked above): tell the client to send it.
        if (!out_append(c, continue_response, sizeof(continue_response) - 1, now)
            || !conn_flush(pool, c, now)) {
            if (c->state != MFA_CONN_FREE) {
                mfa_conn_close(pool, c, true);
            }
            return false;
        }
    }
    if (cl && c->head_len + cl > MFA_CONN_IN_BUF && !body_external(pool, c, (size_t)cl)) {
        conn_error(pool, c, 503, "out of memory", now);
        return false;
    }
    return true;
}

// Parse the head in the input buffer. True when it was complete and the body stage began.
static bool conn_head(mfa_pool_t *pool, mfa_conn_t *c, uint32_t now) {
    if (c->in_len == 0) {
        return false;
    }
    mfa_http_request_t req;
    mfa_http_header_t headers[MFA_HTTP_MAX_HEADERS];
    size_t nh = MFA_HTTP_MAX_HEADERS;
    int r = mfa_http_parse_request((const char *)c->in, c->in_len, c->last_len, &req, headers,
        &nh);
    if (r == MFA_HTTP_INCOMPLETE) {
        c->last_len = c->in_len;
        return false;
    }
    if (r < 0) {
        conn_error(pool, c, mfa_http_err_status(req.error), mfa_http_err_reason(req.error), now);
        return false;
    }
    c->head_len = (size_t)r;
    c->last_len = 0;
    head_store(c, &req);
    uint64_t cl = (req.flags & MFA_HTTP_F_CONTENT_LENGTH) ? req.content_length : 0;
    if (pool->stream_bodies && ((req.flags & MFA_HTTP_F_CHUNKED) || cl > c->in_len - c->head_len)) {
        // Its body is still on the wire: the application decides (stream it, or have it
        // collected under its route's limit) before a byte more is read or 100 Continue sent.
        if (req.flags & MFA_HTTP_F_CONTENT_LENGTH) {
            c->content_length = (int64_t)cl;
        }
        c->flags |= MFA_CF_BODY_DEFER;
        c->started_ms = now;
        conn_ready(pool, c);
        return false;
    }
    c->body_limit = pool->max_body;
    return body_start(pool, c, req.flags, cl, now);
}

// Decode what arrived of a chunked body into the body buffer. True when the body is complete.
static bool body_chunked(mfa_pool_t *pool, mfa_conn_t *c, uint32_t now) {
    size_t avail = c->in_len - c->head_len;
    if (avail == 0) {
        return false;
    }
    char *src = (char *)c->in + c->head_len;
    size_t out_n = 0;
    ptrdiff_t r = mfa_chunked_decode(&c->chunked, src, avail, src, &out_n);
    if (r == MFA_HTTP_ERROR) {
        mfa_http_err_t e = (mfa_http_err_t)c->chunked.error;
        conn_error(pool, c, mfa_http_err_status(e), mfa_http_err_reason(e), now);
        return false;
    }
    if (out_n) {
        if (c->body_len + out_n > c->body_limit) {
            conn_error(pool, c, 413, "request body too large", now);
            return false;
        }
        if (!body_reserve(pool, c, out_n)) {
            conn_error(pool, c, 503, "out of memory", now);
            return false;
        }
        memcpy(c->body + c->body_len, src, out_n);
        c->body_len += out_n;
    }
    size_t used = r == MFA_HTTP_INCOMPLETE ? avail : (size_t)r;
    memmove(src, src + used, avail - used);
    c->in_len -= used;
    return r != MFA_HTTP_INCOMPLETE;
}

// True when all of a Content-Length body (or no body) is there.
static bool body_fixed_done(const mfa_conn_t *c) {
    size_t cl = c->content_length > 0 ? (size_t)c->content_length : 0;
    return (c->flags & MFA_CF_BODY_EXT) ? c->body_len >= cl : c->in_len - c->head_len >= cl;
}

// Parse and collect what the input buffer holds, as far as it goes: a head, then its body;
// a complete request is handed on (READY) and waits for its answer.
static void conn_advance(mfa_pool_t *pool, mfa_conn_t *c, uint32_t now) {
    if (c->ref != NULL) {
        return;  // an answer is still being sent from the app's object
    }
    if (c->state == MFA_CONN_HEAD && !conn_head(pool, c, now)) {
        return;
    }
    if (c->state != MFA_CONN_BODY) {
        return;
    }
    bool done = (c->flags & MFA_CF_CHUNKED_IN) ? body_chunked(pool, c, now) : body_fixed_done(c);
    if (done && c->state == MFA_CONN_BODY) {
        conn_ready(pool, c);
    }
}

static void conn_read(mfa_pool_t *pool, mfa_conn_t *c, uint32_t now) {
    // Bounded: a fast sender cannot keep one poll() on one connection forever.
    for (int round = 0; round < 4; round++) {
        uint8_t *dst;
        size_t n;
        bool ext = false;
        if (c->state == MFA_CONN_CLOSING) {
            if (!(c->flags & MFA_CF_SHUT)) {
                return;
            }
            dst = c->in;  // discarded
            n = MFA_CONN_IN_BUF;
        } else if (c->state == MFA_CONN_RAW) {
            if (c->flags & MFA_CF_PEER_EOF) {
                return;
            }
            dst = c->in + c->in_len;
            n = MFA_CONN_IN_BUF - c->in_len;
            if (n == 0) {
                return;  // full: the app takes it first (backpressure)
            }
        } else if (c->state == MFA_CONN_READY) {
            if (!body_pulling(c)) {
                return;  // (pipelined bytes stay with the transport until the answer is out)
            }
            dst = c->in + c->in_len;
            n = MFA_CONN_IN_BUF - c->in_len;
            if (n == 0) {
                return;  // full: the application takes it first (backpressure)
            }
        } else if ((c->state == MFA_CONN_HEAD || c->state == MFA_CONN_BODY) && !c->ref) {
            if (c->state == MFA_CONN_BODY && (c->flags & MFA_CF_BODY_EXT)) {
                dst = c->body + c->body_len;
                n = (size_t)c->content_length - c->body_len;
                ext = true;
            } else {
                dst = c->in + c->in_len;
                n = MFA_CONN_IN_BUF - c->in_len;
            }
            if (n == 0) {
                return;
            }
        } else {
            return;
        }
        int r = pool->io->recv(pool->ctx, c, dst, n);
        if (r == 0) {
            return;
        }
        if (r == MFA_IO_ERR) {
            conn_dead(pool, c);
            return;
        }
        if (r == MFA_IO_EOF) {
            c->flags |= MFA_CF_PEER_EOF;
            if (c->state == MFA_CONN_RAW || c->state == MFA_CONN_READY) {
                c->flags |= MFA_CF_RAW_NOTE;  // the app sees the EOF after the bytes before it
                return;
            }
            if (c->state == MFA_CONN_HEAD && c->in_len == 0 && queued(c)) {
                // Answer what is still queued, then close.
                c->state = MFA_CONN_CLOSING;
                c->started_ms = now;
                return;
            }
            // Idle, mid-request (nothing to answer: the client is gone) or lingering.
            mfa_conn_close(pool, c, false);
            return;
        }
        if (c->state == MFA_CONN_CLOSING) {
            // Still sending (e.g. the rest of a body answered 413/503 at its head): the
            // linger goes on while bytes arrive, so the close does not reset the connection
            // before the client has read our answer.
            c->started_ms = now;
            continue;
        }
        if (c->state == MFA_CONN_RAW || c->state == MFA_CONN_READY) {
            c->in_len += (size_t)r;
            c->flags |= MFA_CF_RAW_NOTE;
            if (c->state == MFA_CONN_READY) {
                c->started_ms = now;  // a pulled body's timeout counts from its last byte
            }
            if ((size_t)r < n) {
                return;
            }
            continue;
        }
        if (c->state == MFA_CONN_HEAD && !head_started(c)) {
            c->started_ms = now;  // the header timeout runs from a request's first byte
        }
        if (c->state == MFA_CONN_BODY) {
            c->rx += (uint32_t)r;
        }
        if (ext) {
            c->body_len += (size_t)r;
        } else {
            c->in_len += (size_t)r;
        }
        conn_advance(pool, c, now);
        if (c->state != MFA_CONN_HEAD && c->state != MFA_CONN_BODY) {
            return;
        }
        if ((size_t)r < n) {
            return;
        }
    }
}

// The minimum data rate: a stage that began at c->started_ms and has delivered `got` bytes is
// too slow once it has run longer than the grace period plus the time those bytes buy at
// min_rate (as Apache's mod_reqtimeout MinRate: every min_rate bytes extend the deadline 1 s).
static bool too_slow(const mfa_pool_t *pool, const mfa_conn_t *c, size_t got, uint32_t now) {
    if (!pool->min_rate) {
        return false;
    }
    uint64_t allowed = (uint64_t)pool->rate_grace_ms + (uint64_t)got * 1000u / pool->min_rate;
    // Beyond 2^31 ms the unsigned difference would wrap: the stage timeouts end it first.
    return allowed < 0x80000000u && elapsed(now, c->started_ms, (uint32_t)allowed);
}

static void conn_timeouts(mfa_pool_t *pool, mfa_conn_t *c, uint32_t now) {
    if (queued(c) && elapsed(now, c->write_ms, pool->body_timeout_ms)) {
        // The client stopped reading.
        pool->stats.timeouts++;
        conn_event(pool, c, MFA_EVT_WRITE_TIMEOUT);
        mfa_conn_close(pool, c, true);
        return;
    }
    switch (c->state) {
        case MFA_CONN_HEAD:
            if (c->ref) {
                return;
            }
            if (!head_started(c)) {
                if (!queued(c) && elapsed(now, c->started_ms, pool->idle_timeout_ms)) {
                    mfa_conn_close(pool, c, false);
                }
            } else if (elapsed(now, c->started_ms, pool->header_timeout_ms)) {
                pool->stats.timeouts++;
                conn_event(pool, c, MFA_EVT_HEADER_TIMEOUT);
                conn_error(pool, c, 408, "request header timeout", now);
            } else if (too_slow(pool, c, c->in_len, now)) {
                pool->stats.timeouts++;
                conn_event(pool, c, MFA_EVT_HEADER_TIMEOUT);
                conn_error(pool, c, 408, "request header too slow", now);
            }
            break;
        case MFA_CONN_BODY:
            if (c->ref) {
                break;
            }
            if (elapsed(now, c->started_ms, pool->body_timeout_ms)) {
                pool->stats.timeouts++;
                conn_event(pool, c, MFA_EVT_BODY_TIMEOUT);
                conn_error(pool, c, 408, "request body timeout", now);
            } else if (too_slow(pool, c, c->rx, now)) {
                pool->stats.timeouts++;
                conn_event(pool, c, MFA_EVT_BODY_TIMEOUT);
                conn_error(pool, c, 408, "request body too slow", now);
            }
            break;
        case MFA_CONN_READY:
            // A pulled body whose client sends nothing while there is room for it (a full
            // buffer waits for the application, whatever its pace).
            if (body_pulling(c) && c->in_len < MFA_CONN_IN_BUF && !(c->flags & MFA_CF_PEER_EOF)
                && body_awaits_client(c) && elapsed(now, c->started_ms, pool->body_timeout_ms)) {
                pool->stats.timeouts++;
                conn_event(pool, c, MFA_EVT_BODY_TIMEOUT);
                conn_error(pool, c, 408, "request body timeout", now);
            }
            break;
        case MFA_CONN_CLOSING:
            if ((c->flags & MFA_CF_SHUT) && (elapsed(now, c->started_ms, MFA_CONN_LINGER_MS)
                || elapsed(now, c->shut_ms, pool->body_timeout_ms + MFA_CONN_LINGER_MS))) {
                mfa_conn_close(pool, c, false);
            }
            break;
        default:
            break;
    }
}

bool mfa_conn_wants_read(const mfa_conn_t *c) {
    switch (c->state) {
        case MFA_CONN_HEAD:
        case MFA_CONN_BODY:
            return c->ref == NULL;
        case MFA_CONN_CLOSING:
            return (c->flags & MFA_CF_SHUT) != 0;
        case MFA_CONN_RAW:
            return !(c->flags & MFA_CF_PEER_EOF) && c->in_len < MFA_CONN_IN_BUF;
        case MFA_CONN_READY:
            return body_pulling(c) && !(c->flags & MFA_CF_PEER_EOF) && c->in_len < MFA_CONN_IN_BUF;
        default:
            return false;
    }
}

bool mfa_conn_wants_write(const mfa_conn_t *c) {
    return c->state != MFA_CONN_FREE && queued(c) > 0;
}

void mfa_conn_service(mfa_pool_t *pool, mfa_conn_t *c, uint32_t now_ms, unsigned events) {
    if (c->state == MFA_CONN_FREE) {
        return;
    }
    if ((events & MFA_EV_WRITE) && queued(c)) {
        bool had_ref = c->ref != NULL;
        if (!conn_flush(pool, c, now_ms)) {
            return;
        }
        if (had_ref && !c->ref && c->in_len && (c->state == MFA_CONN_HEAD || c->state == MFA_CONN_BODY)) {
            // The previous answer is out: the pipelined request's clock starts now.
            c->started_ms = now_ms;
            conn_advance(pool, c, now_ms);
            if (c->state == MFA_CONN_FREE) {
                return;
            }
        }
    }
    if ((events & MFA_EV_READ) && mfa_conn_wants_read(c)) {
        conn_read(pool, c, now_ms);
        if (c->state == MFA_CONN_FREE) {
            return;
        }
    }
    conn_timeouts(pool, c, now_ms);
}

void mfa_pool_service(mfa_pool_t *pool, uint32_t now_ms) {
    for (size_t i = 0; i < pool->n; i++) {
        mfa_conn_service(pool, &pool->conns[i], now_ms, MFA_EV_READ | MFA_EV_WRITE);
    }
}

static bool eligible(const mfa_conn_t *c) {
    return c->state == MFA_CONN_READY && !(c->flags & MFA_CF_HANDED) && c->ref == NULL;
}

bool mfa_pool_has_ready(const mfa_pool_t *pool) {
    for (size_t i = 0; i < pool->n; i++) {
        if (eligible(&pool->conns[i])) {
            return true;
        }
    }
    return false;
}

mfa_conn_t *mfa_pool_next_ready(mfa_pool_t *pool) {
    for (size_t k = 0; k < pool->n; k++) {
        size_t i = (pool->rr + k) % pool->n;
        mfa_conn_t *c = &pool->conns[i];
        if (eligible(c)) {
            c->flags |= MFA_CF_HANDED;
            pool->rr = i + 1;
            return c;
        }
    }
    return NULL;
}

void mfa_conn_release_body(mfa_pool_t *pool, mfa_conn_t *c) {
    body_free(pool, c);
}

uint8_t *mfa_conn_take_body(mfa_conn_t *c, size_t *len, size_t *cap) {
    uint8_t *b = c->body;
    if (!b || !(c->flags & (MFA_CF_BODY_EXT | MFA_CF_CHUNKED_IN))) {
        *len = *cap = 0;
        return NULL;
    }
    *len = c->body_len;
    *cap = c->body_cap;
    // The flags stay: conn_finish must still know the body is not in the input buffer.
    c->body = NULL;
    c->body_len = c->body_cap = 0;
    return b;
}

void mfa_conn_fail(mfa_pool_t *pool, mfa_conn_t *c, int status, const char *reason,
    uint32_t now_ms) {
    if (c->state == MFA_CONN_FREE) {
        return;
    }
    conn_error(pool, c, status, reason, now_ms);
}

const uint8_t *mfa_conn_body(const mfa_conn_t *c, size_t *len) {
    if (c->flags & (MFA_CF_BODY_DEFER | MFA_CF_BODY_PULL)) {
        *len = 0;  // still on the wire (or read by the application)
        return c->in;
    }
    if (c->flags & (MFA_CF_BODY_EXT | MFA_CF_CHUNKED_IN)) {
        *len = c->body ? c->body_len : 0;
        return c->body ? c->body : c->in;
    }
    *len = c->content_length > 0 ? (size_t)c->content_length : 0;
    return c->in + c->head_len;
}

// ---- streamed request bodies -----------------------------------------------------------------

// A deferred request of the application's (handed, its body still on the wire).
static bool body_deferred(const mfa_conn_t *c) {
    return c->state == MFA_CONN_READY
           && (c->flags & (MFA_CF_HANDED | MFA_CF_BODY_DEFER)) == (MFA_CF_HANDED | MFA_CF_BODY_DEFER);
}

// 100 Continue when the client waits for it before sending its body. False when the
// connection died.
static bool body_continue(mfa_pool_t *pool, mfa_conn_t *c, uint32_t now) {
    if (!(c->http_flags & MFA_HTTP_F_EXPECT_CONTINUE)) {
        return true;
    }
    if (!out_append(c, continue_response, sizeof(continue_response) - 1, now)) {
        mfa_conn_close(pool, c, true);
        return false;
    }
    return conn_flush(pool, c, now);
}

bool mfa_conn_body_pull(mfa_pool_t *pool, mfa_conn_t *c, uint32_t limit, uint32_t now_ms) {
    if (!body_deferred(c)) {
        return false;
    }
    c->flags &= (uint32_t) ~MFA_CF_BODY_DEFER;
    bool chunked = c->http_flags & MFA_HTTP_F_CHUNKED;
    if (!chunked && (uint64_t)c->content_length > limit) {
        conn_error(pool, c, 413, "request body too large", now_ms);
        return false;
    }
    c->flags |= MFA_CF_BODY_PULL;
    c->body_len = 0;  // chunked: decoded bytes waiting at the front of the body's bytes
    if (chunked) {
        c->flags |= MFA_CF_CHUNKED_IN;
        mfa_chunked_init(&c->chunked);
        c->body_left = limit;
    } else {
        c->body_left = (uint64_t)c->content_length;
    }
    c->started_ms = now_ms;
    if (c->in_len > c->head_len) {
        c->flags |= MFA_CF_RAW_NOTE;  // bytes that came with the head are there to be read
    }
    return body_continue(pool, c, now_ms);
}

void mfa_conn_body_collect(mfa_pool_t *pool, mfa_conn_t *c, uint32_t limit, uint32_t now_ms) {
    if (!body_deferred(c)) {
        return;
    }
    // Back to the body stage, as if the pool had never handed the request out: body_start
    // checks the limit, sends 100 Continue and gives the body its place; conn_ready hands the
    // request out again once the body is there.
    c->flags &= (uint32_t) ~(MFA_CF_BODY_DEFER | MFA_CF_HANDED);
    c->flags |= MFA_CF_COLLECTED;
    c->body_limit = limit;
    uint64_t cl = c->content_length > 0 ? (uint64_t)c->content_length : 0;
    c->content_length = -1;
    if (body_start(pool, c, c->http_flags, cl, now_ms)) {
        conn_advance(pool, c, now_ms);
    }
}

// The bytes lent by mfa_conn_body_peek go back: they are dropped from `in` (what came behind
// them moves to the front), making room for the transport's next bytes.
static void body_settle(mfa_pool_t *pool, mfa_conn_t *c, uint32_t now_ms) {
    if (!c->lent) {
        return;
    }
    bool was_full = c->in_len >= MFA_CONN_IN_BUF;
    uint8_t *src = c->in + c->head_len;
    memmove(src - c->lent, src, c->in_len - c->head_len);
    c->head_len -= c->lent;
    c->in_len -= c->lent;
    c->lent = 0;
    if (was_full && body_pulling(c)) {
        conn_read(pool, c, now_ms);  // the transport may hold more: take it now
    }
}

// How many decoded body bytes are at in[head_len:] now (at most n), taken from what the body
// still owes (chunked framing decoded in place first); MFA_BODY_FAILED when the body is
// refused. The caller removes them from `in`.
static ptrdiff_t body_next(mfa_pool_t *pool, mfa_conn_t *c, size_t n, uint32_t now_ms) {
    uint8_t *src = c->in + c->head_len;
    size_t take;
    if (c->flags & MFA_CF_CHUNKED_IN) {
        // Decoded in place: in[head_len:head_len + body_len] are decoded bytes not taken yet;
        // raw bytes follow them (and, once the body is done, the next request).
        if (c->body_len == 0 && body_pulling(c) && c->in_len > c->head_len) {
            size_t avail = c->in_len - c->head_len, out_n = 0;
            ptrdiff_t r = mfa_chunked_decode(&c->chunked, (char *)src, avail, (char *)src, &out_n);
            if (r == MFA_HTTP_ERROR) {
                mfa_http_err_t e = (mfa_http_err_t)c->chunked.error;
                conn_error(pool, c, mfa_http_err_status(e), mfa_http_err_reason(e), now_ms);
                return MFA_BODY_FAILED;
            }
            if (out_n > c->body_left) {
                conn_error(pool, c, 413, "request body too large", now_ms);
                return MFA_BODY_FAILED;
            }
            c->body_left -= out_n;
            size_t used = r == MFA_HTTP_INCOMPLETE ? avail : (size_t)r;
            memmove(src + out_n, src + used, avail - used);
            c->in_len -= used - out_n;
            c->body_len = out_n;
            if (r != MFA_HTTP_INCOMPLETE) {
                c->flags |= MFA_CF_BODY_DONE;
            }
        }
        take = n < c->body_len ? n : c->body_len;
        c->body_len -= take;
    } else {
        size_t avail = c->in_len - c->head_len;
        if (avail > c->body_left) {
            avail = (size_t)c->body_left;
        }
        take = n < avail ? n : avail;
        c->body_left -= take;
        if (c->body_left == 0) {
            c->flags |= MFA_CF_BODY_DONE;
        }
    }
    if (take) {
        c->started_ms = now_ms;  // (the body timeout waits for the client, not for us)
    }
    return (ptrdiff_t)take;
}

// What a read that found no bytes answers: the end, the failure of a body cut short, or 0.
static ptrdiff_t body_none(mfa_pool_t *pool, mfa_conn_t *c) {
    if (!body_pulling(c)) {
        return MFA_BODY_END;
    }
    if (c->flags & MFA_CF_PEER_EOF) {
        mfa_conn_close(pool, c, false);  // cut short: the body will never be complete
        return MFA_BODY_FAILED;
    }
    return 0;
}

static bool body_readable(const mfa_conn_t *c) {
    return c->state == MFA_CONN_READY && (c->flags & MFA_CF_BODY_PULL);
}

ptrdiff_t mfa_conn_body_read(mfa_pool_t *pool, mfa_conn_t *c, uint8_t *dst, size_t n,
    uint32_t now_ms) {
    if (!body_readable(c)) {
        return MFA_BODY_FAILED;
    }
    body_settle(pool, c, now_ms);
    if (!body_readable(c)) {
        return MFA_BODY_FAILED;
    }
    bool was_full = c->in_len >= MFA_CONN_IN_BUF;
    ptrdiff_t take = body_next(pool, c, n, now_ms);
    if (take <= 0) {
        return take < 0 ? take : body_none(pool, c);
    }
    uint8_t *src = c->in + c->head_len;
    memcpy(dst, src, (size_t)take);
    memmove(src, src + take, c->in_len - c->head_len - (size_t)take);
    c->in_len -= (size_t)take;
    if (was_full && body_pulling(c)) {
        conn_read(pool, c, now_ms);  // the transport may hold more: take it now
    }
    return take;
}

ptrdiff_t mfa_conn_body_peek(mfa_pool_t *pool, mfa_conn_t *c, const uint8_t **p,
    uint32_t now_ms) {
    if (!body_readable(c)) {
        return MFA_BODY_FAILED;
    }
    body_settle(pool, c, now_ms);
    if (!body_readable(c)) {
        return MFA_BODY_FAILED;
    }
    ptrdiff_t take = body_next(pool, c, MFA_CONN_IN_BUF, now_ms);
    if (take == 0 && body_pulling(c) && !(c->flags & MFA_CF_PEER_EOF)) {
        // Nothing here: the transport may hold bytes the poll loop has not taken yet; taking
        // them now spares the application a wait for its next round.
        conn_read(pool, c, now_ms);
        if (!body_readable(c)) {
            return MFA_BODY_FAILED;
        }
        take = body_next(pool, c, MFA_CONN_IN_BUF, now_ms);
    }
    if (take <= 0) {
        return take < 0 ? take : body_none(pool, c);
    }
    // Lent in place: counted with the head until the next read or the request's end drops
    // them (body_settle, request_drop), so nothing else reads or moves them meanwhile.
    *p = c->in + c->head_len;
    c->head_len += (size_t)take;
    c->lent = (size_t)take;
    return take;
}

// ---- answering -------------------------------------------------------------------------------

static mfa_resp_err_t check_handed(const mfa_conn_t *c) {
    if (c->state == MFA_CONN_FREE) {
        return MFA_RESP_CLOSED;
    }
    if ((c->state != MFA_CONN_READY && c->state != MFA_CONN_RAW) || !(c->flags & MFA_CF_HANDED)) {
        return MFA_RESP_NOT_HANDED;
    }
    return MFA_RESP_OK;
}

static bool keep_alive(const mfa_conn_t *c) {
    // A body left unread on the wire ends the connection after the answer (the linger drains
    // it): its bytes must never be read as the next request.
    // (a pulled chunked body is only read to its end once its decoded bytes, body_len, are
    // taken too: the decoder may have seen its last chunk before the application did)
    return (c->flags & MFA_CF_KEEP_ALIVE) && !(c->flags & MFA_CF_PEER_EOF)
           && !(c->flags & MFA_CF_BODY_DEFER) && !body_pulling(c)
           && !((c->flags & MFA_CF_BODY_PULL) && c->body_len);
}

// Drop the answered request's head and body from c (bytes behind them move to the front).
static void request_drop(mfa_pool_t *pool, mfa_conn_t *c) {
    size_t used = c->head_len;
    if (!(c->flags & (MFA_CF_BODY_EXT | MFA_CF_CHUNKED_IN | MFA_CF_BODY_PULL | MFA_CF_BODY_DEFER))
        && c->content_length > 0) {
        used += (size_t)c->content_length;
    }
    if (used > c->in_len) {
        used = c->in_len;
    }
    memmove(c->in, c->in + used, c->in_len - used);
    c->in_len -= used;
    c->head_len = 0;
    c->lent = 0;  // (lent body bytes were counted in head_len: dropped with it)
    c->last_len = 0;
    c->content_length = -1;
    body_free(pool, c);
}

// The request of c has been answered: drop its bytes and get ready for the next one.
static void conn_finish(mfa_pool_t *pool, mfa_conn_t *c, uint32_t now) {
    bool keep = keep_alive(c);
    pool->stats.responses++;
    request_drop(pool, c);
    c->gen++;
    c->flags &= (uint32_t) ~MFA_CF_REQUEST;
    c->started_ms = c->last_used_ms = now;
    if (keep) {
        c->state = MFA_CONN_HEAD;
        // Only a connection between requests may be evicted when the pool is full: one that
        // has not sent its first request yet is a client about to, and evicting those lets a
        // burst of new connections close each other before any is answered.
        c->flags |= MFA_CF_REUSED;
    } else {
        c->state = MFA_CONN_CLOSING;
        c->in_len = 0;
    }
    if (!conn_flush(pool, c, now)) {
        return;
    }
    if (keep && c->in_len) {
        conn_advance(pool, c, now);  // a pipelined request
    }
}

// Status line and headers into the output buffer (not committed: returns the writer).
static mfa_resp_err_t write_head(mfa_conn_t *c, wbuf_t *w, int status,
    const mfa_header_t *headers, size_t n_headers, bool keep) {
    for (size_t i = 0; i < n_headers; i++) {
        if (!headers[i].name_len || !mfa_conn_header_ok(headers[i].name, headers[i].name_len)
            || !mfa_conn_header_ok(headers[i].value, headers[i].value_len)) {
            return MFA_RESP_BAD_HEADER;
        }
    }
    // Queued bytes of a previous answer stay; the tail (only used behind a body ref, gone by
    // now) joins the buffer first.
    if (c->tail_len && !c->ref) {
        out_compact(c);
        if (c->tail_len > MFA_CONN_OUT_BUF - c->out_len) {
            return MFA_RESP_TOO_LARGE;
        }
        memcpy(c->out + c->out_len, c->tail, c->tail_len);
        c->out_len += c->tail_len;
        c->tail_len = 0;
    }
    out_compact(c);
    w->buf = c->out;
    w->len = c->out_len;
    w->cap = MFA_CONN_OUT_BUF;
    w->overflow = false;
    w_str(w, "HTTP/1.1 ");
    w_uint(w, (uint64_t)(status < 0 ? 0 : status), 10);
    w_put(w, " ", 1);
    w_str(w, mfa_conn_reason(status));
    w_put(w, "\r\n", 2);
    for (size_t i = 0; i < n_headers; i++) {
        w_put(w, headers[i].name, headers[i].name_len);
        w_put(w, ": ", 2);
        w_put(w, headers[i].value, headers[i].value_len);
        w_put(w, "\r\n", 2);
    }
    if (!keep) {
        w_str(w, "Connection: close\r\n");
    } else if (c->flags & MFA_CF_HTTP10) {
        w_str(w, "Connection: keep-alive\r\n");
    }
    return MFA_RESP_OK;
}

// The blank line that ends a head begun by write_head, then the head is queued (the write
// timeout counts from now if nothing was queued before). MFA_RESP_TOO_LARGE, with nothing
// queued, when the head did not fit the output buffer.
static mfa_resp_err_t end_head(mfa_conn_t *c, wbuf_t *w, uint32_t now_ms) {
    w_put(w, "\r\n", 2);
    if (w->overflow) {
        return MFA_RESP_TOO_LARGE;
    }
    if (!queued(c)) {
        c->write_ms = now_ms;
    }
    c->out_len = w->len;
    return MFA_RESP_OK;
}

mfa_resp_err_t mfa_conn_respond(mfa_pool_t *pool, mfa_conn_t *c, int status,
    const mfa_header_t *headers, size_t n_headers, const uint8_t *body, size_t body_len,
    void *body_obj, uint32_t now_ms) {
    mfa_resp_err_t e = check_handed(c);
    if (e != MFA_RESP_OK) {
        return e;
    }
    bool keep = keep_alive(c);
    wbuf_t w;
    e = write_head(c, &w, status, headers, n_headers, keep);
    if (e != MFA_RESP_OK) {
        return e;
    }
    bool no_body = status < 200 || status == 204 || status == 304;
    if (status >= 200 && status != 204) {
        w_str(&w, "Content-Length: ");
        w_uint(&w, body_len, 10);
        w_put(&w, "\r\n", 2);
    }
    e = end_head(c, &w, now_ms);
    if (e != MFA_RESP_OK) {
        return e;
    }
    if (!no_body && !(c->flags & MFA_CF_HEAD_METHOD) && body_len) {
        if (body_len <= MFA_CONN_OUT_BUF - c->out_len) {
            memcpy(c->out + c->out_len, body, body_len);
            c->out_len += body_len;
        } else {
            c->ref = body;
            c->ref_len = body_len;
            c->ref_off = 0;
            c->ref_obj = body_obj;
        }
    }
    conn_finish(pool, c, now_ms);
    return MFA_RESP_OK;
}

mfa_resp_err_t mfa_conn_stream_start(mfa_pool_t *pool, mfa_conn_t *c, int status,
    const mfa_header_t *headers, size_t n_headers, uint32_t now_ms) {
    mfa_resp_err_t e = check_handed(c);
    if (e != MFA_RESP_OK) {
        return e;
    }
    if (c->flags & MFA_CF_STREAMING) {
        return MFA_RESP_NOT_HANDED;
    }
    // The application's Content-Length (a file of known size): the body goes unframed.
    bool length = false;
    uint64_t left = 0;
    for (size_t i = 0; i < n_headers; i++) {
        const char *n = headers[i].name;
        if (headers[i].name_len == 14 && ieq(n, "content-length", 14)) {
            const char *v = headers[i].value;
            size_t vl = headers[i].value_len;
            if (!vl || vl > 19) {
                return MFA_RESP_BAD_HEADER;
            }
            for (size_t k = 0; k < vl; k++) {
                if (v[k] < '0' || v[k] > '9') {
                    return MFA_RESP_BAD_HEADER;
                }
                left = left * 10 + (uint64_t)(v[k] - '0');
            }
            length = true;
        }
    }
    bool chunked = !length && !(c->flags & MFA_CF_HTTP10);
    bool no_body = status < 200 || status == 204 || status == 304 || (c->flags & MFA_CF_HEAD_METHOD);
    bool keep = keep_alive(c) && (chunked || length || no_body);
    wbuf_t w;
    e = write_head(c, &w, status, headers, n_headers, keep);
    if (e != MFA_RESP_OK) {
        return e;
    }
    if (chunked && status >= 200 && status != 204 && status != 304) {
        w_str(&w, "Transfer-Encoding: chunked\r\n");
    }
    e = end_head(c, &w, now_ms);
    if (e != MFA_RESP_OK) {
        return e;
    }
    c->flags |= MFA_CF_STREAMING;
    if (!keep) {
        c->flags &= (uint32_t) ~MFA_CF_KEEP_ALIVE;
    }
    if (chunked) {
        c->flags |= MFA_CF_CHUNKED_OUT;
    }
    if (no_body) {
        c->flags |= MFA_CF_NO_BODY;
    } else if (length) {
        c->flags |= MFA_CF_LENGTH_OUT;
        c->out_left = left;
    }
    conn_flush(pool, c, now_ms);
    return c->state == MFA_CONN_FREE ? MFA_RESP_CLOSED : MFA_RESP_OK;
}

mfa_resp_err_t mfa_conn_stream_send(mfa_pool_t *pool, mfa_conn_t *c, const uint8_t *data,
    size_t len, void *data_obj, uint32_t now_ms) {
    mfa_resp_err_t e = check_handed(c);
    if (e != MFA_RESP_OK) {
        return e;
    }
    if (!(c->flags & MFA_CF_STREAMING)) {
        return MFA_RESP_NOT_HANDED;
    }
    if (c->flags & MFA_CF_LENGTH_OUT) {
        if (len > c->out_left) {
            len = (size_t)c->out_left;  // (beyond the Content-Length: dropped)
        }
    }
    if (!len || (c->flags & MFA_CF_NO_BODY)) {
        return MFA_RESP_OK;
    }
    if ((c->ref || c->tail_len || c->out_len + len + 24 > MFA_CONN_OUT_BUF) && queued(c)
        && !conn_flush(pool, c, now_ms)) {
        return MFA_RESP_CLOSED;  // (room is made first only when the piece may not fit)
    }
    if (c->ref || c->tail_len) {
        return MFA_RESP_BUSY;
    }
    char frame[24];
    size_t fn = 0;
    if (c->flags & MFA_CF_CHUNKED_OUT) {
        fn = fmt_uint(frame, len, 16);
        frame[fn++] = '\r';
        frame[fn++] = '\n';
    }
    size_t trailer = (c->flags & MFA_CF_CHUNKED_OUT) ? 2 : 0;
    out_compact(c);
    size_t room = MFA_CONN_OUT_BUF - c->out_len;
    if (!queued(c)) {
        c->write_ms = now_ms;
    }
    if (fn + len + trailer <= room) {
        memcpy(c->out + c->out_len, frame, fn);
        memcpy(c->out + c->out_len + fn, data, len);
        c->out_len += fn + len;
        if (trailer) {
            memcpy(c->out + c->out_len, "\r\n", 2);
            c->out_len += 2;
        }
    } else if (fn <= room) {
        memcpy(c->out + c->out_len, frame, fn);
        c->out_len += fn;
        c->ref = data;
        c->ref_len = len;
        c->ref_off = 0;
        c->ref_obj = data_obj;
        if (trailer) {
            memcpy(c->tail, "\r\n", 2);
            c->tail_len = 2;
        }
    } else {
        return MFA_RESP_BUSY;
    }
    if (c->flags & MFA_CF_LENGTH_OUT) {
        c->out_left -= len;
    }
    if (c->ref || queued(c) >= MFA_CONN_FLUSH_AT) {
        conn_flush(pool, c, now_ms);
    }
    // (else small pieces gather and leave with the next mfa_conn_service: one send, one
    // segment, for many lines of a generator instead of a syscall or a pbuf each)
    return c->state == MFA_CONN_FREE ? MFA_RESP_CLOSED : MFA_RESP_OK;
}

mfa_resp_err_t mfa_conn_stream_end(mfa_pool_t *pool, mfa_conn_t *c, uint32_t now_ms) {
    mfa_resp_err_t e = check_handed(c);
    if (e != MFA_RESP_OK) {
        return e;
    }
    if (!(c->flags & MFA_CF_STREAMING)) {
        return MFA_RESP_NOT_HANDED;
    }
    if (c->state == MFA_CONN_RAW) {
        // The application is done with the pipe: what is queued leaves, then half close and
        // linger (conn_flush), as after a last answer.
        c->state = MFA_CONN_CLOSING;
        c->flags &= (uint32_t) ~(MFA_CF_REQUEST | MFA_CF_RAW_NOTE);
        c->in_len = 0;
        c->started_ms = now_ms;
        conn_flush(pool, c, now_ms);
        return MFA_RESP_OK;
    }
    if ((c->flags & MFA_CF_LENGTH_OUT) && c->out_left) {
        // Fewer bytes than the Content-Length said: the client must not wait for the rest,
        // nor read the next answer as body.
        mfa_conn_abort(pool, c, now_ms);
        return MFA_RESP_CLOSED;
    }
    if ((c->flags & MFA_CF_CHUNKED_OUT) && !(c->flags & MFA_CF_NO_BODY)) {
        if (!out_append(c, "0\r\n\r\n", 5, now_ms)) {
            if (!conn_flush(pool, c, now_ms)) {
                return MFA_RESP_CLOSED;
            }
            if (!out_append(c, "0\r\n\r\n", 5, now_ms)) {
                return MFA_RESP_BUSY;
            }
        }
    }
    conn_finish(pool, c, now_ms);
    return MFA_RESP_OK;
}

// ---- upgraded connections -------------------------------------------------------------------

mfa_resp_err_t mfa_conn_upgrade(mfa_pool_t *pool, mfa_conn_t *c, int status,
    const mfa_header_t *headers, size_t n_headers, uint32_t now_ms) {
    mfa_resp_err_t e = check_handed(c);
    if (e != MFA_RESP_OK) {
        return e;
    }
    if (c->state != MFA_CONN_READY || (c->flags & MFA_CF_STREAMING)) {
        return MFA_RESP_NOT_HANDED;
    }
    wbuf_t w;
    e = write_head(c, &w, status, headers, n_headers, true);
    if (e != MFA_RESP_OK) {
        return e;
    }
    e = end_head(c, &w, now_ms);
    if (e != MFA_RESP_OK) {
        return e;
    }
    pool->stats.responses++;
    request_drop(pool, c);  // what the client sent behind the request is the pipe's first input
    c->state = MFA_CONN_RAW;
    c->flags = (uint32_t)((c->flags & (MFA_CF_PEER_EOF | MFA_CF_REUSED)) | MFA_CF_HANDED
        | MFA_CF_STREAMING);
    if (c->in_len || (c->flags & MFA_CF_PEER_EOF)) {
        c->flags |= MFA_CF_RAW_NOTE;
    }
    c->started_ms = now_ms;
    conn_flush(pool, c, now_ms);
    return c->state == MFA_CONN_FREE ? MFA_RESP_CLOSED : MFA_RESP_OK;
}

const uint8_t *mfa_conn_raw_take(const mfa_conn_t *c, size_t *len, bool *eof) {
    *len = c->state == MFA_CONN_RAW ? c->in_len : 0;
    *eof = c->state == MFA_CONN_RAW && !c->in_len && (c->flags & MFA_CF_PEER_EOF);
    return c->in;
}

void mfa_conn_raw_taken(mfa_pool_t *pool, mfa_conn_t *c, uint32_t now_ms) {
    if (c->state != MFA_CONN_RAW) {
        return;
    }
    bool was_full = c->in_len >= MFA_CONN_IN_BUF;
    c->in_len = 0;
    c->flags &= (uint32_t) ~MFA_CF_RAW_NOTE;
    if (was_full) {
        conn_read(pool, c, now_ms);  // the transport may hold more: take it now
    }
}

mfa_conn_t *mfa_pool_next_raw_note(mfa_pool_t *pool, size_t *from) {
    for (size_t i = *from; i < pool->n; i++) {
        mfa_conn_t *c = &pool->conns[i];
        if ((c->state == MFA_CONN_RAW || (c->state == MFA_CONN_READY && (c->flags & MFA_CF_BODY_PULL)))
            && (c->flags & MFA_CF_RAW_NOTE)) {
            c->flags &= (uint32_t) ~MFA_CF_RAW_NOTE;
            *from = i + 1;
            return c;
        }
    }
    *from = pool->n;
    return NULL;
}

size_t mfa_pool_unsent(const mfa_pool_t *pool) {
    size_t n = 0;
    for (size_t i = 0; i < pool->n; i++) {
        if (pool->conns[i].state != MFA_CONN_FREE) {
            n += queued(&pool->conns[i]);
        }
    }
    return n;
}

void mfa_pool_close_all(mfa_pool_t *pool) {
    for (size_t i = 0; i < pool->n; i++) {
        mfa_conn_close(pool, &pool->conns[i], true);
    }
}
