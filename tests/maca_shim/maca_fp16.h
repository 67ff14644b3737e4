// maca_fp16.h (test shim) — MACA's half types, on CUDA's.
#pragma once
#include <cuda_fp16.h>
