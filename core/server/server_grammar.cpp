// server_grammar.cpp — a request's structured output compiled into the grammar the engine
// applies: the vocabulary trie is built from the tokenizer on first use, grammars come from the
// server's GrammarCache (one compilation per distinct schema, regex or choice list). Chat's
// tool_choice "required" and named functions become a JSON Schema over the request's tools.
#include "core/grammar/grammar_matcher.h"
#include "core/server/server_impl.h"
#include "core/server/server_json.h"
#include "core/text/tokenizer.h"
#include "simdjson.h"

bool ServerImpl::attach_grammar(const GenerationFields& g, SamplingParams* p, httplib::Response& res) {
    const StructuredOutput& so = g.structured;
    if (so.kind.empty()) return true;
    std::call_once(grammar_once, [this] {
        auto trie = std::make_shared<TokenTrie>();
        token_trie_from_tokenizer(*model.tokenizer, model.vocab_size, trie.get());
        grammars.reset(new GrammarCache(trie, GrammarLimits()));
    });
    GrammarSpec spec;
    spec.kind = so.kind == "json_schema" ? GrammarKind::JSON_SCHEMA
              : so.kind == "regex"       ? GrammarKind::REGEX
              : so.kind == "choice"      ? GrammarKind::CHOICE
              : so.kind == "grammar"     ? GrammarKind::GBNF
                                         : GrammarKind::JSON_OBJECT;
    spec.text = so.text;
    spec.choices = so.choices;
    std::string err;
    p->grammar = grammars->get(spec, &err);
    if (!p->grammar) {
        reply_error(res, 400, "'" + so.param + "' cannot be used: " + err, so.param);
        return false;
    }
    return true;
}

// The schema of what tool_choice "required" (a non-empty array of {"name", "parameters"}, vLLM's
// shape) or a named function (its parameters object) constrains the answer to. False with *err
// when the tools or the name do not fit.
static bool tool_choice_schema(const ChatRequest& cr, std::string* schema, std::string* err) {
    simdjson::dom::parser parser;
    simdjson::dom::array tools;
    if (parser.parse(cr.tools_json).get(tools)) {
        *err = "'tools' must be an array of functions";
        return false;
    }
    std::string alts;
    for (simdjson::dom::element t : tools) {
        std::string_view name;
        simdjson::dom::element fn, params;
        if (t["function"].get(fn) || fn["name"].get(name)) {
            *err = "every tool must be {\"type\": \"function\", \"function\": {\"name\": ...}}";
            return false;
        }
        std::string p = fn["parameters"].get(params) ? "{\"type\":\"object\"}" : simdjson::minify(params);
        if (cr.tool_choice == "function" && name == cr.tool_choice_function) {
            *schema = p;
            return true;
        }
        if (!alts.empty()) alts += ",";
        alts += "{\"type\":\"object\",\"properties\":{\"name\":{\"const\":" + json_str(name) + "},\"parameters\":" + p +
                "},\"required\":[\"name\",\"parameters\"]}";
    }
    if (cr.tool_choice == "function") {
        *err = "Tool '" + cr.tool_choice_function + "' has not been passed in `tools`.";
        return false;
    }
    *schema = "{\"type\":\"array\",\"minItems\":1,\"items\":{\"anyOf\":[" + alts + "]}}";
    return true;
}

bool ServerImpl::attach_tool_choice(ChatRequest& cr, httplib::Response& res) {
    if (cr.tool_choice != "required" && cr.tool_choice != "function") return true;
    if (!cr.gen.structured.kind.empty()) {
        reply_error(res, 400, "tool_choice '" + cr.tool_choice + "' cannot be combined with '" + cr.gen.structured.param + "'",
                    "tool_choice");
        return false;
    }
    std::string err;
    StructuredOutput& so = cr.gen.structured;
    if (!tool_choice_schema(cr, &so.text, &err)) {
        reply_error(res, 400, err, "tool_choice");
        return false;
    }
    so.kind = "json_schema";
    so.param = "tool_choice";
    return true;
}
