// chat_template.cpp — compile/render entry points, the statement executor (output, if, for with
// the loop object, set, macro, call and filter blocks, break/continue) and the global functions.
#include "core/text/chat_template.h"

#include <time.h>

#include <algorithm>

#include "core/text/chat_template_eval.h"

static const char kRaisedMarker = '\x02';   // prefix of raise_exception errors: carried verbatim

bool Evaluator::fail(int line, int col, const std::string& msg) {
    if (err.empty()) {
        if (!msg.empty() && msg[0] == kRaisedMarker) err = msg.substr(1);
        else err = "line " + std::to_string(line) + ", column " + std::to_string(col) + ": " + msg;
    }
    return false;
}

bool Evaluator::step(int line, int col) {
    if (++steps > limits.max_steps) return fail(line, col, "template exceeded its evaluation step limit");
    return true;
}

Value Evaluator::lookup(const std::string& name) const {
    for (size_t k = frames.size(); k-- > barrier;)
        for (const auto& kv : frames[k]) if (kv.first == name) return kv.second;
    for (size_t k = std::min<size_t>(barrier, 2); k-- > 0;)   // template level, then the context
        for (const auto& kv : frames[k]) if (kv.first == name) return kv.second;
    Value g = builtin_global(name);
    if (g.is_undefined()) g.s = "'" + name + "' is undefined";
    return g;
}

void Evaluator::assign(const std::string& name, Value v) {
    Frame& f = frames.back();
    for (auto& kv : f) if (kv.first == name) { kv.second = std::move(v); return; }
    f.emplace_back(name, std::move(v));
}

bool Evaluator::emit(std::string* out, const std::string& s, int line, int col) {
    if (out->size() + s.size() > limits.max_output_bytes)
        return fail(line, col, "output exceeds " + std::to_string(limits.max_output_bytes) + " bytes");
    *out += s;
    return true;
}

Flow Evaluator::exec(const Body& body, std::string* out) {
    DepthGuard guard(&depth);
    if (depth > kMaxEvalDepth) {
        int line = body.empty() ? 0 : body[0]->line, col = body.empty() ? 0 : body[0]->col;
        fail(line, col, "template recursion too deep");
        return Flow::Error;
    }
    for (const StmtPtr& sp : body) {
        const Stmt& s = *sp;
        if (!step(s.line, s.col)) return Flow::Error;
        switch (s.kind) {
            case SK::Text:
                if (!emit(out, s.text, s.line, s.col)) return Flow::Error;
                break;
            case SK::Output: {
                Value v;
                if (!eval(*s.expr, &v)) return Flow::Error;
                if (!emit(out, value_str(v), s.line, s.col)) return Flow::Error;
                break;
            }
            case SK::If: {
                const Body* chosen = &s.else_body;
                for (const auto& br : s.branches) {
                    Value c;
                    if (!eval(*br.first, &c)) return Flow::Error;
                    if (value_truthy(c)) { chosen = &br.second; break; }
                }
                Flow f = exec(*chosen, out);
                if (f != Flow::Normal) return f;
                break;
            }
            case SK::For: {
                Flow f = exec_for(s, out);
                if (f == Flow::Error) return f;
                break;
            }
            case SK::Set: case SK::SetBlock: {
                if (exec_set(s, out) == Flow::Error) return Flow::Error;
                break;
            }
            case SK::Macro: {
                Value fn;
                fn.kind = VKind::Func;
                fn.func = std::make_shared<VFunc>();
                fn.func->name = s.name;
                const Stmt* def = &s;
                Evaluator* self = this;
                fn.func->call = [self, def](const CallArgs& a, Value* o, std::string* e) {
                    if (!self->call_macro(*def, a, nullptr, o)) { *e = self->err; return false; }
                    return true;
                };
                assign(s.name, fn);
                break;
            }
            case SK::CallBlock: {
                const Expr& call = *s.expr;
                Value callee;
                if (!eval(*call.kids[0], &callee)) return Flow::Error;
                if (callee.kind != VKind::Func || !callee.func) {
                    fail(s.line, s.col, "'call' block target is not a macro");
                    return Flow::Error;
                }
                CallArgs args;
                if (!eval_args(call, 1, &args)) return Flow::Error;
                Value caller;
                caller.kind = VKind::Func;
                caller.func = std::make_shared<VFunc>();
                caller.func->name = "caller";
                const Body* cbody = &s.body;
                Evaluator* self = this;
                caller.func->call = [self, cbody](const CallArgs&, Value* o, std::string* e) {
                    std::string text;
                    self->frames.emplace_back();
                    Flow f = self->exec(*cbody, &text);
                    self->frames.pop_back();
                    if (f == Flow::Error) { *e = self->err; return false; }
                    *o = Value::str(text);
                    return true;
                };
                args.kw.emplace_back("caller", caller);
                Value r;
                std::string e;
                if (!callee.func->call(args, &r, &e)) { fail(s.line, s.col, e); return Flow::Error; }
                if (!emit(out, value_str(r), s.line, s.col)) return Flow::Error;
                break;
            }
            case SK::FilterBlock: {
                std::string text;
                Flow f = exec(s.body, &text);
                if (f == Flow::Error) return f;
                frames.emplace_back();
                assign("\x01filter_body", Value::str(text));
                Value v;
                bool ok = eval(*s.expr, &v);
                frames.pop_back();
                if (!ok || !emit(out, value_str(v), s.line, s.col)) return Flow::Error;
                break;
            }
            case SK::Break:
            case SK::Continue:
                if (loop_depth == 0) {
                    fail(s.line, s.col, std::string("'") + (s.kind == SK::Break ? "break" : "continue") +
                                            "' outside a for loop");
                    return Flow::Error;
                }
                return s.kind == SK::Break ? Flow::Break : Flow::Continue;
        }
    }
    return Flow::Normal;
}

void Evaluator::note_written(const std::shared_ptr<VDict>& ns) {
    if (!written.empty() && written.back() == ns) return;
    written.push_back(ns);
    if (written.size() < written_compact_at) return;
    // Drop the namespaces only this list still holds: nothing else reaches them, so they are in no
    // cycle. Amortised: compaction runs again only after the list doubles.
    written.erase(std::remove_if(written.begin(), written.end(), [](const std::shared_ptr<VDict>& d) { return d.use_count() == 1; }),
                  written.end());
    written_compact_at = std::max<size_t>(64, written.size() * 2);
}

Evaluator::~Evaluator() {
    for (const auto& ns : written) {
        std::vector<std::pair<std::string, Value>> items;
        items.swap(ns->items);   // destroyed here, after the namespace no longer refers to them
    }
}

Flow Evaluator::exec_set(const Stmt& s, std::string* out) {
    Value v;
    if (s.kind == SK::SetBlock) {
        std::string text;
        if (exec(s.body, &text) == Flow::Error) return Flow::Error;
        v = Value::str(text);
    } else if (!eval(*s.expr, &v)) {
        return Flow::Error;
    }
    if (!s.attr.empty()) {
        Value ns = lookup(s.targets[0]);
        if (!ns.is_dict() || !ns.dict->is_namespace) {
            fail(s.line, s.col, "cannot assign attribute on non-namespace object '" + s.targets[0] + "'");
            return Flow::Error;
        }
        ns.set(s.attr, v);
        note_written(ns.dict);
        return Flow::Normal;
    }
    if (s.targets.size() == 1) { assign(s.targets[0], v); return Flow::Normal; }
    std::vector<Value> parts;
    std::string e;
    if (!value_iterate(v, &parts, &e) || parts.size() != s.targets.size()) {
        fail(s.line, s.col, e.empty() ? "wrong number of values to unpack in set" : e);
        return Flow::Error;
    }
    for (size_t k = 0; k < parts.size(); k++) assign(s.targets[k], parts[k]);
    return Flow::Normal;
}

Flow Evaluator::exec_for(const Stmt& s, std::string* out) {
    Value seq;
    if (!eval(*s.expr, &seq)) return Flow::Error;
    std::vector<Value> all;
    std::string e;
    if (!value_iterate(seq, &all, &e)) { fail(s.line, s.col, e); return Flow::Error; }
    auto bind = [&](const Value& item) {
        if (s.targets.size() == 1) { assign(s.targets[0], item); return true; }
        std::vector<Value> parts;
        std::string ue;
        if (!value_iterate(item, &parts, &ue) || parts.size() != s.targets.size())
            return fail(s.line, s.col, "cannot unpack loop item into " + std::to_string(s.targets.size()) + " names");
        for (size_t k = 0; k < parts.size(); k++) assign(s.targets[k], parts[k]);
        return true;
    };
    std::vector<Value> items;
    if (s.cond) {   // the inline filter runs before the loop, so loop.length counts kept items
        for (const Value& item : all) {
            frames.emplace_back();
            Value c;
            bool ok = bind(item) && eval(*s.cond, &c);
            frames.pop_back();
            if (!ok) return Flow::Error;
            if (value_truthy(c)) items.push_back(item);
        }
    } else {
        items = std::move(all);
    }
    if (items.empty()) {
        Flow f = exec(s.else_body, out);
        return f == Flow::Error ? f : Flow::Normal;
    }
    loop_depth++;
    const int64_t n = (int64_t)items.size();
    for (int64_t k = 0; k < n; k++) {
        if (!step(s.line, s.col)) { loop_depth--; return Flow::Error; }
        frames.emplace_back();
        Value loop = Value::new_dict();
        auto& li = loop.dict->items;   // fresh dict: append without the lookup set() does
        li.reserve(12);
        li.emplace_back("index0", Value::integer(k));
        li.emplace_back("index", Value::integer(k + 1));
        li.emplace_back("revindex", Value::integer(n - k));
        li.emplace_back("revindex0", Value::integer(n - k - 1));
        li.emplace_back("first", Value::boolean(k == 0));
        li.emplace_back("last", Value::boolean(k == n - 1));
        li.emplace_back("length", Value::integer(n));
        li.emplace_back("depth", Value::integer(1));
        li.emplace_back("depth0", Value::integer(0));
        li.emplace_back("previtem", k > 0 ? items[k - 1] : Value::undefined("'loop.previtem' is undefined"));
        li.emplace_back("nextitem", k + 1 < n ? items[k + 1] : Value::undefined("'loop.nextitem' is undefined"));
        Value cycle;
        cycle.kind = VKind::Func;
        cycle.func = std::make_shared<VFunc>();
        cycle.func->name = "loop.cycle";
        cycle.func->call = [k](const CallArgs& a, Value* o, std::string* ce) {
            if (a.pos.empty()) { *ce = "loop.cycle() needs at least one argument"; return false; }
            *o = a.pos[k % a.pos.size()];
            return true;
        };
        li.emplace_back("cycle", cycle);
        assign("loop", loop);
        Flow f = bind(items[k]) ? exec(s.body, out) : Flow::Error;
        frames.pop_back();
        if (f == Flow::Error) { loop_depth--; return f; }
        if (f == Flow::Break) break;
    }
    loop_depth--;
    return Flow::Normal;
}

bool Evaluator::call_macro(const Stmt& def, const CallArgs& args, const Value* caller, Value* out) {
    if (call_depth >= limits.max_call_depth)
        return fail(def.line, def.col, "macro calls nested deeper than " + std::to_string(limits.max_call_depth));
    if (args.pos.size() > def.params.size())
        return fail(def.line, def.col, "macro '" + def.name + "' takes " + std::to_string(def.params.size()) +
                                           " arguments, got " + std::to_string(args.pos.size()));
    for (const auto& kw : args.kw) {
        bool known = kw.first == "caller";
        for (const auto& p : def.params) known = known || p.first == kw.first;
        if (!known) return fail(def.line, def.col, "macro '" + def.name + "' takes no keyword argument '" + kw.first + "'");
    }
    size_t saved_barrier = barrier;
    int saved_loop_depth = loop_depth;
    frames.emplace_back();
    barrier = frames.size() - 1;
    loop_depth = 0;
    call_depth++;
    bool ok = true;
    for (size_t k = 0; ok && k < def.params.size(); k++) {
        const std::string& p = def.params[k].first;
        const Value* kw = args.kwarg(p);
        if (k < args.pos.size()) assign(p, args.pos[k]);
        else if (kw) assign(p, *kw);
        else if (def.params[k].second) { Value d; ok = eval(*def.params[k].second, &d); assign(p, d); }
        else assign(p, Value::undefined("'" + p + "' is undefined"));
    }
    const Value* c = caller ? caller : args.kwarg("caller");
    if (c) assign("caller", *c);
    std::string text;
    if (ok) ok = exec(def.body, &text) != Flow::Error;
    call_depth--;
    frames.pop_back();
    barrier = saved_barrier;
    loop_depth = saved_loop_depth;
    if (!ok) return false;
    *out = Value::str(text);
    return true;
}

ChatTemplate::ChatTemplate() = default;
ChatTemplate::~ChatTemplate() = default;

bool ChatTemplate::compile(const std::string& source, std::string* err) {
    program_.reset();
    std::vector<Piece> pieces;
    if (!template_lex(source, &pieces, err)) return false;
    auto prog = std::make_shared<Program>();
    if (!template_parse(pieces, prog.get(), err)) return false;
    program_ = prog;
    return true;
}

bool ChatTemplate::render(const Value& context, std::string* out, std::string* err) const {
    if (!program_) { *err = "chat template is not compiled"; return false; }
    if (!context.is_dict()) { *err = "chat template context must be a dict"; return false; }
    Evaluator ev;
    ev.limits = limits;
    ev.blim.max_string_bytes = limits.max_output_bytes;
    ev.frames.emplace_back(context.dict->items);
    ev.frames.emplace_back();   // template-level assignments
    std::string text;
    Flow f = ev.exec(program_->body, &text);
    if (f == Flow::Error) { *err = ev.err.empty() ? "render failed" : ev.err; return false; }
    *out = std::move(text);
    return true;
}

Value chat_template_context(const Value& messages, const Value& tools, bool add_generation_prompt,
                            const std::string& bos_token, const std::string& eos_token,
                            const Value& extra_kwargs) {
    Value ctx = Value::new_dict();
    ctx.set("messages", messages);
    ctx.set("tools", tools.is_undefined() ? Value::none() : tools);
    ctx.set("documents", Value::none());
    ctx.set("add_generation_prompt", Value::boolean(add_generation_prompt));
    ctx.set("bos_token", Value::str(bos_token));
    ctx.set("eos_token", Value::str(eos_token));
    if (extra_kwargs.is_dict())
        for (const auto& kv : extra_kwargs.dict->items) ctx.set(kv.first, kv.second);
    return ctx;
}

static Value make_func(const char* name, std::function<bool(const CallArgs&, Value*, std::string*)> fn) {
    Value v;
    v.kind = VKind::Func;
    v.func = std::make_shared<VFunc>();
    v.func->name = name;
    v.func->call = std::move(fn);
    return v;
}

Value builtin_global(const std::string& name) {
    if (name == "raise_exception")
        return make_func("raise_exception", [](const CallArgs& a, Value*, std::string* e) {
            *e = std::string(1, kRaisedMarker) + (a.pos.empty() ? std::string() : value_str(a.pos[0]));
            return false;
        });
    if (name == "strftime_now")
        return make_func("strftime_now", [](const CallArgs& a, Value* o, std::string* e) {
            if (a.pos.empty() || !a.pos[0].is_string()) { *e = "strftime_now() needs a format string"; return false; }
            time_t now = time(nullptr);
            struct tm tmv;
            localtime_r(&now, &tmv);
            char buf[512];
            size_t n = strftime(buf, sizeof buf, a.pos[0].s.c_str(), &tmv);
            *o = Value::str(std::string(buf, n));
            return true;
        });
    if (name == "range")
        return make_func("range", [](const CallArgs& a, Value* o, std::string* e) {
            int64_t v[3] = {0, 0, 1};
            if (a.pos.empty() || a.pos.size() > 3) { *e = "range() takes 1 to 3 integer arguments"; return false; }
            for (const Value& x : a.pos)
                if (x.kind != VKind::Int && x.kind != VKind::Bool) { *e = "range() arguments must be integers"; return false; }
            if (a.pos.size() == 1) v[1] = a.pos[0].kind == VKind::Bool ? a.pos[0].b : a.pos[0].i;
            else for (size_t k = 0; k < a.pos.size(); k++) v[k] = a.pos[k].kind == VKind::Bool ? a.pos[k].b : a.pos[k].i;
            if (v[2] == 0) { *e = "range() step must not be zero"; return false; }
            *o = Value::new_list();
            for (int64_t x = v[0]; v[2] > 0 ? x < v[1] : x > v[1]; x += v[2]) {
                if (o->list->size() >= 1000000) { *e = "range() longer than 1000000 items"; return false; }
                o->push(Value::integer(x));
                if ((v[2] > 0 && x > INT64_MAX - v[2]) || (v[2] < 0 && x < INT64_MIN - v[2])) break;
            }
            return true;
        });
    if (name == "namespace" || name == "dict")
        return make_func(name == "dict" ? "dict" : "namespace", [name](const CallArgs& a, Value* o, std::string* e) {
            *o = Value::new_dict();
            o->dict->is_namespace = name == "namespace";
            for (const Value& p : a.pos) {
                if (!p.is_dict()) { *e = name + "() positional argument must be a dict"; return false; }
                for (const auto& kv : p.dict->items) o->set(kv.first, kv.second);
            }
            for (const auto& kv : a.kw) o->set(kv.first, kv.second);
            return true;
        });
    return Value::undefined();
}
