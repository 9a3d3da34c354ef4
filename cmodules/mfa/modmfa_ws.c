// _mfa bindings for the WebSocket frame layer (mfa_ws.c): WsReader, WsError, ws_frame,
// ws_accept. The contract is docs/internals.md ("WebSocket frames"); wsframe.py is the
// pure-Python twin with the same behaviour. modmfa.c puts the objects below in _mfa's globals.
//
// WsReader(max_message=4096, client=False).feed(data) -> [event, ...]
//   (1, str) text, (2, bytes) binary, (9, bytes) ping, (10, bytes) pong,
//   (8, code, reason) close (code 1005 when the frame had no payload).
// WsReader.feed_one(data): the same, but a str or bytes when data was exactly one message.
//   A protocol error raises WsError(code, reason) (events earlier in the same call are
//   dropped: the connection is failed); every later feed raises it again. After a close,
//   feed returns [].
// The message buffer is on the GC heap (m_new_maybe / m_renew_maybe, one spare byte for the
// NUL that str and bytes keep) and becomes the str or bytes handed out, without a copy. The
// object has no finaliser: collecting it collects the buffer.

#include <string.h>

#include "py/runtime.h"
#include "py/objstr.h"

#include "mfa_ws.h"
#include "modmfa_ws.h"

// ---- WsError -----------------------------------------------------------------------------------

MP_DEFINE_CONST_OBJ_TYPE(
    mfa_type_WsError,
    MP_QSTR_WsError,
    MP_TYPE_FLAG_NONE,
    make_new, mp_obj_exception_make_new,
    print, mp_obj_exception_print,
    attr, mp_obj_exception_attr,
    parent, &mp_type_ValueError
    );

static NORETURN void mfa_raise_ws_error(mfa_ws_err_t err) {
    const char *reason = mfa_ws_err_reason(err);
    mp_obj_t args[2] = {
        MP_OBJ_NEW_SMALL_INT(mfa_ws_err_code(err)),
        mp_obj_new_str(reason, strlen(reason)),
    };
    nlr_raise(mp_obj_new_exception_args(&mfa_type_WsError, 2, args));
}

// ---- the message buffer on the GC heap ---------------------------------------------------------

// n + 1: the NUL that mp_obj_new_*_from_vstr adds goes into the block it is given.
static void *mfa_ws_gc_alloc(void *ctx, size_t n) {
    (void)ctx;
    return m_new_maybe(byte, n + 1);
}

static void *mfa_ws_gc_realloc(void *ctx, void *p, size_t old_n, size_t new_n) {
    (void)ctx;
    return m_renew_maybe(byte, p, old_n + 1, new_n + 1, true);
}

static void mfa_ws_gc_free(void *ctx, void *p, size_t n) {
    (void)ctx;
    m_del(byte, p, n + 1);
}

static const mfa_ws_mem_t mfa_ws_gc_mem = { mfa_ws_gc_alloc, mfa_ws_gc_realloc, mfa_ws_gc_free };

// ---- WsReader ----------------------------------------------------------------------------------

typedef struct _mfa_wsreader_obj_t {
    mp_obj_base_t base;
    mfa_ws_reader_t r;
} mfa_wsreader_obj_t;

static mp_obj_t mfa_wsreader_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *all_args) {
    enum { ARG_max_message, ARG_client };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_max_message, MP_ARG_INT, {.u_int = 4096} },
        { MP_QSTR_client, MP_ARG_BOOL, {.u_bool = false} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all_kw_array(n_args, n_kw, all_args, MP_ARRAY_SIZE(allowed_args),
        allowed_args, args);
    mp_int_t max_message = args[ARG_max_message].u_int;
    if (max_message < 0) {
        mp_raise_ValueError(MP_ERROR_TEXT("max_message must be >= 0"));
    }
    mfa_wsreader_obj_t *o = mp_obj_malloc(mfa_wsreader_obj_t, type);
    mfa_ws_reader_init(&o->r, &mfa_ws_gc_mem, NULL, (size_t)max_message,
        args[ARG_client].u_bool);
    return MP_OBJ_FROM_PTR(o);
}

static mp_obj_t mfa_ws_bytes(const uint8_t *p, size_t n) {
    return n ? mp_obj_new_bytes(p, n) : mp_const_empty_bytes;
}

// A message event's payload: the reader's buffer itself becomes the str or bytes.
static mp_obj_t mfa_ws_message(mfa_wsreader_obj_t *self, const mfa_ws_event_t *ev) {
    size_t size;
    uint8_t *p = mfa_ws_reader_take(&self->r, &size);
    if (p == NULL) {
        return ev->type == MFA_WS_EV_TEXT ? MP_OBJ_NEW_QSTR(MP_QSTR_) : mp_const_empty_bytes;
    }
    vstr_t v;
    v.alloc = size + 1;
    v.len = ev->len;
    v.buf = (char *)p;
    v.fixed_buf = false;
    // The text was validated as it arrived (mfa_ws.h, rule 3).
    return ev->type == MFA_WS_EV_TEXT ? mp_obj_new_str_from_vstr(&v)
        : mp_obj_new_bytes_from_vstr(&v);
}

// One event as feed's list has it: (kind, payload) or (8, code, reason).
static mp_obj_t mfa_ws_event_item(mfa_wsreader_obj_t *self, const mfa_ws_event_t *ev) {
    switch (ev->type) {
        case MFA_WS_EV_TEXT:
        case MFA_WS_EV_BINARY: {
            mp_obj_t t[2] = { MP_OBJ_NEW_SMALL_INT(ev->type), mfa_ws_message(self, ev) };
            return mp_obj_new_tuple(2, t);
        }
        case MFA_WS_EV_CLOSE: {
            mp_obj_t t[3] = {
                MP_OBJ_NEW_SMALL_INT(ev->type), MP_OBJ_NEW_SMALL_INT(ev->code),
                // The reason was validated (rule 3).
                ev->len ? mp_obj_new_str_copy(&mp_type_str, ev->data, ev->len)
                : MP_OBJ_NEW_QSTR(MP_QSTR_),
            };
            return mp_obj_new_tuple(3, t);
        }
        default: { // ping, pong
            mp_obj_t t[2] = { MP_OBJ_NEW_SMALL_INT(ev->type), mfa_ws_bytes(ev->data, ev->len) };
            return mp_obj_new_tuple(2, t);
        }
    }
}

// feed(data), or with `one` feed_one(data): when the first event is a message that used all
// of data, that message itself instead of [(kind, message)].
static mp_obj_t mfa_wsreader_feed_events(mp_obj_t self_in, mp_obj_t data_in, bool one) {
    mfa_wsreader_obj_t *self = MP_OBJ_TO_PTR(self_in);
    mp_buffer_info_t bi;
    mp_get_buffer_raise(data_in, &bi, MP_BUFFER_READ);
    const uint8_t *p = bi.buf;
    size_t n = bi.len;
    mp_obj_t list = MP_OBJ_NULL;
    for (;;) {
        mfa_ws_event_t ev;
        size_t used = mfa_ws_reader_feed(&self->r, p, n, &ev);
        p += used;
        n -= used;
        if (ev.type == MFA_WS_EV_ERROR) {
            mfa_raise_ws_error(ev.error);
        }
        if (one && n == 0 && (ev.type == MFA_WS_EV_TEXT || ev.type == MFA_WS_EV_BINARY)) {
            return mfa_ws_message(self, &ev);
        }
        one = false;
        if (list == MP_OBJ_NULL) {
            list = mp_obj_new_list(0, NULL);
        }
        if (ev.type == MFA_WS_EV_NONE) {
            return list;
        }
        mp_obj_list_append(list, mfa_ws_event_item(self, &ev));
    }
}

static mp_obj_t mfa_wsreader_feed(mp_obj_t self_in, mp_obj_t data_in) {
    return mfa_wsreader_feed_events(self_in, data_in, false);
}
static MP_DEFINE_CONST_FUN_OBJ_2(mfa_wsreader_feed_obj, mfa_wsreader_feed);

// feed_one(data): feed(data), but when `data` is exactly one whole message (the common case:
// one frame per recv) that str or bytes itself, without the list and the tuple around it.
static mp_obj_t mfa_wsreader_feed_one(mp_obj_t self_in, mp_obj_t data_in) {
    return mfa_wsreader_feed_events(self_in, data_in, true);
}
static MP_DEFINE_CONST_FUN_OBJ_2(mfa_wsreader_feed_one_obj, mfa_wsreader_feed_one);

static const mp_rom_map_elem_t mfa_wsreader_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_feed), MP_ROM_PTR(&mfa_wsreader_feed_obj) },
    { MP_ROM_QSTR(MP_QSTR_feed_one), MP_ROM_PTR(&mfa_wsreader_feed_one_obj) },
};
static MP_DEFINE_CONST_DICT(mfa_wsreader_locals, mfa_wsreader_locals_table);

MP_DEFINE_CONST_OBJ_TYPE(
    mfa_type_WsReader,
    MP_QSTR_WsReader,
    MP_TYPE_FLAG_NONE,
    make_new, mfa_wsreader_make_new,
    locals_dict, &mfa_wsreader_locals
    );

// ---- WsAwait, ws_done --------------------------------------------------------------------------

// WsAwait(step): `await` it and `step()` is called, now and each time the task is resumed:
//   None        the step has queued the task somewhere to be woken (as Event.wait does): the
//               task yields to the event loop, and on its next run step() is called again;
//   a coroutine (generator) it is awaited in its place (the full, rarer path);
//   anything else is the result of the await.
// What websocket.py's receive() and send() hand out on _mfa: the result comes back without a
// coroutine frame or a StopIteration object (mp_make_stop_iteration), so a message that is
// already buffered is returned at once, and one that has to be waited for costs this 3-word
// object instead of two coroutines. ws_done is one that finishes at once with None (a send
// whose frame was queued).
struct _mfa_wsawait_obj_t {  // (the typedef is in modmfa_ws.h)
    mp_obj_base_t base;
    mp_obj_t step;  // MP_OBJ_NULL: ws_done
    mp_obj_t sub;   // the coroutine awaited in the step's place, else MP_OBJ_NULL
};

static mp_obj_t mfa_wsawait_make_new(const mp_obj_type_t *type, size_t n_args, size_t n_kw,
    const mp_obj_t *args) {
    mp_arg_check_num(n_args, n_kw, 1, 1, false);
    mfa_wsawait_obj_t *o = mp_obj_malloc(mfa_wsawait_obj_t, type);
    o->step = args[0];
    o->sub = MP_OBJ_NULL;
    return MP_OBJ_FROM_PTR(o);
}

// One step of the coroutine awaited in the step's place (sending None, or throwing exc).
static mp_obj_t mfa_wsawait_resume_sub(mfa_wsawait_obj_t *self, mp_obj_t exc) {
    mp_obj_t ret;
    mp_vm_return_kind_t k = mp_resume(self->sub, exc == MP_OBJ_NULL ? mp_const_none : MP_OBJ_NULL,
        exc, &ret);
    if (k == MP_VM_RETURN_YIELD) {
        return ret;
    }
    self->sub = MP_OBJ_NULL;
    if (k == MP_VM_RETURN_NORMAL) {
        return mp_make_stop_iteration(ret);
    }
    nlr_raise(ret);
}

static mp_obj_t mfa_wsawait_iternext(mp_obj_t self_in) {
    mfa_wsawait_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (self->step == MP_OBJ_NULL) {
        return mp_make_stop_iteration(mp_const_none);
    }
    if (self->sub != MP_OBJ_NULL) {
        return mfa_wsawait_resume_sub(self, MP_OBJ_NULL);
    }
    mp_obj_t r = mp_call_function_0(self->step);
    if (r == mp_const_none) {
        return mp_const_none;
    }
    if (mp_obj_is_type(r, &mp_type_gen_instance)) {
        self->sub = r;
        return mfa_wsawait_resume_sub(self, MP_OBJ_NULL);
    }
    return mp_make_stop_iteration(r);
}

// throw(exc): what the event loop throws into the awaiting task (CancelledError) goes to the
// coroutine in the step's place; without one it is raised at the await.
static mp_obj_t mfa_wsawait_throw(mp_obj_t self_in, mp_obj_t exc) {
    mfa_wsawait_obj_t *self = MP_OBJ_TO_PTR(self_in);
    if (self->sub == MP_OBJ_NULL) {
        nlr_raise(mp_make_raise_obj(exc));
    }
    mp_obj_t r = mfa_wsawait_resume_sub(self, exc);
    if (r == MP_OBJ_STOP_ITERATION) {  // (it caught exc and returned: that is the result)
        mp_obj_t v = MP_STATE_THREAD(stop_iteration_arg);
        nlr_raise(mp_obj_new_exception_arg1(&mp_type_StopIteration, v ? v : mp_const_none));
    }
    return r;
}
static MP_DEFINE_CONST_FUN_OBJ_2(mfa_wsawait_throw_obj, mfa_wsawait_throw);

static const mp_rom_map_elem_t mfa_wsawait_locals_table[] = {
    { MP_ROM_QSTR(MP_QSTR_throw), MP_ROM_PTR(&mfa_wsawait_throw_obj) },
};
static MP_DEFINE_CONST_DICT(mfa_wsawait_locals, mfa_wsawait_locals_table);

MP_DEFINE_CONST_OBJ_TYPE(
    mfa_type_WsAwait,
    MP_QSTR_WsAwait,
    MP_TYPE_FLAG_ITER_IS_ITERNEXT,
    make_new, mfa_wsawait_make_new,
    iter, mfa_wsawait_iternext,
    locals_dict, &mfa_wsawait_locals
    );

const mfa_wsawait_obj_t mfa_ws_done_obj = { { &mfa_type_WsAwait }, MP_OBJ_NULL, MP_OBJ_NULL };

// ---- ws_frame, ws_accept -----------------------------------------------------------------------

// ws_frame(opcode, payload, fin=True, mask=None) -> bytes
static mp_obj_t mfa_ws_frame(size_t n_args, const mp_obj_t *pos_args, mp_map_t *kw_args) {
    enum { ARG_opcode, ARG_payload, ARG_fin, ARG_mask };
    static const mp_arg_t allowed_args[] = {
        { MP_QSTR_opcode, MP_ARG_REQUIRED | MP_ARG_INT, {.u_int = 0} },
        { MP_QSTR_payload, MP_ARG_REQUIRED | MP_ARG_OBJ, {.u_obj = MP_OBJ_NULL} },
        { MP_QSTR_fin, MP_ARG_BOOL, {.u_bool = true} },
        { MP_QSTR_mask, MP_ARG_OBJ, {.u_obj = mp_const_none} },
    };
    mp_arg_val_t args[MP_ARRAY_SIZE(allowed_args)];
    mp_arg_parse_all(n_args, pos_args, kw_args, MP_ARRAY_SIZE(allowed_args), allowed_args, args);
    mp_int_t op = args[ARG_opcode].u_int;
    if (op < 0 || op > 15) {
        mp_raise_ValueError(MP_ERROR_TEXT("opcode must be 0-15"));
    }
    mp_buffer_info_t pl, mk = { 0 };
    mp_get_buffer_raise(args[ARG_payload].u_obj, &pl, MP_BUFFER_READ);
    bool masked = args[ARG_mask].u_obj != mp_const_none;
    if (masked) {
        mp_get_buffer_raise(args[ARG_mask].u_obj, &mk, MP_BUFFER_READ);
        if (mk.len != 4) {
            mp_raise_ValueError(MP_ERROR_TEXT("mask must be 4 bytes"));
        }
    }
    uint8_t h[MFA_WS_MAX_HEADER];
    size_t hl = masked
        ? mfa_ws_frame_header_masked(h, (unsigned)op, args[ARG_fin].u_bool, pl.len, mk.buf)
        : mfa_ws_frame_header(h, (unsigned)op, args[ARG_fin].u_bool, pl.len);
    vstr_t v;
    vstr_init_len(&v, hl + pl.len);
    memcpy(v.buf, h, hl);
    memcpy(v.buf + hl, pl.buf, pl.len);
    if (masked) {
        mfa_ws_mask((uint8_t *)v.buf + hl, pl.len, mk.buf, 0);
    }
    return mp_obj_new_bytes_from_vstr(&v);
}
MP_DEFINE_CONST_FUN_OBJ_KW(mfa_ws_frame_obj, 2, mfa_ws_frame);

// ws_accept(key) -> str, or None when key is not the base64 of 16 bytes.
static mp_obj_t mfa_ws_accept(mp_obj_t key_in) {
    mp_buffer_info_t bi;
    mp_get_buffer_raise(key_in, &bi, MP_BUFFER_READ);
    char out[MFA_WS_ACCEPT_LEN];
    if (!mfa_ws_accept_key(bi.buf, bi.len, out)) {
        return mp_const_none;
    }
    return mp_obj_new_str_copy(&mp_type_str, (const byte *)out, sizeof(out));
}
MP_DEFINE_CONST_FUN_OBJ_1(mfa_ws_accept_obj, mfa_ws_accept);
