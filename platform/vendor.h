// vendor.h — picks the vendor runtime at compile time (DESIGN: no run-time vendor switches), and
// defines the check macro every device call goes through.
#pragma once
#if defined(EDGELLM_VENDOR_MACA)
#include "platform/vendor_maca.h"
#else
#include "platform/vendor_cuda.h"
#endif
#include "platform/platform.h"

// Prints the statement, function and file:line, and the runtime's message; exits.
#define CUDA_CHECK(stmt)                                                                   \
    do {                                                                                   \
        cudaError_t err_ = (stmt);                                                         \
        if (err_ != cudaSuccess)                                                           \
            plat_fatal(#stmt, cudaGetErrorString(err_), __func__, __FILE__, __LINE__);     \
    } while (0)
// After a kernel launch: catches launch-configuration errors at once.
#define CUDA_CHECK_LAUNCH() CUDA_CHECK(cudaGetLastError())
