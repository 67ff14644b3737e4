// tokenizer_decode.cpp — ids to text. The decoder chain of tokenizer.json runs as a streaming
// state machine so that Tokenizer::decode and IncrementalDetokenizer share one implementation:
// decode(ids) is push(each id) + finish(). Semantics follow HF tokenizers' decoders:
//   ByteLevel     token characters -> bytes (a token with a character outside the table keeps its
//                 UTF-8 bytes), all bytes joined, then from_utf8_lossy.
//   Replace       literal replacement in each token.
//   ByteFallback  runs of <0xXX> tokens become their bytes if those form valid UTF-8, otherwise
//                 one U+FFFD per byte.
//   Fuse          joins all tokens (later steps see one growing text; only Strip may follow).
//   Strip         removes up to `start` leading and `stop` trailing copies of a character.
//   Metaspace     replacement -> ' ', except in the first token, where replacements are dropped
//                 (unless prepend_scheme is "never").
// Without a decoder HF joins tokens with spaces; so do we.
#include "core/text/tokenizer.h"
#include "core/util/text_util.h"
#include "core/text/tokenizer_impl.h"
#include "core/text/unicode.h"

namespace {

int hex_digit(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// "<0xXX>" -> byte (Rust's u8::from_str_radix also takes "+X"); -1 when not a byte token.
int byte_token(const std::string& t) {
    if (t.size() != 6 || t.compare(0, 3, "<0x") != 0 || t[5] != '>') return -1;
    int hi = t[3] == '+' ? 0 : hex_digit(t[3]), lo = hex_digit(t[4]);
    return (hi < 0 || lo < 0) ? -1 : hi * 16 + lo;
}

// Bytes a token stands for under the ByteLevel decoder.
void byte_level_bytes(const std::string& tok, std::string* out) {
    size_t start = out->size();
    for (size_t i = 0; i < tok.size();) {
        uint32_t cp;
        int len = utf8_decode(tok.data(), tok.size(), i, &cp);
        int b = len ? byte_level_byte(cp) : -1;
        if (b < 0) { out->resize(start); out->append(tok); return; }
        out->push_back((char)b);
        i += len;
    }
}
}  // namespace

struct IncrementalDetokenizer::State {
    const TokenizerImpl* t;
    size_t n_tokens = 0;              // tokens that reached the decoder
    std::string bytes;                // ByteLevel: bytes not yet emitted (an incomplete character)
    std::vector<size_t> step_count;   // per step: tokens it has seen (Metaspace's "first token")
    std::vector<std::string> runs;    // per ByteFallback step: pending bytes
    int fused_at = -1;                // index of the Fuse step, -1 when none
    int lead_left = 0;                // Strip after Fuse: leading characters still strippable
    bool lead_done = false;
    std::string trail;                // Strip after Fuse: trailing copies held back

    explicit State(const TokenizerImpl* impl) : t(impl) { reset(); }
    void reset() {
        n_tokens = 0;
        bytes.clear();
        step_count.assign(t->decoders.size(), 0);
        runs.assign(t->decoders.size(), std::string());
        fused_at = -1;
        for (size_t i = 0; i < t->decoders.size(); i++)
            if (t->decoders[i].kind == DecoderStep::FUSE && fused_at < 0) fused_at = (int)i;
        lead_left = 0;
        lead_done = false;
        for (size_t i = fused_at + 1; fused_at >= 0 && i < t->decoders.size(); i++)
            if (t->decoders[i].kind == DecoderStep::STRIP) lead_left = t->decoders[i].start;
        trail.clear();
    }

    // Text after the Fuse step: apply Strip on the growing text.
    void fused_text(const std::string& s, std::string* out) {
        const DecoderStep* strip = nullptr;
        for (size_t i = fused_at + 1; i < t->decoders.size(); i++)
            if (t->decoders[i].kind == DecoderStep::STRIP) strip = &t->decoders[i];
        if (!strip) { *out += s; return; }
        const std::string& c = strip->a;
        for (size_t i = 0; i < s.size();) {
            uint32_t cp;
            int len = utf8_decode(s.data(), s.size(), i, &cp);
            if (!len) len = 1;
            bool is_c = s.compare(i, c.size(), c) == 0 && (size_t)len == c.size();
            if (!lead_done) {
                if (is_c && lead_left > 0) { lead_left--; i += len; continue; }
                lead_done = true;
            }
            if (strip->stop > 0) {
                if (is_c) trail.append(s, i, len);
                else { *out += trail; trail.clear(); out->append(s, i, len); }
            } else {
                out->append(s, i, len);
            }
            i += len;
        }
    }

    void feed(size_t si, std::string tok, std::string* out) {
        const auto& steps = t->decoders;
        if ((int)si == fused_at) { fused_text(tok, out); return; }
        if (si >= steps.size()) { *out += tok; return; }
        const DecoderStep& st = steps[si];
        size_t idx = step_count[si]++;
        switch (st.kind) {
        case DecoderStep::REPLACE: replace_all(&tok, st.a, st.b); break;
        case DecoderStep::METASPACE: replace_all(&tok, st.a, idx == 0 && st.prepend ? "" : " "); break;
        case DecoderStep::STRIP: {
            size_t a = 0, b = tok.size();
            for (int k = 0; k < st.start && tok.compare(a, st.a.size(), st.a) == 0 && a < b; k++) a += st.a.size();
            for (int k = 0; k < st.stop && b >= a + st.a.size() && tok.compare(b - st.a.size(), st.a.size(), st.a) == 0; k++) b -= st.a.size();
            tok = tok.substr(a, b - a);
            break;
        }
        case DecoderStep::BYTE_FALLBACK: {
            step_count[si]--;
            int b = byte_token(tok);
            if (b >= 0) { runs[si].push_back((char)b); return; }
            flush_run(si, out);
            break;
        }
        default: break;
        }
        feed(si + 1, std::move(tok), out);
    }

    void flush_run(size_t si, std::string* out) {
        if (runs[si].empty()) return;
        std::string run;
        run.swap(runs[si]);
        if (utf8_valid(run, nullptr)) { feed(si + 1, run, out); return; }
        for (size_t k = 0; k < run.size(); k++) feed(si + 1, "\xEF\xBF\xBD", out);
    }

    void push(const std::string& tok, std::string* out) {
        size_t n = n_tokens++;
        if (!t->has_decoder) {
            if (n > 0) *out += ' ';
            *out += tok;
            return;
        }
        if (t->decoders[0].kind == DecoderStep::BYTE_LEVEL) {
            byte_level_bytes(tok, &bytes);
            size_t k = utf8_complete_prefix(bytes);
            if (k == 0) return;
            *out += utf8_lossy(bytes.substr(0, k));
            bytes.erase(0, k);
            return;
        }
        feed(0, tok, out);
    }

    void finish(std::string* out) {
        if (!bytes.empty()) *out += utf8_lossy(bytes);
        for (size_t si = 0; si < t->decoders.size(); si++)
            if (t->decoders[si].kind == DecoderStep::BYTE_FALLBACK) flush_run(si, out);
        if (fused_at >= 0) {
            for (size_t i = fused_at + 1; i < t->decoders.size(); i++) {
                const DecoderStep& st = t->decoders[i];
                if (st.kind != DecoderStep::STRIP) continue;
                for (int k = 0; k < st.stop && trail.size() >= st.a.size(); k++) trail.resize(trail.size() - st.a.size());
            }
            *out += trail;
        }
        reset();
    }
};

static bool token_for(const TokenizerImpl* t, int32_t id, bool skip_special, const std::string** tok) {
    if (id < 0 || (size_t)id >= t->id_to_token.size() || t->id_to_token[id].empty()) return false;
    if (skip_special && t->special[id]) return false;
    *tok = &t->id_to_token[id];
    return true;
}

std::string Tokenizer::decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const {
    std::string out;
    if (!impl_) return out;
    IncrementalDetokenizer::State st(impl_.get());
    const std::string* tok;
    for (int32_t id : ids)
        if (token_for(impl_.get(), id, skip_special_tokens, &tok)) st.push(*tok, &out);
    st.finish(&out);
    return out;
}

bool Tokenizer::token_bytes(int32_t id, std::string* out) const {
    out->clear();
    const TokenizerImpl* t = impl_.get();
    if (!t || id < 0 || (size_t)id >= t->id_to_token.size() || t->id_to_token[id].empty()) return false;
    const std::string& tok = t->id_to_token[id];
    auto added = t->added_ids.find(tok);
    if (added != t->added_ids.end() && added->second == id) return false;
    if (!t->has_decoder) { *out = tok; return true; }
    if (t->decoders[0].kind == DecoderStep::BYTE_LEVEL) { byte_level_bytes(tok, out); return true; }
    std::string s = tok;
    for (const DecoderStep& st : t->decoders) {
        if (st.kind == DecoderStep::BYTE_FALLBACK) {
            int b = byte_token(s);
            if (b >= 0) { *out = std::string(1, (char)b); return true; }
        } else if (st.kind == DecoderStep::REPLACE) {
            replace_all(&s, st.a, st.b);
        } else if (st.kind == DecoderStep::METASPACE) {
            replace_all(&s, st.a, " ");
        } else if (st.kind == DecoderStep::BYTE_LEVEL) {
            std::string b;
            byte_level_bytes(s, &b);
            s.swap(b);
        }
    }
    *out = s;
    return true;
}

IncrementalDetokenizer::IncrementalDetokenizer(const Tokenizer& tok, bool skip_special_tokens)
    : tok_(tok), skip_special_(skip_special_tokens), st_(tok.impl() ? new State(tok.impl()) : nullptr) {}
IncrementalDetokenizer::~IncrementalDetokenizer() {}

std::string IncrementalDetokenizer::push(int32_t id) {
    std::string out;
    const std::string* tok;
    if (st_ && token_for(tok_.impl(), id, skip_special_, &tok)) st_->push(*tok, &out);
    return out;
}

std::string IncrementalDetokenizer::finish() {
    std::string out;
    if (st_) st_->finish(&out);
    return out;
}
