// check.cpp — the failure path of CHECK (core/util/check.h).
#include "core/util/check.h"
#include <stdio.h>
#include <stdlib.h>

void check_fail(const char* cond, const char* msg, const char* func, const char* file, int line) {
    fprintf(stderr, "edgellm: fatal: %s\n  failed: %s\n  in %s at %s:%d\n", msg, cond, func, file,
            line);
    fflush(stderr);
    exit(1);
}
