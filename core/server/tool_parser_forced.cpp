// tool_parser_forced.cpp — tool calls of an answer that a grammar constrained to the calls' JSON
// (tool_choice "required" or a named function; see tool_parser.h). The text is only decided at
// its end: a complete answer is calls and no content, an incomplete one is content as generated.
#include "core/server/tool_parser.h"
#include "simdjson.h"

namespace {

class ForcedToolParser : public ToolCallParser {
public:
    ForcedToolParser(const std::string& name, uint64_t seed) : ToolCallParser(seed), name_(name) {}

protected:
    void step(bool at_end, ToolParseOut* out) override {
        if (!at_end) return;
        std::string text;
        text.swap(buf_);
        simdjson::dom::parser parser;
        simdjson::dom::element root;
        if (parser.parse(text).get(root)) return emit_text(text, out);
        if (!name_.empty()) {
            if (root.type() != simdjson::dom::element_type::OBJECT) return emit_text(text, out);
            return emit_call(name_, simdjson::minify(root), out);
        }
        simdjson::dom::array calls;
        if (root.get(calls) || calls.size() == 0) return emit_text(text, out);
        for (simdjson::dom::element c : calls) {  // all well-formed first: a call is never taken back
            std::string_view n;
            simdjson::dom::element args;
            if (c["name"].get(n) || c["parameters"].get(args)) return emit_text(text, out);
        }
        for (simdjson::dom::element c : calls)
            emit_call(std::string(c["name"].get_string().value_unsafe()), simdjson::minify(c["parameters"].value_unsafe()), out);
    }

private:
    std::string name_;
};

}  // namespace

std::unique_ptr<ToolCallParser> tool_parser_forced(const std::string& function_name, uint64_t id_seed) {
    return std::unique_ptr<ToolCallParser>(new ForcedToolParser(function_name, id_seed));
}
