// server_stop.h — stop strings checked on generated text as it streams. Text that could still be
// the beginning of a stop string is held back until it either completes one (then generation of
// that choice ends) or cannot any more (then it is released). The input is whole UTF-8 characters
// (from IncrementalDetokenizer), and so is every piece returned.
#pragma once
#include <string>
#include <vector>

class StopChecker {
public:
    StopChecker(std::vector<std::string> stops, bool include_stop_str);

    // Appends text; returns the text that is now final. When a stop string completes, *stopped is
    // set, the returned text ends just before it (or after it with include_stop_str) and every
    // later push returns "".
    std::string push(const std::string& text, bool* stopped);
    // Generation ended without a stop string: releases what was held back.
    std::string finish();
    bool stopped() const { return stopped_; }
    const std::string& matched() const { return matched_; }   // the stop string that ended it

private:
    std::vector<std::string> stops_;
    bool include_;
    bool stopped_ = false;
    std::string pending_;
    std::string matched_;
};
