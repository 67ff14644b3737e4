// safetensors_util.h — helpers shared by safetensors.cpp and safetensors_dir.cpp; not for
// other modules.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <string>

// Sets *err (if non-null) to msg; returns false, so callers can `return st_fail(err, ...)`.
bool st_fail(std::string* err, const std::string& msg);
// 'name' in single quotes for messages: control bytes, quotes and backslashes escaped as \xNN,
// cut at 200 bytes.
std::string st_quote(const std::string& s);
// Offset of the first byte of s[0..n) that does not start a valid UTF-8 sequence (overlong
// forms, surrogates and code points past U+10FFFF are invalid); (size_t)-1 when all is valid.
size_t st_utf8_error_offset(const uint8_t* s, size_t n);
