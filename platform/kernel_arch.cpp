// kernel_arch.cpp — the kernel architecture names and limits shared by every platform (see
// platform.h: plat_parse_kernel_arch, plat_arch_smem_cap).
#include "platform/platform.h"
#include <string.h>
#include <strings.h>

int plat_parse_kernel_arch(const char* s) {
    if (!s || !*s || !strcasecmp(s, "native") || !strcasecmp(s, "auto")) return 0;
    if (!strncasecmp(s, "sm_", 3)) s += 3;
    else if (!strncasecmp(s, "sm", 2)) s += 2;
    if (!strcasecmp(s, "80")) return 80;
    if (!strcasecmp(s, "89")) return 89;
    if (!strcasecmp(s, "90") || !strcasecmp(s, "90a")) return 90;
    return -1;
}

size_t plat_arch_smem_cap(int arch) {
    switch (arch) {
    case 80: return (size_t)163 * 1024;
    case 89: return (size_t)99 * 1024;
    case 90: return (size_t)227 * 1024;
    default: return 0;
    }
}
