// The version of the _mfa C module. microfastapi checks it against its own so that a package
// and a firmware from different releases say so instead of failing in odd ways.
#ifndef MFA_VERSION_H
#define MFA_VERSION_H

#define MFA_VERSION "0.1.0"

#endif // MFA_VERSION_H
