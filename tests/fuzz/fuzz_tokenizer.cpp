// fuzz_tokenizer.cpp — libFuzzer target: random bytes through encode and decode. Built and run by
// tests/scripts/check_fuzz_tokenizer.sh (clang -fsanitize=fuzzer,address,undefined). Tokenizers come from
// $EDGELLM_FUZZ_MODELS (colon-separated model directories; the check script passes the fetched
// Qwen3 and Llama 2 tokenizers). Besides "no crash, no sanitizer report" it asserts:
//   - encode accepts exactly the inputs that are valid UTF-8;
//   - decode and the streaming detokenizer agree, and their output is valid UTF-8;
//   - byte-level models with only an NFC normalizer round-trip: decode(encode(s)) == NFC(s).
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <memory>
#include <string>
#include <vector>
#include "core/text/tokenizer.h"
#include "core/text/tokenizer_impl.h"
#include "core/text/unicode.h"

static std::vector<std::unique_ptr<Tokenizer>> g_toks;

static void check(bool ok, const char* what) {
    if (!ok) { fprintf(stderr, "fuzz_tokenizer: property violated: %s\n", what); abort(); }
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
    const char* env = getenv("EDGELLM_FUZZ_MODELS");
    if (!env || !*env) { fprintf(stderr, "fuzz_tokenizer: set EDGELLM_FUZZ_MODELS=dir[:dir...]\n"); exit(2); }
    std::string dirs = env;
    for (size_t i = 0; i <= dirs.size();) {
        size_t j = dirs.find(':', i);
        if (j == std::string::npos) j = dirs.size();
        std::unique_ptr<Tokenizer> t(new Tokenizer());
        std::string err;
        if (!t->load(dirs.substr(i, j - i), &err)) { fprintf(stderr, "fuzz_tokenizer: %s\n", err.c_str()); exit(2); }
        g_toks.push_back(std::move(t));
        i = j + 1;
    }
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    std::string text((const char*)data, size);
    for (auto& tp : g_toks) {
        const Tokenizer& t = *tp;
        const TokenizerImpl& impl = *t.impl();
        std::vector<int32_t> ids;
        std::string err;
        bool ok = t.encode(text, size % 2 == 0, &ids, &err);
        check(ok == utf8_valid(text, nullptr), "encode accepts exactly valid UTF-8");
        if (!ok) {
            ok = t.encode(utf8_lossy(text), false, &ids, &err);
            check(ok, "encode accepts lossy-repaired text");
        }
        for (int32_t id : ids) check(id >= 0 && id < t.vocab_size(), "ids in range");
        std::string dec = t.decode(ids, false);
        check(utf8_valid(dec, nullptr), "decode output is valid UTF-8");
        bool nfc_only = impl.normalizers.size() == 1 && impl.normalizers[0].kind == NormalizerStep::NFC;
        if (impl.byte_level && nfc_only && utf8_valid(text, nullptr))
            check(dec == uni_nfc(text), "byte-level round trip equals NFC of the input");
        // The raw bytes as ids (any value, out of range included) through decode and the stream.
        std::vector<int32_t> raw;
        for (size_t i = 0; i + 2 <= size && raw.size() < 64; i += 2)
            raw.push_back((int32_t)((data[i] << 8 | data[i + 1]) * (size % 3 == 0 ? 3 : 1)) - 8);
        for (int skip = 0; skip < 2; skip++) {
            std::string full = t.decode(raw, skip);
            check(utf8_valid(full, nullptr), "decode of arbitrary ids is valid UTF-8");
            IncrementalDetokenizer d(t, skip);
            std::string streamed;
            for (int32_t id : raw) streamed += d.push(id);
            streamed += d.finish();
            check(streamed == full, "streaming detokenizer equals decode");
        }
    }
    return 0;
}
