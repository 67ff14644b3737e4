// launch.cu — launch switches. Whether launch_dependent() (kernels/common.cuh) uses
// programmatic dependent launch: on a compute-capability 9.x+ device whose kernel paths are not
// forced older, with this binary's code for the device built from sm_90+ PTX (a compute_80 PTX
// image JIT-compiled on a Hopper has no griddepcontrol.wait in its kernels), unless switched
// off. Whether the fused MoE decode launches run (kernels.h kernels_set_moe_fused_decode), and
// whether the batch-invariant paths are taken (kernels_set_batch_invariant).
#include "kernels/common.cuh"
#include <stdlib.h>
#include <string.h>

__global__ void dependent_launch_probe_kernel() { grid_dependency_wait(); }

static int g_dependent_launch = -1;  // -1: not decided yet

bool dependent_launch_enabled() {
    if (g_dependent_launch < 0) {
#if EDGELLM_HAS_CUDA_PTX
        cudaFuncAttributes attr;
        CUDA_CHECK(cudaFuncGetAttributes(&attr, dependent_launch_probe_kernel));
        g_dependent_launch = kernel_caps().arch >= 90 && attr.ptxVersion >= 90 && attr.binaryVersion >= 90;
#else
        g_dependent_launch = 0;
#endif
    }
    return g_dependent_launch == 1;
}

void kernels_set_dependent_launch(bool on) {
    g_dependent_launch = -1;
    if (!on) g_dependent_launch = 0;
    else dependent_launch_enabled();
}

static int g_moe_fused_decode = -1;  // -1: read EDGELLM_MOE_FUSED_DECODE

bool moe_fused_decode_enabled() {
    if (g_moe_fused_decode < 0) {
        const char* env = getenv("EDGELLM_MOE_FUSED_DECODE");
        g_moe_fused_decode = env && strcmp(env, "1") == 0;
    }
    return g_moe_fused_decode == 1 && !kernels_batch_invariant();  // one token's own launches
}

void kernels_set_moe_fused_decode(bool on) { g_moe_fused_decode = on ? 1 : 0; }

// The tensor-core kernels reading FP8 and int4 experts' bytes on the automatic paths:
// EDGELLM_MOE_QUANT_MMA=1 or 0 in the environment, else MOE_QUANT_MMA_DEFAULT (off while they
// have no measurement on a GPU; tests and benchmarks call them by path either way).
static const int MOE_QUANT_MMA_DEFAULT = 0;
// Hopper's wgmma kernel for FP8 and int4 decode batches (matmul_quant_decode.cu) on
// matmul_forward's paths: EDGELLM_FP8_WGMMA / EDGELLM_INT4_WGMMA =1 or 0, else the defaults (off
// while unmeasured on a GPU).
static const int FP8_WGMMA_DEFAULT = 0, INT4_WGMMA_DEFAULT = 0;

// A switch read once from the environment ("1" on, anything else off), else its default.
static bool env_switch(const char* name, int fallback, int* cached) {
    if (*cached < 0) {
        const char* env = getenv(name);
        *cached = env ? strcmp(env, "1") == 0 : fallback;
    }
    return *cached == 1;
}

static int g_moe_quant_mma = -1, g_fp8_wgmma = -1, g_int4_wgmma = -1;  // -1: not read yet
bool moe_quant_mma_auto() { return env_switch("EDGELLM_MOE_QUANT_MMA", MOE_QUANT_MMA_DEFAULT, &g_moe_quant_mma); }
bool fp8_wgmma_auto() { return env_switch("EDGELLM_FP8_WGMMA", FP8_WGMMA_DEFAULT, &g_fp8_wgmma); }
bool int4_wgmma_auto() { return env_switch("EDGELLM_INT4_WGMMA", INT4_WGMMA_DEFAULT, &g_int4_wgmma); }

static bool g_batch_invariant = false;

void kernels_set_batch_invariant(bool on) { g_batch_invariant = on; }
bool kernels_batch_invariant() { return g_batch_invariant; }
