// _mfa.Server: the Python surface of the network loop (docs/internals.md, "Server").
//
// The connection state machine is mfa_conn.c; the sockets are the transport's (mfa_posix.c on
// unix, mfa_lwip.c where MICROPY_PY_LWIP is set). This file turns Python calls into mfa_conn
// calls and complete requests into small `_mfa.Request` objects.

#include <string.h>

#include "py/runtime.h"
#include "py/mperrno.h"
#include "py/objarray.h"
#include "py/mphal.h"
#include "py/stream.h"
#include "py/objstr.h"
#include "py/nlr.h"

#include "modmfa_http.h"
#include "modmfa_server.h"

#if MFA_SERVER_ENABLED

// ---- body storage (one allocation per large request body, never per byte) ---------------
//
// Each allocation has one byte more than asked for, so that a complete body can become the
// request's `bytes` object as it is (bytes are NUL-terminated) instead of being copied: a body
// needs its own size once, not twice. They never raise: NULL is answered 503 by mfa_conn.

void *mfa_srv_alloc(void *ctx, size_t n) {
    (void)ctx;
    return m_malloc_maybe(n + 1);
}

void *mfa_srv_realloc(void *ctx, void *p, size_t old_n, size_t new_n) {
    (void)ctx;
    (void)old_n;
    return m_renew_maybe(uint8_t, p, old_n + 1, new_n + 1, true);
}

void mfa_srv_free(void *ctx, void *p, size_t n) {
    (void)ctx;
    (void)n;
    m_del(uint8_t, p, n + 1);
}

// A bytes object over data[:len], which has room for len + 1 bytes and belongs to the object
// from now on (the hash is left 0: MicroPython computes it when it is first needed).
static mp_obj_t bytes_adopt(uint8_t *data, size_t len) {
    mp_obj_str_t *o = mp_obj_malloc(mp_obj_str_t, &mp_type_bytes);
    data[len] = 0;
    o->hash = 0;
    o->len = len;
    o->data = data;
    return MP_OBJ_FROM_PTR(o);
}

void mfa_srv_event(void *ctx, mfa_conn_t *c, int event) {
    mfa_server_obj_t *srv = ctx;
    if ((c->state == MFA_CONN_READY || c->state == MFA_CONN_RAW) && (c->flags & MFA_CF_HANDED)) {
        return;  // the app is answering this request: it sees the failure itself (gone())
    }
    if (srv->ev_n >= MFA_SERVER_EVENTS) {
        if (srv->ev_lost < 0xffff) {
            srv->ev_lost++;
        }
        return;
    }
    mfa_srv_event_t *e = &srv->ev[srv->ev_n++];
    e->kind = (uint8_t)event;
    e->port = c->port;
    memcpy(e->addr, c->addr, sizeof(e->addr));
    e->addr[sizeof(e->addr) - 1] = 0;
}

static uint32_t now_ms(void) {
    return (uint32_t)mp_hal_ticks_ms();
}

// ---- request objects -------------------------------------------------------------------------

// A request handed to the app: the parser's head object (modmfa_http.c) over a copy of the head
// kept inline, plus what the server adds. The client's address is kept as text and made into
// the (addr, port) tuple only when the app asks for it.
typedef struct _mfa_request_obj_t {
    mfa_head_obj_t head;        // first: its attributes serve the request too
    mfa_server_obj_t *srv;
    uint32_t gen;               // the connection's generation when handed out
    uint16_t index;             // connection slot
    uint16_t port;              // the client's
    mp_obj_t body;              // bytes
    char text[];                // the head (NUL-terminated), then the client's address
} mfa_request_obj_t;

static const mp_obj_type_t mfa_request_type;

static void mfa_request_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    mfa_request_obj_t *r = MP_OBJ_TO_PTR(self_in);
    if (dest[0] != MP_OBJ_NULL) {
        return;  // read-only
    }
    if (attr == MP_QSTR_body) {
        dest[0] = r->body;
    } else if (attr == MP_QSTR_client) {
        const char *addr = r->text + r->head.header_len + 1;
        mp_obj_t t[2] = { mp_obj_new_str(addr, strlen(addr)), MP_OBJ_NEW_SMALL_INT(r->port) };
        dest[0] = mp_obj_new_tuple(2, t);
    } else {
        mfa_head_attr(self_in, attr, dest);
    }
}

static void mfa_request_print(const mp_print_t *print, mp_obj_t self_in, mp_print_kind_t kind) {
    (void)kind;
    mfa_head_print_line(print, "Request", MP_OBJ_TO_PTR(self_in));
}

static MP_DEFINE_CONST_OBJ_TYPE(
    mfa_request_type,
    MP_QSTR_Request,
    MP_TYPE_FLAG_NONE,
    print, mfa_request_print,
    attr, mfa_request_attr
    );

// The Python object of a READY request (raises MemoryError: see mfa_server_poll). Allocations:
// the object with the head and the client's address inline, and the body's bytes header (a
// body in its own allocation is adopted, one in the input buffer is copied).
static mp_obj_t request_new(mfa_server_obj_t *srv, mfa_conn_t *c) {
    size_t alen = strlen(c->addr);
    mfa_request_obj_t *r = mp_obj_malloc_var(mfa_request_obj_t, text, char,
        c->head_len + 1 + alen + 1, &mfa_request_type);
    r->srv = srv;
    r->gen = c->gen;
    r->index = c->index;
    r->port = (uint16_t)c->port;
    r->body = mp_const_empty_bytes;
    memcpy(r->text, mfa_conn_head(c), c->head_len);
    r->text[c->head_len] = 0;
    memcpy(r->text + c->head_len + 1, c->addr, alen + 1);
    // What mfa_conn recorded of the parse, in the parser's terms (the spans are offsets).
    mfa_http_request_t req;
    memset(&req, 0, sizeof(req));
    req.method_len = c->method_len;
    req.path = r->text + c->path_off;
    req.path_len = c->path_len;
    req.query = r->text + c->query_off;
    req.query_len = c->query_len;
    req.minor_version = c->minor_version;
    req.flags = c->http_flags;
    req.content_length = c->content_length > 0 ? (uint64_t)c->content_length : 0;
    mfa_head_init(&r->head, MP_OBJ_NULL, r->text, c->head_len, &req);
    size_t blen, bcap;
    uint8_t *ext = mfa_conn_take_body(c, &blen, &bcap);
    if (c->flags & MFA_CF_BODY_DEFER) {
        r->body = mp_const_none;  // still on the wire: body_pull / body_collect
    } else if (ext) {
        if (bcap > blen) {
            // A chunked body's buffer grew by doubling: give the rest back (in place).
            uint8_t *shrunk = m_renew_maybe(uint8_t, ext, bcap + 1, blen + 1, false);
            ext = shrunk ? shrunk : ext;
        }
        // From here the buffer is only referenced from this frame: if the header allocation
        // fails, the GC takes it back.
        r->body = bytes_adopt(ext, blen);
    } else {
        const uint8_t *b = mfa_conn_body(c, &blen);
        if (blen) {
            uint8_t *d = m_new(uint8_t, blen + 1);
            memcpy(d, b, blen);
            r->body = bytes_adopt(d, blen);
        }
    }
    return MP_OBJ_FROM_PTR(r);
}

// The connection of a request still waiting for its answer, or NULL (closed, answered).
static mfa_conn_t *request_conn(mfa_server_obj_t *srv, mp_obj_t req_in) {
    if (!mp_obj_is_type(req_in, &mfa_request_type)) {
        mp_raise_TypeError(MP_ERROR_TEXT("not a request of this server"));
    }
    mfa_request_obj_t *r = MP_OBJ_TO_PTR(req_in);
    if (r->srv != srv) {
        mp_raise_ValueError(MP_ERROR_TEXT("not a request of this server"));
    }
    if (srv->closed || r->index >= srv->pool.n) {
        return NULL;
    }
    mfa_conn_t *c = &srv->conns[r->index];
    if (c->state == MFA_CONN_FREE || c->gen != r->gen) {
        return NULL;
    }
    return c;
}

// ---- server ----------------------------------------------------------------------------------

static mfa_server_obj_t *get_server(mp_obj_t self_in) {
    mfa_server_obj_t *srv = MP_OBJ_TO_PTR(self_in);
    if (srv->closed) {
        mp_raise_OSError(MP_EBADF);
    }
    return srv;
}

static mp_obj_t mfa_server_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *all_args) {
    enum { ARG_host, ARG_port, ARG_max_conns, ARG_max_body, ARG_header_timeout_ms,
           ARG_body_timeout_ms, ARG_idle_timeout_ms, ARG_min_rate, ARG_rate_grace_ms, ARG_backlog,
           ARG_stream_bodies };
    static const mp_arg_t allowed_args[] = {
        // Default None, not MP_QSTR_0_dot_0_dot_0_dot_0: a user C module cannot declare the qstr
        // "0.0.0.0" (makeqstrdefs.py collects the identifier text "0_dot_0_dot_0_dot_0" as the
        // qstr's value), and frozen bytecode that spells "0.0.0.0" resolves by the same escaped
        // identifier, so every frozen "0.0.0.0" (app.start's default) became "0_dot_0_dot_0_dot_0".
        // Rule for this module: no MP_QSTR_ whose name holds an escape (_dot_, _slash_, ...);
        // use MP_DEFINE_STR_OBJ or a C string. tests/net/test_server_unix.py checks it.
        { MP_QSTR_host, MP_ARG_OBJ, {.u_rom_obj = MP_ROM_NONE} },
        { MP_QSTR_port, MP_ARG_INT, {.u_int = 80} },
        { MP_QSTR_max_conns, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = MFA_CONN_DEFAULT} },
        { MP_QSTR_max_body, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 16384} },
        { MP_QSTR_header_timeout_ms, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 10000} },
        { MP_QSTR_body_timeout_ms, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 10000} },
        { MP_QSTR_idle_timeout_ms, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 5000} },
        { MP_QSTR_min_rate, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 500} },
        { MP_QSTR_rate_grace_ms, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 3000} },
        { MP_QSTR_backlog, MP_ARG_KW_ONLY | MP_ARG_INT, {.u_int = 4} },
        { MP_QSTR_stream_bodies, MP_ARG_KW_ONLY | MP_ARG_BOOL, {.u_bool = false} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all_kw_array(n_args, n_kw, all_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    mp_int_t n = args[ARG_max_conns].u_int;
    if (n < 1 || n > MFA_CONN_MAX) {
        mp_raise_ValueError(MP_ERROR_TEXT("max_conns out of range"));
    }
    if (args[ARG_max_body].u_int < 0 || args[ARG_header_timeout_ms].u_int < 0
        || args[ARG_body_timeout_ms].u_int < 0 || args[ARG_idle_timeout_ms].u_int < 0
        || args[ARG_min_rate].u_int < 0 || args[ARG_rate_grace_ms].u_int < 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("negative limit"));
    }
    mfa_server_obj_t *srv = mp_obj_malloc_with_finaliser(mfa_server_obj_t, type);
    srv->closed = true;  // until the pool and the listener exist
    srv->tr = NULL;
    srv->ev_n = 0;
    srv->ev_lost = 0;
    srv->raw_reqs = NULL;
    srv->consts = NULL;
    srv->n_consts = 0;
    srv->conns = m_new0(mfa_conn_t, n);
    for (mp_int_t i = 0; i < n; i++) {
        srv->conns[i].in = m_new(uint8_t, MFA_CONN_IN_BUF);
        srv->conns[i].out = m_new(uint8_t, MFA_CONN_OUT_BUF);
    }
    srv->pool.max_body = (uint32_t)args[ARG_max_body].u_int;
    srv->pool.header_timeout_ms = (uint32_t)args[ARG_header_timeout_ms].u_int;
    srv->pool.body_timeout_ms = (uint32_t)args[ARG_body_timeout_ms].u_int;
    srv->pool.idle_timeout_ms = (uint32_t)args[ARG_idle_timeout_ms].u_int;
    srv->pool.min_rate = (uint32_t)args[ARG_min_rate].u_int;
    srv->pool.rate_grace_ms = (uint32_t)args[ARG_rate_grace_ms].u_int;
    srv->pool.stream_bodies = args[ARG_stream_bodies].u_bool;
    mfa_pool_init(&srv->pool, srv->conns, (size_t)n, &mfa_tr_io, srv);
    const char *host = args[ARG_host].u_obj == mp_const_none
        ? "0.0.0.0" : mp_obj_str_get_str(args[ARG_host].u_obj);
    mfa_tr_open(srv, host, args[ARG_port].u_int, args[ARG_backlog].u_int);
    srv->closed = false;
    return MP_OBJ_FROM_PTR(srv);
}

// Whether an exception caught by nlr is a MemoryError (the only one answered for the app).
static bool is_memory_error(void *exc) {
    return mp_obj_is_subclass_fast(MP_OBJ_FROM_PTR(((mp_obj_base_t *)exc)->type),
        MP_OBJ_FROM_PTR(&mp_type_MemoryError));
}

static bool const_answer(mfa_server_obj_t *srv, mfa_conn_t *c);

static mp_obj_t mfa_server_poll(mp_obj_t self_in) {
    mfa_server_obj_t *srv = get_server(self_in);
    mfa_conn_t *c = mfa_pool_next_ready(&srv->pool);
    if (!c) {
        mfa_tr_step(srv, now_ms());
        c = mfa_pool_next_ready(&srv->pool);
    }
    bool answered = false;  // a constant route was answered since the last step
    bool stepped = false;   // ... and the step after it was taken (once per call: a flood of
                            // constant requests must not keep poll() from returning)
    while (c || (answered && !stepped)) {
        if (!c) {
            // Constant answers changed what the connections wait for: one more step brings
            // the transport in line (POSIX: the epoll set the app's loop sleeps on still has
            // them as READY, not reading) and takes what arrived meanwhile, as the app's next
            // poll() would have after a respond().
            stepped = true;
            mfa_tr_step(srv, now_ms());
            c = mfa_pool_next_ready(&srv->pool);
            continue;
        }
        if (srv->n_consts && const_answer(srv, c)) {
            answered = true;
            c = mfa_pool_next_ready(&srv->pool);  // (a pipelined request may be ready now)
            continue;
        }
        // A request that cannot be handed on for want of memory is answered 503 here and its
        // connection released, instead of MemoryError out of poll() leaving the connection
        // handed out with no object to answer it through.
        nlr_buf_t nlr;
        if (nlr_push(&nlr) == 0) {
            mp_obj_t req = request_new(srv, c);
            nlr_pop();
            return req;
        }
        if (!is_memory_error(nlr.ret_val)) {
            nlr_jump(nlr.ret_val);
        }
        MFA_TR_ENTER
        mfa_conn_fail(&srv->pool, c, 503, "out of memory", now_ms());
        MFA_TR_EXIT
        c = mfa_pool_next_ready(&srv->pool);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(mfa_server_poll_obj, mfa_server_poll);

#define MFA_MAX_RESP_HEADERS (32)

static void raise_resp(mfa_resp_err_t e);

// The app's (name, value) pairs, checked (ValueError for CR, LF or NUL in one).
static size_t get_headers(mp_obj_t list, mfa_header_t *out) {
    if (list == mp_const_none) {
        return 0;
    }
    size_t n;
    mp_obj_t *items;
    mp_obj_get_array(list, &n, &items);
    if (n > MFA_MAX_RESP_HEADERS) {
        mp_raise_ValueError(MP_ERROR_TEXT("too many response headers"));
    }
    for (size_t i = 0; i < n; i++) {
        size_t tn;
        mp_obj_t *pair;
        mp_obj_get_array(items[i], &tn, &pair);
        if (tn != 2) {
            mp_raise_ValueError(MP_ERROR_TEXT("headers must be (name, value) pairs"));
        }
        out[i].name = mp_obj_str_get_data(pair[0], &out[i].name_len);
        out[i].value = mp_obj_str_get_data(pair[1], &out[i].value_len);
        if (!mfa_conn_header_ok(out[i].name, out[i].name_len)
            || !mfa_conn_header_ok(out[i].value, out[i].value_len)) {
            raise_resp(MFA_RESP_BAD_HEADER);  // (before anything is queued)
        }
    }
    return n;
}

static void raise_resp(mfa_resp_err_t e) {
    switch (e) {
        case MFA_RESP_BAD_HEADER:
            mp_raise_ValueError(MP_ERROR_TEXT("CR, LF or NUL in a response header"));
        case MFA_RESP_TOO_LARGE:
            mp_raise_ValueError(MP_ERROR_TEXT("response headers too large"));
        case MFA_RESP_NOT_HANDED:
            mp_raise_ValueError(MP_ERROR_TEXT("request already answered"));
        default:
            break;
    }
}

// A body for the wire: bytes and str are sent in place; other buffers are copied to bytes (the
// caller may change them after respond() returns). MP_OBJ_NULL when there is no memory for the
// copy (*len says how much was needed).
static mp_obj_t body_obj(mp_obj_t body, const uint8_t **p, size_t *len) {
    if (body == mp_const_none) {
        *p = NULL;
        *len = 0;
        return mp_const_none;
    }
    if (mp_obj_is_str_or_bytes(body)) {
        *p = (const uint8_t *)mp_obj_str_get_data(body, len);
        return body;
    }
    mp_buffer_info_t bi;
    mp_get_buffer_raise(body, &bi, MP_BUFFER_READ);
    if (bi.len <= MFA_CONN_OUT_BUF / 2) {
        *p = bi.buf;  // copied into the output buffer by mfa_conn (fits)
        *len = bi.len;
        return body;
    }
    *len = bi.len;
    uint8_t *d = m_new_maybe(uint8_t, bi.len + 1);
    mp_obj_str_t *o = d ? m_new_obj_maybe(mp_obj_str_t) : NULL;
    if (!o) {
        if (d) {
            m_del(uint8_t, d, bi.len + 1);
        }
        return MP_OBJ_NULL;
    }
    memcpy(d, bi.buf, bi.len);
    d[bi.len] = 0;
    o->base.type = &mp_type_bytes;
    o->hash = 0;
    o->len = bi.len;
    o->data = d;
    *p = d;
    return MP_OBJ_FROM_PTR(o);
}

// A final answer's status: 200-599 (1xx are not final answers; `100 Continue` is the server's).
static mp_int_t get_status(mp_obj_t st) {
    mp_int_t status = mp_obj_get_int(st);
    if (status < 200 || status > 599 || mp_obj_is_bool(st)) {
        mp_raise_ValueError(MP_ERROR_TEXT("status must be an int from 200 to 599"));
    }
    return status;
}

// ---- constant routes (docs/internals.md, "Constant routes") ---------------------------------
//
// A path whose answer never changes (a health check) is answered here, inside poll(), from a
// response registered once: no request object, no call into Python. The path is compared byte
// for byte with the request's path as sent (no percent-decoding); the query is not looked at.

static const char *const mfa_const_methods[] = {
    "GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS",
};

// The bit of a method name in mfa_const_route_t.methods, or -1 (not one of the table's).
static int const_method_bit(const char *m, size_t len) {
    for (size_t i = 0; i < MP_ARRAY_SIZE(mfa_const_methods); i++) {
        if (strlen(mfa_const_methods[i]) == len && memcmp(mfa_const_methods[i], m, len) == 0) {
            return (int)i;
        }
    }
    return -1;
}

// Answer the handed request of c when it is for a constant route; false leaves it to Python.
// A request whose body is still on the wire (stream_bodies) is left to the app, which decides
// about bodies; one whose body has arrived is answered, its body dropped with the request.
static bool const_answer(mfa_server_obj_t *srv, mfa_conn_t *c) {
    if (c->flags & MFA_CF_BODY_DEFER) {
        return false;
    }
    const char *head = (const char *)mfa_conn_head(c);
    int bit = const_method_bit(head, c->method_len);
    if (bit < 0) {
        return false;
    }
    for (size_t i = 0; i < srv->n_consts; i++) {
        const mfa_const_route_t *k = &srv->consts[i];
        if (k->path_len == c->path_len && (k->methods & (1u << bit))
            && memcmp(k->path, head + c->path_off, k->path_len) == 0) {
            MFA_TR_ENTER
            mfa_resp_err_t e = mfa_conn_respond(&srv->pool, c, k->status, k->hs, k->nh, k->body,
                k->body_len, MP_OBJ_TO_PTR(k->keep), now_ms());
            if (e != MFA_RESP_OK) {
                // The head did not fit the output buffer (a pipelining client that does not
                // read fills it): nobody else holds this handed request, so it must not be
                // left waiting for an answer; the connection is failed and closed.
                mfa_conn_fail(&srv->pool, c, 500, "response does not fit", now_ms());
            }
            MFA_TR_EXIT
            return true;
        }
    }
    return false;
}

static mp_obj_t mfa_server_add_constant(size_t n_args, const mp_obj_t *args) {
    // add_constant(path, methods, status, headers, body)
    mfa_server_obj_t *srv = get_server(args[0]);
    size_t path_len;
    const char *path = mp_obj_str_get_data(args[1], &path_len);
    if (!path_len || path[0] != '/') {
        mp_raise_ValueError(MP_ERROR_TEXT("path must start with /"));
    }
    size_t nm;
    mp_obj_t *ms;
    mp_obj_get_array(args[2], &nm, &ms);
    unsigned methods = 0;
    for (size_t i = 0; i < nm; i++) {
        size_t ml;
        const char *m = mp_obj_str_get_data(ms[i], &ml);
        int bit = const_method_bit(m, ml);
        if (bit < 0) {
            mp_raise_ValueError(MP_ERROR_TEXT("unknown method"));
        }
        methods |= 1u << bit;
    }
    mp_int_t status = get_status(args[3]);
    // The headers as a tuple of its own: a list the caller changes later cannot take the
    // strings the spans point into away.
    size_t nh;
    mp_obj_t *hitems;
    mp_obj_t hdrs = args[4];
    if (hdrs == mp_const_none) {
        hdrs = mp_const_empty_tuple;
    }
    mp_obj_get_array(hdrs, &nh, &hitems);
    if (nh > MFA_CONST_HEADERS) {
        mp_raise_ValueError(MP_ERROR_TEXT("too many response headers"));
    }
    hdrs = mp_obj_new_tuple(nh, hitems);
    mfa_header_t hs[MFA_MAX_RESP_HEADERS];
    get_headers(hdrs, hs);
    if (!mp_obj_is_str_or_bytes(args[5])) {
        mp_raise_TypeError(MP_ERROR_TEXT("body must be bytes or str"));
    }
    size_t body_len;
    const uint8_t *body = (const uint8_t *)mp_obj_str_get_data(args[5], &body_len);
    // The same path again replaces its answer; a new one grows the table by one slot (an
    // app with one health check pays for one).
    size_t i = 0;
    while (i < srv->n_consts && !(srv->consts[i].path_len == path_len
                                  && memcmp(srv->consts[i].path, path, path_len) == 0)) {
        i++;
    }
    if (i == MFA_SERVER_CONSTS) {
        mp_raise_ValueError(MP_ERROR_TEXT("too many constant routes"));
    }
    if (i == srv->n_consts) {
        srv->consts = m_renew(mfa_const_route_t, srv->consts, srv->n_consts, srv->n_consts + 1);
    }
    mp_obj_t keep_items[3] = { args[1], hdrs, args[5] };
    mfa_const_route_t *k = &srv->consts[i];
    k->keep = mp_obj_new_tuple(3, keep_items);
    k->path = path;
    k->path_len = path_len;
    k->body = body;
    k->body_len = body_len;
    memcpy(k->hs, hs, nh * sizeof(hs[0]));
    k->nh = (uint8_t)nh;
    k->methods = (uint8_t)methods;
    k->status = (uint16_t)status;
    if (i == srv->n_consts) {
        srv->n_consts++;
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(mfa_server_add_constant_obj, 6, 6,
    mfa_server_add_constant);

static mp_obj_t mfa_server_respond(size_t n_args, const mp_obj_t *args) {
    mfa_server_obj_t *srv = get_server(args[0]);
    mfa_conn_t *c = request_conn(srv, args[1]);
    mp_int_t status = get_status(args[2]);
    mfa_header_t hs[MFA_MAX_RESP_HEADERS];
    size_t nh = get_headers(args[3], hs);
    const uint8_t *p;
    size_t len;
    mp_obj_t keep = body_obj(n_args > 4 ? args[4] : mp_const_none, &p, &len);
    if (!c) {
        return mp_const_none;  // the client has gone: nothing to answer
    }
    if (keep == MP_OBJ_NULL) {
        // No room for the copy of the body: the client gets 503, the app goes on.
        MFA_TR_ENTER
        mfa_conn_fail(&srv->pool, c, 503, "out of memory", now_ms());
        MFA_TR_EXIT
        return mp_const_none;
    }
    MFA_TR_ENTER
    mfa_resp_err_t e = mfa_conn_respond(&srv->pool, c, (int)status, hs, nh, p, len,
        MP_OBJ_TO_PTR(keep), now_ms());
    MFA_TR_EXIT
    raise_resp(e);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(mfa_server_respond_obj, 4, 5, mfa_server_respond);

static mp_obj_t mfa_server_stream_start(size_t n_args, const mp_obj_t *args) {
    (void)n_args;
    mp_obj_t self_in = args[0], req = args[1], status = args[2], headers = args[3];
    mfa_server_obj_t *srv = get_server(self_in);
    mfa_conn_t *c = request_conn(srv, req);
    mfa_header_t hs[MFA_MAX_RESP_HEADERS];
    size_t nh = get_headers(headers, hs);
    mp_int_t st = get_status(status);
    if (!c) {
        return mp_const_none;
    }
    MFA_TR_ENTER
    mfa_resp_err_t e = mfa_conn_stream_start(&srv->pool, c, (int)st, hs, nh, now_ms());
    MFA_TR_EXIT
    raise_resp(e);
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_VAR_BETWEEN(mfa_server_stream_start_obj, 4, 4, mfa_server_stream_start);

static mp_obj_t mfa_server_stream_send(mp_obj_t self_in, mp_obj_t req, mp_obj_t data) {
    mfa_server_obj_t *srv = get_server(self_in);
    mfa_conn_t *c = request_conn(srv, req);
    const uint8_t *p;
    size_t len;
    mp_obj_t keep = body_obj(data, &p, &len);
    if (keep == MP_OBJ_NULL) {
        m_malloc_fail(len + 1);
    }
    if (!c) {
        mp_raise_OSError(MP_ECONNRESET);
    }
    MFA_TR_ENTER
    mfa_resp_err_t e = mfa_conn_stream_send(&srv->pool, c, p, len, MP_OBJ_TO_PTR(keep), now_ms());
    if (e == MFA_RESP_OK && mfa_conn_wants_write(c)) {
        mfa_tr_output_queued(srv);
    }
    MFA_TR_EXIT
    if (e == MFA_RESP_BUSY) {
        return mp_const_false;
    }
    if (e == MFA_RESP_CLOSED) {
        mp_raise_OSError(MP_ECONNRESET);
    }
    raise_resp(e);
    return mp_const_true;
}
static MP_DEFINE_CONST_FUN_OBJ_3(mfa_server_stream_send_obj, mfa_server_stream_send);

static mp_obj_t mfa_server_stream_end(mp_obj_t self_in, mp_obj_t req) {
    mfa_server_obj_t *srv = get_server(self_in);
    mfa_conn_t *c = request_conn(srv, req);
    if (!c) {
        return mp_const_none;
    }
    // The terminating chunk needs 5 bytes of queue; if a client is so slow that even those do
    // not fit, give it a moment, then give up on it.
    for (int i = 0; i < 100; i++) {
        MFA_TR_ENTER
        mfa_resp_err_t e = mfa_conn_stream_end(&srv->pool, c, now_ms());
        MFA_TR_EXIT
        if (e != MFA_RESP_BUSY) {
            if (e != MFA_RESP_CLOSED) {
                raise_resp(e);
            }
            return mp_const_none;
        }
        mfa_tr_wait(srv, 10);
        mfa_tr_step(srv, now_ms());
        c = request_conn(srv, req);
        if (!c) {
            return mp_const_none;
        }
    }
    MFA_TR_ENTER
    mfa_conn_close(&srv->pool, c, true);
    MFA_TR_EXIT
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(mfa_server_stream_end_obj, mfa_server_stream_end);

// ---- upgraded connections (docs/internals.md, "Upgraded connections") ----------------------

// upgrade(req, headers): answer req `101 Switching Protocols` with headers; its connection is
// then a byte pipe: recv(req) takes what arrived, stream_send(req, data) sends unframed,
// stream_end(req) closes after what is queued, readable() says which pipes have news.
static mp_obj_t mfa_server_upgrade(mp_obj_t self_in, mp_obj_t req, mp_obj_t headers) {
    mfa_server_obj_t *srv = get_server(self_in);
    mfa_conn_t *c = request_conn(srv, req);
    mfa_header_t hs[MFA_MAX_RESP_HEADERS];
    size_t nh = get_headers(headers, hs);
    if (!c) {
        mp_raise_OSError(MP_ECONNRESET);
    }
    if (srv->raw_reqs == NULL) {
        srv->raw_reqs = m_new0(mp_obj_t, srv->pool.n);
    }
    MFA_TR_ENTER
    mfa_resp_err_t e = mfa_conn_upgrade(&srv->pool, c, 101, hs, nh, now_ms());
    MFA_TR_EXIT
    if (e == MFA_RESP_CLOSED) {
        mp_raise_OSError(MP_ECONNRESET);
    }
    raise_resp(e);
    srv->raw_reqs[c->index] = req;
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_3(mfa_server_upgrade_obj, mfa_server_upgrade);

// recv(req): the bytes that arrived on an upgraded connection since the last call (b"": none
// now), None once the peer has closed its side and every byte before that was taken; OSError
// (ECONNRESET) when the connection is gone.
static mp_obj_t mfa_server_recv(mp_obj_t self_in, mp_obj_t req) {
    mfa_server_obj_t *srv = get_server(self_in);
    mfa_conn_t *c = request_conn(srv, req);
    if (!c || c->state != MFA_CONN_RAW) {
        mp_raise_OSError(MP_ECONNRESET);
    }
    size_t len;
    bool eof;
    const uint8_t *p = mfa_conn_raw_take(c, &len, &eof);
    if (eof) {
        return mp_const_none;
    }
    if (!len) {
        return mp_const_empty_bytes;
    }
    mp_obj_t data = mp_obj_new_bytes(p, len);  // (may raise MemoryError: nothing is lost)
    MFA_TR_ENTER
    mfa_conn_raw_taken(&srv->pool, c, now_ms());
    MFA_TR_EXIT
    return data;
}
static MP_DEFINE_CONST_FUN_OBJ_2(mfa_server_recv_obj, mfa_server_recv);

// readable(): None, or the upgraded requests (and the requests whose body is pulled) whose
// connections received bytes (or the peer's EOF) since they were last reported.
static mp_obj_t mfa_server_readable(mp_obj_t self_in) {
    mfa_server_obj_t *srv = get_server(self_in);
    if (srv->raw_reqs == NULL) {
        return mp_const_none;
    }
    for (size_t i = 0; i < srv->pool.n; i++) {
        const mfa_conn_t *c = &srv->conns[i];
        if (c->state != MFA_CONN_RAW
            && !(c->state == MFA_CONN_READY && (c->flags & MFA_CF_BODY_PULL))) {
            srv->raw_reqs[i] = MP_OBJ_NULL;  // (a pipe or pulled body that ended: it may go)
        }
    }
    mp_obj_t list = mp_const_none;
    size_t from = 0;
    mfa_conn_t *c;
    while ((c = mfa_pool_next_raw_note(&srv->pool, &from)) != NULL) {
        mp_obj_t r = srv->raw_reqs[c->index];
        if (r == MP_OBJ_NULL) {
            continue;
        }
        if (list == mp_const_none) {
            list = mp_obj_new_list(0, NULL);
        }
        mp_obj_list_append(list, r);
    }
    return list;
}
static MP_DEFINE_CONST_FUN_OBJ_1(mfa_server_readable_obj, mfa_server_readable);


// ---- streamed request bodies (docs/internals.md, "Streamed request bodies") -----------------

// A request handed out with body None (stream_bodies=True: its body had not arrived with its
// head), or None when it is gone.
static mfa_conn_t *deferred_conn(mfa_server_obj_t *srv, mp_obj_t req, mp_obj_t limit_in,
    uint32_t *limit) {
    mfa_conn_t *c = request_conn(srv, req);
    mp_int_t l = mp_obj_get_int(limit_in);
    if (l < 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("negative limit"));
    }
    *limit = l >= (mp_int_t)0x7fffffff ? 0x7fffffffu : (uint32_t)l;
    if (c && (c->state != MFA_CONN_READY || !(c->flags & MFA_CF_BODY_DEFER))) {
        mp_raise_ValueError(MP_ERROR_TEXT("body not deferred, or already pulled or collected"));
    }
    return c;
}

// body_pull(req, max_body): the body of a deferred request is read by the app (body_read).
// False when it was refused (Content-Length above max_body: answered 413, the connection
// closes); OSError (ECONNRESET) when the client has gone.
static mp_obj_t mfa_server_body_pull(mp_obj_t self_in, mp_obj_t req, mp_obj_t limit_in) {
    mfa_server_obj_t *srv = get_server(self_in);
    uint32_t limit;
    mfa_conn_t *c = deferred_conn(srv, req, limit_in, &limit);
    if (!c) {
        mp_raise_OSError(MP_ECONNRESET);
    }
    if (srv->raw_reqs == NULL) {
        srv->raw_reqs = m_new0(mp_obj_t, srv->pool.n);
    }
    MFA_TR_ENTER
    bool ok = mfa_conn_body_pull(&srv->pool, c, limit, now_ms());
    MFA_TR_EXIT
    if (ok) {
        srv->raw_reqs[c->index] = req;  // readable() reports it when bytes arrive
    }
    return mp_obj_new_bool(ok);
}
static MP_DEFINE_CONST_FUN_OBJ_3(mfa_server_body_pull_obj, mfa_server_body_pull);

// body_collect(req, max_body): the server collects the body of a deferred request (413 above
// max_body, 503 without memory) and poll() hands the request out again, as a new object with
// its body. No-op when the client has gone.
static mp_obj_t mfa_server_body_collect(mp_obj_t self_in, mp_obj_t req, mp_obj_t limit_in) {
    mfa_server_obj_t *srv = get_server(self_in);
    uint32_t limit;
    mfa_conn_t *c = deferred_conn(srv, req, limit_in, &limit);
    if (c) {
        MFA_TR_ENTER
        mfa_conn_body_collect(&srv->pool, c, limit, now_ms());
        MFA_TR_EXIT
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_3(mfa_server_body_collect_obj, mfa_server_body_collect);

// body_read(req, buf): the next bytes of a pulled body (chunked framing decoded) copied into
// buf (a bytearray or writable memoryview): their count; 0 when none are there now (readable()
// lists req when more arrive); None once the whole body was read. OSError (ECONNRESET) when it
// never will be: the client went, or its body was answered 400/408/413.
static mp_obj_t mfa_server_body_read(mp_obj_t self_in, mp_obj_t req, mp_obj_t buf_in) {
    mfa_server_obj_t *srv = get_server(self_in);
    mp_buffer_info_t bi;
    mp_get_buffer_raise(buf_in, &bi, MP_BUFFER_WRITE);
    mfa_conn_t *c = request_conn(srv, req);
    if (!c) {
        mp_raise_OSError(MP_ECONNRESET);
    }
    MFA_TR_ENTER
    ptrdiff_t n = mfa_conn_body_read(&srv->pool, c, bi.buf, bi.len, now_ms());
    MFA_TR_EXIT
    if (n == MFA_BODY_END) {
        return mp_const_none;
    }
    if (n == MFA_BODY_FAILED) {
        mp_raise_OSError(MP_ECONNRESET);
    }
    return MP_OBJ_NEW_SMALL_INT(n);
}
static MP_DEFINE_CONST_FUN_OBJ_3(mfa_server_body_read_obj, mfa_server_body_read);

// body_view(req): as body_read, but the bytes are not copied: a read-only memoryview of them in
// the connection's input buffer, valid until the next body_view or body_read on req (or its
// answer); 0 when none are there now, None at the end, OSError as body_read.
static mp_obj_t mfa_server_body_view(mp_obj_t self_in, mp_obj_t req) {
    mfa_server_obj_t *srv = get_server(self_in);
    mfa_conn_t *c = request_conn(srv, req);
    if (!c) {
        mp_raise_OSError(MP_ECONNRESET);
    }
    // (allocated first: a MemoryError must not lose bytes already lent)
    mp_obj_array_t *mv = m_new_obj(mp_obj_array_t);
    const uint8_t *p = NULL;
    MFA_TR_ENTER
    ptrdiff_t n = mfa_conn_body_peek(&srv->pool, c, &p, now_ms());
    MFA_TR_EXIT
    if (n == MFA_BODY_END) {
        return mp_const_none;
    }
    if (n == MFA_BODY_FAILED) {
        mp_raise_OSError(MP_ECONNRESET);
    }
    if (n == 0) {
        return MP_OBJ_NEW_SMALL_INT(0);
    }
    // Based at the buffer's start, as memoryview slices are, so that the GC sees the buffer.
    mp_obj_memoryview_init(mv, 'B', (size_t)(p - c->in), (size_t)n, c->in);
    return MP_OBJ_FROM_PTR(mv);
}
static MP_DEFINE_CONST_FUN_OBJ_2(mfa_server_body_view_obj, mfa_server_body_view);

// gone(req): True when req can no longer be answered (its client reset or closed its side, the
// server closed the connection, or req was answered already).
static mp_obj_t mfa_server_gone(mp_obj_t self_in, mp_obj_t req) {
    mfa_server_obj_t *srv = get_server(self_in);
    mfa_conn_t *c = request_conn(srv, req);
    if (!c || (c->flags & MFA_CF_PEER_EOF)) {
        return mp_const_true;
    }
    MFA_TR_ENTER
    bool g = mfa_tr_peer_gone(srv, c);
    MFA_TR_EXIT
    return mp_obj_new_bool(g);
}
static MP_DEFINE_CONST_FUN_OBJ_2(mfa_server_gone_obj, mfa_server_gone);

// abort(req): reset req's connection now (queued bytes are dropped): a streamed body that
// failed must not look complete, a task whose client went is not answered. No-op when gone.
static mp_obj_t mfa_server_abort(mp_obj_t self_in, mp_obj_t req) {
    mfa_server_obj_t *srv = get_server(self_in);
    mfa_conn_t *c = request_conn(srv, req);
    if (c) {
        MFA_TR_ENTER
        mfa_conn_abort(&srv->pool, c, now_ms());
        MFA_TR_EXIT
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(mfa_server_abort_obj, mfa_server_abort);

// events(): None, or the client-side failures since the last call, oldest first, as
// (kind, addr, port) tuples; ("more", "", n) last when n did not fit.
static mp_obj_t mfa_server_events(mp_obj_t self_in) {
    mfa_server_obj_t *srv = MP_OBJ_TO_PTR(self_in);
    if (!srv->ev_n && !srv->ev_lost) {
        return mp_const_none;
    }
    static const char *const names[] = { "?", "reset", "header timeout", "body timeout",
                                         "write timeout" };
    mp_obj_t list = mp_obj_new_list(0, NULL);
    for (size_t i = 0; i < srv->ev_n; i++) {
        const mfa_srv_event_t *e = &srv->ev[i];
        const char *k = e->kind < MP_ARRAY_SIZE(names) ? names[e->kind] : names[0];
        mp_obj_t t[3] = { mp_obj_new_str(k, strlen(k)), mp_obj_new_str(e->addr, strlen(e->addr)),
                          MP_OBJ_NEW_SMALL_INT(e->port) };
        mp_obj_list_append(list, mp_obj_new_tuple(3, t));
    }
    if (srv->ev_lost) {
        mp_obj_t t[3] = { MP_OBJ_NEW_QSTR(MP_QSTR_more), MP_OBJ_NEW_QSTR(MP_QSTR_),
                          MP_OBJ_NEW_SMALL_INT(srv->ev_lost) };
        mp_obj_list_append(list, mp_obj_new_tuple(3, t));
    }
    srv->ev_n = 0;
    srv->ev_lost = 0;
    return list;
}
static MP_DEFINE_CONST_FUN_OBJ_1(mfa_server_events_obj, mfa_server_events);

static mp_obj_t mfa_server_wait(mp_obj_t self_in, mp_obj_t timeout_in) {
    mfa_server_obj_t *srv = get_server(self_in);
    if (mfa_pool_has_ready(&srv->pool)) {
        return mp_const_none;
    }
    mfa_tr_wait(srv, mp_obj_get_int(timeout_in));
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_2(mfa_server_wait_obj, mfa_server_wait);

static mp_obj_t mfa_server_close(mp_obj_t self_in) {
    mfa_server_obj_t *srv = MP_OBJ_TO_PTR(self_in);
    if (!srv->closed) {
        srv->closed = true;
        MFA_TR_ENTER
        mfa_pool_close_all(&srv->pool);
        MFA_TR_EXIT
        mfa_tr_close(srv);
    }
    return mp_const_none;
}
static MP_DEFINE_CONST_FUN_OBJ_1(mfa_server_close_obj, mfa_server_close);

static void dict_set(mp_obj_t d, qstr k, mp_uint_t v) {
    mp_obj_dict_store(d, MP_OBJ_NEW_QSTR(k), mp_obj_new_int_from_uint(v));
}

static mp_obj_t mfa_server_stats(mp_obj_t self_in) {
    mfa_server_obj_t *srv = MP_OBJ_TO_PTR(self_in);
    const mfa_conn_stats_t *s = &srv->pool.stats;
    size_t ready = 0;
    for (size_t i = 0; i < srv->pool.n; i++) {
        const mfa_conn_t *c = &srv->conns[i];
        ready += c->state == MFA_CONN_READY && !(c->flags & MFA_CF_HANDED);
    }
    mp_obj_t d = mp_obj_new_dict(13);
    dict_set(d, MP_QSTR_connections, srv->pool.open);
    dict_set(d, MP_QSTR_max_conns, srv->pool.n);
    dict_set(d, MP_QSTR_accepted, s->accepted);
    dict_set(d, MP_QSTR_requests, s->requests);
    dict_set(d, MP_QSTR_responses, s->responses);
    dict_set(d, MP_QSTR_errors, s->errors);
    dict_set(d, MP_QSTR_rejected, s->rejected);
    dict_set(d, MP_QSTR_evicted, s->evicted);
    dict_set(d, MP_QSTR_timeouts, s->timeouts);
    dict_set(d, MP_QSTR_resets, s->resets);
    dict_set(d, MP_QSTR_ready, ready);
    dict_set(d, MP_QSTR_unsent, mfa_pool_unsent(&srv->pool));
    return d;
}
static MP_DEFINE_CONST_FUN_OBJ_1(mfa_server_stats_obj, mfa_server_stats);

static void mfa_server_attr(mp_obj_t self_in, qstr attr, mp_obj_t *dest) {
    if (dest[0] == MP_OBJ_NULL && attr == MP_QSTR_port) {
        mfa_server_obj_t *srv = MP_OBJ_TO_PTR(self_in);
        dest[0] = MP_OBJ_NEW_SMALL_INT(srv->port);
        return;
    }
    dest[1] = MP_OBJ_SENTINEL;
}

// Pollable: readable when poll() may return a request.
static mp_uint_t mfa_server_ioctl(mp_obj_t self_in, mp_uint_t request, uintptr_t arg, int *errcode) {
    mfa_server_obj_t *srv = MP_OBJ_TO_PTR(self_in);
    if (request == MP_STREAM_POLL) {
        if (srv->closed) {
            return MP_STREAM_POLL_NVAL;
        }
        mp_uint_t ret = 0;
        if ((arg & MP_STREAM_POLL_RD) && (mfa_pool_has_ready(&srv->pool) || mfa_tr_pending(srv))) {
            ret |= MP_STREAM_POLL_RD;
        }
        return ret;
    }
    if (request == MP_STREAM_CLOSE) {
        mfa_server_close(self_in);
        return 0;
    }
    #if defined(MFA_SERVER_HAS_FILENO)
    if (request == MP_STREAM_GET_FILENO) {
        // With a descriptor, select.poll (and so asyncio) sleeps in poll(2) until the
        // epoll set wakes it; without one it calls MP_STREAM_POLL above once a millisecond,
        // which added a millisecond to every new connection.
        return (mp_uint_t)mfa_tr_fileno(srv);
    }
    #endif
    *errcode = MP_EINVAL;
    return MP_STREAM_ERROR;
}

#if defined(MFA_SERVER_HAS_FILENO)
static mp_obj_t mfa_server_fileno(mp_obj_t self_in) {
    return mp_obj_new_int(mfa_tr_fileno(get_server(self_in)));
}
static MP_DEFINE_CONST_FUN_OBJ_1(mfa_server_fileno_obj, mfa_server_fileno);
#endif

static const mp_stream_p_t mfa_server_stream_p = {
    .ioctl = mfa_server_ioctl,
};

static const mp_rom_map_elem_t mfa_server_locals_dict_table[] = {
    { MP_ROM_QSTR(MP_QSTR_poll), MP_ROM_PTR(&mfa_server_poll_obj) },
    { MP_ROM_QSTR(MP_QSTR_respond), MP_ROM_PTR(&mfa_server_respond_obj) },
    { MP_ROM_QSTR(MP_QSTR_add_constant), MP_ROM_PTR(&mfa_server_add_constant_obj) },
    { MP_ROM_QSTR(MP_QSTR_stream_start), MP_ROM_PTR(&mfa_server_stream_start_obj) },
    { MP_ROM_QSTR(MP_QSTR_stream_send), MP_ROM_PTR(&mfa_server_stream_send_obj) },
    { MP_ROM_QSTR(MP_QSTR_stream_end), MP_ROM_PTR(&mfa_server_stream_end_obj) },
    { MP_ROM_QSTR(MP_QSTR_wait), MP_ROM_PTR(&mfa_server_wait_obj) },
    { MP_ROM_QSTR(MP_QSTR_gone), MP_ROM_PTR(&mfa_server_gone_obj) },
    { MP_ROM_QSTR(MP_QSTR_upgrade), MP_ROM_PTR(&mfa_server_upgrade_obj) },
    { MP_ROM_QSTR(MP_QSTR_recv), MP_ROM_PTR(&mfa_server_recv_obj) },
    { MP_ROM_QSTR(MP_QSTR_readable), MP_ROM_PTR(&mfa_server_readable_obj) },
    { MP_ROM_QSTR(MP_QSTR_body_pull), MP_ROM_PTR(&mfa_server_body_pull_obj) },
    { MP_ROM_QSTR(MP_QSTR_body_collect), MP_ROM_PTR(&mfa_server_body_collect_obj) },
    { MP_ROM_QSTR(MP_QSTR_body_read), MP_ROM_PTR(&mfa_server_body_read_obj) },
    { MP_ROM_QSTR(MP_QSTR_body_view), MP_ROM_PTR(&mfa_server_body_view_obj) },
    { MP_ROM_QSTR(MP_QSTR_abort), MP_ROM_PTR(&mfa_server_abort_obj) },
    { MP_ROM_QSTR(MP_QSTR_events), MP_ROM_PTR(&mfa_server_events_obj) },
    { MP_ROM_QSTR(MP_QSTR_close), MP_ROM_PTR(&mfa_server_close_obj) },
    { MP_ROM_QSTR(MP_QSTR___del__), MP_ROM_PTR(&mfa_server_close_obj) },
    { MP_ROM_QSTR(MP_QSTR_stats), MP_ROM_PTR(&mfa_server_stats_obj) },
    #if defined(MFA_SERVER_HAS_FILENO)
    { MP_ROM_QSTR(MP_QSTR_fileno), MP_ROM_PTR(&mfa_server_fileno_obj) },
    #endif
};
static MP_DEFINE_CONST_DICT(mfa_server_locals_dict, mfa_server_locals_dict_table);

MP_DEFINE_CONST_OBJ_TYPE(
    mfa_server_type,
    MP_QSTR_Server,
    MP_TYPE_FLAG_NONE,
    make_new, mfa_server_make_new,
    attr, mfa_server_attr,
    protocol, &mfa_server_stream_p,
    locals_dict, &mfa_server_locals_dict
    );

#endif // MFA_SERVER_ENABLED
