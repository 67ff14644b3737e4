// test_kernels.cu — `make gpu-test`: every CUDA kernel against its CPU reference in kernels/ref/
// on random bf16 inputs (never zeros), poisoned outputs, odd sizes and block boundaries. One
// line per case; the last line is "N passed, N failed"; exit status 1 on any failure.
// This file: main() and the memory-bound kernels; test_matmul.cu, test_attention.cu and
// test_sampling.cu the rest.
#include "tests/gpu/gpu_check.h"
#include <algorithm>

int g_passed = 0, g_failed = 0;
std::mt19937 g_rng(20261123);

// bf16 output kernels that compute in fp32 and round once: half an ulp is 2^-9 relative.
static const double RTOL_BF16 = 1.0 / 128;

static void test_convert() {
    for (int64_t n : {1, 7, 4099, 1 << 20}) {
        for (int offset : {0, 1}) {  // offset 1: misaligned pointers take the scalar path
            std::vector<float> x(n);
            std::uniform_real_distribution<float> d(-100.0f, 100.0f);
            for (auto& v : x) v = d(g_rng);
            float* dx = upload(x);
            act_t* db = (act_t*)plat_alloc((n + 8) * 2);
            poison(db, (n + 8) * 2);
            convert_f32_to_act(db + offset, dx, n, nullptr);
            std::vector<float> got = download_bf16(db + offset, n), ref(n);
            for (int64_t i = 0; i < n; i++) ref[i] = bf16_round(x[i]);
            char name[96];
            snprintf(name, sizeof(name), "convert_f32_to_act n=%lld offset=%d (exact RNE)", (long long)n, offset);
            check_close(name, got, ref, 0, 0);
            // and back: bf16 -> fp32 is exact
            float* df = (float*)plat_alloc((n + 8) * 4);
            poison(df, (n + 8) * 4);
            convert_act_to_f32(df + offset, db + offset, n, nullptr);
            snprintf(name, sizeof(name), "convert_act_to_f32 n=%lld offset=%d (exact)", (long long)n, offset);
            check_close(name, download(df + offset, n), ref, 0, 0);
            plat_free(dx); plat_free(db); plat_free(df);
        }
    }
}

static void test_embedding_gather() {
    for (int hidden : {4096, 33, 8}) {
        int vocab = 1000, n_tok = 7;
        auto table = rand_bf16((size_t)vocab * hidden, -1, 1);
        std::vector<int32_t> ids = {0, 999, 5, 5, 123, 998, 1};
        act_t* dt = upload_bf16(table);
        int32_t* di = upload(ids);
        act_t* dout = (act_t*)plat_alloc((size_t)n_tok * hidden * 2);
        poison(dout, (size_t)n_tok * hidden * 2);
        embedding_forward(dout, dt, di, n_tok, hidden, nullptr);
        std::vector<float> ref((size_t)n_tok * hidden);
        embedding_ref(ref.data(), table.data(), ids.data(), n_tok, hidden);
        check_close("embedding hidden=" + std::to_string(hidden) + " (exact)",
                    download_bf16(dout, ref.size()), ref, 0, 0);
        // gather_rows from the same table
        std::vector<int32_t> rows = {999, 0, 7, 7, 500};
        int32_t* dr = upload(rows);
        poison(dout, (size_t)n_tok * hidden * 2);
        gather_rows_forward(dout, dt, dr, 5, hidden, nullptr);
        std::vector<float> gref((size_t)5 * hidden);
        gather_rows_ref(gref.data(), table.data(), rows.data(), 5, hidden);
        check_close("gather_rows dim=" + std::to_string(hidden) + " (exact)",
                    download_bf16(dout, gref.size()), gref, 0, 0);
        plat_free(dt); plat_free(di); plat_free(dout); plat_free(dr);
    }
}

static void test_norms() {
    const float eps = 1e-6f;
    int shapes[][2] = {{1, 4096}, {7, 5120}, {13, 33}, {3, 8}, {2, 8200}, {4, 1000}};
    for (auto& s : shapes) {
        int rows = s[0], dim = s[1];
        size_t n = (size_t)rows * dim;
        auto x = rand_bf16(n, -2, 2), w = rand_bf16(dim, 0.5f, 1.5f), res = rand_bf16(n, -2, 2);
        act_t *dx = upload_bf16(x), *dw = upload_bf16(w), *dres = upload_bf16(res);
        act_t* dout = (act_t*)plat_alloc(n * 2);
        char name[96];

        poison(dout, n * 2);
        rmsnorm_forward(dout, dx, dw, rows, dim, eps, nullptr);
        std::vector<float> ref(n);
        rmsnorm_ref(ref.data(), x.data(), w.data(), rows, dim, eps);
        snprintf(name, sizeof(name), "rmsnorm %dx%d", rows, dim);
        check_close(name, download_bf16(dout, n), ref, 1e-5, RTOL_BF16);

        rmsnorm_forward(dx, dx, dw, rows, dim, eps, nullptr);  // in place
        snprintf(name, sizeof(name), "rmsnorm in place %dx%d", rows, dim);
        check_close(name, download_bf16(dx, n), ref, 1e-5, RTOL_BF16);

        act_t* dx2 = upload_bf16(x);
        poison(dout, n * 2);
        add_rmsnorm_forward(dout, dres, dx2, dw, rows, dim, eps, nullptr);
        std::vector<float> rres = res, rout(n);
        add_rmsnorm_ref(rout.data(), rres.data(), x.data(), w.data(), rows, dim, eps);
        snprintf(name, sizeof(name), "add_rmsnorm out %dx%d", rows, dim);
        check_close(name, download_bf16(dout, n), rout, 1e-5, RTOL_BF16);
        snprintf(name, sizeof(name), "add_rmsnorm residual (one bf16 rounding) %dx%d", rows, dim);
        check_close(name, download_bf16(dres, n), rres, 0, 1.0 / 256);
        plat_free(dx); plat_free(dx2); plat_free(dw); plat_free(dres); plat_free(dout);
    }
}

static void test_silu_mul() {
    int shapes[][2] = {{1, 14336}, {5, 35}, {3, 8}, {2, 1000}};
    for (auto& s : shapes) {
        int rows = s[0], inter = s[1];
        auto gu = rand_bf16((size_t)rows * 2 * inter, -6, 6);
        act_t* dgu = upload_bf16(gu);
        act_t* dout = (act_t*)plat_alloc((size_t)rows * inter * 2);
        poison(dout, (size_t)rows * inter * 2);
        silu_mul_forward(dout, dgu, rows, inter, nullptr);
        std::vector<float> ref((size_t)rows * inter);
        silu_mul_ref(ref.data(), gu.data(), rows, inter);
        char name[96];
        snprintf(name, sizeof(name), "silu_mul %dx%d", rows, inter);
        check_close(name, download_bf16(dout, ref.size()), ref, 1e-5, RTOL_BF16);
        plat_free(dgu); plat_free(dout);
    }
}

static void test_argmax_softmax() {
    for (int n : {128256, 1001, 5, 1}) {
        int rows = 3;
        std::vector<float> x((size_t)rows * n);
        std::uniform_real_distribution<float> d(-10.0f, 10.0f);
        for (auto& v : x) v = d(g_rng);
        if (n > 10) {  // plant a tie in row 1: the lower index must win
            int a = n / 3, b = n - 2;
            x[(size_t)n + a] = x[(size_t)n + b] = 50.0f;
        }
        float* dx = upload(x);
        int32_t* dout = (int32_t*)plat_alloc(rows * 4);
        poison(dout, rows * 4);
        argmax_forward(dout, dx, rows, n, nullptr);
        std::vector<int32_t> ref(rows);
        argmax_ref(ref.data(), x.data(), rows, n);
        auto got = download(dout, rows);
        std::vector<float> gf(got.begin(), got.end()), rf(ref.begin(), ref.end());
        check_close("argmax 3x" + std::to_string(n) + " (exact index, ties low)", gf, rf, 0, 0);

        float* dsm = (float*)plat_alloc(x.size() * 4);
        poison(dsm, x.size() * 4);
        softmax_forward(dsm, dx, rows, n, nullptr);
        std::vector<float> sref(x.size());
        softmax_ref(sref.data(), x.data(), rows, n);
        check_close("softmax 3x" + std::to_string(n) + " (fp32)", download(dsm, x.size()), sref,
                    1e-9, 1e-4);
        softmax_forward(dx, dx, rows, n, nullptr);
        check_close("softmax in place 3x" + std::to_string(n), download(dx, x.size()), sref,
                    1e-9, 1e-4);
        plat_free(dx); plat_free(dout); plat_free(dsm);
    }
}

static void test_qkv_rope() {
    struct Case { int n_tok, n_heads, n_kv, hd; bool norm; };
    Case cases[] = {{5, 32, 8, 128, false}, {7, 8, 8, 64, true}, {3, 16, 2, 128, true},
                    {4, 12, 12, 64, false}, {33, 8, 1, 128, true}};
    for (auto& c : cases) {
        const int bs = 16, n_blocks = 8, row = (c.n_heads + 2 * c.n_kv) * c.hd;
        const float eps = 1e-6f;
        auto qkv = rand_bf16((size_t)c.n_tok * row, -2, 2);
        auto qn = rand_bf16(c.hd, 0.5f, 1.5f), kn = rand_bf16(c.hd, 0.5f, 1.5f);
        std::vector<int32_t> pos(c.n_tok), slots(c.n_tok);
        std::vector<int> perm(n_blocks * bs);
        for (int i = 0; i < n_blocks * bs; i++) perm[i] = i;
        std::shuffle(perm.begin(), perm.end(), g_rng);
        for (int t = 0; t < c.n_tok; t++) {
            pos[t] = rand_int(0, 131071);
            slots[t] = perm[t];
        }
        slots[c.n_tok / 2] = -1;  // not written
        std::vector<float> inv_freq(c.hd / 2);
        for (int i = 0; i < c.hd / 2; i++) inv_freq[i] = 1.0f / powf(500000.0f, 2.0f * i / c.hd);
        size_t cache_n = (size_t)n_blocks * bs * c.n_kv * c.hd, q_n = (size_t)c.n_tok * c.n_heads * c.hd;
        act_t *dqkv = upload_bf16(qkv), *dqn = upload_bf16(qn), *dkn = upload_bf16(kn);
        int32_t *dpos = upload(pos), *dslots = upload(slots);
        float* dinv = upload(inv_freq);
        act_t* dq = (act_t*)plat_alloc(q_n * 2);
        act_t* dk = (act_t*)plat_alloc(cache_n * 2);
        act_t* dv = (act_t*)plat_alloc(cache_n * 2);
        poison(dq, q_n * 2); poison(dk, cache_n * 2); poison(dv, cache_n * 2);
        qkv_rope_cache_forward(dq, kv_layer_act(dk, dv), dqkv, c.norm ? dqn : nullptr, c.norm ? dkn : nullptr,
                               eps, dpos, dslots, dinv, c.n_tok, c.n_heads, c.n_kv, c.hd, bs, nullptr);
        std::vector<float> rq(q_n), rk(cache_n, NAN), rv(cache_n, NAN);
        qkv_rope_cache_ref(rq.data(), rk.data(), rv.data(), qkv.data(), c.norm ? qn.data() : nullptr,
                           c.norm ? kn.data() : nullptr, eps, pos.data(), slots.data(),
                           inv_freq.data(), c.n_tok, c.n_heads, c.n_kv, c.hd, bs);
        auto gk = download_bf16(dk, cache_n), gv = download_bf16(dv, cache_n);
        // written slots compared; every other slot must still hold the poison (NaN)
        std::vector<float> gkw, rkw, gvw, rvw;
        bool untouched = true;
        for (size_t i = 0; i < cache_n; i++) {
            if (std::isnan(rk[i])) {
                untouched &= std::isnan(gk[i]) && std::isnan(gv[i]);
            } else {
                gkw.push_back(gk[i]); rkw.push_back(rk[i]);
                gvw.push_back(gv[i]); rvw.push_back(rv[i]);
            }
        }
        char name[96];
        snprintf(name, sizeof(name), "qkv_rope q tok=%d h=%d kv=%d hd=%d norm=%d", c.n_tok,
                 c.n_heads, c.n_kv, c.hd, (int)c.norm);
        check_close(name, download_bf16(dq, q_n), rq, 1e-4, RTOL_BF16);
        snprintf(name, sizeof(name), "qkv_rope k cache (hd=%d norm=%d)", c.hd, (int)c.norm);
        check_close(name, gkw, rkw, 1e-4, RTOL_BF16);
        snprintf(name, sizeof(name), "qkv_rope v cache (hd=%d, exact)", c.hd);
        check_close(name, gvw, rvw, 0, 0);
        snprintf(name, sizeof(name), "qkv_rope slots <0 and unmapped left untouched (hd=%d)", c.hd);
        report(name, untouched, "");

        // FP8 cache: e4m3 of the fp32 value / scale against qkv_rope_cache_fp8_ref. V's bytes
        // are exact (the same product of the same inputs); K's rotation differs from the
        // reference's in the last fp32 bits, so a value on a rounding edge may land one code
        // away (at most 1 in 100 here, none further). Slots not written keep the poison (0xff).
        {
            const float k_scale = 1.0f / 40.0f, v_scale = 1.0f / 250.0f;  // v beyond 1.79 saturates
            uint8_t* dk8 = (uint8_t*)plat_alloc(cache_n);
            uint8_t* dv8 = (uint8_t*)plat_alloc(cache_n);
            poison(dq, q_n * 2); poison(dk8, cache_n); poison(dv8, cache_n);
            qkv_rope_cache_forward(dq, KvLayer{dk8, dv8, KV_FP8_E4M3, k_scale, v_scale}, dqkv,
                                   c.norm ? dqn : nullptr, c.norm ? dkn : nullptr, eps, dpos, dslots,
                                   dinv, c.n_tok, c.n_heads, c.n_kv, c.hd, bs, nullptr);
            std::vector<uint8_t> rk8(cache_n, 0xff), rv8(cache_n, 0xff);
            std::vector<float> rq8(q_n);
            qkv_rope_cache_fp8_ref(rq8.data(), rk8.data(), rv8.data(), k_scale, v_scale, qkv.data(),
                                   c.norm ? qn.data() : nullptr, c.norm ? kn.data() : nullptr, eps,
                                   pos.data(), slots.data(), inv_freq.data(), c.n_tok, c.n_heads,
                                   c.n_kv, c.hd, bs);
            auto gk8 = download(dk8, cache_n), gv8 = download(dv8, cache_n);
            int k_off1 = 0, k_far = 0, v_bad = 0, n_written = 0, n_sat = 0;
            // e4m3 codes in value order: sign-magnitude to a signed rank
            auto rank = [](uint8_t b) { return (b & 0x80) ? -(int)(b & 0x7f) : (int)(b & 0x7f); };
            for (size_t i = 0; i < cache_n; i++) {
                if (rk8[i] == 0xff) {  // not written by the reference (0xff is never a value here)
                    untouched &= gk8[i] == 0xff && gv8[i] == 0xff;
                    continue;
                }
                n_written++;
                n_sat += (rv8[i] & 0x7f) == 0x7e;
                int d = abs(rank(gk8[i]) - rank(rk8[i]));
                k_off1 += d == 1;
                k_far += d > 1;
                v_bad += gv8[i] != rv8[i];
            }
            char detail[160];
            snprintf(detail, sizeof(detail), "%d values: k one code away %d, further %d; v differing %d; v saturated %d",
                     n_written, k_off1, k_far, v_bad, n_sat);
            snprintf(name, sizeof(name), "qkv_rope fp8 cache tok=%d kv=%d hd=%d norm=%d", c.n_tok, c.n_kv, c.hd,
                     (int)c.norm);
            report(name, untouched && k_far == 0 && v_bad == 0 && k_off1 * 100 <= n_written && n_sat > 0, detail);
            snprintf(name, sizeof(name), "qkv_rope fp8 cache: q as with a bf16 cache (hd=%d)", c.hd);
            check_close(name, download_bf16(dq, q_n), rq8, 1e-4, RTOL_BF16);
            plat_free(dk8); plat_free(dv8);
        }
        plat_free(dqkv); plat_free(dqn); plat_free(dkn); plat_free(dpos); plat_free(dslots);
        plat_free(dinv); plat_free(dq); plat_free(dk); plat_free(dv);
    }
}

void run_elementwise_tests() {
    test_convert();
    test_embedding_gather();
    test_norms();
    test_silu_mul();
    test_argmax_softmax();
    test_qkv_rope();
}

// Arguments name the groups to run (elementwise, matmul, gemv, fp8, int4, attention, sampling, moe,
// moe_int4, moe_mxfp4, moe_fp8); none runs all.
int main(int argc, char** argv) {
    plat_init(0);
    PlatDeviceProps p;
    plat_get_props(&p);
    printf("device: %s (sm_%d%d, %d SMs, warp %d); kernel paths sm%d%s, %zu KiB shared memory per block\n",
           p.name, p.cc_major, p.cc_minor, p.n_sms, p.warp_size, p.kernel_arch,
           p.kernel_arch != p.native_arch ? " (forced)" : "", p.smem_per_block_bytes / 1024);
    auto wanted = [&](const char* group) {
        if (argc < 2) return true;
        for (int i = 1; i < argc; i++)
            if (strcmp(argv[i], group) == 0) return true;
        return false;
    };
    if (wanted("elementwise")) run_elementwise_tests();
    if (wanted("matmul")) run_matmul_tests();
    if (wanted("gemv")) run_gemv_tests();
    if (wanted("fp8")) run_fp8_tests();
    if (wanted("int4")) run_int4_tests();
    if (wanted("attention")) run_attention_tests();
    if (wanted("sampling")) run_sampling_tests();
    if (wanted("moe")) run_moe_tests();
    if (wanted("moe_int4")) run_moe_int4_tests();
    if (wanted("moe_mxfp4")) run_moe_mxfp4_tests();
    if (wanted("moe_fp8")) run_moe_fp8_tests();
    plat_device_sync();
    printf("%d passed, %d failed\n", g_passed, g_failed);
    return g_failed ? 1 : 0;
}
