// main.cpp — edgellm's entry point; everything else is core/cli (core/cli/main.cpp dispatches).
#include "core/cli/commands.h"

int main(int argc, char** argv) { return cli_main(argc, argv); }
