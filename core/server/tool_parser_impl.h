// tool_parser_impl.h — what the tool-call formats share (tool_parser*.cpp only): JSON values found
// in a growing text, calls read from JSON, markers that may be cut at the end of a piece, and the
// marker-delimited block scanner that hermes, mistral and qwen3_coder are built on.
#pragma once
#include <stddef.h>
#include <string>
#include <string_view>
#include <vector>
#include "core/server/tool_parser.h"

enum JsonScan { JSON_COMPLETE, JSON_INCOMPLETE, JSON_INVALID };

// s[start] is '{' or '['; finds the end of that value by bracket depth, outside strings (escapes
// honoured). COMPLETE: *end is one past its closing bracket. INCOMPLETE: s ends inside it.
// INVALID: a closing bracket that does not match. Says nothing else about validity.
JsonScan json_scan_value(std::string_view s, size_t start, size_t* end);

// True when json is one valid JSON value; *minified gets it without insignificant whitespace.
bool json_minify_value(std::string_view json, std::string* minified);

// A call object {"name": non-empty string, "arguments" | "parameters": object} (a missing one
// gives "{}"; a string holding a JSON object is taken as that object). False for anything else.
bool tool_call_from_json(std::string_view json, std::string* name, std::string* arguments);
// A JSON array of call objects; false unless every element is one.
bool tool_calls_from_json_array(std::string_view json, std::vector<std::pair<std::string, std::string>>* calls);

size_t skip_ws(std::string_view s, size_t i);
bool is_ws(char c);
// Length of the longest suffix of s that is a proper prefix of marker (0 when none).
size_t partial_marker(std::string_view s, std::string_view marker);
// s from i: MATCH when it starts with lit, PREFIX when it is a proper prefix of lit (more text may
// complete it; includes the empty rest), NO otherwise.
enum LitMatch { LIT_MATCH, LIT_PREFIX, LIT_NO };
LitMatch match_lit(std::string_view s, size_t i, std::string_view lit);

// A block after a start marker: NEED_MORE (undecided), OK (calls read; *used bytes consumed after
// the marker) or BAD (not a call: the marker and the first *used bytes become content).
enum BlockResult { BLOCK_NEED_MORE, BLOCK_OK, BLOCK_BAD };

// Content with calls that each begin at a marker; the format reads one block after it.
class MarkerToolParser : public ToolCallParser {
protected:
    MarkerToolParser(const char* marker, uint64_t id_seed) : ToolCallParser(id_seed), marker_(marker) {}
    // body: the text after the marker. at_end: no more text will come (NEED_MORE is then BAD with
    // all of body). On OK appends (name, arguments) pairs to *calls.
    virtual BlockResult parse_block(std::string_view body, bool at_end, size_t* used,
                                    std::vector<std::pair<std::string, std::string>>* calls) = 0;
    void step(bool at_end, ToolParseOut* out) override;

private:
    std::string marker_;
    bool in_block_ = false;
};

std::unique_ptr<ToolCallParser> qwen3_coder_parser_create(const std::string& tools_json, uint64_t id_seed);
