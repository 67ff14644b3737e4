// cmd_tokenize.cpp — `edgellm tokenize`. Not built yet: says so and exits 2.
#include <stdio.h>
#include "core/commands.h"

int cmd_tokenize(int, char**) {
    fprintf(stderr, "edgellm tokenize: not available in this build yet\n");
    return 2;
}
