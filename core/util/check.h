// check.h — the invariant check of host code (scheduler, KV pool, engine, model set-up).
// CHECK(cond, msg): when cond is false, prints the message, the failed condition, the function
// and file:line to stderr and exits(1). A failed CHECK is a bug in edgellm, never a bad request:
// requests are validated before they reach code that checks. Device code and the device API keep
// their own macros (PLAT_ASSERT and the vendor checks in platform/).
#pragma once

[[noreturn]] void check_fail(const char* cond, const char* msg, const char* func, const char* file,
                             int line);

#define CHECK(cond, msg) \
    do { if (!(cond)) check_fail(#cond, (msg), __func__, __FILE__, __LINE__); } while (0)
