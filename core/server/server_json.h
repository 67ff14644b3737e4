// server_json.h — the small JSON writer the HTTP server answers with (string escaping, numbers)
// and OpenAI's error body. Output is always valid JSON: strings are escaped per RFC 8259 and
// non-finite numbers, which JSON cannot carry, are written as -9999.0 like vLLM's logprobs.
#pragma once
#include <stdint.h>
#include <string>
#include <string_view>

// Appends s as a quoted JSON string. s is expected to be UTF-8; bytes >= 0x80 pass through.
void json_append_str(std::string* out, std::string_view s);
std::string json_str(std::string_view s);
// Appends a double (shortest form that round-trips a float: %.9g; non-finite as -9999.0).
void json_append_num(std::string* out, double x);
std::string json_num(double x);

// OpenAI's error type for an HTTP status ("invalid_request_error", "authentication_error", ...).
const char* openai_error_type(int status);
// {"error":{"message":..., "type":..., "param": null|"...", "code": status}}
std::string openai_error_body(int status, const std::string& message, const std::string& param = "");
