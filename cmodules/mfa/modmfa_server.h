// _mfa.Server and its request objects (docs/internals.md, "Server"), and the small interface
// between the binding (modmfa_server.c) and the transport compiled for this port: mfa_posix.c
// (unix) or mfa_lwip.c (MICROPY_PY_LWIP): the one chosen below (MFA_SERVER_POSIX or
// MFA_SERVER_LWIP) is compiled, the other is empty.
#ifndef MFA_MODMFA_SERVER_H
#define MFA_MODMFA_SERVER_H

#include "py/obj.h"
#include "mfa_conn.h"

#if !defined(MFA_SERVER_POSIX) && !defined(MFA_SERVER_LWIP)
#if MICROPY_PY_LWIP
#define MFA_SERVER_LWIP (1)
#elif defined(__unix__) || defined(__APPLE__)
#define MFA_SERVER_POSIX (1)
#endif
#endif
#if defined(MFA_SERVER_LWIP) || defined(MFA_SERVER_POSIX)
#define MFA_SERVER_ENABLED (1)
#else
#define MFA_SERVER_ENABLED (0)
#endif

// Every pool call that may reach the transport runs between these (lwIP: the port's lwIP lock,
// so no lwIP callback runs meanwhile).
#if defined(MFA_SERVER_LWIP)
#include "py/mphal.h"
#ifndef MICROPY_PY_LWIP_ENTER
#define MICROPY_PY_LWIP_ENTER
#define MICROPY_PY_LWIP_EXIT
#endif
#define MFA_TR_ENTER MICROPY_PY_LWIP_ENTER
#define MFA_TR_EXIT MICROPY_PY_LWIP_EXIT
#else
#define MFA_TR_ENTER
#define MFA_TR_EXIT
#endif

// Client-side failures kept for Server.events() until the app takes them (more are counted).
#ifndef MFA_SERVER_EVENTS
#define MFA_SERVER_EVENTS (4)
#endif

typedef struct _mfa_srv_event_t {
    uint8_t kind;               // mfa_event_t
    uint16_t port;
    char addr[48];
} mfa_srv_event_t;

// Constant routes (Server.add_constant): answered in poll() without a request object.
#ifndef MFA_SERVER_CONSTS
#define MFA_SERVER_CONSTS (16)
#endif
#define MFA_CONST_HEADERS (8)

typedef struct _mfa_const_route_t {
    mp_obj_t keep;              // (path, headers, body): keeps what the spans below point into
    const char *path;
    size_t path_len;
    const uint8_t *body;
    size_t body_len;
    mfa_header_t hs[MFA_CONST_HEADERS];
    uint8_t nh;
    uint8_t methods;            // bit i: mfa_const_methods[i]
    uint16_t status;
} mfa_const_route_t;

typedef struct _mfa_server_obj_t {
    mp_obj_base_t base;
    mfa_pool_t pool;
    mfa_conn_t *conns;          // pool slots (GC heap: the GC sees the body and ref pointers)
    mp_obj_t *raw_reqs;         // per slot: the request object of an upgraded connection
                                // (readable() hands it back); NULL until the first upgrade
    void *tr;                   // the transport's own state (GC heap)
    mfa_const_route_t *consts;  // n_consts slots (GC heap), NULL until the first add_constant
    uint8_t n_consts;
    mp_uint_t port;             // bound port
    bool closed;
    uint8_t ev_n;               // events in ev
    uint16_t ev_lost;           // events that did not fit since the last events()
    mfa_srv_event_t ev[MFA_SERVER_EVENTS];
} mfa_server_obj_t;

extern const mp_obj_type_t mfa_server_type;

// Body storage on the MicroPython heap, for the transports' mfa_conn_io_t tables.
void *mfa_srv_alloc(void *ctx, size_t n);
void *mfa_srv_realloc(void *ctx, void *p, size_t old_n, size_t new_n);
void mfa_srv_free(void *ctx, void *p, size_t n);
// mfa_conn_io_t.event: records a client-side failure (no Python: lwIP lock may be held).
void mfa_srv_event(void *ctx, mfa_conn_t *c, int event);

// ---- implemented by the transport ----
extern const mfa_conn_io_t mfa_tr_io;
// Listen on host:port; raises OSError. Sets srv->port, srv->tr.
void mfa_tr_open(mfa_server_obj_t *srv, const char *host, mp_int_t port, mp_int_t backlog);
// Accept, read, write: all network work that is pending now (never blocks).
void mfa_tr_step(mfa_server_obj_t *srv, uint32_t now_ms);
// Whether network work is pending (for the MP_STREAM_POLL ioctl).
bool mfa_tr_pending(mfa_server_obj_t *srv);
// Block until network work may be pending, or timeout_ms (< 0: forever).
void mfa_tr_wait(mfa_server_obj_t *srv, mp_int_t timeout_ms);
// Bytes were queued on a connection outside mfa_tr_step (a stream's small pieces gather, see
// MFA_CONN_FLUSH_AT): make the next wait wake for them (lwIP: pending; POSIX: the epoll set
// asks for the socket's room), or they would wait for the next unrelated wake-up.
void mfa_tr_output_queued(mfa_server_obj_t *srv);
// Close the listener (connections are closed by the binding through the pool).
void mfa_tr_close(mfa_server_obj_t *srv);
// Whether the peer of c has gone: reset, or closed (half-closed) its side with nothing unread
// left in the transport. Never blocks, consumes nothing (Server.gone()).
bool mfa_tr_peer_gone(mfa_server_obj_t *srv, mfa_conn_t *c);
#if defined(MFA_SERVER_POSIX) && defined(__linux__)
// fileno() on unix (Linux): an fd that is readable when poll() may return something (an epoll
// set of the listener, the connections and an eventfd for ready requests). It does not wake
// for timeouts: wait on it with a timeout. Synchronised by every poll().
mp_int_t mfa_tr_fileno(mfa_server_obj_t *srv);
#define MFA_SERVER_HAS_FILENO (1)
#endif

#endif // MFA_MODMFA_SERVER_H
