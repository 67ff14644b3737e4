// tool_parser.cpp — the shared machinery of the tool-call parsers and the hermes, llama3_json and
// mistral formats (see tool_parser.h); qwen3_coder is in tool_parser_qwen3_coder.cpp.
#include "core/server/tool_parser.h"

#include <algorithm>
#include "core/server/json_thread_parser.h"
#include "core/server/tool_parser_impl.h"

using simdjson::dom::element;
using simdjson::dom::element_type;

// ---- shared helpers ----

bool is_ws(char c) { return c == ' ' || c == '\n' || c == '\t' || c == '\r'; }

size_t skip_ws(std::string_view s, size_t i) {
    while (i < s.size() && is_ws(s[i])) i++;
    return i;
}

size_t partial_marker(std::string_view s, std::string_view marker) {
    size_t n = std::min(s.size(), marker.size() - 1);
    for (; n > 0; n--)
        if (s.substr(s.size() - n) == marker.substr(0, n)) return n;
    return 0;
}

LitMatch match_lit(std::string_view s, size_t i, std::string_view lit) {
    std::string_view rest = s.substr(std::min(i, s.size()));
    if (rest.size() >= lit.size()) return rest.substr(0, lit.size()) == lit ? LIT_MATCH : LIT_NO;
    return lit.substr(0, rest.size()) == rest ? LIT_PREFIX : LIT_NO;
}

JsonScan json_scan_value(std::string_view s, size_t start, size_t* end) {
    std::string stack;
    bool in_str = false, esc = false;
    for (size_t i = start; i < s.size(); i++) {
        char c = s[i];
        if (in_str) {
            if (esc) esc = false;
            else if (c == '\\') esc = true;
            else if (c == '"') in_str = false;
            continue;
        }
        if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            stack.push_back(c == '{' ? '}' : ']');
        } else if (c == '}' || c == ']') {
            if (stack.empty() || stack.back() != c) return JSON_INVALID;
            stack.pop_back();
            if (stack.empty()) {
                *end = i + 1;
                return JSON_COMPLETE;
            }
        }
    }
    return JSON_INCOMPLETE;
}

// Parses json as one value into *out (valid while the thread's parser is not reused; buffers grown
// for a large value are given back at the next small one, json_thread_parser.h).
static bool json_parse(std::string_view json, element* out) {
    thread_local simdjson::dom::parser parser;
    json_parser_fit(&parser, json.size());
    auto r = parser.parse(json.data(), json.size(), true);
    if (r.error()) return false;
    *out = r.value_unsafe();
    return true;
}

bool json_minify_value(std::string_view json, std::string* minified) {
    element v;
    if (!json_parse(json, &v)) return false;
    *minified = simdjson::minify(v);
    return true;
}

// The call in v (an element of a parsed document).
static bool call_from_element(element v, std::string* name, std::string* arguments) {
    if (v.type() != element_type::OBJECT) return false;
    element n, a;
    std::string_view sv;
    if (v["name"].get(n) || n.get(sv) || sv.empty()) return false;
    bool has_args = !v["arguments"].get(a) || !v["parameters"].get(a);
    std::string args = "{}";
    if (has_args) {
        if (a.type() == element_type::OBJECT) {
            args = simdjson::minify(a);
        } else if (a.type() == element_type::STRING) {  // arguments given as JSON text
            std::string_view text = a.get_string().value_unsafe();
            size_t i = skip_ws(text, 0), end = 0;
            if (i >= text.size() || text[i] != '{' || json_scan_value(text, i, &end) != JSON_COMPLETE ||
                skip_ws(text, end) != text.size())
                return false;
            simdjson::dom::parser inner;
            auto r = inner.parse(text.data(), text.size(), true);
            if (r.error() || r.value_unsafe().type() != element_type::OBJECT) return false;
            args = simdjson::minify(r.value_unsafe());
        } else {
            return false;
        }
    }
    name->assign(sv.data(), sv.size());
    *arguments = std::move(args);
    return true;
}

bool tool_call_from_json(std::string_view json, std::string* name, std::string* arguments) {
    element v;
    return json_parse(json, &v) && call_from_element(v, name, arguments);
}

bool tool_calls_from_json_array(std::string_view json, std::vector<std::pair<std::string, std::string>>* calls) {
    element v;
    simdjson::dom::array arr;
    if (!json_parse(json, &v) || v.get(arr)) return false;
    std::vector<std::pair<std::string, std::string>> got;
    for (element x : arr) {
        std::string name, args;
        if (!call_from_element(x, &name, &args)) return false;
        got.emplace_back(std::move(name), std::move(args));
    }
    if (got.empty()) return false;
    calls->insert(calls->end(), got.begin(), got.end());
    return true;
}

// ---- ToolCallParser ----

void ToolCallParser::push(const std::string& text, ToolParseOut* out) {
    buf_ += text;
    step(false, out);
}

void ToolCallParser::finish(ToolParseOut* out) {
    step(true, out);
    if (!buf_.empty()) {  // a format leaves nothing undecided at the end; be safe anyway
        emit_text(buf_, out);
        buf_.clear();
    }
    if (n_calls_ == 0) out->content += ws_;
    ws_.clear();
}

void ToolCallParser::emit_text(const std::string& s, ToolParseOut* out) {
    size_t first = 0;
    if (n_calls_ > 0 && !any_content_) {  // whitespace after calls that nothing preceded is dropped
        ws_.clear();
        while (first < s.size() && is_ws(s[first])) first++;
    }
    size_t last = s.size();
    while (last > first && is_ws(s[last - 1])) last--;
    if (last == first) {
        ws_.append(s, first, std::string::npos);
        return;
    }
    out->content += ws_;
    out->content.append(s, first, last - first);
    any_content_ = true;
    ws_.assign(s, last, std::string::npos);
}

// splitmix64: ids differ per call and follow from the seed alone.
static uint64_t next_random(uint64_t* state) {
    uint64_t z = (*state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

void ToolCallParser::emit_call(const std::string& name, const std::string& arguments, ToolParseOut* out) {
    ws_.clear();
    ToolCall c;
    c.id = "chatcmpl-tool-";
    static const char hex[] = "0123456789abcdef";
    for (int k = 0; k < 2; k++) {
        uint64_t r = next_random(&id_state_);
        for (int i = 0; i < 16; i++) c.id.push_back(hex[(r >> (60 - 4 * i)) & 15]);
    }
    c.name = name;
    c.arguments = arguments;
    out->calls.push_back(std::move(c));
    n_calls_++;
}

// ---- marker-delimited blocks ----

void MarkerToolParser::step(bool at_end, ToolParseOut* out) {
    for (;;) {
        if (!in_block_) {
            size_t p = buf_.find(marker_);
            if (p == std::string::npos) {
                size_t keep = at_end ? 0 : partial_marker(buf_, marker_);
                emit_text(buf_.substr(0, buf_.size() - keep), out);
                buf_.erase(0, buf_.size() - keep);
                return;
            }
            emit_text(buf_.substr(0, p), out);
            buf_.erase(0, p + marker_.size());
            in_block_ = true;
        }
        size_t used = 0;
        std::vector<std::pair<std::string, std::string>> calls;
        BlockResult r = parse_block(buf_, at_end, &used, &calls);
        if (r == BLOCK_NEED_MORE) {
            if (!at_end) return;
            r = BLOCK_BAD;
            used = buf_.size();
        }
        if (r == BLOCK_OK) {
            for (const auto& c : calls) emit_call(c.first, c.second, out);
        } else {
            emit_text(marker_ + buf_.substr(0, used), out);
        }
        buf_.erase(0, used);
        in_block_ = false;
    }
}

// ---- hermes ----

namespace {

const char k_tool_call_end[] = "</tool_call>";

class HermesParser : public MarkerToolParser {
public:
    explicit HermesParser(uint64_t seed) : MarkerToolParser("<tool_call>", seed) {}

protected:
    BlockResult parse_block(std::string_view body, bool at_end, size_t* used,
                            std::vector<std::pair<std::string, std::string>>* calls) override {
        *used = 0;
        size_t i = skip_ws(body, 0), end = 0;
        if (i == body.size()) return BLOCK_NEED_MORE;
        if (body[i] != '{') return BLOCK_BAD;
        JsonScan js = json_scan_value(body, i, &end);
        if (js == JSON_INCOMPLETE) return BLOCK_NEED_MORE;
        std::string name, args;
        if (js == JSON_INVALID || !tool_call_from_json(body.substr(i, end - i), &name, &args)) return BLOCK_BAD;
        size_t j = skip_ws(body, end);
        LitMatch m = match_lit(body, j, k_tool_call_end);
        if (m == LIT_NO) return BLOCK_BAD;
        if (m == LIT_PREFIX && !at_end) return BLOCK_NEED_MORE;
        // a complete call whose closing tag never came (the text ended) is still a call
        *used = m == LIT_MATCH ? j + sizeof(k_tool_call_end) - 1 : body.size();
        calls->emplace_back(std::move(name), std::move(args));
        return BLOCK_OK;
    }
};

// ---- mistral ----

bool is_name_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' ||
           c == '.';
}

class MistralParser : public MarkerToolParser {
public:
    explicit MistralParser(uint64_t seed) : MarkerToolParser("[TOOL_CALLS]", seed) {}

protected:
    BlockResult parse_block(std::string_view body, bool, size_t* used,
                            std::vector<std::pair<std::string, std::string>>* calls) override {
        *used = 0;
        size_t i = skip_ws(body, 0), end = 0;
        if (i == body.size()) return BLOCK_NEED_MORE;
        if (body[i] == '[') {  // [TOOL_CALLS][{"name": ..., "arguments": {...}}, ...]
            JsonScan js = json_scan_value(body, i, &end);
            if (js == JSON_INCOMPLETE) return BLOCK_NEED_MORE;
            if (js == JSON_INVALID || !tool_calls_from_json_array(body.substr(i, end - i), calls)) return BLOCK_BAD;
            *used = end;
            return BLOCK_OK;
        }
        // [TOOL_CALLS]name[ARGS]{...}
        static const char args_tag[] = "[ARGS]";
        size_t n = i;
        while (n < body.size() && is_name_char(body[n])) n++;
        if (n == i) return BLOCK_BAD;
        LitMatch m = match_lit(body, n, args_tag);
        if (m == LIT_NO) return BLOCK_BAD;
        if (m == LIT_PREFIX) return BLOCK_NEED_MORE;
        size_t a = skip_ws(body, n + sizeof(args_tag) - 1);
        if (a == body.size()) return BLOCK_NEED_MORE;
        if (body[a] != '{') return BLOCK_BAD;
        JsonScan js = json_scan_value(body, a, &end);
        if (js == JSON_INCOMPLETE) return BLOCK_NEED_MORE;
        std::string args;
        if (js == JSON_INVALID || !json_minify_value(body.substr(a, end - a), &args)) return BLOCK_BAD;
        calls->emplace_back(std::string(body.substr(i, n - i)), std::move(args));
        *used = end;
        return BLOCK_OK;
    }
};

// ---- llama3_json ----

// The whole message is calls: [<|python_tag|>]{call}[; {call}]... Anything else is content, and
// once text is known not to be a call, the rest of the message passes through unchanged.
class Llama3JsonParser : public ToolCallParser {
public:
    explicit Llama3JsonParser(uint64_t seed) : ToolCallParser(seed) {}

protected:
    void step(bool at_end, ToolParseOut* out) override {
        static const char tag[] = "<|python_tag|>";
        while (!pass_ && !buf_.empty()) {
            size_t i = skip_ws(buf_, 0), end = 0;
            if (n_calls() > 0) {  // "; " between calls
                if (i == buf_.size()) break;
                if (buf_[i] != ';') { pass_ = true; break; }
                i = skip_ws(buf_, i + 1);
            } else {
                LitMatch m = match_lit(buf_, i, tag);
                if (m == LIT_MATCH) i = skip_ws(buf_, i + sizeof(tag) - 1);
                else if (m == LIT_PREFIX && i < buf_.size()) break;  // "<|pyth..." so far
            }
            if (i == buf_.size()) break;
            if (buf_[i] != '{') { pass_ = true; break; }
            JsonScan js = json_scan_value(buf_, i, &end);
            if (js == JSON_INCOMPLETE) break;
            std::string name, args;
            if (js == JSON_INVALID || !tool_call_from_json(std::string_view(buf_).substr(i, end - i), &name, &args)) {
                pass_ = true;
                break;
            }
            emit_call(name, args, out);
            buf_.erase(0, end);
        }
        if (!pass_ && at_end && !buf_.empty()) {
            // unfinished: a lone trailing ';' or whitespace after the calls is dropped
            size_t i = skip_ws(buf_, 0);
            if (n_calls() > 0 && i < buf_.size() && buf_[i] == ';') i = skip_ws(buf_, i + 1);
            if (n_calls() > 0 && i == buf_.size()) buf_.clear();
            else pass_ = true;
        }
        if (pass_) {
            emit_text(buf_, out);
            buf_.clear();
        }
    }

private:
    bool pass_ = false;  // the rest of the message is content
};

}  // namespace

const std::vector<std::string>& tool_parser_names() {
    static const std::vector<std::string> names = {"hermes", "llama3_json", "mistral", "qwen3_coder"};
    return names;
}

bool tool_parser_known(const std::string& name) {
    for (const std::string& n : tool_parser_names())
        if (n == name) return true;
    return false;
}

std::unique_ptr<ToolCallParser> tool_parser_create(const std::string& name, const std::string& tools_json,
                                                   uint64_t id_seed) {
    if (name == "hermes") return std::unique_ptr<ToolCallParser>(new HermesParser(id_seed));
    if (name == "llama3_json") return std::unique_ptr<ToolCallParser>(new Llama3JsonParser(id_seed));
    if (name == "mistral") return std::unique_ptr<ToolCallParser>(new MistralParser(id_seed));
    if (name == "qwen3_coder") return qwen3_coder_parser_create(tools_json, id_seed);
    return nullptr;
}
