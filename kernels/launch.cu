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

// The tensor-core kernels reading FP8 and int4 experts' bytes on the automatic paths (where
// moe_path_pick takes the tensor cores): EDGELLM_MOE_QUANT_MMA=1 or 0 in the environment, else
// MOE_QUANT_MMA_DEFAULT. On: an H100 (2026-12-08, gpu_bench moe, Qwen3-30B-A3B layer) ran FP8
// experts at 64 tokens in 0.33 ms against the CUDA-core kernel's 0.85, int4 in 0.37 against 0.82,
// and at 2048 tokens 1.17 ms against the dequantizing path's 1.66 (FP8) and 1.32 against 19.0
// (int4); generate 64 x 128/128 on the FP8 model went from 1,284 to 2,693 output tok/s.
static const int MOE_QUANT_MMA_DEFAULT = 1;
// Hopper's wgmma kernel for FP8 and int4 decode batches (matmul_quant_decode.cu) on
// matmul_forward's paths for 3-256 rows: EDGELLM_FP8_WGMMA / EDGELLM_INT4_WGMMA =1 or 0, else the
// defaults. On: an H100 (2026-12-08, gpu_bench fp8 / int4, Llama-3.1-8B's four GEMMs x 32 layers)
// took 4.33 ms at 64 rows against 7.51 on the previous paths (FP8 per channel), 5.89 against 7.85
// (FP8 128 x 128 blocks) and 5.85 against 7.87 (int4, groups of 128); at 4-16 rows int4 is within
// 0.97-1.12x of the mma.sync kernel.
static const int FP8_WGMMA_DEFAULT = 1, INT4_WGMMA_DEFAULT = 1;

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
