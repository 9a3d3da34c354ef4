# USER_C_MODULES entry point for cmake ports (rp2): one include per module.
include(${CMAKE_CURRENT_LIST_DIR}/mfa/micropython.cmake)
