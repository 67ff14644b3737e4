// tokenizer_load.cpp — reads tokenizer.json (+ tokenizer_config.json) into a TokenizerImpl.
// Every component type we do not implement is refused with its JSON path, so a model either
// tokenizes exactly like HF or does not load.
#include <stdio.h>
#include <algorithm>
#include "core/text/tokenizer_impl.h"
#include "core/text/unicode.h"
#include "simdjson.h"

using simdjson::dom::element;

namespace {
// Exact text of the Split regexes we implement (see tokenizer_pretok.cpp).
const char* k_pat_llama3 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char* k_pat_qwen2 = "(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+";
const char* k_pat_gpt2 = "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+";

struct Ctx {
    std::string* err;
    bool fail(const std::string& where, const std::string& what) {
        *err = where + ": " + what;
        return false;
    }
};

bool get_string(const element& obj, const char* key, std::string* out) {
    std::string_view sv;
    if (obj[key].get(sv) != simdjson::SUCCESS) return false;
    *out = std::string(sv);
    return true;
}
bool get_bool(const element& obj, const char* key, bool dflt) {
    bool b;
    return obj[key].get(b) == simdjson::SUCCESS ? b : dflt;
}
int64_t get_int(const element& obj, const char* key, int64_t dflt) {
    int64_t v;
    return obj[key].get(v) == simdjson::SUCCESS ? v : dflt;
}
// A pattern object {"String": s} or {"Regex": r}.
bool get_pattern(const element& obj, std::string* s, std::string* regex) {
    element p;
    if (obj["pattern"].get(p) != simdjson::SUCCESS) return false;
    return get_string(p, "String", s) || get_string(p, "Regex", regex);
}

bool parse_normalizer(const element& n, const std::string& where, TokenizerImpl* t, Ctx* c) {
    if (n.is_null()) return true;
    std::string type;
    if (!get_string(n, "type", &type)) return c->fail(where, "missing type");
    if (type == "Sequence") {
        simdjson::dom::array arr;
        if (n["normalizers"].get(arr) != simdjson::SUCCESS) return c->fail(where, "Sequence without normalizers");
        size_t i = 0;
        for (element x : arr)
            if (!parse_normalizer(x, where + ".normalizers[" + std::to_string(i++) + "]", t, c)) return false;
        return true;
    }
    NormalizerStep st;
    if (type == "NFC") st.kind = NormalizerStep::NFC;
    else if (type == "Prepend") {
        st.kind = NormalizerStep::PREPEND;
        if (!get_string(n, "prepend", &st.a)) return c->fail(where, "Prepend without prepend");
    } else if (type == "Replace") {
        st.kind = NormalizerStep::REPLACE;
        std::string re;
        if (!get_pattern(n, &st.a, &re) || !re.empty()) return c->fail(where, "Replace: only String patterns are supported");
        if (!get_string(n, "content", &st.b)) return c->fail(where, "Replace without content");
    } else {
        return c->fail(where, "unsupported normalizer type '" + type + "'");
    }
    t->normalizers.push_back(st);
    return true;
}

bool parse_pretok(const element& n, const std::string& where, TokenizerImpl* t, Ctx* c) {
    if (n.is_null()) return true;
    std::string type;
    if (!get_string(n, "type", &type)) return c->fail(where, "missing type");
    if (type == "Sequence") {
        simdjson::dom::array arr;
        if (n["pretokenizers"].get(arr) != simdjson::SUCCESS) return c->fail(where, "Sequence without pretokenizers");
        size_t i = 0;
        for (element x : arr)
            if (!parse_pretok(x, where + ".pretokenizers[" + std::to_string(i++) + "]", t, c)) return false;
        return true;
    }
    if (!t->pretok.empty() && t->pretok.back().kind == PreTokStep::BYTE_LEVEL)
        return c->fail(where, "a pre-tokenizer after ByteLevel is not supported");
    PreTokStep st;
    if (type == "Split") {
        st.kind = PreTokStep::SPLIT;
        std::string s, re, behavior;
        get_pattern(n, &s, &re);
        get_string(n, "behavior", &behavior);
        if (re == k_pat_llama3) st.pattern = PAT_LLAMA3;
        else if (re == k_pat_qwen2) st.pattern = PAT_QWEN2;
        else if (re == k_pat_gpt2) st.pattern = PAT_GPT2;
        else return c->fail(where, "unsupported Split pattern (only the GPT-2, Llama 3 and Qwen2 regexes are implemented)");
        if (behavior != "Isolated" || get_bool(n, "invert", false))
            return c->fail(where, "Split: only behavior Isolated without invert is supported");
    } else if (type == "ByteLevel") {
        st.kind = PreTokStep::BYTE_LEVEL;
        st.add_prefix_space = get_bool(n, "add_prefix_space", true);
        st.use_regex = get_bool(n, "use_regex", true);
        st.pattern = PAT_GPT2;
        t->byte_level = true;
    } else if (type == "Metaspace") {
        st.kind = PreTokStep::METASPACE;
        if (!get_string(n, "replacement", &st.replacement) || st.replacement.empty())
            return c->fail(where, "Metaspace without replacement");
        std::string scheme;
        if (get_string(n, "prepend_scheme", &scheme)) {
            if (scheme == "always") st.prepend = PreTokStep::ALWAYS;
            else if (scheme == "first") st.prepend = PreTokStep::FIRST;
            else if (scheme == "never") st.prepend = PreTokStep::NEVER;
            else return c->fail(where, "unknown prepend_scheme '" + scheme + "'");
        } else {
            st.prepend = get_bool(n, "add_prefix_space", true) ? PreTokStep::ALWAYS : PreTokStep::NEVER;
        }
        st.split = get_bool(n, "split", true);
    } else {
        return c->fail(where, "unsupported pre-tokenizer type '" + type + "'");
    }
    t->pretok.push_back(st);
    return true;
}

bool parse_decoder(const element& n, const std::string& where, TokenizerImpl* t, Ctx* c) {
    if (n.is_null()) return true;
    std::string type;
    if (!get_string(n, "type", &type)) return c->fail(where, "missing type");
    if (type == "Sequence") {
        simdjson::dom::array arr;
        if (n["decoders"].get(arr) != simdjson::SUCCESS) return c->fail(where, "Sequence without decoders");
        size_t i = 0;
        for (element x : arr)
            if (!parse_decoder(x, where + ".decoders[" + std::to_string(i++) + "]", t, c)) return false;
        return true;
    }
    t->has_decoder = true;
    DecoderStep st;
    if (type == "ByteLevel") st.kind = DecoderStep::BYTE_LEVEL;
    else if (type == "ByteFallback") st.kind = DecoderStep::BYTE_FALLBACK;
    else if (type == "Fuse") st.kind = DecoderStep::FUSE;
    else if (type == "Replace") {
        st.kind = DecoderStep::REPLACE;
        std::string re;
        if (!get_pattern(n, &st.a, &re) || !re.empty() || st.a.empty())
            return c->fail(where, "Replace: only non-empty String patterns are supported");
        if (!get_string(n, "content", &st.b)) return c->fail(where, "Replace without content");
    } else if (type == "Strip") {
        st.kind = DecoderStep::STRIP;
        uint32_t cp;
        if (!get_string(n, "content", &st.a) || st.a.empty() || utf8_decode(st.a.data(), st.a.size(), 0, &cp) != (int)st.a.size())
            return c->fail(where, "Strip: content must be one character");
        st.start = (int)get_int(n, "start", 0);
        st.stop = (int)get_int(n, "stop", 0);
    } else if (type == "Metaspace") {
        st.kind = DecoderStep::METASPACE;
        if (!get_string(n, "replacement", &st.a) || st.a.empty()) return c->fail(where, "Metaspace without replacement");
        std::string scheme;
        if (get_string(n, "prepend_scheme", &scheme)) st.prepend = scheme != "never";
        else st.prepend = get_bool(n, "add_prefix_space", true);
    } else {
        return c->fail(where, "unsupported decoder type '" + type + "'");
    }
    t->decoders.push_back(st);
    return true;
}

int32_t lookup_token(const TokenizerImpl* t, const std::string& s) {
    auto a = t->added_ids.find(s);
    if (a != t->added_ids.end()) return a->second;
    auto v = t->vocab.find(s);
    return v != t->vocab.end() ? v->second : -1;
}

bool parse_post(const element& n, const std::string& where, TokenizerImpl* t, Ctx* c) {
    if (n.is_null()) return true;
    std::string type;
    if (!get_string(n, "type", &type)) return c->fail(where, "missing type");
    if (type == "Sequence") {
        simdjson::dom::array arr;
        if (n["processors"].get(arr) != simdjson::SUCCESS) return c->fail(where, "Sequence without processors");
        size_t i = 0;
        for (element x : arr)
            if (!parse_post(x, where + ".processors[" + std::to_string(i++) + "]", t, c)) return false;
        return true;
    }
    if (type == "ByteLevel") return true;  // only adjusts offsets
    if (type != "TemplateProcessing") return c->fail(where, "unsupported post-processor type '" + type + "'");
    simdjson::dom::array single;
    element specials;
    if (n["single"].get(single) != simdjson::SUCCESS || n["special_tokens"].get(specials) != simdjson::SUCCESS)
        return c->fail(where, "TemplateProcessing without single/special_tokens");
    t->post_before.clear();
    t->post_after.clear();
    bool seen_seq = false;
    for (element item : single) {
        element st;
        std::string name;
        if (item["Sequence"].get(st) == simdjson::SUCCESS) {
            if (seen_seq) return c->fail(where, "single template uses the sequence twice");
            seen_seq = true;
            continue;
        }
        if (item["SpecialToken"].get(st) != simdjson::SUCCESS || !get_string(st, "id", &name))
            return c->fail(where, "bad template item");
        simdjson::dom::array ids;
        if (specials[name]["ids"].get(ids) != simdjson::SUCCESS)
            return c->fail(where, "special token '" + name + "' missing from special_tokens");
        for (element id : ids) {
            int64_t v;
            if (id.get(v) != simdjson::SUCCESS) return c->fail(where, "bad id of '" + name + "'");
            (seen_seq ? t->post_after : t->post_before).push_back((int32_t)v);
        }
    }
    return true;
}

}  // namespace

void AddedTokenMatcher::build(const std::vector<AddedToken>& tokens, bool normalized) {
    for (auto& l : by_first_byte) l.clear();
    empty = true;
    for (const AddedToken& a : tokens) {
        if (a.normalized != normalized || a.pattern.empty()) continue;
        by_first_byte[(uint8_t)a.pattern[0]].push_back(&a);
        empty = false;
    }
    for (auto& l : by_first_byte)
        std::stable_sort(l.begin(), l.end(), [](const AddedToken* x, const AddedToken* y) { return x->pattern.size() > y->pattern.size(); });
}

// model.merges (strings "a b" or pairs ["a", "b"]) into t->merges, ranked in order; every
// token and its merge result must be in the vocabulary.
static bool parse_merges(element model, TokenizerImpl* t, Ctx* cp) {
    Ctx& c = *cp;
    simdjson::dom::array merges;
    if (model["merges"].get(merges) != simdjson::SUCCESS) return c.fail("tokenizer.json model", "no merges array");
    t->merges.build(merges.size());
    int32_t rank = 0;
    std::string left, right;
    for (element m : merges) {
        std::string_view sv;
        simdjson::dom::array pair;
        if (m.get(sv) == simdjson::SUCCESS) {
            size_t sp = sv.find(' ');
            if (sp == std::string_view::npos || sv.find(' ', sp + 1) != std::string_view::npos)
                return c.fail("tokenizer.json model.merges[" + std::to_string(rank) + "]", "not two tokens separated by one space");
            left = std::string(sv.substr(0, sp));
            right = std::string(sv.substr(sp + 1));
        } else if (m.get(pair) == simdjson::SUCCESS && pair.size() == 2) {
            std::string_view a, b;
            if (pair.at(0).get(a) != simdjson::SUCCESS || pair.at(1).get(b) != simdjson::SUCCESS)
                return c.fail("tokenizer.json model.merges[" + std::to_string(rank) + "]", "not a pair of strings");
            left = std::string(a);
            right = std::string(b);
        } else {
            return c.fail("tokenizer.json model.merges[" + std::to_string(rank) + "]", "not a merge");
        }
        auto ia = t->vocab.find(left), ib = t->vocab.find(right), im = t->vocab.find(left + right);
        if (ia == t->vocab.end() || ib == t->vocab.end() || im == t->vocab.end())
            return c.fail("tokenizer.json model.merges[" + std::to_string(rank) + "]", "token '" + left + right + "' not in vocab");
        t->merges.put(ia->second, ib->second, rank, im->second);
        rank++;
    }
    return true;
}

// tokenizer_config.json: bos/eos tokens and add_bos_token/add_eos_token (which rebuild the
// single-sequence template, as transformers does).
static bool parse_tokenizer_config(const std::string& config_json, TokenizerImpl* t, Ctx* cp) {
    Ctx& c = *cp;
    // On-demand parsing: configs carry numbers simdjson's DOM refuses (model_max_length =
    // 1e30 written as an integer); fields we do not read are skipped unparsed.
    std::string bos, eos;
    int add_bos = -1, add_eos = -1;  // -1: not set
    simdjson::ondemand::parser cparser;
    simdjson::padded_string padded(config_json);
    simdjson::ondemand::document cdoc;
    simdjson::ondemand::object obj;
    if (cparser.iterate(padded).get(cdoc) || cdoc.get_object().get(obj))
        return c.fail("tokenizer_config.json", "not a JSON object");
    for (auto field : obj) {
        std::string_view key;
        simdjson::ondemand::value v;
        if (field.unescaped_key().get(key) || field.value().get(v)) return c.fail("tokenizer_config.json", "invalid JSON");
        simdjson::ondemand::json_type jt;
        if (v.type().get(jt)) return c.fail("tokenizer_config.json", "invalid JSON");
        if (key == "bos_token" || key == "eos_token") {
            std::string* dst = key == "bos_token" ? &bos : &eos;
            std::string_view sv;
            if (jt == simdjson::ondemand::json_type::string) {
                if (v.get_string().get(sv)) return c.fail("tokenizer_config.json", std::string(key) + ": bad string");
                *dst = std::string(sv);
            } else if (jt == simdjson::ondemand::json_type::object) {
                if (v.find_field_unordered("content").get_string().get(sv))
                    return c.fail("tokenizer_config.json", std::string(key) + ": object without content");
                *dst = std::string(sv);
            }
        } else if ((key == "add_bos_token" || key == "add_eos_token") && jt == simdjson::ondemand::json_type::boolean) {
            bool b;
            if (v.get_bool().get(b)) return c.fail("tokenizer_config.json", std::string(key) + ": bad boolean");
            (key == "add_bos_token" ? add_bos : add_eos) = b;
        }
    }
    if (!bos.empty()) t->bos_id = lookup_token(t, bos);
    if (!eos.empty()) t->eos_id = lookup_token(t, eos);
    if (add_bos >= 0 || add_eos >= 0) {
        // Like transformers: explicit add_bos_token/add_eos_token rebuild the single template.
        if (add_bos > 0 && t->bos_id < 0) return c.fail("tokenizer_config.json", "add_bos_token without a known bos_token");
        if (add_eos > 0 && t->eos_id < 0) return c.fail("tokenizer_config.json", "add_eos_token without a known eos_token");
        t->post_before.clear();
        t->post_after.clear();
        if (add_bos > 0) t->post_before.push_back(t->bos_id);
        if (add_eos > 0) t->post_after.push_back(t->eos_id);
    }
    return true;
}

bool tokenizer_parse(const std::string& tokenizer_json, const std::string& config_json, TokenizerImpl* t, std::string* err) {
    Ctx c{err};
    simdjson::dom::parser parser;
    element doc;
    if (auto e = parser.parse(tokenizer_json).get(doc)) return c.fail("tokenizer.json", std::string("invalid JSON: ") + simdjson::error_message(e));
    element model;
    if (doc["model"].get(model) != simdjson::SUCCESS) return c.fail("tokenizer.json", "no model");
    std::string type;
    if (get_string(model, "type", &type) && type != "BPE")
        return c.fail("tokenizer.json model", "unsupported model type '" + type + "' (only BPE)");
    std::string s;
    if ((get_string(model, "continuing_subword_prefix", &s) && !s.empty()) || (get_string(model, "end_of_word_suffix", &s) && !s.empty()))
        return c.fail("tokenizer.json model", "continuing_subword_prefix/end_of_word_suffix are not supported");
    double dropout;
    if (model["dropout"].get(dropout) == simdjson::SUCCESS && dropout != 0.0)
        return c.fail("tokenizer.json model", "BPE dropout is not supported");
    simdjson::dom::object vocab;
    if (model["vocab"].get(vocab) != simdjson::SUCCESS) return c.fail("tokenizer.json model", "no vocab object");
    int32_t max_id = -1;
    t->vocab.reserve(vocab.size() * 2);
    for (auto kv : vocab) {
        int64_t id;
        if (kv.value.get(id) != simdjson::SUCCESS || id < 0 || id > 0x7FFFFFFF) return c.fail("tokenizer.json model.vocab", "bad id");
        t->vocab[std::string(kv.key)] = (int32_t)id;
        max_id = std::max(max_id, (int32_t)id);
    }
    simdjson::dom::array added;
    if (doc["added_tokens"].get(added) == simdjson::SUCCESS) {
        for (element a : added) {
            AddedToken tok;
            int64_t id;
            if (!get_string(a, "content", &tok.content) || a["id"].get(id) != simdjson::SUCCESS || id < 0 || id > 0x7FFFFFFF)
                return c.fail("tokenizer.json added_tokens", "entry without content/id");
            tok.id = (int32_t)id;
            tok.single_word = get_bool(a, "single_word", false);
            tok.lstrip = get_bool(a, "lstrip", false);
            tok.rstrip = get_bool(a, "rstrip", false);
            tok.normalized = get_bool(a, "normalized", !get_bool(a, "special", false));
            tok.special = get_bool(a, "special", false);
            t->added.push_back(tok);
            t->added_ids[tok.content] = tok.id;
            max_id = std::max(max_id, tok.id);
        }
    }
    if (max_id >= (1 << 24)) return c.fail("tokenizer.json", "token id " + std::to_string(max_id) + " is implausibly large");
    t->id_to_token.assign((size_t)max_id + 1, std::string());
    t->special.assign((size_t)max_id + 1, 0);
    for (auto& kv : t->vocab) t->id_to_token[kv.second] = kv.first;
    for (auto& a : t->added) {
        t->id_to_token[a.id] = a.content;
        t->special[a.id] = a.special;
    }

    if (!parse_merges(model, t, &c)) return false;
    t->byte_fallback = get_bool(model, "byte_fallback", false);
    t->fuse_unk = get_bool(model, "fuse_unk", false);
    t->ignore_merges = get_bool(model, "ignore_merges", false);
    if (get_string(model, "unk_token", &s)) {
        auto it = t->vocab.find(s);
        if (it == t->vocab.end()) return c.fail("tokenizer.json model.unk_token", "'" + s + "' not in vocab");
        t->unk_id = it->second;
    }
    for (int b = 0; b < 256; b++) {
        char hex[8];
        snprintf(hex, sizeof hex, "<0x%02X>", b);
        auto it = t->vocab.find(hex);
        t->byte_ids[b] = it != t->vocab.end() ? it->second : -1;
        std::string ch;
        utf8_append(&ch, byte_level_char((uint8_t)b));
        it = t->vocab.find(ch);
        t->byte_level_ids[b] = it != t->vocab.end() ? it->second : -1;
    }

    element n;
    if (doc["normalizer"].get(n) == simdjson::SUCCESS && !parse_normalizer(n, "tokenizer.json normalizer", t, &c)) return false;
    if (doc["pre_tokenizer"].get(n) == simdjson::SUCCESS && !parse_pretok(n, "tokenizer.json pre_tokenizer", t, &c)) return false;
    if (doc["post_processor"].get(n) == simdjson::SUCCESS && !parse_post(n, "tokenizer.json post_processor", t, &c)) return false;
    if (doc["decoder"].get(n) == simdjson::SUCCESS && !parse_decoder(n, "tokenizer.json decoder", t, &c)) return false;
    // Like HF, tokens with normalized=true are searched for in normalized text in their
    // normalized form (so a Prepend normalizer makes "word" look for "▁word").
    for (AddedToken& a : t->added) a.pattern = a.normalized ? t->normalize(a.content) : a.content;
    t->match_raw.build(t->added, false);
    t->match_normalized.build(t->added, true);
    const std::vector<PreTokStep>& pt = t->pretok;
    auto plain_bl = [](const PreTokStep& st) { return st.kind == PreTokStep::BYTE_LEVEL && !st.add_prefix_space; };
    if (pt.size() == 1 && pt[0].kind == PreTokStep::SPLIT) t->simple_split = pt[0].pattern;
    if (pt.size() == 2 && pt[0].kind == PreTokStep::SPLIT && plain_bl(pt[1]) && !pt[1].use_regex) t->simple_split = pt[0].pattern;
    if (pt.size() == 1 && plain_bl(pt[0]) && pt[0].use_regex) t->simple_split = PAT_GPT2;
    bool after_fuse = false;
    for (size_t i = 0; i < t->decoders.size(); i++) {
        DecoderStep::Kind k = t->decoders[i].kind;
        if (k == DecoderStep::BYTE_LEVEL && t->decoders.size() != 1)
            return c.fail("tokenizer.json decoder", "ByteLevel combined with other decoders is not supported");
        if (after_fuse && k != DecoderStep::STRIP)
            return c.fail("tokenizer.json decoder", "only Strip is supported after Fuse");
        if (k == DecoderStep::FUSE) after_fuse = true;
    }

    if (!config_json.empty() && !parse_tokenizer_config(config_json, t, &c)) return false;
    return true;
}
