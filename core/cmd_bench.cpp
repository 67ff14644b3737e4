// cmd_bench.cpp — `edgellm bench`. Not built yet: says so and exits 2.
#include <stdio.h>
#include "core/commands.h"

int cmd_bench(int, char**) {
    fprintf(stderr, "edgellm bench: not available in this build yet\n");
    return 2;
}
