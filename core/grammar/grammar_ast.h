// grammar_ast.h — the expression tree every grammar source (regex, JSON Schema, choice list)
// compiles to before it becomes an automaton: literals, code point sets, sequences,
// alternatives, counted repetitions with an optional separator, and JSON objects whose
// properties may each be left out. Trees are immutable and may share subtrees.
#pragma once
#include <stdint.h>
#include <memory>
#include <string>
#include <utility>
#include <vector>

struct GNode;
using GNodeP = std::shared_ptr<const GNode>;

// Inclusive code point ranges, sorted and non-overlapping.
using CodeRanges = std::vector<std::pair<uint32_t, uint32_t>>;

struct GNode {
    enum Kind {
        EMPTY,    // matches "" only
        NOTHING,  // matches no string
        BYTES,    // the bytes of `bytes`
        CHARSET,  // one code point of `ranges`, UTF-8 encoded
        CONCAT,   // kids in order
        ALT,      // any one of kids
        REPEAT,   // kids[0] between min and max times (max -1: unbounded), kids[1] (if present)
                  // between two repetitions
        OBJECT,   // properties kids[0..n) in order, each present unless optional[i] says it may
                  // be left out, `sep` between two present ones
    };
    Kind kind = EMPTY;
    std::string bytes;
    CodeRanges ranges;
    std::vector<GNodeP> kids;
    int min = 0, max = -1;
    std::vector<bool> optional;  // OBJECT
    GNodeP sep;                  // OBJECT
};

GNodeP g_empty();
GNodeP g_nothing();
GNodeP g_bytes(const std::string& s);
GNodeP g_charset(CodeRanges ranges);  // normalizes (sorts, merges); empty set = NOTHING
GNodeP g_concat(std::vector<GNodeP> kids);
GNodeP g_alt(std::vector<GNodeP> kids);
GNodeP g_repeat(GNodeP item, int min, int max, GNodeP sep = nullptr);
GNodeP g_optional(GNodeP item);

// Sorts and merges ranges in place.
void code_ranges_normalize(CodeRanges* r);
// Every Unicode scalar value (surrogates excluded) not in r.
CodeRanges code_ranges_complement(const CodeRanges& r);
// r without the code points in [lo, hi].
CodeRanges code_ranges_minus(const CodeRanges& r, uint32_t lo, uint32_t hi);

// The tree as the body of a JSON string: code points JSON must escape (control characters, '"'
// and '\') are replaced by their escapes, so every match is a valid JSON string body that
// decodes to a match of the original tree.
GNodeP g_json_string_body(const GNodeP& n);

// Parses a regular expression (the subset grammar.h lists) into a tree matching exactly the
// strings the pattern matches in full. On failure returns false with *err naming the construct
// and its offset.
bool regex_parse(const std::string& pattern, GNodeP* out, std::string* err);

struct GrammarLimits;
struct GrammarDfa;
// A GBNF grammar (grammar_gbnf.cpp) to a tree matching its rule 'root', recursive rules expanded
// to limits.max_ref_depth nested levels. On failure returns false with *err saying the line and
// column; on success *recursion_note names the recursive rules and the depth (empty when none),
// for an error raised later (an empty or too large automaton).
bool gbnf_parse(const std::string& text, const GrammarLimits& limits, GNodeP* out, std::string* err,
                std::string* recursion_note);
// The tree to an automaton (grammar_nfa.cpp, grammar_dfa.cpp). False with *err past a limit or
// when the tree matches no string.
bool gnode_to_dfa(const GNodeP& root, const GrammarLimits& limits, GrammarDfa* out, std::string* err);
// A JSON Schema (text) to a tree (grammar_schema.cpp).
bool json_schema_parse(const std::string& schema, const GrammarLimits& limits, GNodeP* out, std::string* err);
// Any JSON value / object with at most `depth` levels of nesting (grammar_json.cpp).
GNodeP json_any_value(int depth);
GNodeP json_any_object(int depth);
// JSON pieces (grammar_json.cpp): a string of min..max characters (max -1: any), a number, an
// integer, the separators with their optional space.
GNodeP json_string(int min_chars, int max_chars);
GNodeP json_number();
GNodeP json_integer();
GNodeP json_comma();
GNodeP json_colon();
// A JSON-encoded literal (a key, an enum value): exactly these bytes.
GNodeP json_literal(const std::string& json);
