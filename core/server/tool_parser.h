// tool_parser.h — tool calls in a chat model's generated text, found as the text streams in.
// One parser per choice is fed the choice's text in whatever pieces it arrives and returns, per
// piece, the content that is now final and the calls that are now complete. The whole answer is
// the concatenation of those results, so a streamed and a non-streamed answer split the same text
// identically.
//
// Formats (vLLM's --tool-call-parser names):
//   hermes       <tool_call>\n{"name": N, "arguments": {...}}\n</tool_call>, any number of them
//                (Qwen2.5, Qwen3, Hermes)
//   llama3_json  the whole message is {"name": N, "parameters": {...}} (or "arguments"), optionally
//                after <|python_tag|>, several separated by ';' (Llama 3.1 / 3.2)
//   mistral      [TOOL_CALLS] followed by a JSON array of {"name","arguments"} objects, or the
//                newer [TOOL_CALLS]N[ARGS]{...} form, once per call
//   qwen3_coder  <tool_call>\n<function=N>\n<parameter=P>\nVALUE\n</parameter>...\n</function>\n
//                </tool_call>, each VALUE converted to the JSON type the tool's schema gives P
//
// Contract: a call is returned only once it is complete, so nothing is ever taken back: text that
// could still begin a call (a partial "<tool_call" or "[TOOL_CALLS") is held, and a call that is
// malformed or never completes (generation ended by max_tokens) is returned as content, exactly
// as generated. Whitespace directly before a call, between calls, after the last call, and at the
// start of content that follows calls with no content before them is dropped; when no call is
// found the content is the input unchanged. Never throws.
#pragma once
#include <stdint.h>
#include <memory>
#include <string>
#include <vector>

struct ToolCall {
    std::string id;         // "chatcmpl-tool-" and 32 hex digits
    std::string name;
    std::string arguments;  // a JSON object as minified text
};

// What one push (or finish) made final.
struct ToolParseOut {
    std::string content;
    std::vector<ToolCall> calls;   // in order; their indices continue from earlier pushes
};

class ToolCallParser {
public:
    virtual ~ToolCallParser() = default;
    // Appends generated text; adds what became final to *out.
    void push(const std::string& text, ToolParseOut* out);
    // The text has ended: completes or releases everything still held.
    void finish(ToolParseOut* out);
    int n_calls() const { return n_calls_; }

protected:
    explicit ToolCallParser(uint64_t id_seed) : id_state_(id_seed) {}
    // Consumes as much of buf_ as can be decided; at_end: no more text will come.
    virtual void step(bool at_end, ToolParseOut* out) = 0;
    // Content, holding back trailing whitespace until it is known not to precede a call.
    void emit_text(const std::string& s, ToolParseOut* out);
    void emit_call(const std::string& name, const std::string& arguments, ToolParseOut* out);

    std::string buf_;  // text received and not yet decided

private:
    std::string ws_;   // whitespace after the last content, held
    bool any_content_ = false;
    int n_calls_ = 0;
    uint64_t id_state_;
};

// The --tool-call-parser names edgellm has ("hermes, llama3_json, mistral, qwen3_coder").
const std::vector<std::string>& tool_parser_names();
bool tool_parser_known(const std::string& name);

// A parser for name (one of tool_parser_names(), else nullptr). tools_json is the request's
// "tools" array (the parameter types qwen3_coder converts values to; "" or malformed: every value
// is a string). Call ids are drawn from id_seed, so equal seeds give equal ids.
std::unique_ptr<ToolCallParser> tool_parser_create(const std::string& name, const std::string& tools_json,
                                                   uint64_t id_seed);

// The parser of an answer constrained by tool_choice (server_grammar.cpp's schema): for
// "required" (function_name "") the whole text is a JSON array of {"name", "parameters"}, for a
// named function it is that function's arguments object. Everything is held until the end; text
// that does not parse (an answer cut by max_tokens) is returned as content.
std::unique_ptr<ToolCallParser> tool_parser_forced(const std::string& function_name, uint64_t id_seed);
