// grammar_json.cpp — the JSON building blocks every schema uses (strings, numbers, separators,
// free-form values) and grammar_compile, the entry point of grammar.h.
#include "core/grammar/grammar.h"
#include "core/grammar/grammar_ast.h"

// One character of a JSON string: anything but '"', '\' and control characters, or an escape.
// bmp_only: no raw character past U+FFFF, so that one character is one UTF-16 unit too. \u
// escapes of the surrogates (D800-DFFF) are left out: a lone one is not a character and strict
// parsers (the server's tool-call parser among them) refuse the text, and a pair would be one
// character here but two UTF-16 units.
static GNodeP json_char(bool bmp_only) {
    auto build = [](bool bmp) {
        CodeRanges hex = {{'0', '9'}, {'A', 'F'}, {'a', 'f'}};
        CodeRanges cs = code_ranges_minus(code_ranges_minus(code_ranges_complement({{0, 0x1F}}), '"', '"'), '\\', '\\');
        if (bmp) cs = code_ranges_minus(cs, 0x10000, 0x10FFFF);
        GNodeP raw = g_charset(cs);
        GNodeP simple = g_concat({g_bytes("\\"), g_charset({{'"', '"'}, {'/', '/'}, {'\\', '\\'}, {'b', 'b'},
                                                             {'f', 'f'}, {'n', 'n'}, {'r', 'r'}, {'t', 't'}})});
        CodeRanges hex_not_d = {{'0', '9'}, {'A', 'C'}, {'E', 'F'}, {'a', 'c'}, {'e', 'f'}};
        GNodeP u = g_concat({g_bytes("\\u"),
                             g_alt({g_concat({g_charset(hex_not_d), g_repeat(g_charset(hex), 3, 3)}),
                                    g_concat({g_charset({{'D', 'D'}, {'d', 'd'}}), g_charset({{'0', '7'}}),
                                              g_repeat(g_charset(hex), 2, 2)})})});
        return g_alt({raw, simple, u});
    };
    static const GNodeP any = build(false), bmp = build(true);
    return bmp_only ? bmp : any;
}

GNodeP json_string(int min_chars, int max_chars) {
    // Under a maximum, characters past U+FFFF are left out: JSON Schema counts code points,
    // JavaScript (and so Zod, the SDKs' parse helpers) counts UTF-16 units, which such a
    // character is two of; a string of BMP characters has the same length in both.
    return g_concat({g_bytes("\""), g_repeat(json_char(max_chars >= 0), min_chars, max_chars), g_bytes("\"")});
}

static GNodeP digits(int min, int max) { return g_repeat(g_charset({{'0', '9'}}), min, max); }

GNodeP json_integer() {
    static const GNodeP n = g_concat({g_optional(g_bytes("-")),
                                      g_alt({g_bytes("0"), g_concat({g_charset({{'1', '9'}}), digits(0, 15)})})});
    return n;
}

GNodeP json_number() {
    static const GNodeP n = g_concat({json_integer(), g_optional(g_concat({g_bytes("."), digits(1, 16)})),
                                      g_optional(g_concat({g_charset({{'E', 'E'}, {'e', 'e'}}),
                                                           g_optional(g_charset({{'+', '+'}, {'-', '-'}})),
                                                           digits(1, 2)}))});
    return n;
}

GNodeP json_comma() {
    static const GNodeP n = g_concat({g_bytes(","), g_optional(g_bytes(" "))});
    return n;
}

GNodeP json_colon() {
    static const GNodeP n = g_concat({g_bytes(":"), g_optional(g_bytes(" "))});
    return n;
}

GNodeP json_literal(const std::string& json) { return g_bytes(json); }

GNodeP json_any_object(int depth) {
    GNodeP member = g_concat({json_string(0, -1), json_colon(), json_any_value(depth - 1)});
    return g_concat({g_bytes("{"), g_repeat(member, 0, -1, json_comma()), g_bytes("}")});
}

GNodeP json_any_value(int depth) {
    std::vector<GNodeP> alts = {json_string(0, -1), json_number(), g_bytes("true"), g_bytes("false"),
                                g_bytes("null")};
    if (depth > 0) {
        alts.push_back(json_any_object(depth));
        alts.push_back(g_concat({g_bytes("["), g_repeat(json_any_value(depth - 1), 0, -1, json_comma()),
                                 g_bytes("]")}));
    }
    return g_alt(std::move(alts));
}

std::string GrammarSpec::key() const {
    std::string k(1, (char)('0' + (int)kind));
    if (kind == GrammarKind::CHOICE) {
        for (const std::string& c : choices) {
            k += std::to_string(c.size()) + ":";
            k += c;
        }
    } else {
        k += text;
    }
    return k;
}

bool grammar_compile(const GrammarSpec& spec, const GrammarLimits& limits, GrammarDfa* out, std::string* err) {
    GNodeP root;
    switch (spec.kind) {
    case GrammarKind::JSON_OBJECT: root = json_any_object(limits.max_json_depth); break;
    case GrammarKind::REGEX:
        if (!regex_parse(spec.text, &root, err)) return false;
        break;
    case GrammarKind::CHOICE: {
        if (spec.choices.empty()) {
            *err = "the choice list is empty";
            return false;
        }
        std::vector<GNodeP> alts;
        for (const std::string& c : spec.choices) alts.push_back(g_bytes(c));
        root = g_alt(std::move(alts));
        break;
    }
    case GrammarKind::JSON_SCHEMA:
        if (!json_schema_parse(spec.text, limits, &root, err)) return false;
        break;
    case GrammarKind::GBNF: {
        std::string note;
        if (!gbnf_parse(spec.text, limits, &root, err, &note)) return false;
        if (gnode_to_dfa(root, limits, out, err)) return true;
        if (!note.empty()) *err += " (" + note + ")";
        return false;
    }
    }
    return gnode_to_dfa(root, limits, out, err);
}
