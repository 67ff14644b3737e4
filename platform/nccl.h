// nccl.h — NCCL, loaded at run time: the single static binary links no NCCL, and only a
// tensor-parallel start (--tensor-parallel-size > 1 on a GPU platform) loads libnccl.so.2 with
// dlopen and resolves the few symbols it uses. TP = 1 needs nothing but the GPU driver.
#pragma once
#include <string>

// Loads NCCL (EDGELLM_NCCL_LIBRARY, default "libnccl.so.2") once and checks its version (2.18
// or newer). True with *version "2.21.5"; false with *err naming the library, why it did not
// load, and how to install it.
bool plat_nccl_load(std::string* version, std::string* err);
