// vendor_maca.h — MetaX MACA: the CUDA runtime names edgellm uses, renamed to MACA's.
// Every cuda* identifier used under platform/ and kernels/ must have a line here
// (tests/scripts/check_vendor_maca.sh enforces it). MACA has 64-lane waves, 64 KB shared memory per
// block, sm_80-level features, no inline PTX and no wgmma/TMA.
#pragma once
#include <mcr/mc_runtime.h>
#include <maca_bfloat16.h>
#include <maca_fp16.h>

#define WARP_SIZE 64
#define EDGELLM_HAS_CUDA_PTX 0
#define VENDOR_PROP_LANES waveSize  // mcDeviceProp_t's lanes per wave

#define __nv_bfloat16 __maca_bfloat16
#define __nv_bfloat162 __maca_bfloat162

#define cudaError_t mcError_t
#define cudaSuccess mcSuccess
#define cudaGetErrorString mcGetErrorString
#define cudaGetLastError mcGetLastError
#define cudaGetDeviceCount mcGetDeviceCount
#define cudaSetDevice mcSetDevice
#define cudaGetDevice mcGetDevice
#define cudaDeviceProp mcDeviceProp_t
#define cudaGetDeviceProperties mcGetDeviceProperties
#define cudaDeviceGetPCIBusId mcDeviceGetPCIBusId
#define cudaDeviceSynchronize mcDeviceSynchronize
#define cudaMemGetInfo mcMemGetInfo
#define cudaMalloc mcMalloc
#define cudaFree mcFree
#define cudaMallocHost mcMallocHost
#define cudaFreeHost mcFreeHost
#define cudaMemcpy mcMemcpy
#define cudaMemcpyAsync mcMemcpyAsync
#define cudaMemcpy2DAsync mcMemcpy2DAsync
#define cudaMemset mcMemset
#define cudaMemsetAsync mcMemsetAsync
#define cudaMemcpyHostToDevice mcMemcpyHostToDevice
#define cudaMemcpyDeviceToHost mcMemcpyDeviceToHost
#define cudaMemcpyDeviceToDevice mcMemcpyDeviceToDevice
#define cudaStream_t mcStream_t
#define cudaStreamCreate mcStreamCreate
#define cudaStreamCreateWithFlags mcStreamCreateWithFlags
#define cudaStreamNonBlocking mcStreamNonBlocking
#define cudaStreamDestroy mcStreamDestroy
#define cudaStreamSynchronize mcStreamSynchronize
#define cudaEvent_t mcEvent_t
#define cudaEventCreate mcEventCreate
#define cudaEventDestroy mcEventDestroy
#define cudaEventRecord mcEventRecord
#define cudaEventSynchronize mcEventSynchronize
#define cudaEventElapsedTime mcEventElapsedTime
#define cudaGraph_t mcGraph_t
#define cudaGraphExec_t mcGraphExec_t
#define cudaStreamBeginCapture mcStreamBeginCapture
#define cudaStreamEndCapture mcStreamEndCapture
#define cudaStreamCaptureModeThreadLocal mcStreamCaptureModeThreadLocal
#define cudaStreamCaptureModeGlobal mcStreamCaptureModeGlobal
// MACA keeps the pre-CUDA-12 form: (exec, graph, error node, log buffer, log size)
#define cudaGraphInstantiate(exec, graph, flags) mcGraphInstantiate(exec, graph, nullptr, nullptr, 0)
#define cudaGraphLaunch mcGraphLaunch
#define cudaGraphDestroy mcGraphDestroy
#define cudaGraphExecDestroy mcGraphExecDestroy
#define cudaFuncSetAttribute mcFuncSetAttribute
#define cudaGetSymbolAddress mcGetSymbolAddress
#define cudaFuncAttributeMaxDynamicSharedMemorySize mcFuncAttributeMaxDynamicSharedMemorySize
#define cudaFuncAttributes mcFuncAttributes
#define cudaFuncGetAttributes mcFuncGetAttributes
#define cudaDevAttrMaxSharedMemoryPerBlockOptin mcDevAttrMaxSharedMemoryPerBlockOptin
#define cudaDeviceGetAttribute mcDeviceGetAttribute
#define cudaDevAttrMultiProcessorCount mcDevAttrMultiProcessorCount
#define cudaOccupancyMaxActiveBlocksPerMultiprocessor mcOccupancyMaxActiveBlocksPerMultiprocessor
#define cudaMallocAsync mcMallocAsync
#define cudaFreeAsync mcFreeAsync
#define cudaErrorNotReady mcErrorNotReady
#define cudaStreamQuery mcStreamQuery
// Used only inside EDGELLM_HAS_CUDA_PTX blocks (the Hopper TMA GEMM, programmatic dependent
// launch), so never expanded here; named for the rename check.
#define cudaDriverEntryPointQueryResult mcDriverEntryPointQueryResult
#define cudaDriverEntryPointSuccess mcDriverEntryPointSuccess
#define cudaEnableDefault mcEnableDefault
#define cudaGetDriverEntryPointByVersion mcGetDriverEntryPointByVersion
#define cudaLaunchAttribute mcLaunchAttribute
#define cudaLaunchAttributeClusterDimension mcLaunchAttributeClusterDimension
#define cudaLaunchAttributeProgrammaticStreamSerialization mcLaunchAttributeProgrammaticStreamSerialization
#define cudaLaunchConfig_t mcLaunchConfig_t
#define cudaLaunchKernelEx mcLaunchKernelEx
#define cudaOccupancyMaxActiveClusters mcOccupancyMaxActiveClusters
