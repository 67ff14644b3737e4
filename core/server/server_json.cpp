// server_json.cpp — JSON string escaping, number formatting and OpenAI error bodies.
#include "core/server/server_json.h"

#include <math.h>
#include <stdio.h>

void json_append_str(std::string* out, std::string_view s) {
    static const char hex[] = "0123456789abcdef";
    out->push_back('"');
    for (unsigned char c : s) {
        switch (c) {
        case '"': out->append("\\\""); break;
        case '\\': out->append("\\\\"); break;
        case '\n': out->append("\\n"); break;
        case '\r': out->append("\\r"); break;
        case '\t': out->append("\\t"); break;
        case '\b': out->append("\\b"); break;
        case '\f': out->append("\\f"); break;
        default:
            if (c < 0x20 || c == 0x7f) {
                out->append("\\u00");
                out->push_back(hex[c >> 4]);
                out->push_back(hex[c & 15]);
            } else {
                out->push_back((char)c);
            }
        }
    }
    out->push_back('"');
}

std::string json_str(std::string_view s) {
    std::string out;
    json_append_str(&out, s);
    return out;
}

void json_append_num(std::string* out, double x) {
    if (!isfinite(x)) { out->append("-9999.0"); return; }
    char buf[40];
    int n = snprintf(buf, sizeof buf, "%.9g", x);
    out->append(buf, (size_t)n);
}

std::string json_num(double x) {
    std::string out;
    json_append_num(&out, x);
    return out;
}

const char* openai_error_type(int status) {
    switch (status) {
    case 400: case 413: case 422: return "invalid_request_error";
    case 401: return "authentication_error";
    case 404: return "not_found_error";
    case 429: return "rate_limit_error";
    case 503: return "service_unavailable_error";
    case 504: return "timeout_error";
    default: return status >= 500 ? "server_error" : "invalid_request_error";
    }
}

std::string openai_error_body(int status, const std::string& message, const std::string& param) {
    std::string out = "{\"error\":{\"message\":";
    json_append_str(&out, message);
    out += ",\"type\":";
    json_append_str(&out, openai_error_type(status));
    out += ",\"param\":";
    if (param.empty()) out += "null";
    else json_append_str(&out, param);
    out += ",\"code\":" + std::to_string(status) + "}}";
    return out;
}
