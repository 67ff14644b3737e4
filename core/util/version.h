// version.h — edgellm's version, the one place it is written (served by /version and printed by
// `edgellm version`).
#pragma once

#define EDGELLM_VERSION "0.1.0"
