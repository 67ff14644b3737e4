// comm.h — collectives among the ranks of one tensor-parallel group inside one process (one
// thread per rank, each bound to its device). The in-process implementation (comm_local.cpp)
// works on host memory, so it serves the CPU platform: every rank ends with the same bits,
// summed in rank order 0, 1, ... (deterministic, the same on every run). A GPU group will use
// NCCL (platform/nccl.h) behind the same calls.
#pragma once
#include <stddef.h>
#include "platform/platform.h"

struct PlatComm;  // one group, shared by its rank threads

enum PlatCommType { COMM_F32 = 0, COMM_BF16 = 1 };  // bf16: summed in fp32, rounded once

// A group of n_ranks threads in this process; destroy after every rank is done with it.
PlatComm* plat_comm_create_local(int n_ranks);
void plat_comm_destroy(PlatComm* comm);
int plat_comm_size(const PlatComm* comm);

// buf (n elements of type) on rank `rank` = the sum over the ranks of their buf. Every rank
// calls it with the same n and type; it returns when this rank's result is written.
void plat_comm_all_reduce_sum(PlatComm* comm, int rank, void* buf, size_t n, int type,
                              plat_stream_t stream);
// recv (size * n_bytes) on every rank = every rank's send (n_bytes), in rank order.
void plat_comm_all_gather(PlatComm* comm, int rank, const void* send, void* recv, size_t n_bytes,
                          plat_stream_t stream);
