// sampling.cu — sample_forward (kernels.h): one block of SAMPLE_THREADS threads per slot, every
// vocab-wide pass on the device, no sort.
//   1. raw logprobs (when asked): block max, double sum of exp, then the top-N by N block argmax
//      passes, each taking the best element ranked after the previous one;
//   2. the row is copied to the slot's workspace row and its sparse penalty entries applied;
//   3. greedy: block argmax. Otherwise probabilities in place, then thresholds found by radix
//      select on the float bits (probabilities are >= 0, so bits order like values): top_k by
//      counts, top_p by mass, three digits of 11, 11 and 10 bits with a shared histogram; the
//      top_p tie cut (ties ranked by lower id) by an ordered count;
//   4. the draw: each thread sums a contiguous id range of kept mass, a block exclusive scan
//      gives every range its starting mass, and the range holding u * total walks to the token.
// Sums are in double, so the result equals the reference except where a cumulative mass lies
// within rounding of its target.
#include "kernels/common.cuh"
#include "kernels/sampling_rules.h"
#include <limits.h>
#include <math.h>

#define SAMPLE_THREADS 1024
#define SAMPLE_N_BINS 2048  // the widest radix digit: 11 bits

struct SampleSmem {
    double bins[SAMPLE_N_BINS];
    double warp_d[SAMPLE_THREADS / WARP_SIZE];
    double warp_excl[SAMPLE_THREADS / WARP_SIZE];
    float warp_f[SAMPLE_THREADS / WARP_SIZE];
    int warp_i[SAMPLE_THREADS / WARP_SIZE];
    double d_total, d0;
    float f0;
    int i0, i1;
};

// Is (v, i) ranked before (bv, bi)? sampling_rules.h's order.
__device__ __forceinline__ bool ranks_before(float v, int i, float bv, int bi) {
    return sampling_ranks_before(v, i, bv, bi);
}

__device__ float block_max_f(float v, SampleSmem& sm) {
    const int lane = threadIdx.x % WARP_SIZE, warp = threadIdx.x / WARP_SIZE;
    v = warp_max(v);
    if (lane == 0) sm.warp_f[warp] = v;
    __syncthreads();
    if (warp == 0) {
        float m = lane < (int)(blockDim.x / WARP_SIZE) ? sm.warp_f[lane] : -INFINITY;
        m = warp_max(m);
        if (lane == 0) sm.f0 = m;
    }
    __syncthreads();
    return sm.f0;
}

__device__ double warp_sum_d(double v) {
#pragma unroll
    for (int o = WARP_SIZE / 2; o > 0; o >>= 1) v += __shfl_xor_sync(WARP_FULL_MASK, v, o);
    return v;
}

__device__ double block_sum_d(double v, SampleSmem& sm) {
    const int lane = threadIdx.x % WARP_SIZE, warp = threadIdx.x / WARP_SIZE;
    v = warp_sum_d(v);
    if (lane == 0) sm.warp_d[warp] = v;
    __syncthreads();
    if (warp == 0) {
        double s = lane < (int)(blockDim.x / WARP_SIZE) ? sm.warp_d[lane] : 0.0;
        s = warp_sum_d(s);
        if (lane == 0) sm.d_total = s;
    }
    __syncthreads();
    return sm.d_total;
}

// The best (value, index) of the block by ranks_before; index n (a sentinel) where no thread
// offered one.
__device__ void block_argmax(float* bv, int* bi, SampleSmem& sm) {
    const int lane = threadIdx.x % WARP_SIZE, warp = threadIdx.x / WARP_SIZE;
    float v = *bv;
    int i = *bi;
#pragma unroll
    for (int o = WARP_SIZE / 2; o > 0; o >>= 1) {
        float ov = __shfl_xor_sync(WARP_FULL_MASK, v, o);
        int oi = __shfl_xor_sync(WARP_FULL_MASK, i, o);
        if (ranks_before(ov, oi, v, i)) { v = ov; i = oi; }
    }
    if (lane == 0) { sm.warp_f[warp] = v; sm.warp_i[warp] = i; }
    __syncthreads();
    if (warp == 0) {
        bool real = lane < (int)(blockDim.x / WARP_SIZE);
        v = real ? sm.warp_f[lane] : -INFINITY;
        i = real ? sm.warp_i[lane] : INT_MAX;
#pragma unroll
        for (int o = WARP_SIZE / 2; o > 0; o >>= 1) {
            float ov = __shfl_xor_sync(WARP_FULL_MASK, v, o);
            int oi = __shfl_xor_sync(WARP_FULL_MASK, i, o);
            if (ranks_before(ov, oi, v, i)) { v = ov; i = oi; }
        }
        if (lane == 0) { sm.f0 = v; sm.i0 = i; }
    }
    __syncthreads();
    *bv = sm.f0;
    *bi = sm.i0;
    __syncthreads();  // sm.f0/i0 are reused by the next reduction
}

// Exclusive prefix sum over the threads in thread order; *total gets the block's sum.
__device__ double block_excl_scan_d(double v, double* total, SampleSmem& sm) {
    const int lane = threadIdx.x % WARP_SIZE, warp = threadIdx.x / WARP_SIZE;
    const int n_warps = blockDim.x / WARP_SIZE;
    double incl = v;
#pragma unroll
    for (int o = 1; o < WARP_SIZE; o <<= 1) {
        double y = __shfl_up_sync(WARP_FULL_MASK, incl, o);
        if (lane >= o) incl += y;
    }
    double excl = __shfl_up_sync(WARP_FULL_MASK, incl, 1);
    if (lane == 0) excl = 0.0;
    if (lane == WARP_SIZE - 1) sm.warp_d[warp] = incl;
    __syncthreads();
    if (warp == 0) {
        double t = lane < n_warps ? sm.warp_d[lane] : 0.0;
#pragma unroll
        for (int o = 1; o < WARP_SIZE; o <<= 1) {
            double y = __shfl_up_sync(WARP_FULL_MASK, t, o);
            if (lane >= o) t += y;
        }
        double te = __shfl_up_sync(WARP_FULL_MASK, t, 1);
        if (lane < n_warps) sm.warp_excl[lane] = lane == 0 ? 0.0 : te;
        if (lane == n_warps - 1) sm.d_total = t;
    }
    __syncthreads();
    *total = sm.d_total;
    double r = sm.warp_excl[warp] + excl;
    __syncthreads();  // sm.d_total is reused by the next reduction
    return r;
}

__device__ __forceinline__ bool passes(float p, float thr) { return p > 0.0f && p >= thr; }

// Radix select over w[0, n): among the elements that pass (all of them, or passes(p, thr) when
// filter), finds the key K (float bits) with weight(key > K) < target <= weight(key >= K), where
// an element weighs 1 (!by_mass) or p. *above gets weight(key > K). Where rounding leaves target
// above the total weight, K is the smallest key that passes. Call from all threads.
__device__ uint32_t radix_select(const float* w, int n, bool filter, float thr, bool by_mass,
                                 double target, double* above_out, SampleSmem& sm) {
    const int tid = threadIdx.x, nt = blockDim.x;
    uint32_t prefix = 0, mask = 0;
    double above = 0.0;
    for (int level = 0; level < 3; level++) {
        const int shift = level == 0 ? 21 : level == 1 ? 10 : 0;
        const int nb = level == 2 ? 1 << 10 : 1 << 11;
        for (int b = tid; b < nb; b += nt) sm.bins[b] = 0.0;
        if (tid == 0) { sm.i0 = -1; sm.i1 = INT_MAX; }
        __syncthreads();
        // each thread adds runs of equal digits at once: few atomics where most keys share one
        int run_bin = -1;
        double run = 0.0;
        for (int i = tid; i < n; i += nt) {
            float p = w[i];
            if (filter && !passes(p, thr)) continue;
            uint32_t key = __float_as_uint(p);
            if ((key & mask) != prefix) continue;
            int b = (int)((key >> shift) & (uint32_t)(nb - 1));
            if (b != run_bin) {
                if (run_bin >= 0) atomicAdd(&sm.bins[run_bin], run);
                run_bin = b;
                run = 0.0;
            }
            run += by_mass ? (double)p : 1.0;
        }
        if (run_bin >= 0) atomicAdd(&sm.bins[run_bin], run);
        __syncthreads();
        // thread t owns bins nb-1-t*per .. nb-per-t*per (descending), so thread order is key order
        // from the top and an exclusive scan gives each thread the weight above its bins
        const int per = nb >= nt ? nb / nt : 1;
        const int first = tid * per;
        double own = 0.0;
        for (int j = 0; j < per && first + j < nb; j++) own += sm.bins[nb - 1 - (first + j)];
        double total;
        const double c0 = block_excl_scan_d(own, &total, sm);
        double c = c0;
        for (int j = 0; j < per && first + j < nb; j++) {
            int b = nb - 1 - (first + j);
            double h = sm.bins[b];
            if (h > 0.0) {
                atomicMin(&sm.i1, b);
                if (c + h >= target) { atomicMax(&sm.i0, b); break; }
            }
            c += h;
        }
        __syncthreads();
        int chosen = sm.i0 >= 0 ? sm.i0 : (sm.i1 != INT_MAX ? sm.i1 : 0);
        c = c0;  // the owner of the chosen bin reports the weight above it
        for (int j = 0; j < per && first + j < nb; j++) {
            int b = nb - 1 - (first + j);
            if (b == chosen) sm.d0 = c;
            c += sm.bins[b];
        }
        __syncthreads();
        double a = sm.d0;
        __syncthreads();  // bins and d0 are rewritten by the next level
        above += a;
        target -= a;
        prefix |= (uint32_t)chosen << shift;
        mask |= (uint32_t)(nb - 1) << shift;
    }
    *above_out = above;
    return prefix;
}

// The id of the m-th (from 1) element in id order with passes(p, thr) and key == K, or INT_MAX
// where there are fewer. Thread t counts a contiguous id range; a scan finds the range.
__device__ int nth_tie(const float* w, int n, float thr, uint32_t K, int m, SampleSmem& sm) {
    const int seg = (n + blockDim.x - 1) / blockDim.x;
    const int lo = min(n, (int)threadIdx.x * seg), hi = min(n, lo + seg);
    int count = 0;
    for (int i = lo; i < hi; i++) count += passes(w[i], thr) && __float_as_uint(w[i]) == K;
    if (threadIdx.x == 0) sm.i1 = INT_MAX;
    double total;
    int before = (int)block_excl_scan_d((double)count, &total, sm);
    if (before < m && m <= before + count) {
        int left = m - before;
        for (int i = lo; i < hi; i++)
            if (passes(w[i], thr) && __float_as_uint(w[i]) == K && --left == 0) { sm.i1 = i; break; }
    }
    __syncthreads();
    int id = sm.i1;
    __syncthreads();
    return id;
}

// Is token i, of probability p, kept after min_p, top_k (thr) and top_p (key K, ties up to cut_id)?
__device__ __forceinline__ bool kept(float p, int i, float thr, bool cut, uint32_t K, int cut_id) {
    if (!passes(p, thr)) return false;
    if (!cut) return true;
    uint32_t key = __float_as_uint(p);
    return key > K || (key == K && i <= cut_id);
}

// The first kept token in id order whose cumulative mass exceeds u * kept mass; the last kept
// one where rounding leaves none; 0 where nothing is kept.
__device__ int draw_token(const float* w, int n, float thr, bool cut, uint32_t K, int cut_id,
                          double u, SampleSmem& sm) {
    const int seg = (n + blockDim.x - 1) / blockDim.x;
    const int lo = min(n, (int)threadIdx.x * seg), hi = min(n, lo + seg);
    double s = 0.0;
    int last = -1;
    for (int i = lo; i < hi; i++) {
        float p = w[i];
        if (kept(p, i, thr, cut, K, cut_id)) { s += p; last = i; }
    }
    if (threadIdx.x == 0) { sm.i0 = INT_MAX; sm.i1 = -1; }
    double total;
    double c = block_excl_scan_d(s, &total, sm);
    double target = u * total;
    if (last >= 0) {
        atomicMax(&sm.i1, last);
        for (int i = lo; i < hi; i++) {
            float p = w[i];
            if (!kept(p, i, thr, cut, K, cut_id)) continue;
            c += p;
            if (c > target) { atomicMin(&sm.i0, i); break; }
        }
    }
    __syncthreads();
    int token = sm.i0 != INT_MAX ? sm.i0 : (sm.i1 >= 0 ? sm.i1 : 0);
    __syncthreads();
    return token;
}

__global__ void __launch_bounds__(SAMPLE_THREADS)
sample_kernel(int32_t* tokens, float* logprobs, int32_t* top_ids, float* top_logprobs,
              const float* logits, const SampleRow* rows, const SamplePenalty* penalties, int n,
              float* workspace, int64_t ws_stride) {
    grid_dependency_wait();  // launch_dependent: before any global access
    __shared__ SampleSmem sm;
    const int slot = blockIdx.x, tid = threadIdx.x, nt = blockDim.x;
    const SampleRow r = rows[slot];
    const float* raw = logits + (int64_t)r.logits_row * n;
    float* w = workspace + (int64_t)slot * ws_stride;

    // 1. raw logprobs
    double lse = 0.0;
    if (r.n_top >= 0) {
        float mx = -INFINITY;
        for (int i = tid; i < n; i += nt) mx = fmaxf(mx, raw[i]);
        mx = block_max_f(mx, sm);
        double s = 0.0;
        for (int i = tid; i < n; i += nt) s += expf(raw[i] - mx);
        lse = (double)mx + log(block_sum_d(s, sm));
        float pv = INFINITY;
        int pi = -1;
        const int n_top = min(r.n_top, SAMPLE_MAX_TOP);
        for (int j = 0; j < n_top; j++) {
            float bv = -INFINITY;
            int bi = INT_MAX;
            for (int i = tid; i < n; i += nt) {
                float v = raw[i];
                bool after = v < pv || (v == pv && i > pi);
                if (after && ranks_before(v, i, bv, bi)) { bv = v; bi = i; }
            }
            block_argmax(&bv, &bi, sm);
            if (bi >= n) break;  // nothing left (NaN rows)
            if (tid == 0) {
                top_ids[(int64_t)slot * SAMPLE_MAX_TOP + j] = bi;
                top_logprobs[(int64_t)slot * SAMPLE_MAX_TOP + j] = (float)((double)bv - lse);
            }
            pv = bv;
            pi = bi;
        }
    }

    // 2. penalised copy
    for (int i = tid; i < n; i += nt) w[i] = raw[i];
    __syncthreads();
    for (int j = tid; j < r.n_penalties; j += nt) {
        const SamplePenalty e = penalties[r.penalty_start + j];
        float l = w[e.token];
        if (r.repetition_penalty != 1.0f && (e.n_output > 0 || (e.flags & SAMPLE_IN_PROMPT)))
            l = l > 0.0f ? __fdiv_rn(l, r.repetition_penalty) : __fmul_rn(l, r.repetition_penalty);
        if (e.n_output > 0)
            l = __fsub_rn(l, __fadd_rn(__fmul_rn(r.frequency_penalty, (float)e.n_output),
                                       r.presence_penalty));
        if (e.flags & SAMPLE_MASKED) l = -INFINITY;
        w[e.token] = l;
    }
    __syncthreads();

    // 3. greedy, or probabilities and thresholds
    int token;
    if (sampling_is_greedy(r.temperature)) {
        float bv = -INFINITY;
        int bi = INT_MAX;
        for (int i = tid; i < n; i += nt)
            if (ranks_before(w[i], i, bv, bi)) { bv = w[i]; bi = i; }
        block_argmax(&bv, &bi, sm);
        token = bi < n ? bi : 0;
    } else {
        float mx = -INFINITY;
        for (int i = tid; i < n; i += nt) mx = fmaxf(mx, w[i]);
        mx = block_max_f(mx, sm);
        if (!isfinite(mx)) {
            token = 0;
        } else {
            const float inv_t = __fdiv_rn(1.0f, r.temperature);
            for (int i = tid; i < n; i += nt)
                w[i] = (float)exp((double)__fmul_rn(__fsub_rn(w[i], mx), inv_t));
            __syncthreads();
            float thr = r.min_p;
            double above;
            if (r.top_k > 0 && r.top_k < n) {
                uint32_t kth = radix_select(w, n, false, 0.0f, false, (double)r.top_k, &above, sm);
                thr = fmaxf(thr, __uint_as_float(kth));
            }
            bool cut = r.top_p < 1.0f;
            uint32_t K = 0;
            int cut_id = INT_MAX;
            if (cut) {
                double s = 0.0;
                for (int i = tid; i < n; i += nt)
                    if (passes(w[i], thr)) s += w[i];
                double limit = (double)r.top_p * block_sum_d(s, sm);
                K = radix_select(w, n, true, thr, true, limit, &above, sm);
                double pk = (double)__uint_as_float(K);
                double need = ceil((limit - above) / pk);  // ties to take, by lower id
                int m = need < 1.0 ? 1 : (need > (double)n ? n : (int)need);
                cut_id = nth_tie(w, n, thr, K, m, sm);
            }
            token = draw_token(w, n, thr, cut, K, cut_id, r.u, sm);
        }
    }

    // 4. results
    if (tid == 0) {
        tokens[slot] = token;
        logprobs[slot] = r.n_top >= 0 ? (float)((double)raw[token] - lse) : 0.0f;
    }
}

static int64_t sample_ws_stride(int vocab) { return ((int64_t)vocab + 3) / 4 * 4; }  // 16-byte rows

size_t sample_workspace_bytes(int n_slots, int vocab) {
    return (size_t)n_slots * (size_t)sample_ws_stride(vocab) * sizeof(float);
}

void sample_forward(int32_t* tokens, float* logprobs, int32_t* top_ids, float* top_logprobs,
                    const float* logits, const SampleRow* rows, const SamplePenalty* penalties,
                    int n_slots, int vocab, void* workspace, plat_stream_t stream) {
    if (n_slots <= 0) return;
    launch_dependent(sample_kernel, n_slots, SAMPLE_THREADS, 0, to_stream(stream), 
        tokens, logprobs, top_ids, top_logprobs, logits, rows, penalties, vocab, (float*)workspace,
        sample_ws_stride(vocab));
    CUDA_CHECK_LAUNCH();
}
