// bench_sse.h — incremental parser of a text/event-stream body (the WHATWG "server-sent events"
// format OpenAI-compatible servers stream with). Bytes arrive in arbitrary pieces; each complete
// event's data is handed to a callback as soon as its terminating blank line arrives, so the
// caller can time every chunk as it lands.
#pragma once
#include <functional>
#include <string>

class SseParser {
public:
    // on_data gets the event's data (its "data:" lines joined with '\n'); returning false stops
    // the parser (feed() then returns false and ignores further input).
    explicit SseParser(std::function<bool(const std::string& data)> on_data);
    // Consumes a piece of the body. Lines end with "\n", "\r\n" or "\r", also when split across
    // pieces. Comment lines (":...") and fields other than data are ignored. Returns false once
    // the callback has asked to stop.
    bool feed(const char* p, size_t n);
    // End of body: dispatches a last event that lacked its blank line (lenient; the standard
    // drops it). Returns false if the callback asked to stop.
    bool finish();
    size_t n_events() const { return n_events_; }

private:
    bool line(const std::string& l);
    bool dispatch();
    std::function<bool(const std::string&)> on_data_;
    std::string line_, data_;
    bool has_data_ = false, last_cr_ = false, stopped_ = false;
    size_t n_events_ = 0;
};
