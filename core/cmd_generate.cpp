// cmd_generate.cpp — `edgellm generate`. Not built yet: says so and exits 2.
#include <stdio.h>
#include "core/commands.h"

int cmd_generate(int, char**) {
    fprintf(stderr, "edgellm generate: not available in this build yet\n");
    return 2;
}
