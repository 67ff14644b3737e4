// render_template.cpp — test driver for tests/scripts/check_chat_template.sh.
//   render_template TEMPLATE_FILE < contexts.jsonl: compiles the template once, then reads one JSON
//     render context per line and prints one line per context: the rendered text as a JSON string,
//     or {"error": "..."} when rendering failed. A template that does not compile prints
//     {"compile_error": "..."} and exits 2.
//   render_template --load DIR: loads DIR's chat template with chat_template_load_dir and prints
//     {"source": ..., "bos_token": ..., "eos_token": ...}, or {"error": "..."}.
//   render_template --pairs < pairs.jsonl: each line is {"template": "...", "context": {...}};
//     prints the rendered text as a JSON string, or {"error": "..."} when compiling or rendering
//     failed.
#include <stdio.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "core/text/chat_template.h"

static void print_json_string(const std::string& s) {
    std::string js, err;
    value_to_json(Value::str(s), -1, false, &js, &err);
    printf("%s\n", js.c_str());
}

static void print_error(const std::string& msg) {
    std::string js, err;
    value_to_json(Value::str(msg), -1, false, &js, &err);
    printf("{\"error\": %s}\n", js.c_str());
}

static int run_pairs() {
    std::string line;
    while (std::getline(std::cin, line)) {
        if (line.empty()) continue;
        Value pair;
        std::string err, out;
        if (!value_from_json(line, &pair, &err) || !pair.is_dict() || !pair.get("template") ||
            !pair.get("template")->is_string() || !pair.get("context")) {
            print_error("bad input line: " + err);
            continue;
        }
        ChatTemplate tmpl;
        if (tmpl.compile(pair.get("template")->s, &err) && tmpl.render(*pair.get("context"), &out, &err))
            print_json_string(out);
        else
            print_error(err);
    }
    return 0;
}

static int run_load(const std::string& dir) {
    ChatTemplateSource src;
    std::string err;
    if (!chat_template_load_dir(dir, &src, &err)) { print_error(err); return 0; }
    Value v = Value::new_dict();
    v.set("source", Value::str(src.source));
    v.set("bos_token", Value::str(src.bos_token));
    v.set("eos_token", Value::str(src.eos_token));
    std::string js;
    value_to_json(v, -1, false, &js, &err);
    printf("%s\n", js.c_str());
    return 0;
}

int main(int argc, char** argv) {
    if (argc == 2 && std::string(argv[1]) == "--pairs") return run_pairs();
    if (argc == 3 && std::string(argv[1]) == "--load") return run_load(argv[2]);
    if (argc != 2) { fprintf(stderr, "usage: %s TEMPLATE_FILE < contexts.jsonl\n", argv[0]); return 1; }
    std::ifstream f(argv[1], std::ios::binary);
    if (!f) { fprintf(stderr, "cannot read %s\n", argv[1]); return 1; }
    std::stringstream ss;
    ss << f.rdbuf();
    ChatTemplate tmpl;
    std::string err, js;
    if (!tmpl.compile(ss.str(), &err)) {
        value_to_json(Value::str(err), -1, false, &js, &err);
        printf("{\"compile_error\": %s}\n", js.c_str());
        return 2;
    }
    std::string line;
    while (std::getline(std::cin, line)) {
        if (line.empty()) continue;
        Value ctx;
        std::string out;
        bool ok = value_from_json(line, &ctx, &err) && tmpl.render(ctx, &out, &err);
        if (ok) print_json_string(out);
        else print_error(err);
    }
    return 0;
}
