// mfa_conn: the HTTP/1.1 connection state machine shared by both transports.
//
// Pure C: no MicroPython, no lwIP, no allocation of its own. A transport (mfa_posix.c,
// mfa_lwip.c, the host unit tests) owns the sockets and hands this code a table of small calls
// (mfa_conn_io_t); this code owns the bytes: a fixed, bounded input buffer and output buffer per
// connection, allocated once when the pool is created. Per request at most one allocation is
// made, through the transport's alloc call, for a body that does not fit the input buffer.
//
// What it does per connection: read a request head into the input buffer and parse it
// (mfa_http), read the body (Content-Length, or chunked and decoded) up to max_body (413), send
// `100 Continue` when asked, queue the complete request for the application, frame the answer
// (status line with reason phrase, app headers, Content-Length or chunked framing, Connection:
// close when closing), keep the connection alive for the next (possibly pipelined) request,
// answer protocol errors with their status and close, and enforce the header, body and idle
// timeouts. Requests of one connection are handed out in order, the next one only after the
// previous one has been answered and the answer's body has left the connection's queue.

#ifndef MFA_CONN_H
#define MFA_CONN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mfa_http.h"

// ---- tunables (each costs RAM per connection slot: max_conns x (IN + OUT + ~200) bytes) ----

// Input buffer: request head (the parser's MFA_HTTP_MAX_HEAD is the largest head accepted) plus
// a small body or pipelined bytes. A body that does not fit goes into one allocation of its own.
#ifndef MFA_CONN_IN_BUF
#define MFA_CONN_IN_BUF (4096 + 512)
#endif

// Output buffer: status line + headers (+ the body when it fits; a larger body is sent from the
// caller's object without copying). Response heads larger than this are refused (ValueError).
// One TCP MSS on the RP2040 so a small response leaves in one segment.
#ifndef MFA_CONN_OUT_BUF
#if defined(__arm__)
#define MFA_CONN_OUT_BUF (1460)
#else
#define MFA_CONN_OUT_BUF (4096)
#endif
#endif

// A streamed piece is sent at once when this much is queued (or it is sent from the caller's
// object); smaller ones gather in the output buffer until the next service of the connection
// (the next poll()), so a generator of short lines costs one send per segment, not per line.
#ifndef MFA_CONN_FLUSH_AT
#define MFA_CONN_FLUSH_AT (1024)
#endif

// Default pool size (Server(max_conns=...)), and the hard cap on it.
#ifndef MFA_CONN_DEFAULT
#define MFA_CONN_DEFAULT (8)
#endif
#ifndef MFA_CONN_MAX
#if defined(__arm__)
#define MFA_CONN_MAX (16)
#else
#define MFA_CONN_MAX (256)
#endif
#endif

// How long a closing connection keeps reading (and discarding) after its last byte was sent,
// so that a client still sending (e.g. a body we refused with 413) reads our answer instead of
// a reset: until nothing has arrived for this long (at most body_timeout_ms + this after the
// answer was sent). Costs a slot meanwhile.
#ifndef MFA_CONN_LINGER_MS
#define MFA_CONN_LINGER_MS (1000)
#endif

// Pool pressure (mfa_pool_accept): a connection that has sent nothing since it connected is
// "fresh" for this long, and taken back for a newcomer only after every partial head: it is most
// likely a client whose request is on its way (one round trip on WiFi is a few ms to 100s of ms).
#ifndef MFA_CONN_FRESH_MS
#define MFA_CONN_FRESH_MS (1000)
#endif

// ... and never taken back in its first MFA_CONN_GRACE_MS: its client's request is most likely
// one round trip behind the handshake (a client that sends its request whole must always be
// served). A newcomer that finds nothing else to take waits in the accept queue meanwhile, while
// that queue has room (mfa_pool_make_room), so an attacker's connection gains at most this
// long per slot, and a flood that fills the queue is not let in more slowly than it arrives.
#ifndef MFA_CONN_GRACE_MS
#define MFA_CONN_GRACE_MS (100)
#endif

// First allocation for a chunked body; doubled as needed up to max_body.
#ifndef MFA_CONN_CHUNKED_START
#define MFA_CONN_CHUNKED_START (512)
#endif

// ---- transport interface ----

#define MFA_IO_EOF (-1)   // recv: the peer closed its side
#define MFA_IO_ERR (-2)   // recv/send: reset or other error; the connection is dead

typedef struct _mfa_conn_t mfa_conn_t;

// Client-side failures, reported through mfa_conn_io_t.event (for the application's log).
typedef enum {
    MFA_EVT_RESET = 1,          // the connection died on a reset or I/O error
    MFA_EVT_HEADER_TIMEOUT,     // answered 408: the request head did not arrive in time
    MFA_EVT_BODY_TIMEOUT,       // answered 408: the body did not arrive in time
    MFA_EVT_WRITE_TIMEOUT,      // the client stopped reading its answer (reset)
} mfa_event_t;

typedef struct _mfa_conn_io_t {
    // Read at most n bytes into buf. Returns bytes read (> 0), 0 when none are there now,
    // MFA_IO_EOF or MFA_IO_ERR.
    int (*recv)(void *ctx, mfa_conn_t *c, uint8_t *buf, size_t n);
    // Write at most n bytes. Returns bytes taken (0: no room now, retry later) or MFA_IO_ERR.
    // `more`: more bytes follow right away (lets lwIP hold the segment).
    int (*send)(void *ctx, mfa_conn_t *c, const uint8_t *buf, size_t n, bool more);
    // Stop sending (half close) after what was taken; reading goes on.
    void (*shutdown)(void *ctx, mfa_conn_t *c);
    // Release the transport side of c (close, or reset when `abort`). Called exactly once.
    void (*close)(void *ctx, mfa_conn_t *c, bool abort);
    // Body storage (one allocation per request whose body does not fit the input buffer).
    // alloc/realloc return NULL on failure (answered with 503 / 413).
    void *(*alloc)(void *ctx, size_t n);
    void *(*realloc)(void *ctx, void *p, size_t old_n, size_t new_n);
    void (*free)(void *ctx, void *p, size_t n);
    // A client-side failure on c (mfa_event_t), before c is closed; may be NULL. Only records:
    // it runs inside the transport's work (lwIP lock held).
    void (*event)(void *ctx, mfa_conn_t *c, int event);
    // Optional (NULL: mfa_conn lingers itself, holding the slot). A closing connection whose
    // last answer is sent and whose sending side is shut: the transport may take it over,
    // read and discard what the client still sends and close it on its own (see
    // MFA_CONN_LINGER_MS), so that the pool slot is free for the next client at once. Returns
    // true when it did (close is then never called for c).
    bool (*linger)(void *ctx, mfa_conn_t *c, uint32_t now_ms);
} mfa_conn_io_t;

// ---- connection ----

typedef enum {
    MFA_CONN_FREE = 0,
    MFA_CONN_HEAD,      // reading a request head (idle when nothing has arrived yet)
    MFA_CONN_BODY,      // reading a request body
    MFA_CONN_READY,     // a complete request: queued for, or held by, the application
    MFA_CONN_CLOSING,   // sending what is queued, then half close, linger, close
    MFA_CONN_RAW,       // upgraded (101, e.g. WebSocket): a byte pipe held by the application
} mfa_conn_state_t;

// Flags
#define MFA_CF_KEEP_ALIVE  (0x0001)  // the current request allows keep-alive
#define MFA_CF_HANDED      (0x0002)  // READY request handed to the application
#define MFA_CF_CHUNKED_IN  (0x0004)  // request body is chunked
#define MFA_CF_HEAD_METHOD (0x0008)  // the current request is HEAD: no response body
#define MFA_CF_STREAMING   (0x0010)  // stream_start called, stream_end not yet
#define MFA_CF_CHUNKED_OUT (0x0020)  // the stream is chunk-framed (HTTP/1.1)
#define MFA_CF_PEER_EOF    (0x0040)  // the peer half-closed
#define MFA_CF_SHUT        (0x0080)  // our side half-closed (CLOSING)
#define MFA_CF_CONTINUE    (0x0100)  // 100 Continue owed once the head is accepted
#define MFA_CF_HTTP10      (0x0200)  // the current request is HTTP/1.0
#define MFA_CF_NO_BODY     (0x0400)  // the current response carries no body (stream)
#define MFA_CF_BODY_EXT    (0x0800)  // the Content-Length body is in its own allocation
#define MFA_CF_REUSED      (0x1000)  // a response was completed: idle now means idle keep-alive
#define MFA_CF_RAW_NOTE    (0x2000)  // RAW, BODY_PULL: input (or the EOF) the app has not been told of
// Streamed request bodies (pool->stream_bodies; docs/internals.md, "Streamed request bodies"):
#define MFA_CF_BODY_DEFER  (0x4000)  // READY, handed with its body still on the wire: the app
                                     // picks mfa_conn_body_pull or mfa_conn_body_collect
#define MFA_CF_BODY_PULL   (0x8000)  // READY: the app reads the body (mfa_conn_body_read)
#define MFA_CF_BODY_DONE   (0x10000) // BODY_PULL: the whole body has been taken
#define MFA_CF_COLLECTED   (0x20000) // READY again after mfa_conn_body_collect (counted once)
#define MFA_CF_LENGTH_OUT  (0x40000) // the stream has the app's Content-Length: sent unframed,
                                     // out_left bytes still owed

struct _mfa_conn_t {
    uint8_t state;              // mfa_conn_state_t
    uint32_t flags;
    uint16_t index;             // slot number in the pool
    uint32_t gen;               // bumped each time the slot is (re)used or a request ends
    uint32_t started_ms;        // start of the current phase (timeouts)
    uint32_t last_used_ms;      // last request finished (pool-full eviction picks the oldest)
    uintptr_t handle;           // transport's handle (fd, pcb pointer)
    void *tstate;               // transport's per-connection state

    // input
    uint8_t *in;                // MFA_CONN_IN_BUF bytes
    size_t in_len;              // bytes in `in`
    size_t last_len;            // parser resume point
    size_t head_len;            // READY/BODY: bytes of `in` taken by the head (and by the
                                // body bytes lent by mfa_conn_body_peek, `lent`)
    size_t lent;                // BODY_PULL: body bytes lent in place (mfa_conn_body_peek)
    int64_t content_length;     // -1: none
    uint16_t method_len;        // READY: spans of the head in `in`
    uint16_t path_off, path_len, query_off, query_len;
    uint8_t http_flags;         // MFA_HTTP_F_* of the request
    uint8_t minor_version;
    uint8_t *body;              // external body buffer (NULL: body in `in` after the head)
    size_t body_len;            // body bytes so far
    size_t body_cap;            // size of `body` allocation
    mfa_chunked_t chunked;      // decoder state of a chunked body
    uint32_t body_limit;        // BODY, BODY_PULL: most body bytes this request may have
    uint64_t body_left;         // BODY_PULL: Content-Length bytes still to come; chunked:
                                // decoded bytes still allowed by body_limit

    uint64_t out_left;          // LENGTH_OUT: body bytes the stream still owes

    // output: out[out_off:out_len], then ref[ref_off:ref_len], then tail[:tail_len]
    uint8_t *out;               // MFA_CONN_OUT_BUF bytes
    size_t out_off, out_len;
    const uint8_t *ref;
    size_t ref_off, ref_len;
    void *ref_obj;              // keeps ref alive (opaque; the binding's object)
    uint8_t tail[16];
    uint8_t tail_len;
    uint32_t write_ms;          // last send progress (stalled-writer timeout)
    uint32_t shut_ms;           // CLOSING: when our side was half-closed (the linger's cap)
    uint32_t rx;                // BODY: bytes received since the body stage began (min rate)

    // client address, filled by the transport
    char addr[48];
    uint16_t port;
};

typedef struct _mfa_conn_stats_t {
    uint32_t accepted;    // connections accepted
    uint32_t requests;    // complete requests queued for the application
    uint32_t responses;   // responses completed by the application
    uint32_t errors;      // protocol errors answered by the server (4xx/5xx)
    uint32_t rejected;    // 503 because the pool was full
    uint32_t evicted;     // connections taken back to make room for a new one (pool full)
    uint32_t timeouts;    // header/body/idle/write timeouts
    uint32_t resets;      // connections that died on a reset or I/O error
} mfa_conn_stats_t;

typedef struct _mfa_pool_t {
    const mfa_conn_io_t *io;
    void *ctx;
    mfa_conn_t *conns;
    size_t n;
    uint32_t max_body;
    uint32_t header_timeout_ms;
    uint32_t body_timeout_ms;
    uint32_t idle_timeout_ms;
    // Minimum data rate for heads and bodies: once a stage (head from its first byte, body
    // from the end of its head) has run rate_grace_ms, it must have delivered min_rate bytes
    // per second since its start, else it is answered 408. 0: no rate rule.
    uint32_t min_rate;
    uint32_t rate_grace_ms;
    // Hand out a request whose body has not arrived with its head at once, its body still on
    // the wire (MFA_CF_BODY_DEFER), instead of collecting the body first: the application
    // decides per route (stream it, or have it collected under the route's own limit).
    bool stream_bodies;
    size_t rr;                  // round-robin start for handing out requests
    size_t open;                // connections in use
    mfa_conn_stats_t stats;
} mfa_pool_t;

// Set up a pool over `conns[n]`; each conn's `in` and `out` must point at MFA_CONN_IN_BUF and
// MFA_CONN_OUT_BUF bytes before the call (they are kept across reuse).
void mfa_pool_init(mfa_pool_t *pool, mfa_conn_t *conns, size_t n, const mfa_conn_io_t *io,
    void *ctx);

// A new connection is there to be accepted: make room for it. Returns a free slot for
// mfa_pool_admit, or NULL with *wait_ms > 0: leave the newcomer in the transport's accept queue
// and ask again in *wait_ms, or NULL with *wait_ms == 0: no room (mfa_pool_admit counts the
// rejection, and the transport sends mfa_conn_busy_response and closes the connection itself).
// wait_ms NULL: the newcomer cannot wait (its transport's queue is full): then the oldest
// connection in its grace time is taken back, after all the kinds below.
// A full pool first reads what its connections in the head stage have received (so a request
// that has arrived counts), then takes one back, reset (abort: on lwIP no pcb is left in
// TIME_WAIT), in this order, the oldest of a kind first:
//   1. an idle keep-alive connection (it has answered a request and holds nothing of the next);
//   2. a closing connection whose last answer is sent and which only drains (linger);
//   3. a connection that has sent nothing for MFA_CONN_FRESH_MS since it connected;
//   4. a connection whose head is still arriving (the one whose head began earliest);
//   5. a fresh connection that has sent nothing yet, past its MFA_CONN_GRACE_MS.
// It waits when the only others are in their grace time (if it can); no room when every
// connection is busy with a request: its body arriving, held by the application, or its
// answer being sent.
// (Room is made before the transport accepts: a request arriving between a decision and the
// accept cannot turn a wait into a rejection.)
mfa_conn_t *mfa_pool_make_room(mfa_pool_t *pool, uint32_t now_ms, uint32_t *wait_ms);

// Put the accepted connection `handle` in `room` (from mfa_pool_make_room). Returns its slot,
// or NULL when room is NULL (counted in stats.rejected).
mfa_conn_t *mfa_pool_admit(mfa_pool_t *pool, mfa_conn_t *room, uintptr_t handle, uint32_t now_ms);

// mfa_pool_make_room (for a newcomer that cannot wait) and mfa_pool_admit in one.
mfa_conn_t *mfa_pool_accept(mfa_pool_t *pool, uintptr_t handle, uint32_t now_ms);
extern const char mfa_conn_busy_response[];
extern const size_t mfa_conn_busy_response_len;

// Do the pending work on one connection: send what is queued (MFA_EV_WRITE), read and parse
// what arrived (MFA_EV_READ), timeouts (always). The connection may be FREE afterwards.
#define MFA_EV_READ (1)
#define MFA_EV_WRITE (2)
void mfa_conn_service(mfa_pool_t *pool, mfa_conn_t *c, uint32_t now_ms, unsigned events);

// Service every connection in use (read and write).
void mfa_pool_service(mfa_pool_t *pool, uint32_t now_ms);

// The next complete request not handed out yet (round robin over connections), marked handed;
// NULL when none. mfa_pool_has_ready says whether there is one without taking it.
mfa_conn_t *mfa_pool_next_ready(mfa_pool_t *pool);
bool mfa_pool_has_ready(const mfa_pool_t *pool);

// Whether the transport should wait for the connection to become readable / writable.
bool mfa_conn_wants_read(const mfa_conn_t *c);
bool mfa_conn_wants_write(const mfa_conn_t *c);

// The head and body of a READY request.
static inline const uint8_t *mfa_conn_head(const mfa_conn_t *c) {
    return c->in;
}
const uint8_t *mfa_conn_body(const mfa_conn_t *c, size_t *len);
// Free a READY request's separately allocated body early (once the caller has copied it).
void mfa_conn_release_body(mfa_pool_t *pool, mfa_conn_t *c);
// Take a READY request's separately allocated body (a Content-Length body that did not fit the
// input buffer, or a chunked body) so that it can be handed on without a copy: returns the
// allocation made through io->alloc/realloc (the caller frees it now, with *cap) and the body
// length, or NULL when the body lives in the input buffer (mfa_conn_body) or is empty.
uint8_t *mfa_conn_take_body(mfa_conn_t *c, size_t *len, size_t *cap);
// Answer a handed request with a server error instead of the application (e.g. 503 when the
// binding could not allocate what hands the request on) and close once it is sent.
void mfa_conn_fail(mfa_pool_t *pool, mfa_conn_t *c, int status, const char *reason,
    uint32_t now_ms);

// ---- streamed request bodies (pool->stream_bodies) ----
//
// A request handed out with MFA_CF_BODY_DEFER (its body has not arrived: mfa_conn_body is
// empty) is either pulled or collected, once, by the application:
// - mfa_conn_body_pull: the body will be read with mfa_conn_body_read. False when a
//   Content-Length above `limit` was answered 413 (the connection closes after it). Sends
//   100 Continue when the client asked for it.
// - mfa_conn_body_collect: collect the body as if the pool had (under `limit`, 100 Continue,
//   413, 503), then hand the request out again (mfa_pool_next_ready) with its body.
// An answer given while the body is still unread (deferred, or pulled but not to its end)
// closes the connection after it (the rest is drained by the linger, never parsed as a
// request). While pulled, nothing else times out the body than body_timeout_ms without a byte
// arriving while the input buffer has room and the client owes bytes (a body all of whose
// bytes are in the buffer waits for the application): the application's pace, not the
// client's, is what a full buffer means.
bool mfa_conn_body_pull(mfa_pool_t *pool, mfa_conn_t *c, uint32_t limit, uint32_t now_ms);
void mfa_conn_body_collect(mfa_pool_t *pool, mfa_conn_t *c, uint32_t limit, uint32_t now_ms);
// Copy at most n decoded body bytes into dst: returns the count (> 0), 0 when none are there
// now (MFA_CF_RAW_NOTE is set, and mfa_pool_next_raw_note reports c, when more arrive),
// MFA_BODY_END once the whole body has been taken, MFA_BODY_FAILED when it never will be (the
// client went, or its body was answered 400/408/413: the connection is closing).
#define MFA_BODY_END (-1)
#define MFA_BODY_FAILED (-2)
ptrdiff_t mfa_conn_body_read(mfa_pool_t *pool, mfa_conn_t *c, uint8_t *dst, size_t n,
    uint32_t now_ms);
// Zero-copy: the decoded body bytes in the input buffer now, lent in place at *p (returns the
// count, or 0 / MFA_BODY_END / MFA_BODY_FAILED as mfa_conn_body_read). They stay valid, and
// keep their room in the buffer (the client is slowed, as by an unread buffer), until the
// next mfa_conn_body_peek or mfa_conn_body_read, or the end of the request. When none are
// there, the transport is asked first (bytes the poll loop has not taken yet).
ptrdiff_t mfa_conn_body_peek(mfa_pool_t *pool, mfa_conn_t *c, const uint8_t **p,
    uint32_t now_ms);

// ---- answering (only for a handed request; the caller checks c->gen) ----

typedef enum {
    MFA_RESP_OK = 0,
    MFA_RESP_BAD_HEADER,    // CR, LF or NUL in a header name or value, or an empty name
    MFA_RESP_TOO_LARGE,     // status line + headers do not fit MFA_CONN_OUT_BUF
    MFA_RESP_NOT_HANDED,    // no request of this connection is waiting for an answer
    MFA_RESP_BUSY,          // stream_send: queue full, retry later
    MFA_RESP_CLOSED,        // the connection is gone
} mfa_resp_err_t;

typedef struct _mfa_header_t {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} mfa_header_t;

// Standard reason phrase for a status ("Unknown" when none).
const char *mfa_conn_reason(int status);

// Whether s[:n] may go into a header line (no CR, LF, NUL).
bool mfa_conn_header_ok(const char *s, size_t n);

// A complete response. body is copied into the output buffer when it fits; otherwise it is sent
// from `body` in place and `body_obj` is kept in c->ref_obj until it has been sent (the caller
// keeps body_obj alive while it is there).
mfa_resp_err_t mfa_conn_respond(mfa_pool_t *pool, mfa_conn_t *c, int status,
    const mfa_header_t *headers, size_t n_headers, const uint8_t *body, size_t body_len,
    void *body_obj, uint32_t now_ms);

// A streamed response: chunked for HTTP/1.1, for HTTP/1.0 the body runs to the close. When
// the application's headers hold a Content-Length (a file of known size), the body is sent
// unframed instead and the connection is kept alive: stream_send sends at most that many bytes
// in all (the rest of a longer piece is dropped) and stream_end resets the connection when
// fewer were sent (a cut body, never one the client could take for whole). A Content-Length
// that is not a decimal number is MFA_RESP_BAD_HEADER.
mfa_resp_err_t mfa_conn_stream_start(mfa_pool_t *pool, mfa_conn_t *c, int status,
    const mfa_header_t *headers, size_t n_headers, uint32_t now_ms);
mfa_resp_err_t mfa_conn_stream_send(mfa_pool_t *pool, mfa_conn_t *c, const uint8_t *data,
    size_t len, void *data_obj, uint32_t now_ms);
mfa_resp_err_t mfa_conn_stream_end(mfa_pool_t *pool, mfa_conn_t *c, uint32_t now_ms);

// ---- upgraded connections (101 Switching Protocols: WebSocket) ----
//
// mfa_conn_upgrade answers a handed request with `status` (101) and `headers` and turns its
// connection into a byte pipe (MFA_CONN_RAW) that the application keeps: what arrives
// collects in the input buffer (bytes sent behind the upgrade request included) and is taken
// with mfa_conn_raw_take; while the buffer is full nothing is read (the TCP window closes, so
// a fast sender is slowed, never buffered without bound). mfa_conn_stream_send sends on it
// unframed, with the same backpressure as a stream, and mfa_conn_stream_end closes it after
// what is queued has left (half close, linger). No idle or header timeout applies (the
// application has its own, e.g. WebSocket pings); the write timeout does (a peer that stops
// reading is reset). A pool never takes an upgraded connection back for a newcomer: it holds
// its slot until the application or the peer closes it.
mfa_resp_err_t mfa_conn_upgrade(mfa_pool_t *pool, mfa_conn_t *c, int status,
    const mfa_header_t *headers, size_t n_headers, uint32_t now_ms);

// The bytes received on a RAW connection since the last take (*len 0: none), and whether the
// peer has closed its side (*eof, once every byte before it was taken). The caller copies them,
// then calls mfa_conn_raw_taken (reading resumes if the buffer was full).
const uint8_t *mfa_conn_raw_take(const mfa_conn_t *c, size_t *len, bool *eof);
void mfa_conn_raw_taken(mfa_pool_t *pool, mfa_conn_t *c, uint32_t now_ms);

// The next RAW connection (from slot `*from` on, which is advanced) with input or an EOF the
// application has not been told of (MFA_CF_RAW_NOTE, cleared here); NULL when none.
mfa_conn_t *mfa_pool_next_raw_note(mfa_pool_t *pool, size_t *from);

// Close every connection (abort) and reset the pool.
void mfa_pool_close_all(mfa_pool_t *pool);

// Bytes of answers queued on all connections and not sent yet (stats()["unsent"]: a shutdown
// waits for them to leave).
size_t mfa_pool_unsent(const mfa_pool_t *pool);

// Close one connection now (abort: reset it).
void mfa_conn_close(mfa_pool_t *pool, mfa_conn_t *c, bool abort);

// Reset a connection for the application (Server.abort): the pieces of a stream that are
// gathered (MFA_CONN_FLUSH_AT) go to the transport first, as far as it takes them now, so the
// client sees the body cut where the stream failed, not before.
void mfa_conn_abort(mfa_pool_t *pool, mfa_conn_t *c, uint32_t now_ms);

#endif // MFA_CONN_H
