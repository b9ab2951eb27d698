// Small facts about the process that Swift's Glibc module does not expose.
#define _GNU_SOURCE
#include <dlfcn.h>
#include "neurone_kernels.h"
#include "cpu_level.h"

const char *nk_library_path_of(const void *symbol) {
    Dl_info info;
    if (symbol && dladdr(symbol, &info) != 0 && info.dli_fname) return info.dli_fname;
    return 0;
}

int32_t nk_kernel_level(void) { return nk_cpu_level(); }
