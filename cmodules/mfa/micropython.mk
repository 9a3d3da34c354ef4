# The _mfa user C module, for make ports (unix). Keep the source list in step with
# micropython.cmake.
MFA_MOD_DIR := $(USERMOD_DIR)

SRC_USERMOD_C += $(MFA_MOD_DIR)/modmfa.c
SRC_USERMOD_C += $(MFA_MOD_DIR)/mfa_http.c $(MFA_MOD_DIR)/modmfa_http.c

CFLAGS_USERMOD += -I$(MFA_MOD_DIR)
