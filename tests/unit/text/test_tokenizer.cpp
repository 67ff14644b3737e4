// test_tokenizer.cpp — unit tests of the tokenizer's pieces against hand-computed values: UTF-8
// handling, Unicode classes and NFC, the Split patterns (cases cross-checked with HF tokenizers'
// pre-tokenizer), BPE merge order, added tokens and templates, the decoders, the streaming
// detokenizer's guarantee, and load/encode errors. Whole-model agreement with HF tokenizers and
// transformers.js is tests/scripts/check_tokenizer.sh.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <fstream>
#include <random>
#include "core/text/tokenizer.h"
#include "core/text/tokenizer_impl.h"
#include "core/text/unicode.h"

namespace {
std::string json_escape(const std::string& s) {
    std::string o = "\"";
    for (unsigned char c : s) {
        if (c == '"' || c == '\\') { o += '\\'; o += (char)c; }
        else if (c < 0x20) { char b[8]; snprintf(b, sizeof b, "\\u%04x", c); o += b; }
        else o += (char)c;
    }
    return o + "\"";
}
std::string cp_utf8(uint32_t cp) { std::string s; utf8_append(&s, cp); return s; }

// Byte-level BPE: ids 0..255 are the 256 byte characters (id = byte), then he=256, ll=257,
// hell=258, hello=259; added <|eot|>=300 (special), <|bos|>=301 (special, prepended by the template).
std::string byte_level_json() {
    std::string v;
    for (int b = 0; b < 256; b++) v += json_escape(cp_utf8(byte_level_char((uint8_t)b))) + ":" + std::to_string(b) + ",";
    v += "\"he\":256,\"ll\":257,\"hell\":258,\"hello\":259";
    return std::string("{\"version\":\"1.0\",\"added_tokens\":[") +
           "{\"id\":300,\"content\":\"<|eot|>\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}," +
           "{\"id\":301,\"content\":\"<|bos|>\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}]," +
           "\"normalizer\":null," +
           "\"pre_tokenizer\":{\"type\":\"Sequence\",\"pretokenizers\":[{\"type\":\"Split\",\"pattern\":{\"Regex\":" +
           json_escape("(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+") +
           "},\"behavior\":\"Isolated\",\"invert\":false},{\"type\":\"ByteLevel\",\"add_prefix_space\":false,\"use_regex\":false}]}," +
           "\"post_processor\":{\"type\":\"TemplateProcessing\",\"single\":[{\"SpecialToken\":{\"id\":\"<|bos|>\",\"type_id\":0}},{\"Sequence\":{\"id\":\"A\",\"type_id\":0}}]," +
           "\"special_tokens\":{\"<|bos|>\":{\"id\":\"<|bos|>\",\"ids\":[301],\"tokens\":[\"<|bos|>\"]}}}," +
           "\"decoder\":{\"type\":\"ByteLevel\"}," +
           "\"model\":{\"type\":\"BPE\",\"vocab\":{" + v + "},\"merges\":[\"h e\",\"l l\",\"he ll\",\"hell o\"]}}";
}

// SentencePiece-style BPE (Llama 2 layout): <unk>=0 <s>=1 </s>=2, <0x00>..<0xFF> = 3..258,
// ▁=259 a=260 b=261 ▁a=262 ab=263; merges "▁ a", "a b".
std::string sentencepiece_json() {
    std::string v = "\"<unk>\":0,\"<s>\":1,\"</s>\":2,";
    for (int b = 0; b < 256; b++) { char t[16]; snprintf(t, sizeof t, "\"<0x%02X>\":%d,", b, 3 + b); v += t; }
    v += "\"\u2581\":259,\"a\":260,\"b\":261,\"\u2581a\":262,\"ab\":263";
    std::string added;
    const char* names[] = {"<unk>", "<s>", "</s>"};
    for (int i = 0; i < 3; i++)
        added += std::string(i ? "," : "") + "{\"id\":" + std::to_string(i) + ",\"content\":\"" + names[i] +
                 "\",\"single_word\":false,\"lstrip\":false,\"rstrip\":false,\"normalized\":false,\"special\":true}";
    return "{\"added_tokens\":[" + added + "]," +
           "\"normalizer\":{\"type\":\"Sequence\",\"normalizers\":[{\"type\":\"Prepend\",\"prepend\":\"\u2581\"},{\"type\":\"Replace\",\"pattern\":{\"String\":\" \"},\"content\":\"\u2581\"}]}," +
           "\"pre_tokenizer\":null,\"post_processor\":null," +
           "\"decoder\":{\"type\":\"Sequence\",\"decoders\":[{\"type\":\"Replace\",\"pattern\":{\"String\":\"\u2581\"},\"content\":\" \"},{\"type\":\"ByteFallback\"},{\"type\":\"Fuse\"},{\"type\":\"Strip\",\"content\":\" \",\"start\":1,\"stop\":0}]}," +
           "\"model\":{\"type\":\"BPE\",\"unk_token\":\"<unk>\",\"fuse_unk\":true,\"byte_fallback\":true,\"vocab\":{" + v + "},\"merges\":[\"\u2581 a\",\"a b\"]}}";
}
const char* k_sp_config = "{\"add_bos_token\":true,\"add_eos_token\":false,\"bos_token\":\"<s>\",\"eos_token\":{\"__type\":\"AddedToken\",\"content\":\"</s>\"},\"model_max_length\":1000000000000000019884624838656}";

std::vector<int32_t> enc(const Tokenizer& t, const std::string& s, bool special = false) {
    std::vector<int32_t> ids;
    std::string err;
    EXPECT_TRUE(t.encode(s, special, &ids, &err)) << err;
    return ids;
}

std::vector<std::string> split(const std::string& s, SplitPattern p) {
    std::vector<std::pair<size_t, size_t>> cuts;
    split_pattern(s, p, &cuts);
    std::vector<std::string> out;
    for (auto& c : cuts) out.push_back(s.substr(c.first, c.second - c.first));
    return out;
}

// Feeds ids one at a time; checks that the text emitted after each id is never retracted by a
// later id (it is a prefix of the full decode of every longer prefix) and that pushes + finish
// equal decode() of that prefix.
void check_stream(const Tokenizer& t, const std::vector<int32_t>& ids, bool skip) {
    std::vector<std::string> full(ids.size() + 1);
    for (size_t n = 0; n <= ids.size(); n++) full[n] = t.decode(std::vector<int32_t>(ids.begin(), ids.begin() + n), skip);
    for (size_t n = 0; n <= ids.size(); n++) {
        IncrementalDetokenizer d(t, skip);
        std::string emitted;
        for (size_t k = 0; k < n; k++) {
            emitted += d.push(ids[k]);
            for (size_t m = k + 1; m <= ids.size(); m++)
                ASSERT_EQ(full[m].compare(0, emitted.size(), emitted), 0) << "emitted text retracted at id " << k;
        }
        emitted += d.finish();
        ASSERT_EQ(emitted, full[n]) << "prefix of " << n << " ids";
    }
}
}  // namespace

TEST(Utf8, decode_rejects_overlong_surrogate_out_of_range_and_truncated_forms) {
    uint32_t cp;
    EXPECT_EQ(utf8_decode("\xC3\xA9", 2, 0, &cp), 2); EXPECT_EQ(cp, 0xE9u);
    EXPECT_EQ(utf8_decode("\xF0\x9F\x98\x80", 4, 0, &cp), 4); EXPECT_EQ(cp, 0x1F600u);
    EXPECT_EQ(utf8_decode("\xC0\x80", 2, 0, &cp), 0);          // overlong NUL
    EXPECT_EQ(utf8_decode("\xE0\x80\x80", 3, 0, &cp), 0);      // overlong
    EXPECT_EQ(utf8_decode("\xED\xA0\x80", 3, 0, &cp), 0);      // surrogate D800
    EXPECT_EQ(utf8_decode("\xF4\x90\x80\x80", 4, 0, &cp), 0);  // > U+10FFFF
    EXPECT_EQ(utf8_decode("\xE4\xB8", 2, 0, &cp), 0);          // truncated
    EXPECT_EQ(utf8_decode("\x80", 1, 0, &cp), 0);              // lone continuation
}

TEST(Utf8, lossy_replaces_each_maximal_ill_formed_subpart_once) {
    const std::string R = "\xEF\xBF\xBD";
    EXPECT_EQ(utf8_lossy("a\xE4\xB8" "b"), "a" + R + "b");     // one valid-but-cut prefix: one U+FFFD
    EXPECT_EQ(utf8_lossy("\xE0\x80"), R + R);                  // E0 cannot take 80: two subparts
    EXPECT_EQ(utf8_lossy("\xF0\x9F\x98"), R);
    EXPECT_EQ(utf8_lossy("\xFF\xFE"), R + R);
    EXPECT_EQ(utf8_lossy("ok \xE4\xB8\xAD"), "ok \xE4\xB8\xAD");
}

TEST(Utf8, complete_prefix_holds_back_only_an_incomplete_character) {
    EXPECT_EQ(utf8_complete_prefix("ab\xE4\xB8"), 2u);
    EXPECT_EQ(utf8_complete_prefix("ab\xE4\xB8\xAD"), 5u);
    EXPECT_EQ(utf8_complete_prefix("ab\xF0\x9F\x98"), 2u);
    EXPECT_EQ(utf8_complete_prefix("ab\xE0\x80"), 4u);  // already invalid: nothing to wait for
    EXPECT_EQ(utf8_complete_prefix("\x80\x80\x80\x80"), 4u);
}

TEST(Unicode, classes_follow_unicode_white_space_and_general_categories) {
    const int LW = UNI_LETTER | UNI_WORD, NW = UNI_NUMBER | UNI_WORD;
    EXPECT_EQ(uni_class('a'), LW);
    EXPECT_EQ(uni_class(0x4E2D), LW);             // 中 Lo
    EXPECT_EQ(uni_class(0x0663), NW);             // ARABIC-INDIC DIGIT THREE Nd
    EXPECT_EQ(uni_class(0x2167), NW);             // ROMAN NUMERAL EIGHT Nl (Alphabetic)
    EXPECT_EQ(uni_class(0x00BD), UNI_NUMBER);     // ½ No: not \w
    EXPECT_EQ(uni_class(0x0085), UNI_SPACE);      // NEL is White_Space
    EXPECT_EQ(uni_class(0xFEFF), 0);              // BOM is not
    EXPECT_EQ(uni_class(0x3000), UNI_SPACE);
    EXPECT_EQ(uni_class(0x0301), UNI_MARK | UNI_WORD);
    EXPECT_EQ(uni_class(0x1D518), LW);            // 𝔘 (above the BMP)
    EXPECT_EQ(uni_class('_'), UNI_WORD);          // Pc
    EXPECT_EQ(uni_class(0x200D), UNI_WORD);       // ZERO WIDTH JOINER: Join_Control
    EXPECT_EQ(uni_class(0x24B6), UNI_WORD);       // CIRCLED LATIN CAPITAL LETTER A: So but Alphabetic
    EXPECT_EQ(uni_class(0x110000), 0);
}

TEST(Unicode, nfc_composes_reorders_and_respects_composition_exclusions) {
    EXPECT_EQ(uni_nfc("e\xCC\x81"), "\xC3\xA9");                                  // e + U+0301 -> é
    EXPECT_EQ(uni_nfc("\xE2\x84\xAB"), "\xC3\x85");                               // U+212B -> U+00C5
    EXPECT_EQ(uni_nfc("\xE1\x84\x80\xE1\x85\xA1\xE1\x86\xA8"), "\xEA\xB0\x81");   // jamo -> U+AC01
    EXPECT_EQ(uni_nfc("q\xCC\x87\xCC\xA3"), "q\xCC\xA3\xCC\x87");                 // reordered by class
    EXPECT_EQ(uni_nfc("\xE0\xA5\x98"), "\xE0\xA4\x95\xE0\xA4\xBC");               // U+0958 excluded
    EXPECT_EQ(uni_nfc("a\xCC\x81\xCC\x81"), "\xC3\xA1\xCC\x81");                  // second accent blocked
    EXPECT_EQ(uni_nfc("plain ascii"), "plain ascii");
}

// Every NFC column of the Unicode Consortium's NormalizationTest.txt. The file comes from
// Debian's unicode-data; tests/scripts/check_unicode_nfc.sh provides it and runs this test.
TEST(Unicode, nfc_matches_unicode_normalization_test) {
    const char* path = getenv("EDGELLM_NORMALIZATION_TEST");
    if (!path) GTEST_SKIP() << "EDGELLM_NORMALIZATION_TEST not set (tests/scripts/check_unicode_nfc.sh sets it)";
    std::ifstream f(path);
    ASSERT_TRUE(f.good()) << path;
    auto field = [](const std::string& s) {
        std::string out;
        size_t i = 0;
        while (i < s.size()) {
            while (i < s.size() && s[i] == ' ') i++;
            if (i >= s.size()) break;
            size_t j = s.find(' ', i);
            if (j == std::string::npos) j = s.size();
            utf8_append(&out, (uint32_t)strtoul(s.substr(i, j - i).c_str(), nullptr, 16));
            i = j;
        }
        return out;
    };
    std::string line;
    size_t n = 0, bad = 0;
    while (std::getline(f, line)) {
        if (line.empty() || line[0] == '#' || line[0] == '@') continue;
        std::vector<std::string> c;
        size_t i = 0;
        for (int k = 0; k < 5; k++) { size_t j = line.find(';', i); c.push_back(field(line.substr(i, j - i))); i = j + 1; }
        // NFC(c1) == NFC(c2) == NFC(c3) == c2 and NFC(c4) == NFC(c5) == c4.
        for (int k : {0, 1, 2}) if (uni_nfc(c[k]) != c[1]) { if (bad++ < 5) ADD_FAILURE() << line; }
        for (int k : {3, 4}) if (uni_nfc(c[k]) != c[3]) { if (bad++ < 5) ADD_FAILURE() << line; }
        n++;
    }
    EXPECT_GT(n, 10000u);
    EXPECT_EQ(bad, 0u);
}

TEST(PreTokenizer, qwen2_and_llama3_patterns_split_like_oniguruma) {
    using V = std::vector<std::string>;
    EXPECT_EQ(split("Hello world's  x1234\n\n  y", PAT_QWEN2),
              (V{"Hello", " world", "'s", " ", " x", "1", "2", "3", "4", "\n\n", " ", " y"}));
    EXPECT_EQ(split("Hello world's  x1234\n\n  y", PAT_LLAMA3),
              (V{"Hello", " world", "'s", " ", " x", "123", "4", "\n\n", " ", " y"}));
    EXPECT_EQ(split("a  \t\r\n b \n", PAT_QWEN2), (V{"a", "  \t\r\n", " b", " \n"}));
    EXPECT_EQ(split("x'\xC5\xBF" "am", PAT_QWEN2), (V{"x", "'\xC5\xBF", "am"}));          // (?i) folds U+017F to s
    EXPECT_EQ(split("a\xC2\x85\xC2\x85" "b", PAT_QWEN2), (V{"a", "\xC2\x85", "\xC2\x85" "b"}));  // U+0085 is \s
    EXPECT_EQ(split("a \xEF\xBB\xBF", PAT_QWEN2), (V{"a", " \xEF\xBB\xBF"}));              // U+FEFF is not
    EXPECT_EQ(split("don'T WE'LL?!\n", PAT_LLAMA3), (V{"don", "'T", " WE", "'LL", "?!\n"}));
    EXPECT_EQ(split("I'M 12345", PAT_GPT2), (V{"I", "'", "M", " 12345"}));                // GPT-2: case-sensitive
}

TEST(ByteLevel, table_is_gpt2_bytes_to_unicode) {
    EXPECT_EQ(byte_level_char(' '), 0x120u);   // Ġ
    EXPECT_EQ(byte_level_char('\n'), 0x10Au);  // Ċ
    EXPECT_EQ(byte_level_char('A'), (uint32_t)'A');
    EXPECT_EQ(byte_level_char(0xAD), 0x143u);  // the last remapped byte
    EXPECT_EQ(byte_level_char(0xFF), 0xFFu);
    for (int b = 0; b < 256; b++) EXPECT_EQ(byte_level_byte(byte_level_char((uint8_t)b)), b);
}

TEST(Tokenizer, byte_level_bpe_applies_lowest_rank_merge_leftmost_first) {
    Tokenizer t;
    std::string err;
    ASSERT_TRUE(t.load_from_json(byte_level_json(), "", &err)) << err;
    EXPECT_EQ(enc(t, "hello"), (std::vector<int32_t>{259}));
    EXPECT_EQ(enc(t, "hellohe"), (std::vector<int32_t>{259, 256}));
    EXPECT_EQ(enc(t, "hhe"), (std::vector<int32_t>{'h', 256}));
    EXPECT_EQ(enc(t, "he llo"), (std::vector<int32_t>{256, ' ', 257, 'o'}));
    EXPECT_EQ(enc(t, "\xC3\xA9"), (std::vector<int32_t>{0xC3, 0xA9}));
}

TEST(Tokenizer, added_tokens_are_split_out_first_and_template_adds_bos) {
    Tokenizer t;
    std::string err;
    ASSERT_TRUE(t.load_from_json(byte_level_json(), "", &err)) << err;
    EXPECT_EQ(enc(t, "hello<|eot|>he"), (std::vector<int32_t>{259, 300, 256}));
    EXPECT_EQ(enc(t, "<|eot|><|eot|>"), (std::vector<int32_t>{300, 300}));
    EXPECT_EQ(enc(t, "hello", true), (std::vector<int32_t>{301, 259}));
    EXPECT_EQ(enc(t, "", true), (std::vector<int32_t>{301}));
    EXPECT_EQ(t.decode({301, 259, 300}, false), "<|bos|>hello<|eot|>");
    EXPECT_EQ(t.decode({301, 259, 300}, true), "hello");
    EXPECT_EQ(t.decode({259, 99999, -1, 256}, false), "hellohe");  // unknown ids are skipped
}

TEST(Tokenizer, sentencepiece_model_prepends_metaspace_and_falls_back_to_bytes) {
    Tokenizer t;
    std::string err;
    ASSERT_TRUE(t.load_from_json(sentencepiece_json(), k_sp_config, &err)) << err;
    EXPECT_EQ(t.bos_id(), 1);
    EXPECT_EQ(t.eos_id(), 2);
    EXPECT_EQ(enc(t, "a b"), (std::vector<int32_t>{262, 259, 261}));
    EXPECT_EQ(enc(t, "a b", true), (std::vector<int32_t>{1, 262, 259, 261}));
    EXPECT_EQ(enc(t, "\xC3\xA9"), (std::vector<int32_t>{259, 3 + 0xC3, 3 + 0xA9}));
    EXPECT_EQ(enc(t, "<s>ab</s>"), (std::vector<int32_t>{1, 262, 261, 2}));  // "▁ a" outranks "a b"
    EXPECT_EQ(t.decode({262, 259, 261}, false), "a b");
    EXPECT_EQ(t.decode({3 + 0xC3, 3 + 0xA9}, false), "\xC3\xA9");
    // An invalid byte run becomes one U+FFFD per byte (HF ByteFallback), not per subpart.
    EXPECT_EQ(t.decode({3 + 0xE4, 3 + 0xB8, 3 + 0xAD, 3 + 0xFF, 260}, false),
              "\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD\xEF\xBF\xBD" "a");
    EXPECT_EQ(t.decode({1, 262, 2}, true), "a");
}

TEST(Tokenizer, encode_rejects_invalid_utf8_and_names_the_offset) {
    Tokenizer t;
    std::string err;
    ASSERT_TRUE(t.load_from_json(byte_level_json(), "", &err)) << err;
    std::vector<int32_t> ids{1, 2};
    EXPECT_FALSE(t.encode("ok\xFF", false, &ids, &err));
    EXPECT_NE(err.find("UTF-8"), std::string::npos);
    EXPECT_NE(err.find("offset 2"), std::string::npos);
    EXPECT_TRUE(ids.empty());
}

TEST(Tokenizer, load_of_missing_files_or_unsupported_parts_fails_with_a_clear_message) {
    Tokenizer t;
    std::string err;
    EXPECT_FALSE(t.load("/nonexistent-model-dir", &err));
    EXPECT_NE(err.find("/nonexistent-model-dir/tokenizer.json"), std::string::npos) << err;
    EXPECT_FALSE(t.loaded());
    EXPECT_FALSE(t.load_from_json("{\"model\":{\"type\":\"WordPiece\",\"vocab\":{}}}", "", &err));
    EXPECT_NE(err.find("WordPiece"), std::string::npos) << err;
    EXPECT_FALSE(t.load_from_json("{not json", "", &err));
    EXPECT_NE(err.find("invalid JSON"), std::string::npos) << err;
    std::string j = byte_level_json();
    j.replace(j.find("\"Split\",\"pattern\":{\"Regex\":\"") + 28, 1, "X");
    EXPECT_FALSE(t.load_from_json(j, "", &err));
    EXPECT_NE(err.find("Split pattern"), std::string::npos) << err;
    std::vector<int32_t> ids;
    EXPECT_FALSE(t.encode("x", false, &ids, &err));  // never crashes when unloaded
    EXPECT_EQ(t.decode({1, 2}, false), "");
}

TEST(Detokenizer, byte_level_stream_holds_partial_characters_and_never_retracts) {
    Tokenizer t;
    std::string err;
    ASSERT_TRUE(t.load_from_json(byte_level_json(), "", &err)) << err;
    IncrementalDetokenizer d(t, false);
    EXPECT_EQ(d.push(259), "hello");
    EXPECT_EQ(d.push(0xE4), "");
    EXPECT_EQ(d.push(0xB8), "");
    EXPECT_EQ(d.push(0xAD), "\xE4\xB8\xAD");
    EXPECT_EQ(d.push(0xE4), "");
    EXPECT_EQ(d.finish(), "\xEF\xBF\xBD");
    std::mt19937 rng(7);
    for (int rep = 0; rep < 30; rep++) {
        std::vector<int32_t> ids;
        for (int k = 0; k < 12; k++) ids.push_back(rng() % 4 ? (int32_t)(0x80 + rng() % 0x80) : (int32_t)(rng() % 302));
        check_stream(t, ids, rep % 2 == 0);
    }
}

TEST(Detokenizer, byte_fallback_stream_holds_byte_runs_and_never_retracts) {
    Tokenizer t;
    std::string err;
    ASSERT_TRUE(t.load_from_json(sentencepiece_json(), k_sp_config, &err)) << err;
    IncrementalDetokenizer d(t, false);
    EXPECT_EQ(d.push(259), "");       // a leading space may still be stripped
    EXPECT_EQ(d.push(260), "a");
    EXPECT_EQ(d.push(3 + 0xC3), "");  // byte run: held until it ends
    EXPECT_EQ(d.push(3 + 0xA9), "");
    EXPECT_EQ(d.push(262), "\xC3\xA9 a");
    EXPECT_EQ(d.finish(), "");
    std::mt19937 rng(11);
    for (int rep = 0; rep < 30; rep++) {
        std::vector<int32_t> ids;
        for (int k = 0; k < 12; k++) ids.push_back(rng() % 2 ? (int32_t)(3 + 0x80 + rng() % 0x80) : (int32_t)(rng() % 264));
        check_stream(t, ids, rep % 2 == 0);
    }
}
