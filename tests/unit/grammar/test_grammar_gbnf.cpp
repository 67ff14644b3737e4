// test_grammar_gbnf.cpp — the GBNF compiler against accept/reject sets written from llama.cpp's
// grammar syntax (the output matches rule 'root' in full), recursion cut at the documented depth,
// and malformed grammars refused with their line and column.
#include <gtest/gtest.h>
#include "core/grammar/grammar.h"

namespace {

bool compile(const std::string& g, GrammarDfa* d, std::string* err, const GrammarLimits& lim = GrammarLimits()) {
    GrammarSpec spec;
    spec.kind = GrammarKind::GBNF;
    spec.text = g;
    return grammar_compile(spec, lim, d, err);
}

void expect_set(const std::string& g, const std::vector<std::string>& yes, const std::vector<std::string>& no,
                const GrammarLimits& lim = GrammarLimits()) {
    GrammarDfa d;
    std::string err;
    ASSERT_TRUE(compile(g, &d, &err, lim)) << g << ": " << err;
    for (const std::string& s : yes) EXPECT_TRUE(d.matches(s)) << g << "\nshould match '" << s << "'";
    for (const std::string& s : no) EXPECT_FALSE(d.matches(s)) << g << "\nshould not match '" << s << "'";
}

std::string refusal(const std::string& g, const GrammarLimits& lim = GrammarLimits()) {
    GrammarDfa d;
    std::string err;
    EXPECT_FALSE(compile(g, &d, &err, lim)) << g;
    return err;
}

}  // namespace

TEST(GrammarGbnf, literals_references_alternation_and_quantifiers_match_whole_strings) {
    expect_set(R"(root ::= greeting " " name
greeting ::= "hi" | "hello"   # two greetings
name ::= [A-Z] [a-z]+)",
               {"hi Bob", "hello Al"}, {"hi", "hi bob", "hey Bob", "hi B", "hi Bob "});
    expect_set(R"(root ::= ("a" | "b")* "c"? d{2,3}
d ::= [0-9])", {"12", "abc123", "ba99", "c000", "aaaa00"}, {"1", "abc", "c0000", "ca12"});
    expect_set(R"(root ::= x{3} y{1,} z{0,2}
x ::= "x"
y ::= "y"
z ::= "z")", {"xxxy", "xxxyyyzz"}, {"xxy", "xxxzz", "xxxyzzz"});
    expect_set("root ::= \"\" | \"a\"", {"", "a"}, {"aa"});
    // multi-line rules, newlines after ::= and before |, rule names with '-' and '_'
    expect_set("root ::=\n  first-part\n  | second_part\nfirst-part ::= \"1\"\nsecond_part ::= \"2\"", {"1", "2"},
               {"12", ""});
}

TEST(GrammarGbnf, classes_negation_escapes_and_any_character) {
    expect_set(R"(root ::= [^"\\\n]* "!")", {"abc!", "é ü!", "!"}, {"a\"b!", "a\\b!", "a\nb!", "abc"});
    expect_set(R"(root ::= [a-cx-z_\-\]]+)", {"abc", "xyz_-]", "_"}, {"d", "w", "", "["});
    expect_set(R"(root ::= "\x41\u00e9\U0001F600\t\"\\" "\n")", {"A\xC3\xA9\xF0\x9F\x98\x80\t\"\\\n"}, {"A"});
    expect_set(R"(root ::= . . "\[" [\^])", {"ab[^", "\xC3\xA9\xE2\x82\xAC[^"}, {"abc[^", "a[^"});
    expect_set(R"(root ::= [\u00e0-\u00ff])", {"\xC3\xA0", "\xC3\xBF"}, {"a", "\xC3\x9F"});
}

TEST(GrammarGbnf, recursive_rules_expand_to_the_depth_bound_and_name_themselves_when_cut) {
    GrammarLimits lim;
    lim.max_ref_depth = 3;
    // balanced parentheses: three nested levels fit, a fourth does not
    const char* parens = R"g(root ::= group*
group ::= "(" group* ")")g";
    expect_set(parens, {"", "()", "()()", "(())", "((()))", "(()())"}, {"(", "())", "(((())))"}, lim);
    // right recursion (a list) and mutual recursion
    expect_set("root ::= item (\",\" root)?\nitem ::= [0-9]", {"1", "1,2", "1,2,3"}, {"1,2,3,4", "1,", ""}, lim);
    expect_set("root ::= a\na ::= \"x\" b | \"x\"\nb ::= \"y\" a", {"x", "xyx"}, {"xy", "xyxyx"}, lim);
    // every string needs unbounded recursion: refused naming the rule
    std::string e = refusal("root ::= loop\nloop ::= \"a\" loop");
    EXPECT_NE(e.find("matches no output"), std::string::npos) << e;
    EXPECT_NE(e.find("'loop'"), std::string::npos) << e;
    EXPECT_NE(e.find("8 nested levels"), std::string::npos) << e;
    // four references per level: refused by the automaton budget, not expanded 4^depth times
    GrammarLimits deep;
    deep.max_ref_depth = 40;
    e = refusal("root ::= n\nn ::= \"[\" (n | n | n | n)? \"]\" [a-z]*", deep);
    EXPECT_NE(e.find("too large"), std::string::npos) << e;
}

TEST(GrammarGbnf, malformed_grammars_are_refused_with_line_and_column) {
    struct Case {
        const char* grammar;
        const char* message;
    } cases[] = {
        {"root ::= \"a\"\nfoo ::= bar", "line 2, column 9: undefined rule 'bar'"},
        {"start ::= \"a\"", "no rule named 'root'"},
        {"root ::= \"abc", "line 1, column 14: unterminated string literal"},
        {"root ::= [a-z", "line 1, column 10: unterminated character class"},
        {"root ::= (\"a\" | \"b\"\nx ::= \"c\"", "line 1, column 10: group is not closed"},
        {"root ::= \"a\"\n  \"b\" )", "line 2, column 7: unexpected ')'"},
        {"root = \"a\"", "line 1, column 6: expected '::=' after the rule name 'root'"},
        {"root ::= \"\\q\"", "line 1, column 11: unknown escape '\\q'"},
        {"root ::= [z-a]", "line 1, column 14: character range is out of order"},
        {"root ::= \"a\"{3,1}", "line 1, column 13: repetition {m,n} has n < m"},
        {"root ::= \"a\"\nroot ::= \"b\"", "line 2, column 1: rule 'root' is defined twice"},
        {"# only a comment\n", "the grammar is empty"},
        {"root ::= <[1000]>", "token references"},
        {"root ::= \"é\" @", "line 1, column 14: unexpected '@'"},
    };
    for (const Case& c : cases) {
        std::string e = refusal(c.grammar);
        EXPECT_NE(e.find(c.message), std::string::npos) << c.grammar << "\ngot: " << e;
    }
}

TEST(GrammarGbnf, llama_cpp_style_list_grammar_compiles) {
    // shaped like llama.cpp's grammars/list.gbnf
    expect_set(R"(root ::= item+

# Excludes various line break characters
item ::= "- " [^\r\n\x0b\x0c\x85\u2028\u2029]+ "\n")",
               {"- a\n", "- milk\n- eggs\n"}, {"- \n", "- a", "* a\n", "- a\r\n"});
}
