// nccl.cpp — NCCL loaded with dlopen (see nccl.h). The symbols are resolved by name into plain
// function pointers; NCCL's types stay opaque here.
#include "platform/nccl.h"
#include <dlfcn.h>
#include <stdlib.h>
#include <string>

namespace {
typedef int (*GetVersionFn)(int*);
const char* const k_symbols[] = {"ncclGetVersion", "ncclGetUniqueId", "ncclCommInitRank", "ncclAllReduce",
                                 "ncclAllGather", "ncclCommDestroy", "ncclGroupStart", "ncclGroupEnd"};
const int k_min_version = 21800;  // 2.18.0, as ncclGetVersion encodes it (major*10000 + minor*100 + patch)
}  // namespace

bool plat_nccl_load(std::string* version, std::string* err) {
    static void* handle = nullptr;
    static std::string loaded_version;
    if (handle) {
        *version = loaded_version;
        return true;
    }
    const char* env = getenv("EDGELLM_NCCL_LIBRARY");
    const std::string lib = env && *env ? env : "libnccl.so.2";
    const std::string install = "install NCCL (Debian/Ubuntu: apt install libnccl2; or put the lib directory "
                                "of the nvidia-nccl-cu12 wheel on LD_LIBRARY_PATH), or set EDGELLM_NCCL_LIBRARY "
                                "to its path";
    void* h = dlopen(lib.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        const char* why = dlerror();
        *err = "NCCL's " + lib + " could not be loaded (" + (why ? why : "unknown error") + "); " + install;
        return false;
    }
    for (const char* s : k_symbols)
        if (!dlsym(h, s)) {
            *err = lib + " has no symbol " + s + ": not an NCCL library this build can use; " + install;
            dlclose(h);
            return false;
        }
    int v = 0;
    ((GetVersionFn)dlsym(h, "ncclGetVersion"))(&v);
    const int major = v / 10000, minor = v / 100 % 100, patch = v % 100;
    const std::string vs = std::to_string(major) + "." + std::to_string(minor) + "." + std::to_string(patch);
    if (v < k_min_version) {
        *err = lib + " is NCCL " + vs + "; edgellm needs 2.18 or newer; " + install;
        dlclose(h);
        return false;
    }
    handle = h;
    loaded_version = vs;
    *version = vs;
    return true;
}
