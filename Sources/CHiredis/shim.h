#ifndef CHIREDIS_SHIM_H
#define CHIREDIS_SHIM_H
// Only the reader (reply parser) and the command formatter are used: the transport
// is SwiftNIO, so none of hiredis' socket code is linked in on purpose.
#include <hiredis/hiredis.h>
#include <hiredis/read.h>
#endif
