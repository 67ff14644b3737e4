// server_routes.cpp — the routes that do not generate: GET /v1/models, GET /metrics,
// POST /tokenize and /detokenize (vLLM's shapes), and the chat-template rendering the chat and
// tokenize routes share.
#include <cmath>
#include "core/text/chat_template.h"
#include "core/server/server_impl.h"
#include "core/server/server_json.h"
#include "core/text/tokenizer.h"

void ServerImpl::route_models(const httplib::Request& req, httplib::Response& res) {
    if (!guard(req, res)) return;
    std::string o = "{\"object\":\"list\",\"data\":[{\"id\":";
    json_append_str(&o, cfg.served_model_name);
    o += ",\"object\":\"model\",\"created\":" + std::to_string(created_unix) + ",\"owned_by\":\"edgellm\",\"root\":";
    json_append_str(&o, model.root);
    o += ",\"parent\":null,\"max_model_len\":" + std::to_string(cfg.max_model_len) + "}]}";
    res.set_content(o, "application/json");
}

void ServerImpl::route_metrics(const httplib::Request&, httplib::Response& res) {
    EngineStats st = engine->stats();
    EngineGauges g;
    g.n_running = st.n_running;
    g.n_waiting = st.n_waiting;
    g.kv_usage = st.kv_usage;
    g.n_kv_blocks = st.n_kv_blocks;
    g.n_kv_blocks_free = (int)std::lround((1.0 - st.kv_usage) * st.n_kv_blocks);
    g.n_preemptions = st.n_preemptions;
    g.n_prompt_tokens = st.n_prompt_tokens;
    g.n_generation_tokens = st.n_generation_tokens;
    g.n_prefix_queries = st.n_prefix_queries;
    g.n_prefix_hits = st.n_prefix_hits;
    res.set_content(metrics.render(cfg.served_model_name, g), "text/plain; version=0.0.4; charset=utf-8");
}

static Value json_value(const std::string& json) {
    Value v;
    std::string err;
    if (json.empty() || !value_from_json(json, &v, &err)) return Value::none();
    return v;
}

bool ServerImpl::render_chat(const ChatRequest& chat, std::string* prompt, std::string* err) const {
    if (!model.chat_template) {
        *err = "this model has no chat template (tokenizer_config.json has no chat_template); use /v1/completions";
        return false;
    }
    Value messages = Value::new_list();
    for (const ChatMessage& m : chat.messages) {
        Value d = Value::new_dict();
        d.set("role", Value::str(m.role));
        d.set("content", Value::str(m.content));  // null content renders as "" (vLLM does the same)
        if (!m.name.empty()) d.set("name", Value::str(m.name));
        if (!m.tool_call_id.empty()) d.set("tool_call_id", Value::str(m.tool_call_id));
        if (!m.tool_calls_json.empty()) d.set("tool_calls", json_value(m.tool_calls_json));
        if (m.has_reasoning_content) d.set("reasoning_content", Value::str(m.reasoning_content));
        messages.push(d);
    }
    Value tools = chat.tools_json.empty() ? Value::none() : json_value(chat.tools_json);
    Value kwargs = chat.chat_template_kwargs_json.empty() ? Value::undefined() : json_value(chat.chat_template_kwargs_json);
    Value ctx = chat_template_context(messages, tools, chat.add_generation_prompt, model.bos_token, model.eos_token, kwargs);
    std::string out, terr;
    if (!model.chat_template->render(ctx, &out, &terr)) {
        *err = "chat template error: " + terr;
        return false;
    }
    if (chat.continue_final_message) {  // cut after the final message's content, like vLLM
        const std::string& last = chat.messages.back().content;
        size_t p = last.empty() ? std::string::npos : out.rfind(last);
        if (p != std::string::npos) out.resize(p + last.size());
    }
    *prompt = std::move(out);
    return true;
}

void ServerImpl::route_tokenize(const httplib::Request& req, httplib::Response& res) {
    if (!guard(req, res)) return;
    TokenizeRequest tr;
    RequestError perr;
    if (!parse_tokenize_request(req.body.data(), req.body.size(), &tr, &perr))
        return reply_error(res, 400, perr.message, perr.param);
    if (!check_model(tr.model, res)) return;
    std::string text = tr.prompt, err;
    if (tr.is_chat && !render_chat(tr.chat, &text, &err)) return reply_error(res, 400, err, "messages");
    std::vector<int32_t> ids;
    if (!model.tokenizer->encode(text, tr.add_special_tokens, &ids, &err)) return reply_error(res, 400, err, "prompt");
    std::string o = "{\"count\":" + std::to_string(ids.size()) + ",\"max_model_len\":" + std::to_string(cfg.max_model_len) +
                    ",\"tokens\":[";
    for (size_t i = 0; i < ids.size(); i++) {
        if (i) o += ',';
        o += std::to_string(ids[i]);
    }
    o += "],\"token_strs\":null}";
    res.set_content(o, "application/json");
}

void ServerImpl::route_detokenize(const httplib::Request& req, httplib::Response& res) {
    if (!guard(req, res)) return;
    DetokenizeRequest dr;
    RequestError perr;
    if (!parse_detokenize_request(req.body.data(), req.body.size(), &dr, &perr))
        return reply_error(res, 400, perr.message, perr.param);
    if (!check_model(dr.model, res)) return;
    for (int32_t id : dr.tokens)
        if (id >= model.tokenizer->vocab_size())
            return reply_error(res, 400, "token id " + std::to_string(id) + " is outside the vocabulary", "tokens");
    std::string o = "{\"prompt\":";
    json_append_str(&o, model.tokenizer->decode(dr.tokens, false));
    o += "}";
    res.set_content(o, "application/json");
}
