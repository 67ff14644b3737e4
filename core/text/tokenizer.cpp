// tokenizer.cpp — loading entry points and the encode pipeline, in HF tokenizers' order:
// split out added tokens that match the raw text (normalized=false), normalize the rest, split out
// added tokens that match normalized text, pre-tokenize, BPE each pre-token, then the template
// (BOS/EOS) when special tokens are asked for.
#include "core/text/tokenizer.h"
#include "core/util/text_util.h"
#include <fstream>
#include <sstream>
#include "core/text/tokenizer_impl.h"
#include "core/text/unicode.h"

namespace {
bool is_space_at(const std::string& s, size_t i, int* len) {
    uint32_t cp;
    *len = utf8_decode(s.data(), s.size(), i, &cp);
    return *len > 0 && (uni_class(cp) & UNI_SPACE);
}

// HF checks single_word boundaries with the regex crate's \w.
bool is_word_cp(uint32_t cp) { return uni_class(cp) & UNI_WORD; }

bool ends_with_word(const std::string& s, size_t end) {
    if (end == 0) return false;
    size_t i = end - 1;
    while (i > 0 && ((unsigned char)s[i] & 0xC0) == 0x80) i--;
    uint32_t cp;
    return utf8_decode(s.data(), end, i, &cp) && is_word_cp(cp);
}
bool starts_with_word(const std::string& s, size_t start) {
    uint32_t cp;
    return start < s.size() && utf8_decode(s.data(), s.size(), start, &cp) && is_word_cp(cp);
}

struct Piece { size_t start, end; int32_t id; };  // id -1: text to tokenize

// HF AddedVocabulary::find_matches: leftmost-longest matches of m in s[begin, end), with
// single_word, lstrip and rstrip applied. Pieces carry offsets into s.
void find_added(const std::string& s, size_t begin, size_t end, const AddedTokenMatcher& m, std::vector<Piece>* out) {
    size_t start_offset = begin;
    if (!m.empty) {
        for (size_t i = begin; i < end;) {
            const AddedToken* hit = nullptr;
            for (const AddedToken* a : m.by_first_byte[(uint8_t)s[i]])
                if (a->pattern.size() <= end - i && s.compare(i, a->pattern.size(), a->pattern) == 0) { hit = a; break; }
            if (!hit) { i++; continue; }
            size_t start = i, stop = i + hit->pattern.size();
            i = stop;
            if (start < start_offset) continue;
            if (hit->single_word && ((start > begin && ends_with_word(s, start)) || (stop < end && starts_with_word(s, stop)))) continue;
            if (hit->lstrip) {
                size_t k = start;
                while (k > start_offset) {
                    size_t j = k - 1;
                    while (j > 0 && ((unsigned char)s[j] & 0xC0) == 0x80) j--;
                    int len;
                    if (!is_space_at(s, j, &len)) break;
                    k = j;
                }
                start = k;
            }
            if (hit->rstrip) {
                int len;
                while (stop < end && is_space_at(s, stop, &len)) stop += len;
            }
            if (start_offset < start) out->push_back({start_offset, start, -1});
            out->push_back({start, stop, hit->id});
            start_offset = stop;
            i = std::max(i, stop);
        }
    }
    if (start_offset < end || begin == end) out->push_back({start_offset, end, -1});
}
}  // namespace

Tokenizer::Tokenizer() {}
Tokenizer::~Tokenizer() {}

bool Tokenizer::load(const std::string& dir, std::string* err) {
    std::string tj, cj;
    std::string tpath = dir + "/tokenizer.json", cpath = dir + "/tokenizer_config.json";
    if (!read_file(tpath, &tj)) { *err = tpath + ": cannot read (the model directory needs tokenizer.json)"; return false; }
    read_file(cpath, &cj);  // optional
    if (!load_from_json(tj, cj, err)) { *err = dir + ": " + *err; return false; }
    return true;
}

bool Tokenizer::load_from_json(const std::string& tokenizer_json, const std::string& config_json, std::string* err) {
    std::unique_ptr<TokenizerImpl> t(new TokenizerImpl());
    impl_.reset();
    if (!tokenizer_parse(tokenizer_json, config_json, t.get(), err)) return false;
    impl_ = std::move(t);
    return true;
}

bool Tokenizer::encode(const std::string& text, bool add_special_tokens, std::vector<int32_t>* ids, std::string* err) const {
    ids->clear();
    if (!impl_) { *err = "tokenizer not loaded"; return false; }
    size_t bad;
    if (!utf8_valid(text, &bad)) { *err = "input is not valid UTF-8 (byte offset " + std::to_string(bad) + ")"; return false; }
    const TokenizerImpl& t = *impl_;
    if (add_special_tokens) ids->insert(ids->end(), t.post_before.begin(), t.post_before.end());
    std::vector<Piece> raw, norm;
    std::vector<std::string> pieces;
    std::vector<std::pair<size_t, size_t>> cuts;
    std::string normalized;
    find_added(text, 0, text.size(), t.match_raw, &raw);
    for (const Piece& p : raw) {
        if (p.id >= 0) { ids->push_back(p.id); continue; }
        // The segment's text is seg[sb, se): in place when there is nothing to normalize.
        const std::string* seg = &text;
        size_t sb = p.start, se = p.end;
        if (!t.normalizers.empty()) {
            normalized = t.normalize(text.substr(p.start, p.end - p.start));
            seg = &normalized;
            sb = 0;
            se = normalized.size();
        }
        norm.clear();
        find_added(*seg, sb, se, t.match_normalized, &norm);
        for (size_t k = 0; k < norm.size(); k++) {
            const Piece& q = norm[k];
            if (q.id >= 0) { ids->push_back(q.id); continue; }
            if (t.simple_split >= 0) {
                cuts.clear();
                split_pattern(*seg, (SplitPattern)t.simple_split, &cuts, q.start, q.end);
                for (auto& c : cuts) t.bpe_word(seg->data() + c.first, c.second - c.first, ids);
                continue;
            }
            pieces.clear();
            t.pre_tokenize(seg->substr(q.start, q.end - q.start), p.start == 0 && k == 0, &pieces);
            for (const std::string& w : pieces) t.bpe_word(w.data(), w.size(), ids);
        }
    }
    if (add_special_tokens) ids->insert(ids->end(), t.post_after.begin(), t.post_after.end());
    return true;
}

int32_t Tokenizer::vocab_size() const { return impl_ ? (int32_t)impl_->id_to_token.size() : 0; }
int32_t Tokenizer::bos_id() const { return impl_ ? impl_->bos_id : -1; }
int32_t Tokenizer::eos_id() const { return impl_ ? impl_->eos_id : -1; }
bool Tokenizer::is_special(int32_t id) const {
    return impl_ && id >= 0 && (size_t)id < impl_->special.size() && impl_->special[id];
}
const std::string& Tokenizer::id_to_token(int32_t id) const {
    static const std::string none;
    if (!impl_ || id < 0 || (size_t)id >= impl_->id_to_token.size()) return none;
    return impl_->id_to_token[id];
}
int32_t Tokenizer::token_to_id(const std::string& token) const {
    if (!impl_) return -1;
    auto a = impl_->added_ids.find(token);
    if (a != impl_->added_ids.end()) return a->second;
    auto v = impl_->vocab.find(token);
    return v != impl_->vocab.end() ? v->second : -1;
}
