// grammar_schema.cpp — JSON Schema to a GNode tree (strict structured-output semantics).
//
// Keywords: type (one or a list of object, array, string, number, integer, boolean, null),
// properties (written in the order given), required (the others may be left out),
// additionalProperties (no property beyond `properties` is ever written; without properties,
// a schema is the type of every value of a free-form object), items, minItems, maxItems, enum,
// const, anyOf, oneOf (written as anyOf: the branches should not overlap), allOf of one schema,
// pattern (grammar.h's regex subset, matched in full), minLength, maxLength (not both with a
// pattern), minimum / maximum / exclusiveMinimum / exclusiveMaximum on integers (a lower bound
// of 0 or 1, or a range of at most 4096 values), $ref to "#" or a JSON pointer inside the
// document ($defs, definitions), expanded to GrammarLimits::max_ref_depth nested references
// (deeper branches are cut off, so a recursive schema stays finite). A schema without a type
// takes it from its keywords; one with none is any JSON value. Annotations (title, description,
// default, examples, $schema, $id, $comment, deprecated, readOnly, writeOnly, $defs,
// definitions) are ignored. Anything else is refused with its name and location.
#include <math.h>
#include <string.h>
#include <string_view>
#include "core/grammar/grammar.h"
#include "core/grammar/grammar_ast.h"
#include "simdjson.h"

using simdjson::dom::element;
using simdjson::dom::element_type;

namespace {

const int kMaxSchemaNodes = 200000;  // subschemas compiled, $ref expansions included
const int kMaxSchemaNesting = 64;
const int64_t kMaxIntRange = 4096;

const char* const kAnnotations[] = {"title", "description", "default", "examples", "$schema", "$id",
                                    "$comment", "deprecated", "readOnly", "writeOnly", "$defs", "definitions"};
const char* const kKeywords[] = {"type", "properties", "required", "additionalProperties", "items", "minItems",
                                 "maxItems", "enum", "const", "anyOf", "oneOf", "allOf", "pattern", "minLength",
                                 "maxLength", "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "$ref"};

bool in_list(std::string_view k, const char* const* list, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (k == list[i]) return true;
    return false;
}

std::string quote(std::string_view s) {
    std::string o = "\"";
    for (char ch : s) {
        unsigned char c = (unsigned char)ch;
        if (c == '"') o += "\\\"";
        else if (c == '\\') o += "\\\\";
        else if (c < 0x20) {
            char buf[8];
            snprintf(buf, sizeof buf, "\\u%04x", c);
            o += buf;
        } else o += ch;
    }
    return o + "\"";
}

struct SchemaCompiler {
    element root;
    const GrammarLimits& lim;
    std::string err;
    int n_nodes = 0;
    int nesting = 0;

    SchemaCompiler(element r, const GrammarLimits& l) : root(r), lim(l) {}

    GNodeP fail(const std::string& path, const std::string& what) {
        if (err.empty()) err = what + " (at " + (path.empty() ? std::string("the schema root") : path) + ")";
        return nullptr;
    }

    bool get_count(element s, const char* key, const std::string& path, int64_t* out) {
        element v;
        if (s[key].get(v)) return true;
        if (!v.is_int64() || v.get_int64().value_unsafe() < 0) {
            fail(path, std::string("'") + key + "' must be a non-negative integer");
            return false;
        }
        *out = v.get_int64().value_unsafe();
        return true;
    }

    GNodeP string_node(element s, const std::string& path) {
        int64_t mn = 0, mx = -1;
        if (!get_count(s, "minLength", path, &mn) || !get_count(s, "maxLength", path, &mx)) return nullptr;
        std::string_view pat;
        element v;
        if (!s["pattern"].get(v)) {
            if (v.get(pat)) return fail(path, "'pattern' must be a string");
            if (mn > 0 || mx >= 0) return fail(path, "'pattern' together with 'minLength' or 'maxLength' is not supported");
            GNodeP re;
            std::string e;
            if (!regex_parse(std::string(pat), &re, &e)) return fail(path, "'pattern': " + e);
            return g_concat({g_bytes("\""), g_json_string_body(re), g_bytes("\"")});
        }
        if (mx >= 0 && mx < mn) return g_nothing();
        if (mn > 100000 || mx > 100000) return fail(path, "'minLength'/'maxLength' over 100000 is not supported");
        return json_string((int)mn, (int)mx);
    }

    // Integer bounds, inclusive; false with err set when unsupported.
    GNodeP integer_node(element s, const std::string& path) {
        bool has_lo = false, has_hi = false;
        double lo = 0, hi = 0;
        const char* keys[] = {"minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"};
        for (int k = 0; k < 4; k++) {
            element v;
            if (s[keys[k]].get(v)) continue;
            double d;
            if (v.get(d)) {
                int64_t i;
                if (v.get(i)) return fail(path, std::string("'") + keys[k] + "' must be a number");
                d = (double)i;
            }
            if (k < 2) {
                double b = k == 0 ? ceil(d) : floor(d) + 1;
                lo = has_lo ? fmax(lo, b) : b;
                has_lo = true;
            } else {
                double b = k == 2 ? floor(d) : ceil(d) - 1;
                hi = has_hi ? fmin(hi, b) : b;
                has_hi = true;
            }
        }
        if (!has_lo && !has_hi) return json_integer();
        if (has_lo && has_hi) {
            if (hi < lo) return g_nothing();
            if (hi - lo < kMaxIntRange) {
                std::vector<GNodeP> alts;
                for (int64_t x = (int64_t)lo; x <= (int64_t)hi; x++) alts.push_back(g_bytes(std::to_string(x)));
                return g_alt(std::move(alts));
            }
        }
        if (has_lo && !has_hi && (lo == 0 || lo == 1)) {
            GNodeP pos = g_concat({g_charset({{'1', '9'}}), g_repeat(g_charset({{'0', '9'}}), 0, 15)});
            return lo == 0 ? g_alt({g_bytes("0"), pos}) : pos;
        }
        return fail(path, "integer bounds other than a lower bound of 0 or 1 or a range of at most " +
                              std::to_string(kMaxIntRange) + " values are not supported");
    }

    GNodeP object_node(element s, const std::string& path, int ref_depth) {
        simdjson::dom::object props;
        element v;
        bool has_props = !s["properties"].get(v);
        if (has_props && v.get(props)) return fail(path, "'properties' must be an object");
        std::vector<std::string> required;
        if (!s["required"].get(v)) {
            simdjson::dom::array a;
            if (v.get(a)) return fail(path, "'required' must be an array of strings");
            for (element x : a) {
                std::string_view k;
                if (x.get(k)) return fail(path, "'required' must be an array of strings");
                required.emplace_back(k);
            }
        }
        element addl;
        bool has_addl = !s["additionalProperties"].get(addl);
        if (!has_props || props.size() == 0) {
            for (const std::string& r : required) return fail(path, "required property '" + r + "' is not in 'properties'");
            if (has_addl && addl.is_bool() && !addl.get_bool().value_unsafe()) return g_bytes("{}");
            if (!has_addl || addl.is_bool()) return json_any_object(lim.max_json_depth);
            GNodeP val = compile(addl, path + "/additionalProperties", ref_depth);
            if (!val) return nullptr;
            GNodeP member = g_concat({json_string(0, -1), json_colon(), val});
            return g_concat({g_bytes("{"), g_repeat(member, 0, -1, json_comma()), g_bytes("}")});
        }
        GNode obj;
        obj.kind = GNode::OBJECT;
        obj.sep = json_comma();
        for (auto field : props) {
            std::string key(field.key);
            GNodeP val = compile(field.value, path + "/properties/" + key, ref_depth);
            if (!val) return nullptr;
            bool req = false;
            for (const std::string& r : required) req = req || r == key;
            obj.kids.push_back(g_concat({g_bytes(quote(key)), json_colon(), val}));
            obj.optional.push_back(!req);
        }
        for (const std::string& r : required) {
            bool found = false;
            for (auto field : props) found = found || field.key == r;
            if (!found) return fail(path, "required property '" + r + "' is not in 'properties'");
        }
        for (size_t i = 0; i < obj.kids.size(); i++)
            if (!obj.optional[i] && obj.kids[i]->kind == GNode::NOTHING) return g_nothing();
        GNodeP o = std::make_shared<const GNode>(std::move(obj));
        return g_concat({g_bytes("{"), o, g_bytes("}")});
    }

    GNodeP array_node(element s, const std::string& path, int ref_depth) {
        int64_t mn = 0, mx = -1;
        if (!get_count(s, "minItems", path, &mn) || !get_count(s, "maxItems", path, &mx)) return nullptr;
        if (mx >= 0 && mx < mn) return g_nothing();
        if (mn > 10000 || mx > 10000) return fail(path, "'minItems'/'maxItems' over 10000 is not supported");
        element items;
        GNodeP item;
        if (s["items"].get(items)) item = json_any_value(lim.max_json_depth - 1);
        else item = compile(items, path + "/items", ref_depth);
        if (!item) return nullptr;
        return g_concat({g_bytes("["), g_repeat(item, (int)mn, (int)mx, json_comma()), g_bytes("]")});
    }

    GNodeP typed(std::string_view t, element s, const std::string& path, int ref_depth) {
        if (t == "string") return string_node(s, path);
        if (t == "integer") return integer_node(s, path);
        if (t == "number") {
            const char* keys[] = {"minimum", "exclusiveMinimum", "maximum", "exclusiveMaximum"};
            for (const char* k : keys) {
                element v;
                if (!s[k].get(v)) return fail(path, std::string("'") + k + "' on numbers is not supported (only on integers)");
            }
            return json_number();
        }
        if (t == "boolean") return g_alt({g_bytes("true"), g_bytes("false")});
        if (t == "null") return g_bytes("null");
        if (t == "object") return object_node(s, path, ref_depth);
        if (t == "array") return array_node(s, path, ref_depth);
        return fail(path, "unknown type '" + std::string(t) + "'");
    }

    GNodeP resolve_ref(std::string_view ref, const std::string& path, int ref_depth) {
        if (ref_depth >= lim.max_ref_depth) return g_nothing();  // cut off: this branch cannot be taken
        if (ref.empty() || ref[0] != '#') return fail(path, "'$ref' must point inside the schema (start with '#')");
        element target;
        if (ref.size() == 1) {
            target = root;
        } else {
            std::string ptr(ref.substr(1));
            if (root.at_pointer(ptr).get(target)) return fail(path, "'$ref' " + std::string(ref) + " points to nothing");
        }
        return compile(target, std::string(ref), ref_depth + 1);
    }

    GNodeP compile(element s, const std::string& path, int ref_depth) {
        if (++n_nodes > kMaxSchemaNodes) return fail(path, "the schema is too large to compile");
        if (s.is_bool()) return s.get_bool().value_unsafe() ? json_any_value(lim.max_json_depth) : g_nothing();
        simdjson::dom::object o;
        if (s.get(o)) return fail(path, "a schema must be an object or a boolean");
        if (nesting >= kMaxSchemaNesting) return fail(path, "the schema is nested too deeply");
        nesting++;
        GNodeP r = compile_object(s, o, path, ref_depth);
        nesting--;
        return r;
    }

    GNodeP compile_object(element s, simdjson::dom::object o, const std::string& path, int ref_depth);
};

GNodeP SchemaCompiler::compile_object(element s, simdjson::dom::object o, const std::string& path, int ref_depth) {
    int n_constraints = 0;
    for (auto field : o) {
        if (in_list(field.key, kAnnotations, sizeof kAnnotations / sizeof *kAnnotations)) continue;
        if (!in_list(field.key, kKeywords, sizeof kKeywords / sizeof *kKeywords))
            return fail(path, "unsupported JSON Schema keyword '" + std::string(field.key) + "'");
        n_constraints++;
    }
    element v;
    if (!s["$ref"].get(v)) {
        std::string_view ref;
        if (v.get(ref)) return fail(path, "'$ref' must be a string");
        if (n_constraints > 1) return fail(path, "'$ref' beside other keywords is not supported");
        return resolve_ref(ref, path, ref_depth);
    }
    if (!s["const"].get(v)) return json_literal(simdjson::minify(v));
    if (!s["enum"].get(v)) {
        simdjson::dom::array a;
        if (v.get(a) || a.size() == 0) return fail(path, "'enum' must be a non-empty array");
        std::vector<GNodeP> alts;
        for (element x : a) alts.push_back(json_literal(simdjson::minify(x)));
        return g_alt(std::move(alts));
    }
    const char* combinators[] = {"anyOf", "oneOf", "allOf"};
    for (const char* c : combinators) {
        if (s[c].get(v)) continue;
        simdjson::dom::array a;
        if (v.get(a) || a.size() == 0) return fail(path, std::string("'") + c + "' must be a non-empty array");
        if (n_constraints > 1) return fail(path, std::string("'") + c + "' beside other keywords is not supported");
        if (c[1] == 'l' && a.size() != 1) return fail(path, "'allOf' with more than one schema is not supported");
        std::vector<GNodeP> alts;
        size_t k = 0;
        for (element x : a) {
            GNodeP n = compile(x, path + "/" + c + "/" + std::to_string(k++), ref_depth);
            if (!n) return nullptr;
            alts.push_back(n);
        }
        return g_alt(std::move(alts));
    }
    std::vector<std::string_view> types;
    if (!s["type"].get(v)) {
        std::string_view t;
        simdjson::dom::array a;
        if (!v.get(t)) types.push_back(t);
        else if (!v.get(a)) {
            for (element x : a) {
                if (x.get(t)) return fail(path, "'type' must be a string or an array of strings");
                types.push_back(t);
            }
        } else return fail(path, "'type' must be a string or an array of strings");
    } else {
        auto has = [&](const char* k) { element x; return !s[k].get(x); };
        if (has("properties") || has("required") || has("additionalProperties")) types.push_back("object");
        else if (has("items") || has("minItems") || has("maxItems")) types.push_back("array");
        else if (has("pattern") || has("minLength") || has("maxLength")) types.push_back("string");
        else if (has("minimum") || has("maximum") || has("exclusiveMinimum") || has("exclusiveMaximum"))
            types.push_back("integer");
        else return json_any_value(lim.max_json_depth);
    }
    std::vector<GNodeP> alts;
    for (std::string_view t : types) {
        GNodeP n = typed(t, s, path, ref_depth);
        if (!n) return nullptr;
        alts.push_back(n);
    }
    return g_alt(std::move(alts));
}

}  // namespace

bool json_schema_parse(const std::string& schema, const GrammarLimits& limits, GNodeP* out, std::string* err) {
    simdjson::dom::parser parser;
    element root;
    auto res = parser.parse(schema.data(), schema.size(), true);
    if (res.error() || res.get(root)) {
        *err = std::string("the schema is not valid JSON: ") + simdjson::error_message(res.error());
        return false;
    }
    SchemaCompiler c(root, limits);
    GNodeP n = c.compile(root, "", 0);
    if (!n) {
        *err = c.err;
        return false;
    }
    *out = n;
    return true;
}
