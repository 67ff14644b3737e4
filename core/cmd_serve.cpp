// cmd_serve.cpp — `edgellm serve`. Not built yet: says so and exits 2.
#include <stdio.h>
#include "core/commands.h"

int cmd_serve(int, char**) {
    fprintf(stderr, "edgellm serve: not available in this build yet\n");
    return 2;
}
