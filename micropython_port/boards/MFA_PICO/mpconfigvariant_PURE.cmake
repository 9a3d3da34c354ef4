# The pure-Python build of MFA_PICO: the same board without the _mfa C module, which build.sh
# leaves out by not passing USER_C_MODULES. It exists so sys.implementation._build says which
# build is running ("MFA_PICO-PURE").
