// log.h — logging to stderr with a level and a timestamp. Start-up errors meant for the operator
// are printed by the commands themselves (core/cli), which then exit non-zero.
#pragma once
#include <stdarg.h>

void log_info(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
// Quiets log_info (tests that would otherwise print every start-up line).
void log_set_quiet(bool quiet);
