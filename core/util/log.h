// log.h — logging to stderr with a level and a timestamp; fatal() for start-up errors that stop
// the process (bad flags, unreadable model) with a message meant for the operator.
#pragma once
#include <stdarg.h>

void log_info(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
[[noreturn]] void fatal(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
// Quiets log_info (tests, --quiet).
void log_set_quiet(bool quiet);
