// tokenizer.h — Hugging Face `tokenizers`-compatible text <-> token ids, loaded from a model
// directory's tokenizer.json and tokenizer_config.json. Supports the BPE models of Llama 2/3/3.1,
// Mistral and Qwen2/2.5/3: byte-level BPE behind a Split regex pre-tokenizer, SentencePiece-style
// BPE with byte fallback (Prepend/Replace normalizers or Metaspace), NFC, added/special tokens,
// TemplateProcessing (BOS/EOS) and the matching decoders. Anything else in tokenizer.json is
// refused at load time with a message naming it, never silently approximated.
//
// A loaded Tokenizer is immutable apart from an internal word cache (guarded by a mutex): encode
// and decode may be called from several threads at once.
#pragma once
#include <stdint.h>
#include <memory>
#include <string>
#include <vector>

struct TokenizerImpl;

class Tokenizer {
public:
    Tokenizer();
    ~Tokenizer();
    Tokenizer(const Tokenizer&) = delete;
    Tokenizer& operator=(const Tokenizer&) = delete;

    // Loads DIR/tokenizer.json and DIR/tokenizer_config.json (the latter may be missing: then no
    // config overrides apply). On failure returns false, sets *err (file and what is wrong) and
    // leaves this tokenizer unloaded.
    bool load(const std::string& dir, std::string* err);
    // Same, from the two files' contents (config_json may be empty).
    bool load_from_json(const std::string& tokenizer_json, const std::string& config_json, std::string* err);
    bool loaded() const { return impl_ != nullptr; }

    // Encodes UTF-8 text. add_special_tokens applies the post-processor (e.g. BOS). Added tokens
    // that appear in the text (<|im_start|>, </s>, ...) always become their ids, like HF.
    // Returns false with *err when text is not well-formed UTF-8 (the offset is named).
    bool encode(const std::string& text, bool add_special_tokens, std::vector<int32_t>* ids,
                std::string* err) const;

    // Decodes ids to text, the way HF `Tokenizer.decode` does (no clean-up of tokenization
    // spaces). Unknown ids are skipped; skip_special_tokens drops added tokens marked special.
    // Invalid byte sequences decode to U+FFFD as HF does, so the result is always valid UTF-8.
    std::string decode(const std::vector<int32_t>& ids, bool skip_special_tokens) const;

    int32_t vocab_size() const;              // highest id + 1, added tokens included
    int32_t bos_id() const;                  // -1 when the model has none
    int32_t eos_id() const;                  // -1 when the model has none
    bool is_special(int32_t id) const;       // added token marked special
    // Token text of id as stored in the vocabulary ("" for unknown ids).
    const std::string& id_to_token(int32_t id) const;
    // The bytes token id adds to a decoded text when it is not the first token: the decoder chain
    // applied to the token alone (byte-level characters to bytes, <0xXX> to its byte, Replace and
    // Metaspace), without the first-token-only steps (Strip, Metaspace's dropped prefix). False
    // for unknown ids and for added tokens (<|im_end|>, <think>, ...), which stand for no fixed
    // bytes of generated text.
    bool token_bytes(int32_t id, std::string* out) const;
    // Id of a token string from the vocabulary or the added tokens; -1 when absent.
    int32_t token_to_id(const std::string& token) const;

    const TokenizerImpl* impl() const { return impl_.get(); }

private:
    std::unique_ptr<TokenizerImpl> impl_;
};

// Streaming detokenizer: feed generated ids one at a time, get back text that is final. The
// concatenation of everything push() and finish() return equals tok.decode(all ids pushed,
// skip_special_tokens) exactly; text is held back only while it could still change (an incomplete
// UTF-8 character, a run of byte-fallback tokens, a trailing strip).
class IncrementalDetokenizer {
public:
    IncrementalDetokenizer(const Tokenizer& tok, bool skip_special_tokens);
    ~IncrementalDetokenizer();
    // Returns the newly final text (possibly empty).
    std::string push(int32_t id);
    // Returns whatever was held back; the detokenizer is then reset for a new sequence.
    std::string finish();

    struct State;  // the decoder state machine (tokenizer_decode.cpp); Tokenizer::decode uses it too

private:
    const Tokenizer& tok_;
    bool skip_special_;
    std::unique_ptr<State> st_;
};
