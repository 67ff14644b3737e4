// maca_bfloat16.h (test shim) — MACA's bf16 types under their MACA names, on CUDA's. The
// conversion intrinsics (__float2bfloat16, __bfloat162float, __floats2bfloat162_rn, ...) carry
// the same names in both SDKs.
#pragma once
#include <cuda_bf16.h>
typedef __nv_bfloat16 __maca_bfloat16;
typedef __nv_bfloat162 __maca_bfloat162;
