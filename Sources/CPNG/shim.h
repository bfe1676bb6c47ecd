#ifndef CPNG_SHIM_H
#define CPNG_SHIM_H
// Only libpng's "simplified API" (png_image_*) is used: it catches libpng's errors
// itself (setjmp/longjmp) and reports them as a return value, so no longjmp ever
// crosses Swift frames.
#include <png.h>
#endif
