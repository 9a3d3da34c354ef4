// mfa_lwip: the lwIP raw-API transport of _mfa.Server (rp2 and any port with MICROPY_PY_LWIP).
//
// The rules (STYLE.md, "lwIP raw API"):
// - Callbacks never call Python and never touch the connection pool: they store (pbufs, the new
//   pcb, "peer closed", "pcb gone") in a per-pcb struct and set `pending`. The VM side picks it
//   up in Server.poll(), inside MICROPY_PY_LWIP_ENTER/EXIT like every lwIP call it makes.
// - tcp_recved only for bytes mfa_conn has consumed: the receive window follows the
//   application.
// - tcp_write at most tcp_sndbuf bytes; ERR_MEM or a full buffer means "0 taken": the sent and
//   poll callbacks set `pending`, and the next poll() continues the write (wait() returns as soon
//   as they fire). Nagle is off.
// - A close helper clears every callback before tcp_close and falls back to tcp_abort. The err
//   callback only notes that the pcb is gone.

#include "py/mpconfig.h"
#include "modmfa_server.h"

#if defined(MFA_SERVER_LWIP)

#include <string.h>

#include "py/runtime.h"
#include "py/mperrno.h"
#include "py/mphal.h"

#include "lwip/tcp.h"
#include "lwip/ip_addr.h"

// Extra per-pcb slots beyond max_conns, so that a connection arriving while the pool is full
// can still be told 503 instead of being reset by lwIP, and for connections lingering after
// their last answer (draining what the client still sends, outside the pool). Each costs ~36
// bytes.
#ifndef MFA_LWIP_EXTRA
#define MFA_LWIP_EXTRA (8)
#endif

// lwIP calls the poll callback every MFA_LWIP_POLL_INTERVAL x 500 ms: it drives timeouts and
// retries of writes that found no room.
#ifndef MFA_LWIP_POLL_INTERVAL
#define MFA_LWIP_POLL_INTERVAL (1)
#endif

typedef struct _mfa_lwip_conn_t {
    struct tcp_pcb *pcb;        // NULL: free (or gone: see err)
    struct pbuf *rx;            // received, not yet consumed
    uint16_t rx_off;            // bytes of rx (the first pbuf) already consumed
    bool used;                  // slot taken
    bool eof;                   // the peer closed its side
    bool err;                   // the pcb is gone (err callback): never touch it again
    bool drain;                 // answered and shut: discard input until quiet, then close
    uint32_t drain_ms;          // drain: last input (the quiet time runs from here)
    uint32_t drain_start;       // drain: when it began (the cap runs from here)
    mfa_conn_t *conn;           // the pool slot, once the VM side adopted the connection
    struct _mfa_lwip_t *tr;
} mfa_lwip_conn_t;

typedef struct _mfa_lwip_t {
    struct tcp_pcb *listen;
    volatile bool pending;      // a callback stored something since the last step
    bool adopt_wait;            // a newcomer waits for a slot (mfa_pool_make_room) ...
    uint32_t adopt_at;          // ... until this time: then the next step asks again
    uint32_t drain_cap_ms;      // longest drain (the pool's body timeout + the linger time)
    size_t n;
    mfa_lwip_conn_t *lc;        // [n]
} mfa_lwip_t;

// ---- callbacks (lwIP context: store and flag only) -------------------------------------------

static err_t cb_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err) {
    (void)pcb;
    (void)err;
    mfa_lwip_conn_t *lc = arg;
    if (!lc) {
        if (p) {
            pbuf_free(p);
        }
        return ERR_OK;
    }
    if (p == NULL) {
        lc->eof = true;
    } else if (lc->rx == NULL) {
        lc->rx = p;
        lc->rx_off = 0;
    } else {
        pbuf_cat(lc->rx, p);
    }
    lc->tr->pending = true;
    return ERR_OK;
}

static err_t cb_sent(void *arg, struct tcp_pcb *pcb, u16_t len) {
    (void)pcb;
    (void)len;
    mfa_lwip_conn_t *lc = arg;
    if (lc) {
        lc->tr->pending = true;  // room in the send buffer: poll() continues the write
    }
    return ERR_OK;
}

static err_t cb_poll(void *arg, struct tcp_pcb *pcb) {
    (void)pcb;
    mfa_lwip_conn_t *lc = arg;
    if (lc) {
        lc->tr->pending = true;  // timeouts, and writes that met ERR_MEM
    }
    return ERR_OK;
}

static void cb_err(void *arg, err_t err) {
    (void)err;
    mfa_lwip_conn_t *lc = arg;
    if (lc) {
        // lwIP has freed the pcb already: only note it.
        lc->pcb = NULL;
        lc->err = true;
        lc->tr->pending = true;
    }
}

static void lc_release(mfa_lwip_conn_t *lc, bool abort);

static err_t cb_accept(void *arg, struct tcp_pcb *newpcb, err_t err) {
    mfa_lwip_t *tr = arg;
    if (err != ERR_OK || newpcb == NULL || tr == NULL) {
        return ERR_VAL;
    }
    mfa_lwip_conn_t *lc = NULL, *drainer = NULL;
    for (size_t i = 0; i < tr->n && !lc; i++) {
        mfa_lwip_conn_t *x = &tr->lc[i];
        if (!x->used) {
            lc = x;
        } else if (x->drain && (!drainer || (int32_t)(x->drain_start - drainer->drain_start) < 0)) {
            drainer = x;
        }
    }
    if (!lc && drainer) {
        // Every entry taken, the extra ones by lingering closes (e.g. slow clients answered
        // 408 that keep sending): the one lingering longest gives way, reset, as a full pool
        // takes back a slot (mfa_pool_accept). Another pcb than newpcb: safe to abort here.
        lc_release(drainer, true);
        lc = drainer;
    }
    if (!lc) {
        return ERR_MEM;  // lwIP aborts the new pcb
    }
    memset(lc, 0, sizeof(*lc));
    lc->used = true;
    lc->pcb = newpcb;
    lc->tr = tr;
    // Until the pool adopts it, the connection counts against the listener's backlog, as one
    // in a POSIX listen queue does: once `backlog` wait (the pool may make newcomers wait for
    // a grace time to end, mfa_pool_make_room), lwIP leaves new SYNs unanswered (their clients
    // resend them) rather than our spare entries running out (ERR_MEM above: a reset).
    tcp_backlog_delayed(newpcb);
    tcp_arg(newpcb, lc);
    tcp_recv(newpcb, cb_recv);
    tcp_sent(newpcb, cb_sent);
    tcp_err(newpcb, cb_err);
    tcp_poll(newpcb, cb_poll, MFA_LWIP_POLL_INTERVAL);
    tcp_nagle_disable(newpcb);
    tr->pending = true;
    return ERR_OK;
}

// ---- helpers (VM side, inside MICROPY_PY_LWIP_ENTER/EXIT) -------------------------------------

static void rx_free(mfa_lwip_conn_t *lc) {
    if (lc->rx) {
        pbuf_free(lc->rx);
        lc->rx = NULL;
    }
    lc->rx_off = 0;
}

// Close helper: clear the callbacks first, then close; abort if close fails (or if asked).
static void pcb_close(struct tcp_pcb *pcb, bool abort) {
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_sent(pcb, NULL);
    tcp_err(pcb, NULL);
    tcp_poll(pcb, NULL, 0);
    if (abort || tcp_close(pcb) != ERR_OK) {
        tcp_abort(pcb);
    }
}

static void lc_release(mfa_lwip_conn_t *lc, bool abort) {
    if (lc->pcb) {
        tcp_backlog_accepted(lc->pcb);  // (if never adopted: not counted from now on)
        pcb_close(lc->pcb, abort);
    }
    rx_free(lc);
    lc->pcb = NULL;
    lc->conn = NULL;
    lc->used = false;
}

// ---- mfa_conn_io_t ---------------------------------------------------------------------------

static int l_recv(void *ctx, mfa_conn_t *c, uint8_t *buf, size_t n) {
    (void)ctx;
    mfa_lwip_conn_t *lc = c->tstate;
    if (lc->err) {
        return MFA_IO_ERR;
    }
    size_t got = 0;
    while (got < n && lc->rx) {
        struct pbuf *p = lc->rx;
        size_t avail = p->len - lc->rx_off;
        size_t take = n - got < avail ? n - got : avail;
        memcpy(buf + got, (const uint8_t *)p->payload + lc->rx_off, take);
        got += take;
        lc->rx_off = (uint16_t)(lc->rx_off + take);
        if (lc->rx_off == p->len) {
            struct pbuf *next = p->next;
            if (next) {
                pbuf_ref(next);  // keep the rest of the chain when the head is freed
            }
            pbuf_free(p);
            lc->rx = next;
            lc->rx_off = 0;
        }
    }
    if (got) {
        // Consumed: open the window by as much.
        for (size_t left = got; left;) {
            u16_t k = left > 0xffff ? 0xffff : (u16_t)left;
            if (lc->pcb) {
                tcp_recved(lc->pcb, k);
            }
            left -= k;
        }
        return (int)got;
    }
    return lc->eof ? MFA_IO_EOF : 0;
}

bool mfa_tr_peer_gone(mfa_server_obj_t *srv, mfa_conn_t *c) {
    (void)srv;
    mfa_lwip_conn_t *lc = c->tstate;
    // eof: lwIP delivered the FIN (cb_recv with p == NULL); err/pcb: reset, the pcb is gone.
    return lc == NULL || lc->err || lc->pcb == NULL || (lc->eof && lc->rx == NULL);
}

static int l_send(void *ctx, mfa_conn_t *c, const uint8_t *buf, size_t n, bool more) {
    (void)ctx;
    mfa_lwip_conn_t *lc = c->tstate;
    if (lc->err || !lc->pcb) {
        return MFA_IO_ERR;
    }
    size_t room = tcp_sndbuf(lc->pcb);
    if (room == 0) {
        return 0;  // the sent callback will flag us
    }
    size_t len = n < room ? n : room;
    if (len > 0xffff) {
        len = 0xffff;
    }
    u8_t flags = TCP_WRITE_FLAG_COPY;
    if (more || len < n) {
        flags |= TCP_WRITE_FLAG_MORE;
    }
    err_t e = tcp_write(lc->pcb, buf, (u16_t)len, flags);
    if (e == ERR_MEM) {
        // Out of pbufs or segments: try half as much, else wait for sent/poll.
        if (len > 536) {
            len /= 2;
            e = tcp_write(lc->pcb, buf, (u16_t)len, flags | TCP_WRITE_FLAG_MORE);
        }
        if (e == ERR_MEM) {
            tcp_output(lc->pcb);
            return 0;
        }
    }
    if (e != ERR_OK) {
        return MFA_IO_ERR;
    }
    if (!more) {
        tcp_output(lc->pcb);
    }
    return (int)len;
}

static void l_shutdown(void *ctx, mfa_conn_t *c) {
    (void)ctx;
    mfa_lwip_conn_t *lc = c->tstate;
    if (lc->pcb && !lc->err) {
        tcp_output(lc->pcb);
        tcp_shutdown(lc->pcb, 0, 1);
    }
}

// Lingering outside the pool (mfa_conn_io_t.linger): a client still sending the body of a
// request we answered early (413/503) would get a reset, and lose our answer, if we closed
// now; draining it in a pool slot keeps the next clients out (503 busy, or reset when even the
// extra slots are gone). So the pcb stays here, its input read and discarded by drain_step(),
// until the client closes, is quiet for MFA_CONN_LINGER_MS, or drain_cap_ms has passed.
static void lc_drain_begin(mfa_lwip_conn_t *lc, uint32_t now) {
    lc->conn = NULL;
    lc->drain = true;
    lc->drain_ms = lc->drain_start = now;
}

static bool l_linger(void *ctx, mfa_conn_t *c, uint32_t now) {
    (void)ctx;
    mfa_lwip_conn_t *lc = c->tstate;
    if (!lc || lc->err || !lc->pcb) {
        return false;
    }
    lc_drain_begin(lc, now);
    return true;
}

static void drain_step(mfa_lwip_t *tr, mfa_lwip_conn_t *lc, uint32_t now) {
    if (lc->rx) {
        u32_t n = lc->rx->tot_len - lc->rx_off;
        rx_free(lc);
        while (n && lc->pcb && !lc->err) {
            u16_t k = n > 0xffff ? 0xffff : (u16_t)n;
            tcp_recved(lc->pcb, k);
            n -= k;
        }
        lc->drain_ms = now;
    }
    if (lc->err || lc->eof || (uint32_t)(now - lc->drain_ms) > MFA_CONN_LINGER_MS
        || (uint32_t)(now - lc->drain_start) > tr->drain_cap_ms) {
        lc_release(lc, false);
    }
}

static void l_close(void *ctx, mfa_conn_t *c, bool abort) {
    (void)ctx;
    mfa_lwip_conn_t *lc = c->tstate;
    if (lc) {
        lc_release(lc, abort);
    }
}

const mfa_conn_io_t mfa_tr_io = {
    l_recv, l_send, l_shutdown, l_close, mfa_srv_alloc, mfa_srv_realloc, mfa_srv_free,
    mfa_srv_event,
    l_linger,
};

// ---- transport interface ---------------------------------------------------------------------

void mfa_tr_open(mfa_server_obj_t *srv, const char *host, mp_int_t port, mp_int_t backlog) {
    mfa_lwip_t *tr = m_new0(mfa_lwip_t, 1);
    tr->n = srv->pool.n + MFA_LWIP_EXTRA;
    tr->lc = m_new0(mfa_lwip_conn_t, tr->n);
    tr->drain_cap_ms = srv->pool.body_timeout_ms + MFA_CONN_LINGER_MS;
    srv->tr = tr;
    ip_addr_t addr;
    if (!host[0] || strcmp(host, "0.0.0.0") == 0) {
        ip_addr_set_any(false, &addr);
    } else if (!ipaddr_aton(host, &addr)) {
        mp_raise_ValueError(MP_ERROR_TEXT("host must be an IP address"));
    }
    MICROPY_PY_LWIP_ENTER
    struct tcp_pcb *pcb = tcp_new_ip_type(IP_GET_TYPE(&addr));
    if (pcb) {
        // As the POSIX transport's SO_REUSEADDR: connections this server closed sit in
        // TIME_WAIT for 2 MSL (minutes) after a restart (Ctrl-C, soft reset), and without it
        // a new server on the same port fails with EADDRINUSE until they expire.
        ip_set_option(pcb, SOF_REUSEADDR);
    }
    err_t e = pcb ? tcp_bind(pcb, &addr, (u16_t)port) : ERR_MEM;
    struct tcp_pcb *lpcb = NULL;
    if (e == ERR_OK) {
        lpcb = tcp_listen_with_backlog(pcb, (u8_t)(backlog < 1 ? 1 : backlog > 255 ? 255 : backlog));
        if (!lpcb) {
            e = ERR_MEM;
        }
    }
    if (e != ERR_OK) {
        if (pcb) {
            tcp_abort(pcb);
        }
    } else {
        tr->listen = lpcb;
        tcp_arg(lpcb, tr);
        tcp_accept(lpcb, cb_accept);
        srv->port = lpcb->local_port;
    }
    MICROPY_PY_LWIP_EXIT
    if (e != ERR_OK) {
        mp_raise_OSError(e == ERR_USE ? MP_EADDRINUSE : MP_ENOMEM);
    }
}

void mfa_tr_close(mfa_server_obj_t *srv) {
    mfa_lwip_t *tr = srv->tr;
    if (!tr) {
        return;
    }
    MICROPY_PY_LWIP_ENTER
    if (tr->listen) {
        tcp_arg(tr->listen, NULL);
        tcp_accept(tr->listen, NULL);
        tcp_close(tr->listen);
        tr->listen = NULL;
    }
    for (size_t i = 0; i < tr->n; i++) {
        if (tr->lc[i].used) {
            lc_release(&tr->lc[i], true);
        }
    }
    MICROPY_PY_LWIP_EXIT
}

static void adopt(mfa_server_obj_t *srv, mfa_lwip_t *tr, mfa_lwip_conn_t *lc, uint32_t now) {
    if (tr->adopt_wait) {
        return;  // an earlier newcomer of this step waits already: so does lc
    }
    // A newcomer waits for a grace time to end only while the backlog (which counts it,
    // cb_accept) has room: once it is full, lwIP answers no SYN, real clients' included, so
    // the pool takes the oldest connection in its grace time instead.
    struct tcp_pcb_listen *l = (struct tcp_pcb_listen *)tr->listen;
    uint32_t wait = 0;
    bool may_wait = l && l->accepts_pending < l->backlog;
    mfa_conn_t *room = mfa_pool_make_room(&srv->pool, now, may_wait ? &wait : NULL);
    if (!room && wait) {
        // The pool holds only connections in their grace time (and busy ones): lc stays
        // pending, its data queued on it, until the first grace time ends.
        tr->adopt_wait = true;
        tr->adopt_at = now + wait;
        return;
    }
    if (lc->pcb) {
        tcp_backlog_accepted(lc->pcb);  // (counted since cb_accept; it may linger below)
    }
    mfa_conn_t *c = mfa_pool_admit(&srv->pool, room, (uintptr_t)lc, now);
    if (!c) {
        // Pool full and nobody idle: 503, then shut and drain (the client may be sending a
        // body: closing under it would reset the connection before it reads the 503).
        if (lc->pcb && !lc->err && tcp_write(lc->pcb, mfa_conn_busy_response,
            (u16_t)mfa_conn_busy_response_len, TCP_WRITE_FLAG_COPY) == ERR_OK) {
            tcp_output(lc->pcb);
            tcp_shutdown(lc->pcb, 0, 1);
            lc_drain_begin(lc, now);
            return;
        }
        lc_release(lc, false);
        return;
    }
    lc->conn = c;
    c->tstate = lc;
    c->addr[0] = 0;
    c->port = 0;
    if (lc->pcb) {
        ipaddr_ntoa_r(&lc->pcb->remote_ip, c->addr, sizeof(c->addr));
        c->port = lc->pcb->remote_port;
    }
}

void mfa_tr_step(mfa_server_obj_t *srv, uint32_t now) {
    mfa_lwip_t *tr = srv->tr;
    MICROPY_PY_LWIP_ENTER
    tr->pending = false;
    tr->adopt_wait = false;
    for (size_t i = 0; i < tr->n; i++) {
        mfa_lwip_conn_t *lc = &tr->lc[i];
        if (lc->used && lc->drain) {
            drain_step(tr, lc, now);
        } else if (lc->used && !lc->conn) {
            if (lc->err) {
                lc_release(lc, false);
            } else {
                adopt(srv, tr, lc, now);
            }
        }
    }
    mfa_pool_service(&srv->pool, now);
    MICROPY_PY_LWIP_EXIT
}

// Milliseconds until a waiting newcomer is due to be asked about again (0: due now or none).
static uint32_t adopt_due_in(mfa_lwip_t *tr) {
    int32_t left = (int32_t)(tr->adopt_at - (uint32_t)mp_hal_ticks_ms());
    return left > 0 ? (uint32_t)left : 0;
}

void mfa_tr_output_queued(mfa_server_obj_t *srv) {
    mfa_lwip_t *tr = srv->tr;
    tr->pending = true;  // the next step sends it (and clears this; cb_sent sets it again)
}

bool mfa_tr_pending(mfa_server_obj_t *srv) {
    mfa_lwip_t *tr = srv->tr;
    return tr->pending || (tr->adopt_wait && adopt_due_in(tr) == 0);
}

void mfa_tr_wait(mfa_server_obj_t *srv, mp_int_t timeout_ms) {
    mfa_lwip_t *tr = srv->tr;
    mp_uint_t t0 = mp_hal_ticks_ms();
    while (!mfa_tr_pending(srv)) {
        mp_uint_t spent = mp_hal_ticks_ms() - t0;
        if (timeout_ms >= 0 && spent >= (mp_uint_t)timeout_ms) {
            break;
        }
        mp_uint_t ms = timeout_ms < 0 ? 10 : (mp_uint_t)timeout_ms - spent;
        if (tr->adopt_wait && adopt_due_in(tr) < ms) {
            ms = adopt_due_in(tr);
        }
        // Sleeps until an interrupt (lwIP's own timers and the netif run from there).
        mp_event_wait_ms(ms);
    }
}

#endif // MFA_SERVER_LWIP
