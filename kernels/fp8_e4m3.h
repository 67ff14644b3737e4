// fp8_e4m3.h — float8 e4m3 ("fn": 1 sign, 4 exponent bits with bias 7, 3 mantissa bits, no
// infinities, 0x7f / 0xff NaN) encoding, one definition for the host (CPU platform, references)
// and the device (the KV-cache write kernel), so both store the same bytes.
#pragma once
#include <math.h>
#include <stdint.h>
#include <string.h>

#if defined(__CUDACC__) || defined(__MACACC__)
#define FP8_HD __host__ __device__
#else
#define FP8_HD
#endif

// The largest finite e4m3 value, 1.75 * 2^8.
#define FP8_E4M3_MAX 448.0f

// f rounded to the nearest e4m3 value (ties to even), saturated at ±448 (as a cast with
// saturation to finite does); NaN stays NaN (0x7f with f's sign).
FP8_HD inline uint8_t f32_to_e4m3(float f) {
    uint32_t u;
    memcpy(&u, &f, 4);
    const uint8_t sign = (uint8_t)((u >> 24) & 0x80u);
    u &= 0x7fffffffu;
    if (u > 0x7f800000u) return sign | 0x7fu;             // NaN
    if (u >= 0x43e00000u) return sign | 0x7eu;            // >= 448: saturate
    if (u < 0x3c800000u) {                                // below 2^-6: subnormal, m * 2^-9
        float a;
        memcpy(&a, &u, 4);
        return sign | (uint8_t)rintf(a * 512.0f);         // 8 rounds up to 2^-6, code 0x08
    }
    u += 0x7ffffu + ((u >> 20) & 1u);                     // mantissa to 3 bits, ties to even
    const uint32_t e = (u >> 23) - 127 + 7, m = (u >> 20) & 7u;
    return sign | (uint8_t)(e << 3 | m);                  // at most 0x7e: inputs are < 448
}

// The value of an e4m3 byte (exact in fp32).
FP8_HD inline float e4m3_to_f32(uint8_t b) {
    const uint32_t e = (b >> 3) & 0xfu, m = b & 7u;
    float v;
    if ((b & 0x7fu) == 0x7fu) {
        v = NAN;
    } else if (e == 0) {
        v = (float)m * (1.0f / 512.0f);
    } else {
        const uint32_t u = ((e + 127 - 7) << 23) | (m << 20);
        memcpy(&v, &u, 4);
    }
    return (b & 0x80u) ? -v : v;
}
