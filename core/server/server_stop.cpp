// server_stop.cpp — stop-string matching with hold-back of possible stop-string prefixes.
#include "core/server/server_stop.h"

StopChecker::StopChecker(std::vector<std::string> stops, bool include_stop_str)
    : stops_(std::move(stops)), include_(include_stop_str) {}

std::string StopChecker::push(const std::string& text, bool* stopped) {
    *stopped = stopped_;
    if (stopped_) return "";
    if (stops_.empty()) return text;
    pending_ += text;
    // Earliest completed stop string wins (the longer one when two start at the same place).
    size_t best = std::string::npos, best_len = 0;
    for (const std::string& s : stops_) {
        size_t p = pending_.find(s);
        if (p != std::string::npos && (p < best || (p == best && s.size() > best_len))) {
            best = p;
            best_len = s.size();
            matched_ = s;
        }
    }
    if (best != std::string::npos) {
        std::string out = pending_.substr(0, include_ ? best + best_len : best);
        pending_.clear();
        stopped_ = *stopped = true;
        return out;
    }
    // Hold back the longest suffix that is a proper prefix of some stop string.
    size_t hold = 0;
    for (const std::string& s : stops_) {
        size_t max_k = std::min(s.size() - 1, pending_.size());
        for (size_t k = max_k; k > hold; k--)
            if (pending_.compare(pending_.size() - k, k, s, 0, k) == 0) { hold = k; break; }
    }
    std::string out = pending_.substr(0, pending_.size() - hold);
    pending_.erase(0, pending_.size() - hold);
    return out;
}

std::string StopChecker::finish() {
    std::string out;
    out.swap(pending_);
    return stopped_ ? "" : out;
}
