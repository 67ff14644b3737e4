// main.cpp (core/cli) — `edgellm <command> [flags]`: picks the command; each lives in
// core/cli/cmd_<command>.cpp.
#include <stdio.h>
#include <string.h>
#include "core/cli/commands.h"
#include "core/util/version.h"
#include "platform/platform.h"  // plat_name

static void usage(FILE* f) {
    fprintf(f,
            "edgellm %s (%s platform) — LLM inference server in one binary\n\n"
            "usage: edgellm <command> [flags]     (edgellm <command> --help for its flags)\n\n"
            "commands:\n"
            "  serve      OpenAI-compatible HTTP server\n"
            "  generate   run prompts (token ids) through the model, print generated ids\n"
            "  bench      load generator for any OpenAI-compatible server\n"
            "  info       model summary: shape, parameters, bytes per dtype, KV bytes per token\n"
            "  tokenize   encode/decode with a model's tokenizer\n"
            "  version    print the version\n",
            EDGELLM_VERSION, plat_name());
}

int cli_main(int argc, char** argv) {
    if (argc < 2) { usage(stderr); return 2; }
    const char* cmd = argv[1];
    if (!strcmp(cmd, "generate")) return cmd_generate(argc - 1, argv + 1);
    if (!strcmp(cmd, "info")) return cmd_info(argc - 1, argv + 1);
    if (!strcmp(cmd, "tokenize")) return cmd_tokenize(argc - 1, argv + 1);
    if (!strcmp(cmd, "serve")) return cmd_serve(argc - 1, argv + 1);
    if (!strcmp(cmd, "bench")) return cmd_bench(argc - 1, argv + 1);
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("edgellm %s (%s)\n", EDGELLM_VERSION, plat_name());
        return 0;
    }
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) { usage(stdout); return 0; }
    fprintf(stderr, "edgellm: unknown command '%s'\n\n", cmd);
    usage(stderr);
    return 2;
}
