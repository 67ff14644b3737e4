// chat_template_value.h — the value model of the chat-template interpreter: Python-like
// none/bool/int/float/str/list/dict plus Jinja's undefined and callables, with Python's
// truthiness, str() and repr() rules, and conversion from/to JSON.
//
// Lists and dicts are shared by reference (like Python objects), so a namespace() changed inside
// a loop is seen outside it. Dicts keep insertion order and have string keys only.
#pragma once
#include <stdint.h>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

enum class VKind { Undefined, None, Bool, Int, Float, String, List, Dict, Func };

struct Value;
struct VDict;
struct VFunc;
using VList = std::vector<Value>;

struct Value {
    VKind kind = VKind::Undefined;
    bool b = false;
    int64_t i = 0;
    double f = 0.0;
    std::string s;                   // String; for Undefined: the name that was looked up
    std::shared_ptr<VList> list;     // List
    std::shared_ptr<VDict> dict;     // Dict (namespace() too, see VDict::is_namespace)
    std::shared_ptr<VFunc> func;     // Func
    bool tuple = false;              // List: a Python tuple (only printing differs)

    static Value undefined(const std::string& what = "") { Value v; v.s = what; return v; }
    static Value none() { Value v; v.kind = VKind::None; return v; }
    static Value boolean(bool x) { Value v; v.kind = VKind::Bool; v.b = x; return v; }
    static Value integer(int64_t x) { Value v; v.kind = VKind::Int; v.i = x; return v; }
    static Value number(double x) { Value v; v.kind = VKind::Float; v.f = x; return v; }
    static Value str(std::string x) { Value v; v.kind = VKind::String; v.s = std::move(x); return v; }
    static Value new_list();
    static Value new_dict();
    // The (key, value) tuple that dict.items() and the items/dictsort filters yield.
    static Value item_pair(const std::string& key, const Value& value);

    bool is_undefined() const { return kind == VKind::Undefined; }
    bool is_none() const { return kind == VKind::None; }
    bool is_string() const { return kind == VKind::String; }
    bool is_list() const { return kind == VKind::List; }
    bool is_dict() const { return kind == VKind::Dict; }
    bool is_number() const { return kind == VKind::Int || kind == VKind::Float || kind == VKind::Bool; }
    double as_double() const { return kind == VKind::Float ? f : (double)(kind == VKind::Bool ? b : i); }

    // Dict helpers. get() returns nullptr when absent; set() replaces in place or appends.
    const Value* get(const std::string& key) const;
    void set(const std::string& key, Value v);
    // List helper.
    void push(Value v) { list->push_back(std::move(v)); }
};

struct VDict {
    std::vector<std::pair<std::string, Value>> items;
    bool is_namespace = false;
    const Value* find(const std::string& key) const;
    Value* find(const std::string& key);
};

// A callable: a builtin (global function or bound method) or a macro; the evaluator fills `call`.
struct CallArgs {
    std::vector<Value> pos;
    std::vector<std::pair<std::string, Value>> kw;
    const Value* kwarg(const std::string& name) const;
};
struct VFunc {
    std::string name;
    // Returns false and sets *err on failure.
    std::function<bool(const CallArgs& args, Value* out, std::string* err)> call;
};

const char* vkind_name(VKind kind);   // Python type names: "str", "int", "list", "dict", ...
bool value_truthy(const Value& v);
// Python str(): None, True, 1.5, ['a', 1], {'k': 'v'}; undefined prints as "".
std::string value_str(const Value& v);
// Python repr(): strings quoted the way Python picks quotes.
std::string value_repr(const Value& v);
std::string float_repr(double x);     // Python's shortest round-trip float repr
// Python ==, with 1 == 1.0 == True.
bool value_equal(const Value& a, const Value& b);
// Python <: numbers with numbers, strings with strings, lists element-wise. False + *err otherwise.
bool value_less(const Value& a, const Value& b, bool* out, std::string* err);

// json.dumps(v, ensure_ascii=False, indent=indent (<0: none), sort_keys) with Python's default
// separators (", " / ": " without indent, "," / ": " with). Fails on undefined and callables.
bool value_to_json(const Value& v, int indent, bool sort_keys, std::string* out, std::string* err);
// Parses JSON text into a Value (objects keep key order; integers stay ints). False on bad JSON.
bool value_from_json(const std::string& json, Value* out, std::string* err);
