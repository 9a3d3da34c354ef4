# The _mfa user C module, for make ports (unix). Keep the source list in step with
# micropython.cmake.
MFA_MOD_DIR := $(USERMOD_DIR)

SRC_USERMOD_C += $(MFA_MOD_DIR)/modmfa.c
SRC_USERMOD_C += $(MFA_MOD_DIR)/mfa_http.c $(MFA_MOD_DIR)/modmfa_http.c $(MFA_MOD_DIR)/mfa_json.c
SRC_USERMOD_C += $(MFA_MOD_DIR)/mfa_json_pull.c $(MFA_MOD_DIR)/modmfa_json.c
SRC_USERMOD_C += $(MFA_MOD_DIR)/mfa_ws.c $(MFA_MOD_DIR)/modmfa_ws.c
SRC_USERMOD_C += $(MFA_MOD_DIR)/mfa_multipart.c $(MFA_MOD_DIR)/modmfa_multipart.c
# network loop: mfa_posix.c / mfa_lwip.c guard themselves with #if (POSIX / MICROPY_PY_LWIP)
SRC_USERMOD_C += $(MFA_MOD_DIR)/mfa_conn.c $(MFA_MOD_DIR)/modmfa_server.c
SRC_USERMOD_C += $(MFA_MOD_DIR)/mfa_posix.c $(MFA_MOD_DIR)/mfa_lwip.c
# mDNS hostname (lwIP ports with the responder; empty here on unix)
SRC_USERMOD_C += $(MFA_MOD_DIR)/modmfa_mdns.c

CFLAGS_USERMOD += -I$(MFA_MOD_DIR)
