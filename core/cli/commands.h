// commands.h — the command line. cli_main (core/cli/main.cpp) picks the subcommand; each parses
// its own flags (cxxopts) from argv (argv[0] is the subcommand name) and returns the process exit
// code.
#pragma once

int cli_main(int argc, char** argv);      // core/cli/main.cpp: `edgellm <command> [flags]`
int cmd_generate(int argc, char** argv);  // core/cli/cmd_generate.cpp
int cmd_info(int argc, char** argv);      // core/cli/cmd_info.cpp
int cmd_tokenize(int argc, char** argv);  // core/cli/cmd_tokenize.cpp
int cmd_serve(int argc, char** argv);     // core/cli/cmd_serve.cpp
int cmd_bench(int argc, char** argv);     // core/cli/cmd_bench.cpp
