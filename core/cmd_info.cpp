// cmd_info.cpp — `edgellm info`. Not built yet: says so and exits 2.
#include <stdio.h>
#include "core/commands.h"

int cmd_info(int, char**) {
    fprintf(stderr, "edgellm info: not available in this build yet\n");
    return 2;
}
