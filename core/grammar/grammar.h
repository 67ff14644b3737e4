// grammar.h — structured-output grammars compiled to a deterministic automaton over bytes.
//
// Sources:
//   regex        literals, classes ([a-z], [^...]), ., \d \w \s (and \D \W \S), escapes, groups,
//                alternation, ? * + {m} {m,} {m,n}; the match is always of the whole output
//                (^ and $ are accepted at the ends and change nothing). Refused: backreferences,
//                lookaround, \b, group flags, possessive quantifiers.
//   choice       exactly one of a list of strings.
//   JSON Schema  see grammar_schema.cpp's header for the keywords; any other keyword is refused
//                with an error naming it.
//   JSON object  any JSON object (response_format json_object), nesting bounded.
//   GBNF         llama.cpp's grammar syntax (vLLM's guided_grammar), see grammar_gbnf.cpp: the
//                output matches rule 'root'; recursive rules are expanded to max_ref_depth
//                nested levels (deeper strings are not produced), never refused for recursing
//                alone.
// Output JSON has no whitespace except one optional space after ':' and ','; numbers have at
// most 16 integer digits, 16 fraction digits and 2 exponent digits, so every string and number
// ends and every number is a finite double. A string with a maxLength has no character past
// U+FFFF, so its length is the same in code points (JSON Schema) and in UTF-16 units (JavaScript,
// Zod). Compilation is bounded (GrammarLimits): a grammar past a limit is refused with an error
// saying which.
//
// The automaton: states 0..n_states-1, start state 0, every state can still reach an accepting
// one (dead ends are pruned at compile time), next = -1 where no byte may follow.
#pragma once
#include <stdint.h>
#include <string>
#include <vector>

struct GrammarLimits {
    int max_nfa_states = 400000;  // states of the intermediate automaton
    int max_dfa_states = 20000;   // states of the result
    int max_ref_depth = 8;        // nested $ref expansions on one path (recursive schemas), and
                                  // nested expansions of recursive GBNF rules
    int max_json_depth = 4;       // object/array nesting of free-form JSON values
};

struct GrammarDfa {
    int n_states = 0;
    int n_classes = 0;
    uint8_t byte_class[256] = {};   // bytes that no transition tells apart share a class
    std::vector<int32_t> next;      // (n_states, n_classes): next state or -1
    std::vector<uint8_t> accepting; // (n_states)

    int step(int state, uint8_t b) const { return next[(size_t)state * n_classes + byte_class[b]]; }
    // The state after bytes from state, or -1 when they leave the language.
    int walk(int state, const std::string& bytes) const;
    // True when the whole of s is in the language.
    bool matches(const std::string& s) const;
};

enum class GrammarKind { JSON_SCHEMA, JSON_OBJECT, REGEX, CHOICE, GBNF };

// What a request asks for: a schema (JSON text), a regex, or choices.
struct GrammarSpec {
    GrammarKind kind = GrammarKind::JSON_OBJECT;
    std::string text;                  // JSON_SCHEMA: the schema; REGEX: the pattern; GBNF: the grammar
    std::vector<std::string> choices;  // CHOICE
    // A key naming the grammar exactly (for caches).
    std::string key() const;
};

// Compiles spec. On failure returns false with *err saying what is unsupported or too large
// (for a schema, the keyword and where it is).
bool grammar_compile(const GrammarSpec& spec, const GrammarLimits& limits, GrammarDfa* out, std::string* err);
