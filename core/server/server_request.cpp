// server_request.cpp — JSON bodies of the generation, tokenize and detokenize routes into the
// plain structs of server_request.h (simdjson DOM; every field type-checked, every range checked).
#include "core/server/server_request.h"
#include "core/server/server_structured.h"

#include <math.h>
#include <string.h>
#include <algorithm>
#include <string_view>
#include "core/server/json_thread_parser.h"

using simdjson::dom::element;
using simdjson::dom::element_type;

namespace {

// By value: iterating a temporary simdjson_result's inner reference would dangle.
simdjson::dom::array arr_of(element v) {
    simdjson::dom::array a;
    if (v.get(a)) return simdjson::dom::array();
    return a;
}
simdjson::dom::object obj_of(element v) {
    simdjson::dom::object o;
    if (v.get(o)) return simdjson::dom::object();
    return o;
}

bool fail(RequestError* err, const std::string& param, const std::string& msg) {
    err->param = param;
    err->message = msg;
    return false;
}

// Parses body into *root (an object). The parser is per thread, reused across requests, and gives
// back what a large body grew at the next small one (json_thread_parser.h).
thread_local simdjson::dom::parser t_parser;

bool parse_object(const char* body, size_t len, element* root, RequestError* err) {
    json_parser_fit(&t_parser, len);
    auto res = t_parser.parse(body, len, true);
    if (res.error()) {
        if (res.error() == simdjson::UTF8_ERROR)
            return fail(err, "", "request body is not valid UTF-8");
        return fail(err, "", std::string("malformed JSON in request body: ") + simdjson::error_message(res.error()));
    }
    *root = res.value_unsafe();
    if (root->type() != element_type::OBJECT) return fail(err, "", "request body must be a JSON object");
    return true;
}

bool get_int(element v, const char* name, int64_t lo, int64_t hi, int64_t* out, RequestError* err) {
    int64_t x = 0;
    switch (v.type()) {
    case element_type::INT64: x = v.get_int64().value_unsafe(); break;
    case element_type::UINT64: {
        uint64_t u = v.get_uint64().value_unsafe();
        x = u > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)u;
        break;
    }
    case element_type::DOUBLE: {  // 5.0 is accepted as 5, as pydantic does
        double d = v.get_double().value_unsafe();
        if (!(d == floor(d)) || fabs(d) > 9e15) return fail(err, name, std::string("'") + name + "' must be an integer");
        x = (int64_t)d;
        break;
    }
    default: return fail(err, name, std::string("'") + name + "' must be an integer");
    }
    if (x < lo || x > hi)
        return fail(err, name, std::string("'") + name + "' must be between " + std::to_string(lo) + " and " +
                                   std::to_string(hi) + ", got " + std::to_string(x));
    *out = x;
    return true;
}

bool get_int32(element v, const char* name, int64_t lo, int64_t hi, int* out, RequestError* err) {
    int64_t x;
    if (!get_int(v, name, lo, hi, &x, err)) return false;
    *out = (int)x;
    return true;
}

// A finite number within [lo, hi]; lo_open excludes lo itself.
bool get_num(element v, const char* name, double lo, double hi, bool lo_open, double* out, RequestError* err) {
    double d;
    switch (v.type()) {
    case element_type::INT64: d = (double)v.get_int64().value_unsafe(); break;
    case element_type::UINT64: d = (double)v.get_uint64().value_unsafe(); break;
    case element_type::DOUBLE: d = v.get_double().value_unsafe(); break;
    default: return fail(err, name, std::string("'") + name + "' must be a number");
    }
    if (!isfinite(d) || d < lo || d > hi || (lo_open && d == lo)) {
        char buf[160];
        snprintf(buf, sizeof buf, "'%s' must be in %s%g, %g], got %g", name, lo_open ? "(" : "[", lo, hi, d);
        return fail(err, name, buf);
    }
    *out = d;
    return true;
}

bool get_bool(element v, const char* name, bool* out, RequestError* err) {
    if (v.type() != element_type::BOOL) return fail(err, name, std::string("'") + name + "' must be a boolean");
    *out = v.get_bool().value_unsafe();
    return true;
}

bool get_str(element v, const char* name, std::string* out, RequestError* err) {
    if (v.type() != element_type::STRING) return fail(err, name, std::string("'") + name + "' must be a string");
    std::string_view s = v.get_string().value_unsafe();
    out->assign(s.data(), s.size());
    return true;
}

bool get_raw(element v, const char* name, element_type want, std::string* out, RequestError* err) {
    if (v.type() != want)
        return fail(err, name, std::string("'") + name + "' must be " + (want == element_type::ARRAY ? "an array" : "an object"));
    *out = simdjson::minify(v);
    return true;
}

// A token-id array: non-negative int32s.
bool get_ids(element v, const char* name, std::vector<int32_t>* out, RequestError* err) {
    if (v.type() != element_type::ARRAY) return fail(err, name, std::string("'") + name + "' must be an array of token ids");
    for (element x : arr_of(v)) {
        int id;
        if (!get_int32(x, name, 0, INT32_MAX, &id, err)) return false;
        out->push_back(id);
    }
    return true;
}

// logit_bias: {"token id": bias, ...} as OpenAI and vLLM take it; biases are clamped to
// [-100, 100] as vLLM clamps them, a repeated key keeps its last value (Python's dict), and the ids
// are checked against the vocabulary later (SamplingParams::validate).
bool get_logit_bias(element v, std::vector<std::pair<int32_t, float>>* out, RequestError* err) {
    if (v.type() != element_type::OBJECT)
        return fail(err, "logit_bias", "'logit_bias' must be an object mapping token ids to numbers");
    out->clear();
    for (auto field : obj_of(v)) {
        std::string_view key = field.key;
        const char* s = key.data();
        size_t n = key.size(), i = 0;
        if (n > 0 && (s[0] == '-' || s[0] == '+')) i = 1;
        int64_t id = 0;
        bool digits = i < n;
        for (; i < n && digits; i++) {
            if (s[i] < '0' || s[i] > '9' || id > INT32_MAX) digits = false;
            else id = id * 10 + (s[i] - '0');
        }
        if (!digits || id > INT32_MAX)
            return fail(err, "logit_bias", "'logit_bias' keys must be token ids, got '" + std::string(key) + "'");
        if (s[0] == '-') id = -id;
        double bias;
        if (!get_num(field.value, "logit_bias", -1e300, 1e300, false, &bias, err)) return false;
        bias = std::min(100.0, std::max(-100.0, bias));
        // out-of-vocabulary and negative ids are refused by SamplingParams::validate
        out->emplace_back((int32_t)id, (float)bias);
    }
    // one entry per id, the last one given: a stable sort keeps the order of equal ids
    std::stable_sort(out->begin(), out->end(), [](const std::pair<int32_t, float>& a, const std::pair<int32_t, float>& b) {
        return a.first < b.first;
    });
    size_t w = 0;
    for (size_t k = 0; k < out->size(); k++) {
        if (k + 1 < out->size() && (*out)[k + 1].first == (*out)[k].first) continue;
        (*out)[w++] = (*out)[k];
    }
    out->resize(w);
    return true;
}

// The shared sampling fields. Returns 1 when key was one of them (and valid), 0 when not one of
// them, -1 on a refusal.
int gen_field(std::string_view key, element v, bool chat, GenerationFields* g, RequestError* err) {
    bool ok = true;
    if (v.type() == element_type::NULL_VALUE) return 1;  // null = unset, like the OpenAI SDKs send
    if (key == "model") ok = get_str(v, "model", &g->model, err);
    else if (key == "max_tokens" || key == "max_completion_tokens")
        ok = get_int32(v, key == "max_tokens" ? "max_tokens" : "max_completion_tokens", 1, INT32_MAX, &g->max_tokens, err);
    else if (key == "temperature") ok = g->has_temperature = get_num(v, "temperature", 0, 1e6, false, &g->temperature, err);
    else if (key == "top_p") ok = g->has_top_p = get_num(v, "top_p", 0, 1, true, &g->top_p, err);
    else if (key == "top_k") ok = g->has_top_k = get_int32(v, "top_k", -1, INT32_MAX, &g->top_k, err);
    else if (key == "min_p") ok = g->has_min_p = get_num(v, "min_p", 0, 1, false, &g->min_p, err);
    else if (key == "n") ok = get_int32(v, "n", 1, kMaxN, &g->n, err);
    else if (key == "stop") {
        g->stop.clear();
        if (v.type() == element_type::STRING) {
            std::string s;
            get_str(v, "stop", &s, err);
            if (!s.empty()) g->stop.push_back(s);
        } else if (v.type() == element_type::ARRAY) {
            for (element x : arr_of(v)) {
                std::string s;
                if (!get_str(x, "stop", &s, err)) return -1;
                if (s.empty()) return fail(err, "stop", "'stop' strings must not be empty"), -1;
                g->stop.push_back(s);
            }
            if (g->stop.size() > kMaxStopStrings) return fail(err, "stop", "too many 'stop' strings"), -1;
        } else {
            ok = fail(err, "stop", "'stop' must be a string or an array of strings");
        }
    } else if (key == "logit_bias") {
        ok = get_logit_bias(v, &g->logit_bias, err);
    } else if (key == "allowed_token_ids") {
        g->allowed_token_ids.clear();
        ok = get_ids(v, "allowed_token_ids", &g->allowed_token_ids, err);
        if (ok && g->allowed_token_ids.empty())
            ok = fail(err, "allowed_token_ids", "'allowed_token_ids' must not be empty");
    } else if (key == "truncate_prompt_tokens") {
        ok = get_int32(v, "truncate_prompt_tokens", -1, INT32_MAX, &g->truncate_prompt_tokens, err);
        if (ok && g->truncate_prompt_tokens == 0)
            ok = fail(err, "truncate_prompt_tokens", "'truncate_prompt_tokens' must be -1 (the context length) or at least 1");
    } else if (key == "bad_words" || key == "prompt_logprobs" || key == "return_tokens_as_token_ids" ||
               key == "use_beam_search" || key == "best_of") {
        // vLLM options edgellm does not implement: their neutral values pass, others are refused
        bool neutral = (v.type() == element_type::ARRAY && key == "bad_words" && arr_of(v).size() == 0) ||
                       (v.type() == element_type::BOOL && !v.get_bool().value_unsafe() &&
                        (key == "return_tokens_as_token_ids" || key == "use_beam_search")) ||
                       (key == "best_of" && v.is_int64() && v.get_int64().value_unsafe() == 1);
        if (!neutral) ok = fail(err, std::string(key), "'" + std::string(key) + "' is not supported by edgellm");
    } else if (structured_output_key(key)) {
        ok = parse_structured_output(key, v, &g->structured, err);
    } else if (key == "stop_token_ids") { g->stop_token_ids.clear(); ok = get_ids(v, "stop_token_ids", &g->stop_token_ids, err); }
    else if (key == "include_stop_str_in_output") ok = get_bool(v, "include_stop_str_in_output", &g->include_stop_str_in_output, err);
    else if (key == "seed") { ok = get_int(v, "seed", INT64_MIN, INT64_MAX, &g->seed, err); g->has_seed = ok; }
    else if (key == "presence_penalty") ok = get_num(v, "presence_penalty", -2, 2, false, &g->presence_penalty, err);
    else if (key == "frequency_penalty") ok = get_num(v, "frequency_penalty", -2, 2, false, &g->frequency_penalty, err);
    else if (key == "repetition_penalty")
        ok = g->has_repetition_penalty = get_num(v, "repetition_penalty", 0, 1e6, true, &g->repetition_penalty, err);
    else if (key == "ignore_eos") ok = get_bool(v, "ignore_eos", &g->ignore_eos, err);
    else if (key == "min_tokens") ok = get_int32(v, "min_tokens", 0, INT32_MAX, &g->min_tokens, err);
    else if (key == "skip_special_tokens") ok = get_bool(v, "skip_special_tokens", &g->skip_special_tokens, err);
    else if (key == "stream") ok = get_bool(v, "stream", &g->stream, err);
    else if (key == "stream_options") {
        if (v.type() != element_type::OBJECT) return fail(err, "stream_options", "'stream_options' must be an object"), -1;
        element u;
        if (!v["include_usage"].get(u) && u.type() != element_type::NULL_VALUE)
            ok = get_bool(u, "stream_options.include_usage", &g->include_usage, err);
    } else if (key == "user") {
        std::string ignored;
        ok = get_str(v, "user", &ignored, err);
    }
    else if (!chat && key == "logprobs") ok = get_int32(v, "logprobs", 0, kMaxLogprobs, &g->logprobs, err);
    else return 0;
    return ok ? 1 : -1;
}

// Checks shared by both endpoints once every field is read.
bool check_gen(const GenerationFields& g, bool stream_options_given, RequestError* err) {
    if (g.max_tokens > 0 && g.min_tokens > g.max_tokens)
        return fail(err, "min_tokens", "'min_tokens' must be less than or equal to 'max_tokens'");
    if (stream_options_given && !g.stream)
        return fail(err, "stream_options", "'stream_options' can only be given when 'stream' is true");
    return true;
}

bool has_key(element root, const char* key) {
    element v;
    return !root[key].get(v) && v.type() != element_type::NULL_VALUE;
}

bool parse_message(element m, size_t i, ChatMessage* msg, RequestError* err) {
    std::string where = "messages[" + std::to_string(i) + "]";
    if (m.type() != element_type::OBJECT) return fail(err, "messages", where + " must be an object");
    element v;
    if (m["role"].get(v)) return fail(err, "messages", where + " has no 'role'");
    if (!get_str(v, "role", &msg->role, err)) return fail(err, "messages", where + ".role must be a string");
    static const char* roles[] = {"system", "developer", "user", "assistant", "tool"};
    bool known = false;
    for (const char* r : roles) known |= msg->role == r;
    if (!known) return fail(err, "messages", where + " has unknown role '" + msg->role +
                                                 "' (expected system, developer, user, assistant or tool)");
    msg->content_null = true;
    if (!m["content"].get(v) && v.type() != element_type::NULL_VALUE) {
        msg->content_null = false;
        if (v.type() == element_type::STRING) {
            get_str(v, "content", &msg->content, err);
        } else if (v.type() == element_type::ARRAY) {
            bool first = true;
            for (element part : arr_of(v)) {
                element t, text;
                std::string type, s;
                if (part.type() != element_type::OBJECT || part["type"].get(t) || !get_str(t, "type", &type, err))
                    return fail(err, "messages", where + ".content parts must be objects with a 'type'");
                if (type != "text") return fail(err, "messages", where + ".content part type '" + type + "' is not supported (text only)");
                if (part["text"].get(text) || !get_str(text, "text", &s, err))
                    return fail(err, "messages", where + ".content text part needs a string 'text'");
                if (!first) msg->content += "\n";
                msg->content += s;
                first = false;
            }
        } else {
            return fail(err, "messages", where + ".content must be a string, an array of parts or null");
        }
    }
    if (msg->content_null && msg->role != "assistant")
        return fail(err, "messages", where + " (" + msg->role + ") needs 'content'");
    if (!m["name"].get(v) && v.type() != element_type::NULL_VALUE && !get_str(v, "name", &msg->name, err))
        return fail(err, "messages", where + ".name must be a string");
    if (!m["tool_call_id"].get(v) && v.type() != element_type::NULL_VALUE && !get_str(v, "tool_call_id", &msg->tool_call_id, err))
        return fail(err, "messages", where + ".tool_call_id must be a string");
    if (!m["tool_calls"].get(v) && v.type() != element_type::NULL_VALUE &&
        !get_raw(v, "tool_calls", element_type::ARRAY, &msg->tool_calls_json, err))
        return fail(err, "messages", where + ".tool_calls must be an array");
    if (!m["reasoning_content"].get(v) && v.type() != element_type::NULL_VALUE) {
        if (!get_str(v, "reasoning_content", &msg->reasoning_content, err))
            return fail(err, "messages", where + ".reasoning_content must be a string");
        msg->has_reasoning_content = true;
    }
    return true;
}

// messages, tools, add_generation_prompt, continue_final_message, chat_template_kwargs.
int chat_field(std::string_view key, element v, ChatRequest* c, RequestError* err) {
    if (key == "chat_template" && v.type() != element_type::NULL_VALUE)   // vLLM refuses it by default too
        return fail(err, "chat_template", "a chat template in the request is not accepted; start the server with "
                                          "--chat-template FILE"), -1;
    if (key == "messages") {
        if (v.type() != element_type::ARRAY) return fail(err, "messages", "'messages' must be an array"), -1;
        c->messages.clear();
        size_t i = 0;
        for (element m : arr_of(v)) {
            ChatMessage msg;
            if (!parse_message(m, i++, &msg, err)) return -1;
            c->messages.push_back(std::move(msg));
        }
        if (c->messages.empty()) return fail(err, "messages", "'messages' must not be empty"), -1;
        return 1;
    }
    if (v.type() == element_type::NULL_VALUE) return key == "tools" || key == "tool_choice" || key == "add_generation_prompt" ||
                                                     key == "continue_final_message" || key == "chat_template_kwargs";
    if (key == "tools") return get_raw(v, "tools", element_type::ARRAY, &c->tools_json, err) ? 1 : -1;
    if (key == "tool_choice") {
        // "none"/"auto" leave the text as it is; "required" and a named function are served with a
        // grammar over the tools (server_grammar.cpp)
        std::string_view s;
        element fn;
        if (v.type() == element_type::STRING && !v.get(s) && (s == "none" || s == "auto" || s == "required")) {
            c->tool_choice = std::string(s);
            return 1;
        }
        if (v.type() == element_type::OBJECT && !v["function"].get(fn) && !fn["name"].get(s)) {
            c->tool_choice = "function";
            c->tool_choice_function = std::string(s);
            return 1;
        }
        return fail(err, "tool_choice", "'tool_choice' must be 'none', 'auto', 'required' or a named function "
                                        "{\"type\": \"function\", \"function\": {\"name\": ...}}"), -1;
    }
    if (key == "add_generation_prompt") return get_bool(v, "add_generation_prompt", &c->add_generation_prompt, err) ? 1 : -1;
    if (key == "continue_final_message") return get_bool(v, "continue_final_message", &c->continue_final_message, err) ? 1 : -1;
    if (key == "chat_template_kwargs") {
        if (!get_raw(v, "chat_template_kwargs", element_type::OBJECT, &c->chat_template_kwargs_json, err)) return -1;
        bool thinking = true;
        element t;
        if (!v["enable_thinking"].get(t) && t.type() == element_type::BOOL) thinking = t.get_bool().value_unsafe();
        c->enable_thinking = thinking;
        return 1;
    }
    return 0;
}

}  // namespace

size_t request_parser_capacity() { return t_parser.capacity(); }

bool parse_completion_request(const char* body, size_t len, CompletionRequest* out, RequestError* err) {
    element root;
    if (!parse_object(body, len, &root, err)) return false;
    bool have_prompt = false;
    for (auto field : obj_of(root)) {
        std::string_view key = field.key;
        element v = field.value;
        int r = gen_field(key, v, false, &out->gen, err);
        if (r < 0) return false;
        if (r > 0) continue;
        if (key == "prompt") {
            out->prompt_texts.clear();
            out->prompt_ids.clear();
            have_prompt = true;
            if (v.type() == element_type::STRING) {
                out->prompt_texts.emplace_back();
                get_str(v, "prompt", &out->prompt_texts.back(), err);
            } else if (v.type() == element_type::ARRAY) {
                simdjson::dom::array arr = arr_of(v);
                if (arr.size() == 0) return fail(err, "prompt", "'prompt' must not be empty");
                element_type first = (*arr.begin()).type();
                if (first == element_type::STRING) {
                    for (element x : arr) {
                        out->prompt_texts.emplace_back();
                        if (!get_str(x, "prompt", &out->prompt_texts.back(), err))
                            return fail(err, "prompt", "'prompt' must not mix strings with other types");
                    }
                } else if (first == element_type::ARRAY) {
                    for (element x : arr) {
                        out->prompt_ids.emplace_back();
                        if (!get_ids(x, "prompt", &out->prompt_ids.back(), err)) return false;
                        if (out->prompt_ids.back().empty()) return fail(err, "prompt", "'prompt' token lists must not be empty");
                    }
                } else {
                    out->prompt_ids.emplace_back();
                    if (!get_ids(v, "prompt", &out->prompt_ids.back(), err)) return false;
                }
            } else {
                return fail(err, "prompt", "'prompt' must be a string, an array of strings, an array of token ids "
                                           "or an array of token-id arrays");
            }
        } else if (key == "echo") {
            if (v.type() != element_type::NULL_VALUE && !get_bool(v, "echo", &out->echo, err)) return false;
        } else if (key == "suffix") {
            if (v.type() != element_type::NULL_VALUE && !get_str(v, "suffix", &out->suffix, err)) return false;
            if (!out->suffix.empty()) return fail(err, "suffix", "'suffix' is not supported");
        }
    }
    if (!have_prompt) return fail(err, "prompt", "'prompt' is required");
    if (out->prompt_texts.size() + out->prompt_ids.size() > (size_t)kMaxN)
        return fail(err, "prompt", "too many prompts in one request (at most " + std::to_string(kMaxN) + ")");
    if ((out->prompt_texts.size() + out->prompt_ids.size()) * (size_t)out->gen.n > (size_t)kMaxN)
        return fail(err, "n", "prompts × n must be at most " + std::to_string(kMaxN));
    if (out->echo && out->gen.logprobs >= 0)
        return fail(err, "echo", "'echo' together with 'logprobs' (prompt logprobs) is not supported");
    return check_gen(out->gen, has_key(root, "stream_options"), err);
}

bool parse_chat_request(const char* body, size_t len, ChatRequest* out, RequestError* err) {
    element root;
    if (!parse_object(body, len, &root, err)) return false;
    bool logprobs = false, have_top = false;
    int top_logprobs = 0;
    bool have_messages = false;
    for (auto field : obj_of(root)) {
        std::string_view key = field.key;
        element v = field.value;
        int r = gen_field(key, v, true, &out->gen, err);
        if (r < 0) return false;
        if (r > 0) continue;
        r = chat_field(key, v, out, err);
        if (r < 0) return false;
        if (r > 0) { have_messages |= key == "messages"; continue; }
        if (v.type() == element_type::NULL_VALUE) continue;
        if (key == "logprobs") {
            if (!get_bool(v, "logprobs", &logprobs, err)) return false;
        } else if (key == "top_logprobs") {
            if (!get_int32(v, "top_logprobs", 0, kMaxLogprobs, &top_logprobs, err)) return false;
            have_top = true;
        }
    }
    if (!have_messages) return fail(err, "messages", "'messages' is required");
    if (have_top && top_logprobs > 0 && !logprobs)
        return fail(err, "top_logprobs", "'top_logprobs' needs 'logprobs' set to true");
    out->gen.logprobs = logprobs ? top_logprobs : -1;
    if (out->continue_final_message && out->add_generation_prompt && has_key(root, "add_generation_prompt"))
        return fail(err, "continue_final_message",
                    "'continue_final_message' and 'add_generation_prompt' cannot both be true");
    if (out->continue_final_message) out->add_generation_prompt = false;
    bool forced = out->tool_choice == "required" || out->tool_choice == "function";
    if ((out->tool_choice == "auto" && out->tools_json.empty()) || (forced && (out->tools_json.empty() || out->tools_json == "[]")))
        return fail(err, "tool_choice", "When using `tool_choice`, `tools` must be set.");
    if (out->tool_choice.empty() && !out->tools_json.empty() && out->tools_json != "[]") out->tool_choice = "auto";
    return check_gen(out->gen, has_key(root, "stream_options"), err);
}

bool parse_tokenize_request(const char* body, size_t len, TokenizeRequest* out, RequestError* err) {
    element root;
    if (!parse_object(body, len, &root, err)) return false;
    bool have_prompt = false;
    for (auto field : obj_of(root)) {
        std::string_view key = field.key;
        element v = field.value;
        if (v.type() == element_type::NULL_VALUE && key != "messages") continue;
        if (key == "model") { if (!get_str(v, "model", &out->model, err)) return false; }
        else if (key == "prompt") { if (!get_str(v, "prompt", &out->prompt, err)) return false; have_prompt = true; }
        else if (key == "add_special_tokens") { if (!get_bool(v, "add_special_tokens", &out->add_special_tokens, err)) return false; }
        else {
            int r = chat_field(key, v, &out->chat, err);
            if (r < 0) return false;
            if (key == "messages") out->is_chat = true;
        }
    }
    if (have_prompt == out->is_chat) return fail(err, "prompt", "give exactly one of 'prompt' and 'messages'");
    if (out->is_chat && !has_key(root, "add_special_tokens")) out->add_special_tokens = false;
    return true;
}

bool parse_detokenize_request(const char* body, size_t len, DetokenizeRequest* out, RequestError* err) {
    element root;
    if (!parse_object(body, len, &root, err)) return false;
    bool have = false;
    for (auto field : obj_of(root)) {
        std::string_view key = field.key;
        element v = field.value;
        if (key == "model" && v.type() != element_type::NULL_VALUE) { if (!get_str(v, "model", &out->model, err)) return false; }
        else if (key == "tokens") { if (!get_ids(v, "tokens", &out->tokens, err)) return false; have = true; }
    }
    if (!have) return fail(err, "tokens", "'tokens' is required");
    return true;
}
