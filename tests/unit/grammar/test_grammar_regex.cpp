// test_grammar_regex.cpp — the regex and choice compilers against accept/reject sets written
// from the definitions (full-string match; grammar.h's subset), and the refusals of constructs
// outside the subset.
#include <gtest/gtest.h>
#include "core/grammar/grammar.h"

namespace {

GrammarDfa regex_dfa(const std::string& re) {
    GrammarSpec spec;
    spec.kind = GrammarKind::REGEX;
    spec.text = re;
    GrammarDfa d;
    std::string err;
    EXPECT_TRUE(grammar_compile(spec, GrammarLimits(), &d, &err)) << re << ": " << err;
    return d;
}

void expect_set(const std::string& re, const std::vector<std::string>& yes, const std::vector<std::string>& no) {
    GrammarDfa d = regex_dfa(re);
    for (const std::string& s : yes) EXPECT_TRUE(d.matches(s)) << re << " should match '" << s << "'";
    for (const std::string& s : no) EXPECT_FALSE(d.matches(s)) << re << " should not match '" << s << "'";
}

std::string refusal(const std::string& re) {
    GrammarSpec spec;
    spec.kind = GrammarKind::REGEX;
    spec.text = re;
    GrammarDfa d;
    std::string err;
    EXPECT_FALSE(grammar_compile(spec, GrammarLimits(), &d, &err)) << re;
    return err;
}

}  // namespace

TEST(GrammarRegex, literals_classes_and_counted_repeats_match_whole_strings) {
    expect_set("[A-Z]{2}-\\d{3}", {"AB-123", "ZZ-000"}, {"AB-12", "ab-123", "AB-1234", "AB123", "xAB-123", ""});
    expect_set("(cat|dog)s?", {"cat", "cats", "dog", "dogs"}, {"", "cow", "catss", "catdog"});
    expect_set("x{2,}", {"xx", "xxxxx"}, {"", "x", "xxy"});
    expect_set("x{0,2}", {"", "x", "xx"}, {"xxx"});
    expect_set("x{3}", {"xxx"}, {"xx", "xxxx"});
    expect_set("\\w+@\\w+\\.com", {"me@site.com", "a_1@b2.com"}, {"me@site.org", "@site.com", "me@site,com"});
    expect_set("^\\$\\d+(\\.\\d\\d)?$", {"$5", "$5.25", "$100"}, {"5", "$5.2", "$", "$5.255"});
    expect_set("a+?b", {"ab", "aaab"}, {"b", "aba"});
    expect_set("(?:ab)*|(?<name>c)", {"", "ab", "abab", "c"}, {"a", "abc", "cc"});
    expect_set("[\\d\\s]+", {"1 2\t3\n"}, {"1a", ""});
    expect_set("\\x41\\u00e9\\.", {"A\xC3\xA9."}, {"Ae.", "A\xC3\xA9x"});
    expect_set("[]a]+", {"]", "a]a"}, {"b", ""});
    expect_set("a|", {"a", ""}, {"aa"});
}

TEST(GrammarRegex, dot_and_negated_classes_match_one_utf8_character) {
    expect_set("a.c", {"abc", "a c", "a\xC3\xA9" "c", "a\xF0\x9F\x98\x80" "c"},
               {"a\nc", "ac", "abbc", "a\xFF" "c", "a\xED\xA0\x80" "c", "a\xC3" "c"});
    expect_set("[^abc]+", {"xyz", "\xC3\xA9", "\xE2\x82\xAC\xF0\x9F\x98\x80"}, {"a", "", "xa"});
    expect_set("\\D\\W\\S", {"a!x", "\xC3\xA9-\xC3\xA9"}, {"1!x", "aax", "a! "});
}

TEST(GrammarRegex, code_point_ranges_across_utf8_lengths_are_exact) {
    // U+007E .. U+0801 spans the 1-, 2- and 3-byte encodings
    expect_set("[~-\\u0801]", {"~", "\x7F", "\xC2\x80", "\xDF\xBF", "\xE0\xA0\x80", "\xE0\xA0\x81"},
               {"}", "\xE0\xA0\x82", "\xEF\xBF\xBD"});
    expect_set("[\xCE\xB1-\xCF\x89]", {"\xCE\xB2", "\xCF\x89"}, {"a", "\xCE\x91", "\xCF\x8A"});
    // U+FFFF .. U+10000: last 3-byte and first 4-byte character, nothing between
    expect_set("[\\uffff\xF0\x90\x80\x80]", {"\xEF\xBF\xBF", "\xF0\x90\x80\x80"}, {"\xF0\x90\x80\x81", "\xEF\xBF\xBE"});
}

TEST(GrammarRegex, constructs_outside_the_subset_are_refused_with_their_name) {
    EXPECT_NE(refusal("(a").find("missing ')'"), std::string::npos);
    EXPECT_NE(refusal("a)").find("unbalanced"), std::string::npos);
    EXPECT_NE(refusal("(a)\\1").find("backreferences"), std::string::npos);
    EXPECT_NE(refusal("(?=a)b").find("lookaround"), std::string::npos);
    EXPECT_NE(refusal("\\bword").find("word boundaries"), std::string::npos);
    EXPECT_NE(refusal("[z-a]").find("out of order"), std::string::npos);
    EXPECT_NE(refusal("a{3,1}").find("n < m"), std::string::npos);
    EXPECT_NE(refusal("*a").find("nothing to repeat"), std::string::npos);
    EXPECT_NE(refusal("a^b").find("anchors"), std::string::npos);
    EXPECT_NE(refusal("a{1001}").find("repetition count"), std::string::npos);
    EXPECT_NE(refusal("[abc").find("unterminated"), std::string::npos);
    EXPECT_NE(refusal("(?i)abc").find("flags"), std::string::npos);
    EXPECT_NE(refusal("\\q").find("unsupported escape"), std::string::npos);
}

TEST(GrammarRegex, state_budget_is_enforced_with_a_clear_error) {
    GrammarSpec spec;
    spec.kind = GrammarKind::REGEX;
    spec.text = "[ab]{0,200}c[ab]{0,200}";
    GrammarLimits lim;
    lim.max_dfa_states = 100;
    GrammarDfa d;
    std::string err;
    EXPECT_FALSE(grammar_compile(spec, lim, &d, &err));
    EXPECT_NE(err.find("too large"), std::string::npos) << err;
    lim.max_nfa_states = 50;
    EXPECT_FALSE(grammar_compile(spec, lim, &d, &err));
    EXPECT_NE(err.find("too large"), std::string::npos) << err;
}

TEST(GrammarChoice, exactly_one_of_the_choices_matches) {
    GrammarSpec spec;
    spec.kind = GrammarKind::CHOICE;
    spec.choices = {"yes", "no", "maybe", "y\"s"};
    GrammarDfa d;
    std::string err;
    ASSERT_TRUE(grammar_compile(spec, GrammarLimits(), &d, &err)) << err;
    for (const char* s : {"yes", "no", "maybe", "y\"s"}) EXPECT_TRUE(d.matches(s)) << s;
    for (const char* s : {"ye", "yesno", "", "No", "maybe "}) EXPECT_FALSE(d.matches(s)) << s;
    EXPECT_EQ(d.walk(0, "ma"), d.walk(0, "ma"));
    EXPECT_GE(d.walk(0, "ma"), 0);
    EXPECT_EQ(d.walk(0, "mx"), -1);
    spec.choices.clear();
    EXPECT_FALSE(grammar_compile(spec, GrammarLimits(), &d, &err));
}

TEST(GrammarDfa, every_state_can_still_reach_an_accepting_state) {
    GrammarSpec spec;
    spec.kind = GrammarKind::JSON_SCHEMA;
    spec.text = R"({"anyOf":[{"type":"string","minLength":3,"maxLength":1},{"const":"ok"}]})";
    GrammarDfa e;
    std::string err;
    ASSERT_TRUE(grammar_compile(spec, GrammarLimits(), &e, &err)) << err;
    EXPECT_TRUE(e.matches("\"ok\""));
    // from the start only '"' may follow, then only 'o': the impossible string branch left nothing
    int s = e.walk(0, "\"");
    ASSERT_GE(s, 0);
    for (int b = 0; b < 256; b++)
        if (b != 'o') { EXPECT_EQ(e.step(s, (uint8_t)b), -1) << b; }
}
