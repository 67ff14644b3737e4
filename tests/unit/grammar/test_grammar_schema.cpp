// test_grammar_schema.cpp — the JSON Schema compiler against accept/reject sets written from the
// schema definitions and grammar.h's output rules (no whitespace but one optional space after
// ':' and ',', properties in the order given, bounded numbers), and its refusals.
#include <gtest/gtest.h>
#include "core/bench/bench_workload.h"  // bench_load_schema, bench_fresh_schema
#include "core/grammar/grammar.h"
#include "core/grammar/grammar_matcher.h"

namespace {

GrammarDfa schema_dfa(const std::string& schema, GrammarLimits lim = GrammarLimits()) {
    GrammarSpec spec;
    spec.kind = GrammarKind::JSON_SCHEMA;
    spec.text = schema;
    GrammarDfa d;
    std::string err;
    EXPECT_TRUE(grammar_compile(spec, lim, &d, &err)) << schema << ": " << err;
    return d;
}

void expect_set(const std::string& schema, const std::vector<std::string>& yes, const std::vector<std::string>& no,
                GrammarLimits lim = GrammarLimits()) {
    GrammarDfa d = schema_dfa(schema, lim);
    for (const std::string& s : yes) EXPECT_TRUE(d.matches(s)) << schema << " should accept " << s;
    for (const std::string& s : no) EXPECT_FALSE(d.matches(s)) << schema << " should reject " << s;
}

std::string refusal(const std::string& schema, GrammarLimits lim = GrammarLimits()) {
    GrammarSpec spec;
    spec.kind = GrammarKind::JSON_SCHEMA;
    spec.text = schema;
    GrammarDfa d;
    std::string err;
    EXPECT_FALSE(grammar_compile(spec, lim, &d, &err)) << schema;
    return err;
}

}  // namespace

TEST(GrammarSchema, object_properties_in_order_with_required_and_optional_ones) {
    const char* s = R"({"type":"object","properties":{"a":{"type":"integer"},"b":{"type":"string","maxLength":3},
                        "c":{"type":"boolean"}},"required":["a","c"],"additionalProperties":false})";
    expect_set(s, {R"({"a":1,"c":true})", R"({"a":-12, "b":"xy", "c":false})", R"({"a":0,"b":"","c":true})",
                   R"({"a":5,"b":"abc","c":true})"},
               {R"({"c":true,"a":1})", R"({"a":1})", R"({"a":01,"c":true})", R"({"a":1,"b":"abcd","c":true})",
                R"({"a":1,"c":true,"d":1})", R"({"a":1,,"c":true})", R"({ "a":1,"c":true})", R"({"a":1,"c":true} )",
                R"({"a":1.5,"c":true})", R"({"a":1,  "c":true})"});
}

TEST(GrammarSchema, all_optional_properties_place_commas_correctly) {
    expect_set(R"({"properties":{"x":{"type":"null"},"y":{"const":"k"},"z":{"enum":[1,2]}}})",
               {"{}", R"({"x":null})", R"({"y":"k"})", R"({"x":null,"y":"k"})", R"({"x":null,"z":2})",
                R"({"x":null,"y":"k","z":1})", R"({"z":1})"},
               {R"({,"y":"k"})", R"({"x":null,})", R"({"y":"k","x":null})", R"({"z":3})", R"({"x":null"y":"k"})"});
}

TEST(GrammarSchema, arrays_respect_items_min_and_max) {
    expect_set(R"({"type":"array","items":{"enum":["r","g",3]},"minItems":1,"maxItems":3})",
               {R"(["r"])", R"(["r", 3, "g"])", R"([3,3])"},
               {"[]", R"(["r","g","r","g"])", R"(["b"])", R"(["r",])", R"([,"r"])"});
    expect_set(R"({"type":"array","items":{"type":"integer"}})", {"[]", "[1]", "[1,2, 3,4,5,6,7,8,9,10]"},
               {"[1 ]", "[,]"});
}

TEST(GrammarSchema, numbers_and_integers_follow_json_and_the_digit_bounds) {
    expect_set(R"({"type":"number"})", {"0", "-1.5", "3e10", "2.5E-3", "1e+7", "9e99", "1234567890123456", "0.1234567890123456"},
               {"01", "1.", ".5", "+1", "1e", "NaN", "-", "12345678901234567", "1e123", "0.12345678901234567"});
    expect_set(R"({"type":"integer"})", {"0", "-7", "42"}, {"4.0", "-0.5", "1e3", "00"});
    expect_set(R"({"type":"integer","minimum":-2,"maximum":3})", {"-2", "-1", "0", "1", "2", "3"}, {"-3", "4", "-0"});
    expect_set(R"({"type":"integer","exclusiveMinimum":0,"exclusiveMaximum":3})", {"1", "2"}, {"0", "3"});
    expect_set(R"({"type":"integer","minimum":1})", {"1", "99", "100000"}, {"0", "-1"});
    expect_set(R"({"type":"integer","minimum":0})", {"0", "10"}, {"-1", "01"});
}

TEST(GrammarSchema, strings_escape_and_count_characters) {
    expect_set(R"({"type":"string"})",
               {R"("a\"b")", R"("\u00e9")", "\"\xC3\xA9\"", R"("\n\\\/")", R"("")", R"("\uD7FF\uE000")"},
               {"\"a\nb\"", R"("\x")", R"("\u00g0")", R"("a)", R"("a""b")", "\"\xFF\""});
    // no escaped surrogates: a lone one is refused by strict parsers; characters past U+FFFF are
    // written as they are
    expect_set(R"({"type":"string"})", {"\"\xF0\x9F\x98\x80\""}, {R"("\ud800")", R"("\uDC00")", R"("\ud83d\ude00")"});
    // characters, not bytes: code points of 2, 3 and 4 bytes; an escape is one character
    expect_set(R"({"type":"string","minLength":2,"maxLength":3})",
               {R"("ab")", "\"\xC3\xA9\xE2\x82\xAC\"", "\"a\xC3\xA9\xE2\x82\xAC\"", R"("\n\u0041")"},
               {R"("a")", R"("abcd")", R"("\n")"});
    // under a maxLength no character past U+FFFF (two UTF-16 units, which JavaScript counts), so
    // the length is the same in code points and in UTF-16 units; without one they are allowed
    expect_set(R"({"type":"string","maxLength":3})", {R"("abc")", R"("\u00e9\u4e2d")"},
               {"\"\xF0\x9F\x98\x80\"", "\"a\xF0\x9F\x98\x80\"", R"("\ud83d\ude00")"});
    expect_set(R"({"type":"string","minLength":2})", {"\"\xC3\xA9\xF0\x9F\x98\x80\""}, {"\"\xF0\x9F\x98\x80\""});
}

TEST(GrammarSchema, patterns_match_the_decoded_string_in_full) {
    expect_set(R"({"type":"string","pattern":"^[a-z]+\"?$"})", {R"("ab")", R"("ab\"")"},
               {R"("ab"")", R"("Ab")", R"("")"});
    expect_set(R"({"type":"string","pattern":"\\d{3}-\\d{4}"})", {R"("555-1234")"}, {R"("555-12345")", R"("x555-1234")"});
}

TEST(GrammarSchema, combinators_enums_consts_and_type_lists) {
    expect_set(R"({"anyOf":[{"type":"string","maxLength":2},{"type":"null"}]})", {"null", R"("x")"}, {"1", R"("xyz")"});
    expect_set(R"({"oneOf":[{"type":"boolean"},{"const":{"a":[1,2]}}]})", {"true", "false", R"({"a":[1,2]})"},
               {R"({"a":[1, 2]})", "null"});
    expect_set(R"({"type":["integer","null"]})", {"3", "null"}, {"\"3\"", "true"});
    expect_set(R"({"enum":["red","gr\"een",null,1.5]})", {R"("red")", R"("gr\"een")", "null", "1.5"}, {R"("blue")", "1"});
    expect_set(R"({"allOf":[{"type":"boolean"}],"title":"T","description":"d"})", {"true"}, {"null"});
}

TEST(GrammarSchema, refs_to_defs_and_recursion_cut_at_the_depth_bound) {
    const char* tree = R"({"$defs":{"node":{"type":"object","properties":{"v":{"type":"integer"},
        "kids":{"type":"array","items":{"$ref":"#/$defs/node"},"maxItems":2}},"required":["v","kids"]}},
        "$ref":"#/$defs/node"})";
    GrammarLimits lim;
    lim.max_ref_depth = 3;  // the root reference is the first of three expansions
    expect_set(tree, {R"({"v":1,"kids":[]})", R"({"v":1,"kids":[{"v":2,"kids":[]},{"v":3,"kids":[]}]})",
                      R"({"v":1,"kids":[{"v":2,"kids":[{"v":3,"kids":[]}]}]})"},
               {R"({"v":1,"kids":[{"v":2,"kids":[{"v":3,"kids":[{"v":4,"kids":[]}]}]}]})", R"({"v":1})"}, lim);
    expect_set(R"({"definitions":{"c":{"enum":["a","b"]}},"type":"array","items":{"$ref":"#/definitions/c"},"maxItems":1})",
               {"[]", R"(["a"])"}, {R"(["c"])"});
}

TEST(GrammarSchema, free_form_objects_and_json_object_mode) {
    expect_set(R"({"type":"object","additionalProperties":{"type":"integer"}})", {"{}", R"({"x":1,"y":2})"},
               {R"({"x":"s"})", R"({"x":1,})"});
    expect_set(R"({"type":"object"})", {"{}", R"({"a":[1,{"b":null}],"c":"d"})"}, {"[]", R"({"a"})"});
    GrammarSpec spec;
    spec.kind = GrammarKind::JSON_OBJECT;
    GrammarDfa d;
    std::string err;
    ASSERT_TRUE(grammar_compile(spec, GrammarLimits(), &d, &err)) << err;
    for (const char* s : {"{}", R"({"a": 1, "b": [true, false, null]})", R"({"k":{"k":{"k":"v"}}})"})
        EXPECT_TRUE(d.matches(s)) << s;
    for (const char* s : {"[]", "1", R"({"a":1)", R"({"a":1,})", R"({'a':1})"}) EXPECT_FALSE(d.matches(s)) << s;
    // nesting is bounded by max_json_depth (4 levels of objects/arrays)
    EXPECT_TRUE(d.matches(R"({"a":[[{"b":1}]]})"));
    EXPECT_FALSE(d.matches(R"({"a":[[{"b":[1]}]]})"));
}

TEST(GrammarSchema, unsupported_keywords_and_bad_schemas_are_refused_by_name) {
    std::string e = refusal(R"({"type":"string","format":"date"})");
    EXPECT_NE(e.find("'format'"), std::string::npos) << e;
    e = refusal(R"({"type":"object","properties":{"a":{"type":"array","uniqueItems":true}}})");
    EXPECT_NE(e.find("'uniqueItems'"), std::string::npos) << e;
    EXPECT_NE(e.find("/properties/a"), std::string::npos) << e;
    EXPECT_NE(refusal("{\"type\":").find("not valid JSON"), std::string::npos);
    EXPECT_NE(refusal(R"({"$ref":"#/$defs/missing"})").find("points to nothing"), std::string::npos);
    EXPECT_NE(refusal(R"({"$ref":"http://x/y"})").find("inside the schema"), std::string::npos);
    EXPECT_NE(refusal(R"({"type":"string","minLength":5,"maxLength":2})").find("matches no output"), std::string::npos);
    EXPECT_NE(refusal(R"({"type":"number","minimum":0})").find("'minimum'"), std::string::npos);
    EXPECT_NE(refusal(R"({"type":"integer","minimum":5})").find("integer bounds"), std::string::npos);
    EXPECT_NE(refusal(R"({"type":"object","properties":{"a":{}},"required":["b"]})").find("'b'"), std::string::npos);
    EXPECT_NE(refusal(R"({"allOf":[{"type":"string"},{"maxLength":2}]})").find("allOf"), std::string::npos);
    EXPECT_NE(refusal(R"({"type":"strin"})").find("unknown type"), std::string::npos);
    EXPECT_NE(refusal(R"({"type":"string","pattern":"(a"})").find("'pattern'"), std::string::npos);
    EXPECT_NE(refusal(R"({"type":"string","pattern":"a","maxLength":3})").find("'pattern' together"), std::string::npos);
    GrammarLimits small;
    small.max_dfa_states = 20;
    EXPECT_NE(refusal(R"({"type":"array","items":{"type":"string","maxLength":30},"maxItems":5})", small).find("too large"),
              std::string::npos);
}

TEST(GrammarSchema, exponential_reference_fanout_is_refused_not_expanded) {
    // every level references the next one four times: 4^8 expansions without a budget
    std::string s = R"({"$defs":{"n":{"type":"array","maxItems":1,"items":{"anyOf":[{"$ref":"#/$defs/n"},{"$ref":"#/$defs/n"},
        {"$ref":"#/$defs/n"},{"$ref":"#/$defs/n"}]}}},"$ref":"#/$defs/n"})";
    GrammarLimits lim;
    lim.max_ref_depth = 12;
    EXPECT_NE(refusal(s, lim).find("too large"), std::string::npos);
}

// tests/gpu/bench_schema.json (what `edgellm bench --json-schema` sends in the GPU benchmark)
// compiles as read by bench, its free "answer" string comes first and is unbounded, and each
// --fresh-schema copy (a trailing top-level "description") is a grammar of its own in the cache
// that accepts and rejects exactly what the file's schema does.
TEST(GrammarSchema, bench_schema_compiles_and_fresh_copies_are_distinct_grammars_of_one_language) {
    std::string schema, err;
    ASSERT_TRUE(bench_load_schema(EDGELLM_FIXTURES "/../gpu/bench_schema.json", &schema, &err)) << err;
    auto trie = std::make_shared<TokenTrie>();
    token_trie_build({"{", "}", "\"", "a", " "}, {1, 1, 1, 1, 1}, trie.get());
    GrammarCache cache(trie, GrammarLimits());
    std::vector<std::shared_ptr<const CompiledGrammar>> gs;
    for (const std::string& text : {schema, bench_fresh_schema(schema, "bench 1 request 0"),
                                    bench_fresh_schema(schema, "bench 1 request 1")}) {
        GrammarSpec spec;
        spec.kind = GrammarKind::JSON_SCHEMA;
        spec.text = text;
        gs.push_back(cache.get(spec, &err));
        ASSERT_TRUE(gs.back()) << err;
    }
    EXPECT_EQ(cache.size(), 3u);
    EXPECT_NE(gs[0], gs[1]);
    EXPECT_NE(gs[1], gs[2]);
    const std::string rest = R"(","intent":"task","confidence":87,"follow_up_questions":["Why?", "How?"],"needs_human":false})";
    const std::vector<std::string> yes = {
        R"({"answer":"Sure, here it is.)" + rest,
        R"({"answer":")" + std::string(3000, 'w') + rest,
        R"({"answer": "", "intent": "other", "confidence": 0, "follow_up_questions": [], "needs_human": true})"};
    const std::vector<std::string> no = {
        R"({"answer":"x","intent":"task","confidence":101,"follow_up_questions":[],"needs_human":false})",
        R"({"answer":"x","intent":"chat","confidence":1,"follow_up_questions":[],"needs_human":false})",
        R"({"answer":"x","intent":"task","confidence":1,"follow_up_questions":["a","b","c","d"],"needs_human":false})",
        R"({"answer":"x","intent":"task","confidence":1,"follow_up_questions":[]})",
        R"({"intent":"task","answer":"x","confidence":1,"follow_up_questions":[],"needs_human":false})",
        R"({"answer":"x","intent":"task","confidence":1,"follow_up_questions":[],"needs_human":false,"description":"d"})"};
    for (const auto& g : gs) {
        for (const std::string& s : yes) EXPECT_TRUE(g->dfa.matches(s)) << s;
        for (const std::string& s : no) EXPECT_FALSE(g->dfa.matches(s)) << s;
    }
}
