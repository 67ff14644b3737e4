// bench_sse.cpp — see bench_sse.h.
#include "core/bench/bench_sse.h"

SseParser::SseParser(std::function<bool(const std::string&)> on_data) : on_data_(std::move(on_data)) {}

bool SseParser::dispatch() {
    if (!has_data_) return true;
    std::string d;
    d.swap(data_);
    has_data_ = false;
    n_events_++;
    if (!on_data_(d)) stopped_ = true;
    return !stopped_;
}

bool SseParser::line(const std::string& l) {
    if (l.empty()) return dispatch();
    if (l[0] == ':') return true;
    size_t colon = l.find(':');
    std::string field = l.substr(0, colon);
    if (field != "data") return true;
    std::string value;
    if (colon != std::string::npos) {
        value = l.substr(colon + 1);
        if (!value.empty() && value[0] == ' ') value.erase(0, 1);
    }
    if (has_data_) data_ += '\n';
    data_ += value;
    has_data_ = true;
    return true;
}

bool SseParser::feed(const char* p, size_t n) {
    if (stopped_) return false;
    for (size_t i = 0; i < n; i++) {
        char c = p[i];
        if (c == '\n' && last_cr_) { last_cr_ = false; continue; }  // second half of "\r\n"
        last_cr_ = (c == '\r');
        if (c == '\n' || c == '\r') {
            std::string l;
            l.swap(line_);
            if (!line(l)) return false;
        } else {
            line_ += c;
        }
    }
    return true;
}

bool SseParser::finish() {
    if (stopped_) return false;
    if (!line_.empty()) {
        std::string l;
        l.swap(line_);
        if (!line(l)) return false;
    }
    return dispatch();
}
