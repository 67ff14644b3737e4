// server_structured.cpp — structured-output request fields (server_structured.h). Needs only the
// request types and simdjson (the request fuzzer links it with server_request.cpp alone).
#include "core/server/server_structured.h"
#include "simdjson.h"

using simdjson::dom::element;
using simdjson::dom::element_type;

namespace {

bool refuse(RequestError* err, const std::string& param, const std::string& msg) {
    err->param = param;
    err->message = msg;
    return false;
}

// Sets *out once; a second constraint in the same request is refused.
bool set_kind(StructuredOutput* out, const std::string& kind, const std::string& param, RequestError* err) {
    if (!out->kind.empty())
        return refuse(err, param, "only one kind of structured output may be given ('" + out->param + "' and '" + param + "')");
    out->kind = kind;
    out->param = param;
    return true;
}

// A schema given as an object or as its JSON text.
bool schema_text(element v, const std::string& param, std::string* out, RequestError* err) {
    std::string_view s;
    if (v.type() == element_type::OBJECT || v.type() == element_type::BOOL) *out = simdjson::minify(v);
    else if (!v.get(s)) out->assign(s.data(), s.size());
    else return refuse(err, param, "'" + param + "' must be a JSON Schema (an object or its JSON text)");
    return true;
}

bool choices(element v, const std::string& param, StructuredOutput* out, RequestError* err) {
    simdjson::dom::array a;
    if (v.get(a) || a.size() == 0) return refuse(err, param, "'" + param + "' must be a non-empty array of strings");
    if (!set_kind(out, "choice", param, err)) return false;
    for (element x : a) {
        std::string_view s;
        if (x.get(s)) return refuse(err, param, "'" + param + "' must be a non-empty array of strings");
        out->choices.emplace_back(s);
    }
    return true;
}

bool regex(element v, const std::string& param, StructuredOutput* out, RequestError* err) {
    std::string_view s;
    if (v.get(s)) return refuse(err, param, "'" + param + "' must be a string");
    if (!set_kind(out, "regex", param, err)) return false;
    out->text.assign(s.data(), s.size());
    return true;
}

bool grammar(element v, const std::string& param, StructuredOutput* out, RequestError* err) {
    std::string_view s;
    if (v.get(s)) return refuse(err, param, "'" + param + "' must be a string (a GBNF grammar)");
    if (!set_kind(out, "grammar", param, err)) return false;
    out->text.assign(s.data(), s.size());
    return true;
}

bool response_format(element v, StructuredOutput* out, RequestError* err) {
    const std::string p = "response_format";
    std::string_view type;
    if (v.type() != element_type::OBJECT || v["type"].get(type))
        return refuse(err, p, "'response_format' must be an object with a 'type'");
    if (type == "text") return true;
    if (type == "json_object") return set_kind(out, "json_object", p, err);
    if (type != "json_schema")
        return refuse(err, p, "response_format type '" + std::string(type) +
                                  "' is not supported (only 'text', 'json_object' and 'json_schema')");
    element js, schema;
    if (v["json_schema"].get(js) || js.type() != element_type::OBJECT)
        return refuse(err, p, "response_format 'json_schema' needs a 'json_schema' object");
    if (js["schema"].get(schema)) return refuse(err, p, "response_format 'json_schema' needs 'json_schema.schema'");
    if (!set_kind(out, "json_schema", p, err)) return false;
    return schema_text(schema, p, &out->text, err);
}

bool structured_outputs(element v, StructuredOutput* out, RequestError* err) {
    const std::string p = "structured_outputs";
    if (v.type() != element_type::OBJECT) return refuse(err, p, "'structured_outputs' must be an object");
    for (auto f : simdjson::dom::object(v)) {
        std::string_view k = f.key;
        element x = f.value;
        if (x.type() == element_type::NULL_VALUE) continue;
        if (k == "json") {
            if (!set_kind(out, "json_schema", p, err) || !schema_text(x, p + ".json", &out->text, err)) return false;
        } else if (k == "regex") {
            if (!regex(x, p, out, err)) return false;
        } else if (k == "choice") {
            if (!choices(x, p, out, err)) return false;
        } else if (k == "json_object") {
            if (x.type() != element_type::BOOL) return refuse(err, p, "'structured_outputs.json_object' must be a boolean");
            if (x.get_bool().value_unsafe() && !set_kind(out, "json_object", p, err)) return false;
        } else if (k == "grammar") {
            if (!grammar(x, p, out, err)) return false;
        } else if (k == "structural_tag") {
            return refuse(err, p, "'structured_outputs.structural_tag' is not supported (use json, regex, choice or grammar)");
        }
        // backend and whitespace options do not change what is valid output: ignored
    }
    return true;
}

}  // namespace

bool structured_output_key(std::string_view key) {
    return key == "response_format" || key == "guided_json" || key == "guided_regex" || key == "guided_choice" ||
           key == "guided_grammar" || key == "structured_outputs";
}

bool parse_structured_output(std::string_view key, const element& v, StructuredOutput* out, RequestError* err) {
    if (v.type() == element_type::NULL_VALUE) return true;
    if (key == "response_format") return response_format(v, out, err);
    if (key == "structured_outputs") return structured_outputs(v, out, err);
    if (key == "guided_json")
        return set_kind(out, "json_schema", "guided_json", err) && schema_text(v, "guided_json", &out->text, err);
    if (key == "guided_regex") return regex(v, "guided_regex", out, err);
    if (key == "guided_choice") return choices(v, "guided_choice", out, err);
    if (key == "guided_grammar") return grammar(v, "guided_grammar", out, err);
    return refuse(err, std::string(key), "'" + std::string(key) + "' is not a structured-output field");
}
