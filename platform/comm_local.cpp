// comm_local.cpp — the in-process group of comm.h: the ranks publish their buffers' addresses,
// meet at a barrier, each reads every rank's buffer in rank order, and meet again before anyone
// may change a buffer (a generation-counted barrier, so the group is reused call after call).
#include "platform/comm.h"
#include <string.h>
#include <condition_variable>
#include <mutex>
#include <vector>

struct PlatComm {
    int n = 0;
    std::mutex mu;
    std::condition_variable cv;
    int waiting = 0;
    unsigned long long generation = 0;
    std::vector<const void*> bufs;  // per rank, published before the first barrier of a call
};

static void barrier(PlatComm* c) {
    std::unique_lock<std::mutex> lock(c->mu);
    const unsigned long long gen = c->generation;
    if (++c->waiting == c->n) {
        c->waiting = 0;
        c->generation++;
        c->cv.notify_all();
        return;
    }
    c->cv.wait(lock, [&] { return c->generation != gen; });
}

PlatComm* plat_comm_create_local(int n_ranks) {
    PLAT_ASSERT(n_ranks >= 1, "plat_comm_create_local: a group needs a rank");
    PlatComm* c = new PlatComm();
    c->n = n_ranks;
    c->bufs.assign(n_ranks, nullptr);
    return c;
}

void plat_comm_destroy(PlatComm* comm) { delete comm; }
int plat_comm_size(const PlatComm* comm) { return comm->n; }

static float bf16_value(uint16_t b) {
    const uint32_t u = (uint32_t)b << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static uint16_t bf16_round(float f) {  // nearest even; NaN stays NaN
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
    return (uint16_t)((u + 0x7fffu + ((u >> 16) & 1u)) >> 16);
}

void plat_comm_all_reduce_sum(PlatComm* c, int rank, void* buf, size_t n, int type, plat_stream_t) {
    PLAT_ASSERT(rank >= 0 && rank < c->n, "plat_comm_all_reduce_sum: rank outside the group");
    PLAT_ASSERT(type == COMM_F32 || type == COMM_BF16, "plat_comm_all_reduce_sum: unknown type");
    if (c->n == 1) return;
    c->bufs[rank] = buf;
    barrier(c);
    std::vector<float> sum(n, 0.0f);
    for (int r = 0; r < c->n; r++) {  // rank order: every rank adds the same way
        if (type == COMM_F32) {
            const float* b = (const float*)c->bufs[r];
            for (size_t i = 0; i < n; i++) sum[i] += b[i];
        } else {
            const uint16_t* b = (const uint16_t*)c->bufs[r];
            for (size_t i = 0; i < n; i++) sum[i] += bf16_value(b[i]);
        }
    }
    barrier(c);  // every rank has read every buffer
    if (type == COMM_F32) {
        memcpy(buf, sum.data(), n * sizeof(float));
    } else {
        uint16_t* b = (uint16_t*)buf;
        for (size_t i = 0; i < n; i++) b[i] = bf16_round(sum[i]);
    }
}

void plat_comm_all_gather(PlatComm* c, int rank, const void* send, void* recv, size_t n_bytes,
                          plat_stream_t) {
    PLAT_ASSERT(rank >= 0 && rank < c->n, "plat_comm_all_gather: rank outside the group");
    c->bufs[rank] = send;
    barrier(c);
    for (int r = 0; r < c->n; r++)
        if (c->bufs[r] != (char*)recv + (size_t)r * n_bytes)  // in place: the rank's own part is there
            memcpy((char*)recv + (size_t)r * n_bytes, c->bufs[r], n_bytes);
    barrier(c);
}
