// render_template.cpp — test driver for tests/check_chat_template.sh: compiles the chat template in
// the file named by argv[1] once, then reads one JSON render context per line from stdin and prints
// one line per context: the rendered text as a JSON string, or {"error": "..."} when rendering
// failed. A template that does not compile prints {"compile_error": "..."} and exits 2.
#include <stdio.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "core/chat_template.h"

int main(int argc, char** argv) {
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
        if (ok) {
            value_to_json(Value::str(out), -1, false, &js, &err);
            printf("%s\n", js.c_str());
        } else {
            value_to_json(Value::str(err), -1, false, &js, &err);
            printf("{\"error\": %s}\n", js.c_str());
        }
    }
    return 0;
}
