#ifndef CCRYPT_SHIM_H
#define CCRYPT_SHIM_H
// libxcrypt (Debian's libcrypt): bcrypt ("$2b$") through crypt_rn / crypt_gensalt_rn.
#include <crypt.h>
#endif
