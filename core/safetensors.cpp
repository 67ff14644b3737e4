// safetensors.cpp — see safetensors.h.
#include "core/safetensors.h"
SafeTensors::~SafeTensors() {}
