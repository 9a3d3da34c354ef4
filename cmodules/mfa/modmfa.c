// _mfa: the C hot path of microfastapi.
//
// This file only assembles the module: each part (the parser, the server, WebSocket frames,
// multipart bodies) lives in its own modmfa_*.c binding file and exports its objects through a
// header; the globals table below lists them.

#include "py/runtime.h"
#include "py/objstr.h"

#include "mfa_json.h"
#include "mfa_version.h"
#include "modmfa_http.h"
#include "modmfa_json.h"
#include "modmfa_mdns.h"
#include "modmfa_multipart.h"
#include "modmfa_server.h"
#include "modmfa_ws.h"

static const MP_DEFINE_STR_OBJ(mfa_version_obj, MFA_VERSION);

// json_suspect(s): mfa_json_suspect on a str (what json.dumps returned), for the app's check
// that an answer is JSON: one call instead of four substring scans in Python.
static mp_obj_t mfa_json_suspect_fn(mp_obj_t s_in) {
    size_t n;
    const char *s = mp_obj_str_get_data(s_in, &n);
    return mp_obj_new_bool(mfa_json_suspect(s, n));
}
static MP_DEFINE_CONST_FUN_OBJ_1(mfa_json_suspect_obj, mfa_json_suspect_fn);

static const mp_rom_map_elem_t mfa_module_globals_table[] = {
    { MP_ROM_QSTR(MP_QSTR___name__), MP_ROM_QSTR(MP_QSTR__mfa) },
    { MP_ROM_QSTR(MP_QSTR___version__), MP_ROM_PTR(&mfa_version_obj) },
    { MP_ROM_QSTR(MP_QSTR_json_suspect), MP_ROM_PTR(&mfa_json_suspect_obj) },
    // JSON bodies: modmfa_json.c (+ mfa_json_pull.c)
    { MP_ROM_QSTR(MP_QSTR_json_loads), MP_ROM_PTR(&mfa_json_loads_obj) },
    { MP_ROM_QSTR(MP_QSTR_json_dumps), MP_ROM_PTR(&mfa_json_dumps_obj) },
    // parser: modmfa_http.c
    { MP_ROM_QSTR(MP_QSTR_parse_request), MP_ROM_PTR(&mfa_parse_request_obj) },
    { MP_ROM_QSTR(MP_QSTR_ParseError), MP_ROM_PTR(&mfa_type_ParseError) },
    { MP_ROM_QSTR(MP_QSTR_unquote), MP_ROM_PTR(&mfa_unquote_obj) },
    { MP_ROM_QSTR(MP_QSTR_parse_qsl), MP_ROM_PTR(&mfa_parse_qsl_obj) },
    { MP_ROM_QSTR(MP_QSTR_ChunkedDecoder), MP_ROM_PTR(&mfa_type_ChunkedDecoder) },
    // WebSocket frames: modmfa_ws.c
    { MP_ROM_QSTR(MP_QSTR_WsReader), MP_ROM_PTR(&mfa_type_WsReader) },
    { MP_ROM_QSTR(MP_QSTR_WsError), MP_ROM_PTR(&mfa_type_WsError) },
    { MP_ROM_QSTR(MP_QSTR_ws_frame), MP_ROM_PTR(&mfa_ws_frame_obj) },
    { MP_ROM_QSTR(MP_QSTR_ws_accept), MP_ROM_PTR(&mfa_ws_accept_obj) },
    { MP_ROM_QSTR(MP_QSTR_WsAwait), MP_ROM_PTR(&mfa_type_WsAwait) },
    { MP_ROM_QSTR(MP_QSTR_ws_done), MP_ROM_PTR(&mfa_ws_done_obj) },
    // multipart/form-data bodies: modmfa_multipart.c
    { MP_ROM_QSTR(MP_QSTR_MultipartReader), MP_ROM_PTR(&mfa_type_MultipartReader) },
    { MP_ROM_QSTR(MP_QSTR_MultipartError), MP_ROM_PTR(&mfa_type_MultipartError) },
    { MP_ROM_QSTR(MP_QSTR_MP_PART), MP_ROM_INT(1) },
    { MP_ROM_QSTR(MP_QSTR_MP_DATA), MP_ROM_INT(2) },
    { MP_ROM_QSTR(MP_QSTR_MP_PART_END), MP_ROM_INT(3) },
    { MP_ROM_QSTR(MP_QSTR_MP_END), MP_ROM_INT(4) },
    #if MFA_SERVER_ENABLED
    // network loop: modmfa_server.c (+ mfa_conn.c, mfa_posix.c or mfa_lwip.c)
    { MP_ROM_QSTR(MP_QSTR_Server), MP_ROM_PTR(&mfa_server_type) },
    #endif
    #if MFA_MDNS_ENABLED
    // the mDNS responder's hostname, for wifi.connect(hostname=...): modmfa_mdns.c
    { MP_ROM_QSTR(MP_QSTR_mdns_rename), MP_ROM_PTR(&mfa_mdns_rename_obj) },
    #endif
};
static MP_DEFINE_CONST_DICT(mfa_module_globals, mfa_module_globals_table);

const mp_obj_module_t mfa_user_cmodule = {
    .base = { &mp_type_module },
    .globals = (mp_obj_dict_t *)&mfa_module_globals,
};

MP_REGISTER_MODULE(MP_QSTR__mfa, mfa_user_cmodule);
