// commands.h — the subcommands main.cpp dispatches to. Each parses its own flags (cxxopts) from
// argv (argv[0] is the subcommand name) and returns the process exit code.
#pragma once

int cmd_generate(int argc, char** argv);  // core/cmd_generate.cpp
int cmd_info(int argc, char** argv);      // core/cmd_info.cpp
int cmd_tokenize(int argc, char** argv);  // core/cmd_tokenize.cpp
int cmd_serve(int argc, char** argv);     // core/cmd_serve.cpp
int cmd_bench(int argc, char** argv);     // core/cmd_bench.cpp
