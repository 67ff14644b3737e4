// server_completions.cpp — POST /v1/completions and POST /v1/chat/completions: parse and validate
// the body, check the model name, build the prompt token ids (tokenizer / chat template), take an
// admission place, then hand over to answer_generation.
#include <time.h>
#include <random>
#include "core/server/server_json.h"
#include "core/server/server_stream.h"
#include "core/text/tokenizer.h"

// Prompt checks the engine would otherwise make later: ids inside the model's vocabulary.
static bool check_ids(ServerImpl* s, const std::vector<int32_t>& ids, httplib::Response& res) {
    for (int32_t id : ids)
        if (id >= s->model.vocab_size) {
            s->reply_error(res, 400, "Token id " + std::to_string(id) + " is out of vocabulary (vocab size " +
                                         std::to_string(s->model.vocab_size) + ").", "prompt");
            return false;
        }
    return true;
}

// vLLM's truncate_prompt_tokens: keep the last k tokens (k = -1: max_model_len); a k beyond
// max_model_len is refused as vLLM refuses it. Sets *cut when tokens were dropped; false after
// replying 400.
static bool truncate_prompt(ServerImpl* s, int k, std::vector<int32_t>* ids, bool* cut, httplib::Response& res) {
    *cut = false;
    if (k == 0) return true;
    if (k == -1) k = s->cfg.max_model_len;
    if (k > s->cfg.max_model_len) {
        s->reply_error(res, 400, "truncate_prompt_tokens value (" + std::to_string(k) + ") is greater than max_model_len (" +
                                     std::to_string(s->cfg.max_model_len) + "). Please select a smaller truncation size.",
                       "truncate_prompt_tokens");
        return false;
    }
    if ((int)ids->size() > k) {
        ids->erase(ids->begin(), ids->end() - k);
        *cut = true;
    }
    return true;
}

void ServerImpl::route_completions(const httplib::Request& req, httplib::Response& res) {
    if (!guard(req, res)) return;
    CompletionRequest cr;
    RequestError perr;
    if (!parse_completion_request(req.body.data(), req.body.size(), &cr, &perr))
        return reply_error(res, 400, perr.message, perr.param);
    if (!check_model(cr.gen.model, res)) return;
    GenerationJob job;
    job.head.chat = false;
    job.head.id = new_id("cmpl");
    job.head.created = (int64_t)time(nullptr);
    job.head.model = cfg.served_model_name;
    std::string err;
    for (const std::string& text : cr.prompt_texts) {
        std::vector<int32_t> ids;
        if (!model.tokenizer->encode(text, true, &ids, &err)) return reply_error(res, 400, err, "prompt");
        if (ids.empty()) return reply_error(res, 400, "The prompt is empty.", "prompt");
        bool cut;
        if (!truncate_prompt(this, cr.gen.truncate_prompt_tokens, &ids, &cut, res)) return;
        job.echo.push_back(!cr.echo ? "" : cut ? model.tokenizer->decode(ids, false) : text);
        job.prompts.push_back(std::move(ids));
    }
    for (std::vector<int32_t>& ids : cr.prompt_ids) {
        if (!check_ids(this, ids, res)) return;
        bool cut;
        if (!truncate_prompt(this, cr.gen.truncate_prompt_tokens, &ids, &cut, res)) return;
        job.echo.push_back(cr.echo ? model.tokenizer->decode(ids, false) : "");
        job.prompts.push_back(std::move(ids));
    }
    job.gen = cr.gen;
    job.params = sampling_params_from(cr.gen, 16, cfg.generation_defaults);
    if (!attach_grammar(cr.gen, &job.params, res)) return;
    std::shared_ptr<AdmissionSlot> slot = admit(res);
    if (!slot) return;
    answer_generation(this, req, res, std::move(slot), std::move(job));
}

// What the chat answer is split into: tool calls when tool_choice is auto (route_chat has refused
// auto on a server not started for it) or forced (the whole answer is the calls' JSON),
// reasoning when the server has a reasoning parser and the answer is not constrained (a grammar
// leaves no room for a <think> part).
static void chat_parse_options(const ServerImpl* s, ChatRequest& cr, const std::string& prompt, ChatParseOptions* o) {
    if (cr.tool_choice == "required" || cr.tool_choice == "function") {
        o->tool_forced = true;
        o->tool_forced_name = cr.tool_choice == "function" ? cr.tool_choice_function : "";
    } else if (cr.tool_choice == "auto") {
        o->tool_parser = s->cfg.tool_call_parser;
        o->tools_json = cr.tools_json;
        // [TOOL_CALLS] is a special token: keep it in the text (vLLM does the same)
        if (o->tool_parser == "mistral") cr.gen.skip_special_tokens = false;
    }
    if (!s->cfg.reasoning_parser.empty() && cr.gen.structured.kind.empty()) {
        o->reasoning_parser = s->cfg.reasoning_parser;
        o->thinking_enabled = cr.enable_thinking;
        o->prompt_opened_think = prompt_opens_think(prompt);
    }
    std::random_device rd;
    o->id_seed = ((uint64_t)rd() << 32) ^ rd();
}

void ServerImpl::route_chat(const httplib::Request& req, httplib::Response& res) {
    if (!guard(req, res)) return;
    ChatRequest cr;
    RequestError perr;
    if (!parse_chat_request(req.body.data(), req.body.size(), &cr, &perr))
        return reply_error(res, 400, perr.message, perr.param);
    if (!check_model(cr.gen.model, res)) return;
    if (!attach_tool_choice(cr, res)) return;
    if (cr.tool_choice == "auto" && (!cfg.enable_auto_tool_choice || cfg.tool_call_parser.empty()))  // vLLM's words
        return reply_error(res, 400, "\"auto\" tool choice requires --enable-auto-tool-choice and --tool-call-parser "
                                     "to be set", "tool_choice");
    std::string prompt, err;
    if (!render_chat(cr, &prompt, &err)) return reply_error(res, 400, err, "messages");
    std::vector<int32_t> ids;
    if (!model.tokenizer->encode(prompt, false, &ids, &err)) return reply_error(res, 400, err, "messages");
    if (ids.empty()) return reply_error(res, 400, "The rendered chat prompt is empty.", "messages");
    bool cut;
    if (!truncate_prompt(this, cr.gen.truncate_prompt_tokens, &ids, &cut, res)) return;
    GenerationJob job;
    job.head.chat = true;
    job.head.id = new_id("chatcmpl");
    job.head.created = (int64_t)time(nullptr);
    job.head.model = cfg.served_model_name;
    job.prompts.push_back(std::move(ids));
    job.echo.push_back("");
    chat_parse_options(this, cr, prompt, &job.chat_parse);
    job.gen = cr.gen;
    job.params = sampling_params_from(cr.gen, -1, cfg.generation_defaults);
    if (!attach_grammar(cr.gen, &job.params, res)) return;
    std::shared_ptr<AdmissionSlot> slot = admit(res);
    if (!slot) return;
    answer_generation(this, req, res, std::move(slot), std::move(job));
}
