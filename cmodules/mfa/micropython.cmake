# The _mfa user C module, for cmake ports (rp2). Keep the source list in step with micropython.mk.
add_library(usermod_mfa INTERFACE)

target_sources(usermod_mfa INTERFACE
    ${CMAKE_CURRENT_LIST_DIR}/modmfa.c
    ${CMAKE_CURRENT_LIST_DIR}/mfa_http.c
    ${CMAKE_CURRENT_LIST_DIR}/modmfa_http.c
    ${CMAKE_CURRENT_LIST_DIR}/mfa_json.c
    ${CMAKE_CURRENT_LIST_DIR}/mfa_json_pull.c
    ${CMAKE_CURRENT_LIST_DIR}/modmfa_json.c
    ${CMAKE_CURRENT_LIST_DIR}/mfa_ws.c
    ${CMAKE_CURRENT_LIST_DIR}/modmfa_ws.c
    ${CMAKE_CURRENT_LIST_DIR}/mfa_multipart.c
    ${CMAKE_CURRENT_LIST_DIR}/modmfa_multipart.c
    # network loop: mfa_posix.c / mfa_lwip.c guard themselves with #if (POSIX / MICROPY_PY_LWIP)
    ${CMAKE_CURRENT_LIST_DIR}/mfa_conn.c
    ${CMAKE_CURRENT_LIST_DIR}/modmfa_server.c
    ${CMAKE_CURRENT_LIST_DIR}/mfa_posix.c
    ${CMAKE_CURRENT_LIST_DIR}/mfa_lwip.c
    # mDNS hostname (lwIP ports with the responder; empty elsewhere)
    ${CMAKE_CURRENT_LIST_DIR}/modmfa_mdns.c
)

target_include_directories(usermod_mfa INTERFACE
    ${CMAKE_CURRENT_LIST_DIR}
)

target_link_libraries(usermod INTERFACE usermod_mfa)
