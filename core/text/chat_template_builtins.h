// chat_template_builtins.h — internal: filters, tests, methods of str/dict/list and the string
// helpers (UTF-8 code points, Python whitespace) they share. Each function returns false and sets
// *err on a bad argument; none of them crashes on any input.
#pragma once
#include <stdint.h>
#include <string>
#include <vector>

#include "core/text/chat_template_value.h"

// Caps the size of any string a builtin builds (join, replace, repetition, ...).
struct BuiltinLimits {
    size_t max_string_bytes = 16u << 20;
};

// Whether a filter / test of that name exists (the parser rejects unknown ones).
bool filter_exists(const std::string& name);
bool test_exists(const std::string& name);
bool apply_filter(const std::string& name, const Value& in, const CallArgs& args, const BuiltinLimits& lim,
                  Value* out, std::string* err);
bool apply_test(const std::string& name, const Value& in, const CallArgs& args, bool* out, std::string* err);
// obj.name(args) for str, dict and list methods; false with "has no method" for unknown ones.
bool call_method(const Value& obj, const std::string& name, const CallArgs& args, const BuiltinLimits& lim,
                 Value* out, std::string* err);
// Whether obj.name is a method call_method knows (so obj.name without a call can be bound).
bool has_method(const Value& obj, const std::string& name);

// UTF-8 helpers. Invalid bytes count as one code point each.
std::vector<std::string> utf8_chars(const std::string& s);
size_t utf8_length(const std::string& s);
// Python str.strip / lstrip / rstrip: chars empty + default -> Unicode whitespace.
std::string py_strip(const std::string& s, const std::string* chars, bool left, bool right);
// Python str.split(sep=None or sep, maxsplit).
bool py_split(const std::string& s, const std::string* sep, int64_t maxsplit, std::vector<std::string>* out,
              std::string* err);
std::string py_replace(const std::string& s, const std::string& from, const std::string& to, int64_t count);
// Python case mapping (ASCII, Latin-1, Latin Extended-A, basic Greek and Cyrillic; other scripts
// unchanged): str.upper/lower/title/capitalize/islower/isupper, and jinja2's title filter.
std::string py_upper(const std::string& s);
std::string py_lower(const std::string& s);
std::string py_title(const std::string& s);
std::string py_capitalize(const std::string& s);
std::string jinja_title(const std::string& s);
bool py_islower(const std::string& s);
bool py_isupper(const std::string& s);
// Python-style list of an iterable: list items, dict keys, string characters. Undefined -> empty.
bool value_iterate(const Value& v, std::vector<Value>* out, std::string* err);
// Python len(); false for values without a length.
bool value_length(const Value& v, int64_t* out, std::string* err);
