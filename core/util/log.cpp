// log.cpp — see log.h. One fprintf per line so lines from threads do not interleave.
#include "core/util/log.h"
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static bool g_quiet = false;
void log_set_quiet(bool quiet) { g_quiet = quiet; }

static void log_line(const char* level, const char* fmt, va_list ap) {
    char msg[4096];
    vsnprintf(msg, sizeof(msg), fmt, ap);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    struct tm tm;
    localtime_r(&ts.tv_sec, &tm);
    fprintf(stderr, "%02d:%02d:%02d.%03ld %s %s\n", tm.tm_hour, tm.tm_min, tm.tm_sec,
            ts.tv_nsec / 1000000, level, msg);
}

void log_info(const char* fmt, ...) {
    if (g_quiet) return;
    va_list ap; va_start(ap, fmt); log_line("INFO", fmt, ap); va_end(ap);
}
void log_warn(const char* fmt, ...) {
    va_list ap; va_start(ap, fmt); log_line("WARN", fmt, ap); va_end(ap);
}
void log_error(const char* fmt, ...) {
    va_list ap; va_start(ap, fmt); log_line("ERROR", fmt, ap); va_end(ap);
}
