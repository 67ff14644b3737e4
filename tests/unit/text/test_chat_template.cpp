// test_chat_template.cpp — the chat-template language piece by piece, with expected outputs written
// by hand from jinja2's documented behaviour (as transformers configures it: trim_blocks,
// lstrip_blocks), and the error paths: unsupported constructs and unclosed blocks are reported
// with their position, raise_exception's message surfaces, and the depth/size/step limits turn
// runaway templates into errors.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <fstream>
#include <string>

#include "core/text/chat_template.h"

namespace {

// Renders `src` with the JSON context `ctx`; returns the output, or "ERROR: <message>".
std::string render(const std::string& src, const std::string& ctx = "{}", const ChatTemplateLimits* lim = nullptr) {
    ChatTemplate t;
    if (lim) t.limits = *lim;
    std::string err, out;
    if (!t.compile(src, &err)) return "ERROR: " + err;
    Value v;
    if (!value_from_json(ctx, &v, &err)) return "ERROR: bad test context: " + err;
    if (!t.render(v, &out, &err)) return "ERROR: " + err;
    return out;
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST(ChatTemplate, loop_variables_follow_jinja) {
    EXPECT_EQ(render("{% for x in ['a','b','c'] %}{{ loop.index0 }}{{ loop.index }}{{ loop.first }}{{ loop.last }}"
                     "{{ loop.length }}{{ loop.revindex }}{{ loop.revindex0 }}|{% endfor %}"),
              "01TrueFalse332|12FalseFalse321|23FalseTrue310|");
    EXPECT_EQ(render("{% for x in [1,2,3] %}{{ loop.previtem }}<{{ x }}>{{ loop.nextitem }};{% endfor %}"),
              "<1>2;1<2>3;2<3>;");
}

TEST(ChatTemplate, for_else_runs_only_for_empty_sequences_and_inline_if_filters_before_counting) {
    EXPECT_EQ(render("{% for x in [] %}x{% else %}empty{% endfor %}"), "empty");
    EXPECT_EQ(render("{% for x in [1] %}x{% else %}empty{% endfor %}"), "x");
    EXPECT_EQ(render("{% for x in [1,2,3,4] if x is even %}{{ x }}/{{ loop.length }} {% endfor %}"), "2/2 4/2 ");
}

TEST(ChatTemplate, loop_body_assignments_do_not_leak_but_namespaces_do) {
    EXPECT_EQ(render("{% set x = 0 %}{% for i in range(3) %}{{ x }}{% set x = x + 1 %}{{ x }},{% endfor %}{{ x }}"),
              "01,01,01,0");
    EXPECT_EQ(render("{% set ns = namespace(n=0) %}{% for i in range(3) %}{% set ns.n = ns.n + i %}{% endfor %}{{ ns.n }}"),
              "3");
    EXPECT_EQ(render("{% if true %}{% set y = 5 %}{% endif %}{{ y }}"), "5");
}

TEST(ChatTemplate, namespaces_that_refer_to_themselves_are_freed_after_the_render) {
    // A context function hands the test a weak reference to the namespace; once render() returns,
    // nothing may keep it alive, cycle or not.
    ChatTemplate t;
    std::string err, out;
    ASSERT_TRUE(t.compile("{% set ns = namespace(a=1) %}{% set ns.self = ns %}{% set ns.l = [ns, {'k': ns}] %}"
                          "{{ keep(ns) }}{{ ns.self.self.a }}", &err)) << err;
    std::weak_ptr<VDict> seen;
    bool called = false;
    Value keep;
    keep.kind = VKind::Func;
    keep.func = std::make_shared<VFunc>();
    keep.func->call = [&seen, &called](const CallArgs& a, Value* o, std::string*) {
        seen = a.pos.at(0).dict;
        called = true;
        *o = Value::str("");
        return true;
    };
    Value ctx = Value::new_dict();
    ctx.set("keep", keep);
    ASSERT_TRUE(t.render(ctx, &out, &err)) << err;
    EXPECT_EQ(out, "1");
    ASSERT_TRUE(called);
    EXPECT_TRUE(seen.expired()) << "the namespace outlived the render";
}

TEST(ChatTemplate, break_and_continue_control_loops) {
    EXPECT_EQ(render("{% for i in range(10) %}{% if i == 4 %}{% break %}{% endif %}{% if i is odd %}{% continue %}{% endif %}"
                     "{{ i }}{% endfor %}"),
              "02");
}

TEST(ChatTemplate, dash_modifiers_strip_all_adjacent_whitespace) {
    EXPECT_EQ(render("a  \n {%- if true -%} \n b \n {%- endif -%}\n  c"), "abc");
    EXPECT_EQ(render("a  {{- 'x' -}}  b"), "axb");
    EXPECT_EQ(render("a {#- comment -#} b"), "ab");
}

TEST(ChatTemplate, trim_blocks_and_lstrip_blocks_match_transformers_settings) {
    EXPECT_EQ(render("{% if true %}\nX\n{% endif %}\nY"), "X\nY");
    EXPECT_EQ(render("  {% if true %}\n  X\n  {% endif %}\nY"), "  X\nY");
    // Output tags are not block tags: neither rule applies to them.
    EXPECT_EQ(render("  {{ 'v' }}\nY"), "  v\nY");
    // '+' turns lstrip_blocks off for one tag; whitespace after text on the line is kept.
    EXPECT_EQ(render("  {%+ if true %}X{% endif %}"), "  X");
    EXPECT_EQ(render("a {% if true %}X{% endif %}"), "a X");
    // Comments count as blocks; one trailing newline of the template is dropped.
    EXPECT_EQ(render("  {# c #}\nA\n"), "A");
    EXPECT_EQ(render("A\r\nB"), "A\nB");
}

TEST(ChatTemplate, printing_uses_python_str) {
    EXPECT_EQ(render("{{ none }} {{ true }} {{ False }} {{ 42 }} {{ -7 }}"), "None True False 42 -7");
    EXPECT_EQ(render("{{ 1.0 }} {{ 0.5 }} {{ 0.1 + 0.2 }} {{ 1e20 }} {{ 1e-5 }} {{ 4 / 2 }}"),
              "1.0 0.5 0.30000000000000004 1e+20 1e-05 2.0");
    EXPECT_EQ(render("{{ ['a', 1, none, true] }} {{ {'k': 'v', 'n': [2]} }} {{ \"it's\" }}"),
              "['a', 1, None, True] {'k': 'v', 'n': [2]} it's");
    EXPECT_EQ(render("{{ [\"it's\"] }}"), "[\"it's\"]");
    EXPECT_EQ(render("{{ undefined_name }}|{{ x.missing }}", "{\"x\": {}}"), "|");
    EXPECT_EQ(render("{{ a }} {{ b }}", "{\"a\": 1, \"b\": 1.0}"), "1 1.0");
}

TEST(ChatTemplate, arithmetic_follows_python) {
    EXPECT_EQ(render("{{ 7 // 2 }} {{ -7 // 2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 1 / 2 }} {{ 2 ** 10 }} {{ 2 * 3 + 1 }}"),
              "3 -4 2 -2 0.5 1024 7");
    EXPECT_EQ(render("{{ 'ab' * 3 }} {{ 'a' ~ 1 ~ none }} {{ [1] + [2] }} {{ 'x' + 'y' }} {{ -(3) }}"),
              "ababab a1None [1, 2] xy -3");
}

TEST(ChatTemplate, logic_and_comparisons_follow_python) {
    EXPECT_EQ(render("{{ '' or 'x' }} {{ 'a' and 'b' }} {{ 0 and 1 }} {{ not 0 }} {{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }}"),
              "x b 0 True True False");
    EXPECT_EQ(render("{{ 'b' in 'abc' }} {{ 2 in [1,2] }} {{ 'k' in {'k': 1} }} {{ 3 not in [1] }} {{ 1 == 1.0 }} {{ 'a' != 'a' }}"),
              "True True True True True False");
    EXPECT_EQ(render("{{ 'y' if 1 > 2 else 'n' }}[{{ 'y' if false }}]"), "n[]");
}

TEST(ChatTemplate, slices_and_indexes_count_code_points) {
    EXPECT_EQ(render("{{ 'abcdef'[::-1] }} {{ 'abcdef'[1:3] }} {{ 'abcdef'[-2:] }} {{ 'abcdef'[::2] }}"), "fedcba bc ef ace");
    EXPECT_EQ(render("{{ 'héllo'[::-1] }} {{ 'héllo'[1] }} {{ 'héllo' | length }} {{ '日本語'[-1] }}"), "olléh é 5 語");
    EXPECT_EQ(render("{{ [1,2,3,4][1:] }} {{ [1,2,3][-1] }} {{ [1,2,3][::-1] }} [{{ [1][5] }}]"), "[2, 3, 4] 3 [3, 2, 1] []");
}

TEST(ChatTemplate, string_methods_follow_python) {
    EXPECT_EQ(render("{{ 'abc'.startswith('ab') }} {{ 'abc'.endswith(('x', 'c')) }} {{ 'abc'.upper() }} {{ 'ABC'.lower() }}"),
              "True True ABC abc");
    EXPECT_EQ(render("[{{ '  x \\n'.strip() }}] [{{ 'xxaxx'.strip('x') }}] [{{ '\\n\\n  x'.lstrip('\\n') }}] [{{ 'a\\n\\n'.rstrip('\\n') }}]"),
              "[x] [a] [  x] [a]");
    EXPECT_EQ(render("{{ 'a b  c'.split() }} {{ 'a,b,,c'.split(',') }} {{ 'a,b,c'.split(',', 1) }} {{ 'x</think>y'.split('</think>')[-1] }}"),
              "['a', 'b', 'c'] ['a', 'b', '', 'c'] ['a', 'b,c'] y");
    EXPECT_EQ(render("{{ 'aaa'.replace('a', 'b', 2) }} {{ 'hello world'.title() }} {{ 'hELLO'.capitalize() }}"), "bba Hello World Hello");
}

TEST(ChatTemplate, case_mapping_covers_latin_greek_and_cyrillic_like_python) {
    EXPECT_EQ(render("{{ 'héllo wörld'.upper() }} {{ 'ÀÉÎ'.lower() }} {{ 'straße' | upper }} {{ 'ΑΒΓ'.lower() }} {{ 'привет' | upper }}"),
              "HÉLLO WÖRLD àéî STRASSE αβγ ПРИВЕТ");
    EXPECT_EQ(render("{{ 'héllo 日本'.title() }} {{ 'éa' | capitalize }} {{ '日本' | upper }}"), "Héllo 日本 Éa 日本");
}

TEST(ChatTemplate, dict_methods_and_literals_keep_insertion_order) {
    const std::string ctx = "{\"d\": {\"z\": 1, \"a\": 2}}";
    EXPECT_EQ(render("{% for k, v in d.items() %}{{ k }}={{ v }};{% endfor %}{{ d.keys() | list }}{{ d.values() | list }}", ctx),
              "z=1;a=2;['z', 'a'][1, 2]");
    EXPECT_EQ(render("{{ d.get('a') }} {{ d.get('q') }} {{ d.get('q', 7) }} {{ d['z'] }} {{ d.z }}", ctx), "2 None 7 1 1");
    EXPECT_EQ(render("{% set m = {'b': 1, 'a': 2} %}{{ m | tojson }}"), "{\"b\": 1, \"a\": 2}");
}

TEST(ChatTemplate, filters_follow_jinja) {
    EXPECT_EQ(render("[{{ '  x  ' | trim }}] {{ 'ab' | upper }} {{ 'AB' | lower }} {{ 'hello wORLD' | capitalize }} {{ 'a-b c' | title }}"),
              "[x] AB ab Hello world A-B C");
    EXPECT_EQ(render("{{ [1,2,3] | join(', ') }} {{ [1,2] | length }} {{ [3,4] | first }} {{ [3,4] | last }} {{ 'abc' | list }}"),
              "1, 2, 3 2 3 4 ['a', 'b', 'c']");
    EXPECT_EQ(render("{{ u | default('d') }} {{ '' | default('d') }} {{ '' | default('d', true) }} {{ none | default('d') }}"),
              "d  d None");
    EXPECT_EQ(render("{{ 'a.b' | replace('.', '-') }} {{ '12' | int + 1 }} {{ 'x' | int }} {{ '2.5' | float }} {{ 3 | string ~ 'x' }}"),
              "a-b 13 0 2.5 3x");
    EXPECT_EQ(render("{{ {'a': 1} | items | list }} {{ (1,) }} {{ (1, 'b') }}"), "[('a', 1)] (1,) (1, 'b')");
    EXPECT_EQ(render("{{ 0.5 | round }} {{ 1.5 | round }} {{ 2.675 | round(1, 'floor') }} {{ 3 | round }} {{ 'a-b c_d' | wordcount }}"),
              "0.0 2.0 2.6 3 3");
}

TEST(ChatTemplate, selectattr_rejectattr_and_map_filter_lists_of_dicts) {
    const std::string ctx = "{\"m\": [{\"role\": \"system\", \"n\": 1}, {\"role\": \"user\", \"n\": 2}, {\"role\": \"user\"}]}";
    EXPECT_EQ(render("{{ m | selectattr('role', 'equalto', 'user') | list | length }}", ctx), "2");
    EXPECT_EQ(render("{{ m | rejectattr('role', 'equalto', 'user') | map(attribute='role') | join }}", ctx), "system");
    EXPECT_EQ(render("{{ m | selectattr('n', 'defined') | map(attribute='n') | list }}", ctx), "[1, 2]");
    EXPECT_EQ(render("{{ ['a', 'B'] | map('upper') | join('') }} {{ [0, 1, 2] | select | list }}"), "AB [1, 2]");
}

TEST(ChatTemplate, tojson_matches_python_json_dumps_with_ensure_ascii_off) {
    const std::string ctx = "{\"v\": {\"s\": \"é\\\"\\n🙂\", \"n\": [1, 2.5, null, true], \"e\": {}}}";
    EXPECT_EQ(render("{{ v | tojson }}", ctx), "{\"s\": \"é\\\"\\n🙂\", \"n\": [1, 2.5, null, true], \"e\": {}}");
    EXPECT_EQ(render("{{ v.n | tojson(indent=2) }}", ctx), "[\n  1,\n  2.5,\n  null,\n  true\n]");
    EXPECT_EQ(render("{{ {'a': {'b': 1}} | tojson(indent=4) }}"), "{\n    \"a\": {\n        \"b\": 1\n    }\n}");
    EXPECT_EQ(render("{{ '<&>' | tojson }}"), "\"<&>\"");
}

TEST(ChatTemplate, tests_classify_values_like_jinja) {
    const std::string ctx = "{\"s\": \"x\", \"d\": {}, \"l\": [], \"n\": null, \"i\": 3, \"f\": 1.5, \"b\": true}";
    EXPECT_EQ(render("{{ s is string }}{{ d is mapping }}{{ l is iterable }}{{ l is sequence }}{{ n is none }}{{ u is undefined }}"
                     "{{ s is defined }}", ctx),
              "TrueTrueTrueTrueTrueTrueTrue");
    EXPECT_EQ(render("{{ i is number }}{{ f is number }}{{ b is boolean }}{{ b is true }}{{ b is false }}{{ i is integer }}"
                     "{{ s is mapping }}{{ n is not none }}", ctx),
              "TrueTrueTrueTrueFalseTrueFalseFalse");
    EXPECT_EQ(render("{{ 1.5 is odd }}{{ 1.5 is even }}{{ 2.0 is even }}{{ -3 is odd }}{{ u is callable }}"), "FalseFalseTrueTrueTrue");
    EXPECT_EQ(render("{{ 4 is divisibleby 2 }}{{ 3 is odd }}{{ 'a' is in 'abc' }}{{ 1 is equalto 1 }}{{ s is sameas 'x' }}", ctx),
              "TrueTrueTrueTrueTrue");
}

TEST(ChatTemplate, macros_take_defaults_and_keyword_arguments_and_call_blocks_pass_caller) {
    EXPECT_EQ(render("{% macro tag(name, cls='c') %}<{{ name }} {{ cls }}>{% endmacro %}{{ tag('a') }}{{ tag('b', cls='d') }}"),
              "<a c><b d>");
    EXPECT_EQ(render("{% macro box() %}[{{ caller() }}]{% endmacro %}{% call box() %}in{% endcall %}"), "[in]");
    EXPECT_TRUE(contains(render("{% macro m(a) %}{% endmacro %}{{ m(b=1) }}"), "macro 'm' takes no keyword argument 'b'"));
    EXPECT_EQ(render("{% set x %}a{{ 1 + 1 }}{% endset %}{{ x }}|{% filter upper %}up{% endfilter %}"), "a2|UP");
}

TEST(ChatTemplate, compiled_template_renders_many_contexts) {
    ChatTemplate t;
    std::string err, out;
    ASSERT_TRUE(t.compile("{% for m in messages %}{{ m.role }}:{{ m.content }};{% endfor %}", &err)) << err;
    Value a, b;
    ASSERT_TRUE(value_from_json("{\"messages\": [{\"role\": \"user\", \"content\": \"hi\"}]}", &a, &err));
    ASSERT_TRUE(value_from_json("{\"messages\": []}", &b, &err));
    ASSERT_TRUE(t.render(a, &out, &err)) << err;
    EXPECT_EQ(out, "user:hi;");
    ASSERT_TRUE(t.render(b, &out, &err)) << err;
    EXPECT_EQ(out, "");
}

TEST(ChatTemplate, context_builder_sets_transformers_variables_and_kwargs_override) {
    Value msgs, kw;
    std::string err, out;
    ASSERT_TRUE(value_from_json("[{\"role\": \"user\", \"content\": \"q\"}]", &msgs, &err));
    ASSERT_TRUE(value_from_json("{\"enable_thinking\": false, \"bos_token\": \"<B>\"}", &kw, &err));
    Value ctx = chat_template_context(msgs, Value::undefined(), true, "<s>", "</s>", kw);
    ChatTemplate t;
    ASSERT_TRUE(t.compile("{{ bos_token }}{{ eos_token }}{{ tools }}{{ add_generation_prompt }}{{ enable_thinking }}"
                          "{{ messages[0].content }}", &err));
    ASSERT_TRUE(t.render(ctx, &out, &err)) << err;
    EXPECT_EQ(out, "<B></s>NoneTrueFalseq");
}

TEST(ChatTemplate, strftime_now_formats_the_current_time) {
    std::string y = render("{{ strftime_now('%Y') }}");
    ASSERT_EQ(y.size(), 4u) << y;
    EXPECT_TRUE(y >= "2024" && y <= "9999") << y;
}

TEST(ChatTemplate, raise_exception_message_surfaces_verbatim) {
    EXPECT_EQ(render("{% if messages|length == 0 %}{{ raise_exception('Conversation roles must alternate!') }}{% endif %}",
                     "{\"messages\": []}"),
              "ERROR: Conversation roles must alternate!");
}

TEST(ChatTemplate, unsupported_tags_filters_and_tests_are_named_with_their_position) {
    EXPECT_EQ(render("ab\n  {% include 'x.j2' %}"), "ERROR: line 2, column 6: unsupported tag 'include'");
    EXPECT_EQ(render("{{ x | frobnicate }}"), "ERROR: line 1, column 6: unsupported filter 'frobnicate'");
    EXPECT_EQ(render("{{ x is shiny }}"), "ERROR: line 1, column 9: unsupported test 'shiny'");
    EXPECT_EQ(render("{% for x in y recursive %}{% endfor %}"), "ERROR: line 1, column 15: unsupported construct: recursive for loop");
    EXPECT_EQ(render("{{ 1 @ 2 }}"), "ERROR: line 1, column 6: unexpected character '@'");
}

TEST(ChatTemplate, unclosed_blocks_and_tags_are_reported_where_they_open) {
    EXPECT_EQ(render("x{% if a %}abc"), "ERROR: line 1, column 5: unclosed 'if' block (missing '{% endif %}')");
    EXPECT_EQ(render("{% if a %}\n{% for m in l %}\n{% endif %}"),
              "ERROR: line 3, column 4: unexpected 'endif' (no open block it could close)");
    EXPECT_EQ(render("{% for m in l %}\n  {% if a %}"), "ERROR: line 2, column 6: unclosed 'if' block (missing '{% endif %}')");
    EXPECT_EQ(render("a\nb {{ x "), "ERROR: line 2, column 3: unclosed '{{' tag (missing '}}')");
    EXPECT_EQ(render("{{ 'abc }}"), "ERROR: line 1, column 1: unclosed '{{' tag (missing '}}')");
    EXPECT_EQ(render("{% endfor %}"), "ERROR: line 1, column 4: unexpected 'endfor' (no open block it could close)");
}

TEST(ChatTemplate, render_type_errors_are_errors_not_crashes) {
    EXPECT_TRUE(contains(render("{{ 1 + 'a' }}"), "unsupported operand type(s) for +: 'int' and 'str'"));
    EXPECT_EQ(render("{{ x.a.b }}", "{\"x\": {}}"), "ERROR: line 1, column 7: 'dict object' has no attribute 'a'");
    EXPECT_EQ(render("{{ nothing + 1 }}"), "ERROR: line 1, column 12: 'nothing' is undefined");
    EXPECT_TRUE(contains(render("{{ 1 // 0 }}"), "division or modulo by zero"));
    EXPECT_TRUE(contains(render("{% for x in 5 %}{% endfor %}"), "'int' object is not iterable"));
    EXPECT_TRUE(contains(render("{% set x = 1 %}{% set x.a = 2 %}"), "non-namespace"));
    EXPECT_TRUE(contains(render("{{ 1 < 'a' }}"), "'<' not supported"));
}

TEST(ChatTemplate, runaway_templates_hit_depth_output_and_step_limits) {
    EXPECT_TRUE(contains(render("{% macro f(n) %}{{ f(n + 1) }}{% endmacro %}{{ f(0) }}"), "macro calls nested deeper than"));
    EXPECT_TRUE(contains(render("{{ " + std::string(5000, '(') + "1" + std::string(5000, ')') + " }}"), "nested too deeply"));
    std::string deep;
    for (int i = 0; i < 500; i++) deep += "{% if true %}";
    EXPECT_TRUE(contains(render(deep), "nested too deeply"));
    ChatTemplateLimits small;
    small.max_output_bytes = 100;
    EXPECT_TRUE(contains(render("{% for i in range(1000) %}xxxxxxxxxx{% endfor %}", "{}", &small), "output exceeds 100 bytes"));
    EXPECT_TRUE(contains(render("{{ 'x' * 1000 }}", "{}", &small), "repetition too long"));
    ChatTemplateLimits little_building;
    little_building.max_built_bytes = 1000;
    EXPECT_TRUE(contains(render("{% set ns = namespace(s='xxxxxxxxxx') %}{% for i in range(200) %}{% set ns.s = ns.s ~ 'y' %}{% endfor %}",
                                "{}", &little_building),
                         "built more than 1000 bytes"));
    ChatTemplateLimits few_steps;
    few_steps.max_steps = 10000;
    EXPECT_TRUE(contains(render("{% for i in range(1000) %}{% for j in range(1000) %}{% endfor %}{% endfor %}", "{}", &few_steps),
                         "step limit"));
}

namespace {

std::string make_model_dir(const std::string& config, const char* jinja_file) {
    char tmpl[] = "/tmp/chat_template_test_XXXXXX";
    std::string dir = mkdtemp(tmpl);
    if (!config.empty()) std::ofstream(dir + "/tokenizer_config.json") << config;
    if (jinja_file) std::ofstream(dir + "/chat_template.jinja") << jinja_file;
    return dir;
}

void remove_model_dir(const std::string& dir) {
    unlink((dir + "/tokenizer_config.json").c_str());
    unlink((dir + "/chat_template.jinja").c_str());
    rmdir(dir.c_str());
}

}  // namespace

TEST(ChatTemplateLoad, reads_template_string_and_added_token_objects_from_tokenizer_config) {
    std::string dir = make_model_dir(
        "{\"chat_template\": \"{{ bos_token }}hi\", \"bos_token\": {\"content\": \"<s>\", \"lstrip\": false},"
        " \"eos_token\": \"</s>\"}", nullptr);
    ChatTemplateSource src;
    std::string err;
    ASSERT_TRUE(chat_template_load_dir(dir, &src, &err)) << err;
    EXPECT_EQ(src.source, "{{ bos_token }}hi");
    EXPECT_EQ(src.bos_token, "<s>");
    EXPECT_EQ(src.eos_token, "</s>");
    remove_model_dir(dir);
}

TEST(ChatTemplateLoad, accepts_python_big_integers_in_tokenizer_config) {
    std::string dir = make_model_dir("{\"model_max_length\": 1000000000000000019884624838656, \"chat_template\": \"x\"}", nullptr);
    ChatTemplateSource src;
    std::string err;
    ASSERT_TRUE(chat_template_load_dir(dir, &src, &err)) << err;
    EXPECT_EQ(src.source, "x");
    remove_model_dir(dir);
    // Only numbers change: digits inside strings stay as they are.
    EXPECT_EQ(render("{{ s }} {{ n > 1 }}", "{\"s\": \"123456789012345678901234\", \"n\": -123456789012345678901234}"),
              "123456789012345678901234 False");
}

TEST(ChatTemplateLoad, takes_default_entry_of_named_templates_and_prefers_chat_template_jinja) {
    std::string dir = make_model_dir(
        "{\"chat_template\": [{\"name\": \"tool_use\", \"template\": \"T\"}, {\"name\": \"default\", \"template\": \"D\"}]}",
        nullptr);
    ChatTemplateSource src;
    std::string err;
    ASSERT_TRUE(chat_template_load_dir(dir, &src, &err)) << err;
    EXPECT_EQ(src.source, "D");
    std::ofstream(dir + "/chat_template.jinja") << "J";
    ASSERT_TRUE(chat_template_load_dir(dir, &src, &err)) << err;
    EXPECT_EQ(src.source, "J");
    remove_model_dir(dir);
}

TEST(ChatTemplateLoad, missing_template_and_bad_json_are_errors_naming_the_file) {
    std::string dir = make_model_dir("{\"bos_token\": \"<s>\"}", nullptr);
    ChatTemplateSource src;
    std::string err;
    EXPECT_FALSE(chat_template_load_dir(dir, &src, &err));
    EXPECT_TRUE(contains(err, "tokenizer_config.json has no chat_template")) << err;
    std::ofstream(dir + "/tokenizer_config.json") << "{not json";
    EXPECT_FALSE(chat_template_load_dir(dir, &src, &err));
    EXPECT_TRUE(contains(err, "tokenizer_config.json: bad JSON")) << err;
    remove_model_dir(dir);
}
