// online_fp8_bench.cpp — host time of --quantization fp8's quantization at load
// (online_fp8_quantize of core/model/weights_online_fp8.h) on one Llama-3.1-8B down_proj shape
// (4096 x 14336 bf16, random finite values), on 1 .. n threads: nanoseconds per value, and a hash
// of the e4m3 bytes and scales (the same before and after a change means bit-identical output).
//   make PLATFORM=cpu build/cpu/online_fp8_bench
//   build/cpu/online_fp8_bench [max_threads (default 8)] [repeats (default 3)]
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <algorithm>
#include <random>
#include <string>
#include <vector>
#include "core/model/safetensors.h"
#include "core/model/weights_online_fp8.h"
#include "core/util/clock.h"

int main(int argc, char** argv) {
    const int max_threads = argc > 1 ? atoi(argv[1]) : 8, repeats = argc > 2 ? atoi(argv[2]) : 3;
    const int64_t R = 4096, C = 14336;
    std::vector<uint16_t> w((size_t)(R * C));
    std::mt19937 rng(1);
    for (uint16_t& x : w) {  // bf16 of magnitude 2^-8 .. 2^0, either sign
        const uint32_t r = rng();
        x = (uint16_t)(((r >> 16) & 0x8000u) | ((0x77u + r % 8) << 7) | (r >> 9 & 0x7fu));
    }
    std::vector<uint8_t> q((size_t)(R * C));
    std::vector<float> s((size_t)R);
    for (int nt = 1; nt <= max_threads; nt *= 2) {
        double best = 1e30;
        for (int i = 0; i < repeats; i++) {
            std::string err;
            const Clock::time_point t0 = Clock::now();
            if (!online_fp8_quantize("w", (const uint8_t*)w.data(), (int)StDtype::BF16, R, C, C, q.data(), s.data(), nt,
                                     &err)) {
                fprintf(stderr, "%s\n", err.c_str());
                return 1;
            }
            best = std::min(best, seconds_since(t0));
        }
        uint64_t h = 0xcbf29ce484222325ull;
        for (uint8_t b : q) h = (h ^ b) * 0x100000001b3ull;
        for (float f : s) {
            uint32_t u;
            memcpy(&u, &f, 4);
            h = (h ^ u) * 0x100000001b3ull;
        }
        printf("%d thread(s): %.3f s for %.1f M values, %.2f ns a value (best of %d); output hash %016llx\n", nt, best,
               R * C / 1e6, best * 1e9 / (double)(R * C), repeats, (unsigned long long)h);
    }
    return 0;
}
