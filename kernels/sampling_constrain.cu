// sampling_constrain.cu — sample_constrain (kernels.h): grammar / allowed-token bitmasks and
// sparse logit biases applied in place to the logits rows before sample_forward.
// Mask: grid (blocks over the row's words, n_masked); each thread reads one uint32 word of the
// row's mask and rewrites the (up to) 32 logits it covers. Napkin math: a row of 151,936 logits
// is 594 KiB read + 594 KiB written and 19 KiB of mask, about 1 us a row at 1 TB/s; the bias
// pass is one thread per entry and runs after the mask in stream order.
#include "kernels/common.cuh"
#include <math.h>

#define CONSTRAIN_THREADS 256

__global__ void __launch_bounds__(CONSTRAIN_THREADS)
sample_mask_kernel(float* logits, const int32_t* mask_rows, const uint32_t* masks, int vocab, int n_words) {
    const int w = blockIdx.x * CONSTRAIN_THREADS + threadIdx.x;
    if (w >= n_words) return;
    const uint32_t bits = masks[(int64_t)blockIdx.y * n_words + w];
    if (bits == ~0u) return;
    float* row = logits + (int64_t)mask_rows[blockIdx.y] * vocab;
    const int t0 = w * 32;
    const int n = min(32, vocab - t0);
    for (int k = 0; k < n; k++)
        if (!((bits >> k) & 1u)) row[t0 + k] = -INFINITY;
}

__global__ void __launch_bounds__(CONSTRAIN_THREADS)
sample_bias_kernel(float* logits, const SampleBias* biases, int n_biases, int vocab) {
    const int j = blockIdx.x * CONSTRAIN_THREADS + threadIdx.x;
    if (j >= n_biases) return;
    const SampleBias b = biases[j];
    logits[(int64_t)b.row * vocab + b.token] += b.bias;  // entries name distinct (row, token) pairs
}

void sample_constrain(float* logits, const int32_t* mask_rows, const uint32_t* masks, int n_masked,
                      const SampleBias* biases, int n_biases, int vocab, plat_stream_t stream) {
    // SAMPLE_MASK_WORDS(vocab), written so that no lane arithmetic is spelled (check_wave64.sh)
    const int n_words = (vocab + 31) / (int)(8 * sizeof(uint32_t));
    PLAT_ASSERT(n_masked <= 65535, "sample_constrain: more than 65535 masked rows");
    if (n_masked > 0 && vocab > 0) {
        dim3 grid((n_words + CONSTRAIN_THREADS - 1) / CONSTRAIN_THREADS, n_masked);
        sample_mask_kernel<<<grid, CONSTRAIN_THREADS, 0, to_stream(stream)>>>(logits, mask_rows, masks, vocab,
                                                                               n_words);
        CUDA_CHECK_LAUNCH();
    }
    if (n_biases > 0) {
        sample_bias_kernel<<<(n_biases + CONSTRAIN_THREADS - 1) / CONSTRAIN_THREADS, CONSTRAIN_THREADS, 0,
                             to_stream(stream)>>>(logits, biases, n_biases, vocab);
        CUDA_CHECK_LAUNCH();
    }
}
