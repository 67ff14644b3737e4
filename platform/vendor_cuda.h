// vendor_cuda.h — CUDA runtime for device code and platform_cuda.cu. Included only through
// platform/vendor.h, never by core/.
#pragma once
#include <cuda_runtime.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#define WARP_SIZE 32
#define EDGELLM_HAS_CUDA_PTX 1  // inline PTX / mma / cp.async paths may be compiled
#define VENDOR_PROP_LANES warpSize  // cudaDeviceProp's lanes per warp
