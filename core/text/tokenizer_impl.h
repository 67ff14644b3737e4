// tokenizer_impl.h — the loaded form of tokenizer.json shared by the tokenizer's source files
// (tokenizer_load.cpp builds it; tokenizer_pretok, tokenizer_bpe, tokenizer.cpp and
// tokenizer_decode.cpp use it). Not part of the public interface: include core/text/tokenizer.h.
#pragma once
#include <stdint.h>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

struct AddedToken {
    std::string content;
    std::string pattern;  // what is searched for: content, or for normalized tokens content normalized
    int32_t id = -1;
    bool single_word = false, lstrip = false, rstrip = false, normalized = false, special = false;
};

// Leftmost-longest matcher over a set of added tokens (HF uses Aho-Corasick, LeftmostLongest).
struct AddedTokenMatcher {
    std::vector<const AddedToken*> by_first_byte[256];  // each list sorted longest first
    bool empty = true;
    void build(const std::vector<AddedToken>& tokens, bool normalized);
};

struct NormalizerStep {
    enum Kind { NFC, PREPEND, REPLACE } kind;
    std::string a, b;  // PREPEND: a = text; REPLACE: a = pattern (literal), b = content
};

// The Split regexes we implement by hand (see tokenizer_pretok.cpp for their exact text).
enum SplitPattern { PAT_GPT2, PAT_LLAMA3, PAT_QWEN2 };

struct PreTokStep {
    enum Kind { SPLIT, BYTE_LEVEL, METASPACE } kind;
    SplitPattern pattern = PAT_GPT2;   // SPLIT, and BYTE_LEVEL with use_regex
    bool use_regex = false;            // BYTE_LEVEL
    bool add_prefix_space = false;     // BYTE_LEVEL
    std::string replacement;           // METASPACE (UTF-8 of the replacement character)
    enum Prepend { ALWAYS, FIRST, NEVER } prepend = ALWAYS;  // METASPACE
    bool split = true;                 // METASPACE
};

struct DecoderStep {
    enum Kind { BYTE_LEVEL, REPLACE, BYTE_FALLBACK, FUSE, STRIP, METASPACE } kind;
    std::string a, b;      // REPLACE: pattern -> content; STRIP: a = content char; METASPACE: a = replacement
    int start = 0, stop = 0;  // STRIP
    bool prepend = true;   // METASPACE: prepend_scheme != never
};

// Open-addressing map (left id, right id) -> (rank, merged id).
struct MergeMap {
    std::vector<uint64_t> keys;
    std::vector<int32_t> rank, merged;
    uint64_t mask = 0;
    void build(size_t n);
    void put(int32_t a, int32_t b, int32_t r, int32_t m);
    // Returns false when (a, b) is not a merge.
    bool get(int32_t a, int32_t b, int32_t* r, int32_t* m) const {
        uint64_t k = ((uint64_t)(uint32_t)a << 32) | (uint32_t)b;
        uint64_t h = (k * 0x9E3779B97F4A7C15ull) >> 20;
        for (uint64_t i = h & mask;; i = (i + 1) & mask) {
            if (keys[i] == k) { *r = rank[i]; *m = merged[i]; return true; }
            if (keys[i] == ~0ull) return false;
        }
    }
};

struct TokenizerImpl {
    // Model (BPE).
    std::unordered_map<std::string, int32_t> vocab;   // model vocabulary only
    std::vector<std::string> id_to_token;            // model + added tokens
    MergeMap merges;
    bool byte_fallback = false, fuse_unk = false, ignore_merges = false;
    int32_t unk_id = -1;
    int32_t byte_ids[256];        // id of <0xXX> (byte fallback), -1 when absent
    bool byte_level = false;      // the pre-tokenizer maps bytes to GPT-2's printable characters
    int32_t byte_level_ids[256];  // id of the byte-level character of each byte, -1 when absent

    std::vector<AddedToken> added;
    std::unordered_map<std::string, int32_t> added_ids;
    std::vector<uint8_t> special;  // by id: 1 = added token marked special
    AddedTokenMatcher match_raw, match_normalized;

    std::vector<NormalizerStep> normalizers;
    std::vector<PreTokStep> pretok;
    // When the whole pre-tokenizer is one Split pattern (optionally followed by a plain ByteLevel),
    // that pattern; encode then cuts segments in place. -1 otherwise.
    int simple_split = -1;
    std::vector<DecoderStep> decoders;
    bool has_decoder = false;

    // Post-processor for a single sequence: ids before and after the text.
    std::vector<int32_t> post_before, post_after;
    int32_t bos_id = -1, eos_id = -1;

    // Word cache: pre-token bytes -> ids. Guarded by cache_mu.
    mutable std::mutex cache_mu;
    mutable std::unordered_map<std::string, std::vector<int32_t>> cache;

    // Appends the ids of one pre-token (bytes as produced by the pre-tokenizer, before the
    // byte-level mapping) to *ids.
    void bpe_word(const char* s, size_t n, std::vector<int32_t>* ids) const;
    // Normalizes one segment (added tokens already removed).
    std::string normalize(const std::string& s) const;
    // Splits one normalized segment into pre-tokens. at_start: the segment begins at offset 0
    // of the input (Metaspace's prepend_scheme "first").
    void pre_tokenize(const std::string& s, bool at_start, std::vector<std::string>* pieces) const;
};

// GPT-2's byte <-> printable character table: the code point standing for each byte.
uint32_t byte_level_char(uint8_t b);
// Inverse: the byte a code point stands for, or -1 when it is not in the table.
int byte_level_byte(uint32_t cp);

// Byte offsets where a Split pattern cuts s[begin, end) (valid UTF-8): appends [start, end) of
// each piece, as offsets into s. end = npos: to the end of s.
void split_pattern(const std::string& s, SplitPattern pat, std::vector<std::pair<size_t, size_t>>* out,
                   size_t begin = 0, size_t end = std::string::npos);

// Parses tokenizer.json (+ config) into impl. Returns false with *err on anything unsupported.
bool tokenizer_parse(const std::string& tokenizer_json, const std::string& config_json,
                     TokenizerImpl* impl, std::string* err);
