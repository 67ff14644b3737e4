// unicode.h — the Unicode pieces the tokenizer needs: UTF-8 decoding/validation, the character
// classes its pre-tokenizer patterns use (\p{L}, \p{N}, White_Space) and NFC normalization. Tables
// come from core/text/unicode_tables.inc, generated from the Unicode Character Database (15.0).
#pragma once
#include <stdint.h>
#include <string>

enum : uint8_t {
    UNI_LETTER = 1,      // general category L*
    UNI_NUMBER = 2,      // general category N*
    UNI_SPACE = 4,       // White_Space property (what Oniguruma's \s matches)
    UNI_MARK = 8,        // general category M*
    UNI_WORD = 16,       // \w of Rust's regex crate: Alphabetic, M, Nd, Pc, Join_Control
};

// Class bits (UNI_*) of a code point; 0 for anything else, including values past U+10FFFF.
uint8_t uni_class(uint32_t cp);

// Decodes one UTF-8 character at s[i] (n = length of s). Returns its length in bytes (1..4) and
// stores the code point, or returns 0 when the bytes there are not well-formed UTF-8 (overlong
// forms, surrogates, values past U+10FFFF and truncated sequences are all rejected).
int utf8_decode(const char* s, size_t n, size_t i, uint32_t* cp);

// Appends the UTF-8 encoding of cp (must be a valid scalar value).
void utf8_append(std::string* out, uint32_t cp);

// True when s is well-formed UTF-8; otherwise false and *bad_offset = offset of the first bad byte.
bool utf8_valid(const std::string& s, size_t* bad_offset);

// Replaces each maximal ill-formed subsequence with U+FFFD, the way Rust's String::from_utf8_lossy
// and the WHATWG TextDecoder do. Returns s unchanged when it is valid.
std::string utf8_lossy(const std::string& s);

// Length of the longest prefix of s (bytes) that does not end inside an incomplete but still
// possibly valid UTF-8 sequence: bytes after it could be completed by more input.
size_t utf8_complete_prefix(const std::string& s);

// NFC (canonical decomposition, canonical ordering, canonical composition) of valid UTF-8 text.
std::string uni_nfc(const std::string& s);
