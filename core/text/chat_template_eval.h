// chat_template_eval.h — internal: the evaluator state of one render (scopes, output, limits),
// shared by the statement executor (chat_template.cpp) and the expression evaluator
// (chat_template_eval_expr.cpp).
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "core/text/chat_template.h"
#include "core/text/chat_template_ast.h"
#include "core/text/chat_template_builtins.h"

enum class Flow { Normal, Break, Continue, Error };

// Native recursion guard shared by nested statements, expressions and macro calls.
const int kMaxEvalDepth = 400;
struct DepthGuard {
    int* d;
    explicit DepthGuard(int* p) : d(p) { ++*d; }
    ~DepthGuard() { --*d; }
};

struct Evaluator {
    using Frame = std::vector<std::pair<std::string, Value>>;
    // frames[0]: the render context; frames[1]: template-level assignments; then one frame per loop
    // iteration, macro call or call block.
    std::vector<Frame> frames;
    size_t barrier = 1;            // lookups search frames.size()-1 .. barrier, then frames[1], frames[0]
    ChatTemplateLimits limits;
    BuiltinLimits blim;
    int call_depth = 0;
    int loop_depth = 0;
    int depth = 0;                 // current native recursion depth (see kMaxEvalDepth)
    int64_t steps = 0;
    int64_t bytes_built = 0;       // total size of strings/lists built by operators, filters and calls
    std::string err;
    // Namespaces written by `set ns.attr = ...` (the only mutation a template can make, so the only
    // way to build a reference cycle: ns.self = ns). Emptied when the evaluator ends, which breaks
    // every cycle; no namespace outlives a render, since the context cannot hold one.
    std::vector<std::shared_ptr<VDict>> written;
    size_t written_compact_at = 64;

    Evaluator() = default;
    Evaluator(const Evaluator&) = delete;
    Evaluator& operator=(const Evaluator&) = delete;
    ~Evaluator();
    void note_written(const std::shared_ptr<VDict>& ns);

    // Sets err to "line L, column C: msg" (first error wins); returns false.
    bool fail(int line, int col, const std::string& msg);
    bool step(int line, int col);   // counts one step; false when the step budget is spent
    bool charge(const Expr& e, const Value& v);   // counts built bytes; false past max_built_bytes

    Value lookup(const std::string& name) const;
    void assign(const std::string& name, Value v);

    bool eval(const Expr& e, Value* out);
    Flow exec(const Body& body, std::string* out);
    bool emit(std::string* out, const std::string& s, int line, int col);
    // Calls a macro defined by `def` with evaluated args; result is its rendered body.
    bool call_macro(const Stmt& def, const CallArgs& args, const Value* caller, Value* out);

private:
    bool eval_binary(const Expr& e, Value* out);
    bool eval_compare(const Expr& e, Value* out);
    bool eval_call(const Expr& e, Value* out);
    bool eval_args(const Expr& e, size_t first_pos, CallArgs* args);
    bool get_attr(const Expr& at, const Value& obj, const std::string& name, Value* out);
    bool get_item(const Expr& at, const Value& obj, const Value& key, Value* out);
    bool get_slice(const Expr& e, const Value& obj, Value* out);
    Flow exec_for(const Stmt& s, std::string* out);
    Flow exec_set(const Stmt& s, std::string* out);
};

// Global functions: range, namespace, dict, raise_exception, strftime_now. Undefined if unknown.
Value builtin_global(const std::string& name);
