// server_openai.cpp — OpenAI response and stream-chunk JSON (see server_openai.h).
#include "core/server/server_openai.h"
#include "core/server/server_json.h"

std::string usage_json(int prompt_tokens, int completion_tokens, int reasoning_tokens) {
    std::string o = "{\"prompt_tokens\":" + std::to_string(prompt_tokens) + ",\"total_tokens\":" +
                    std::to_string(prompt_tokens + completion_tokens) + ",\"completion_tokens\":" +
                    std::to_string(completion_tokens);
    if (reasoning_tokens >= 0)
        o += ",\"completion_tokens_details\":{\"reasoning_tokens\":" + std::to_string(reasoning_tokens) + "}";
    return o + "}";
}

std::string completion_logprobs_json(const std::vector<TokenLogprobOut>& lps, size_t offset0) {
    std::string tokens, lp, top, off;
    size_t offset = offset0;
    for (size_t i = 0; i < lps.size(); i++) {
        const TokenLogprobOut& t = lps[i];
        if (i) { tokens += ','; lp += ','; top += ','; off += ','; }
        json_append_str(&tokens, t.token);
        json_append_num(&lp, t.logprob);
        off += std::to_string(offset);
        offset += t.token.size();
        top += '{';
        json_append_str(&top, t.token);
        top += ':';
        json_append_num(&top, t.logprob);
        for (const auto& alt : t.top) {
            if (alt.first == t.token) continue;
            top += ',';
            json_append_str(&top, alt.first);
            top += ':';
            json_append_num(&top, alt.second);
        }
        top += '}';
    }
    return "{\"tokens\":[" + tokens + "],\"token_logprobs\":[" + lp + "],\"top_logprobs\":[" + top +
           "],\"text_offset\":[" + off + "]}";
}

static void append_bytes(std::string* o, const std::string& s) {
    *o += "[";
    for (size_t i = 0; i < s.size(); i++) {
        if (i) *o += ',';
        *o += std::to_string((unsigned)(unsigned char)s[i]);
    }
    *o += "]";
}

std::string chat_logprobs_json(const std::vector<TokenLogprobOut>& lps) {
    std::string o = "{\"content\":[";
    for (size_t i = 0; i < lps.size(); i++) {
        const TokenLogprobOut& t = lps[i];
        if (i) o += ',';
        o += "{\"token\":";
        json_append_str(&o, t.token);
        o += ",\"logprob\":";
        json_append_num(&o, t.logprob);
        o += ",\"bytes\":";
        append_bytes(&o, t.token);
        o += ",\"top_logprobs\":[";
        for (size_t k = 0; k < t.top.size(); k++) {
            if (k) o += ',';
            o += "{\"token\":";
            json_append_str(&o, t.top[k].first);
            o += ",\"logprob\":";
            json_append_num(&o, t.top[k].second);
            o += ",\"bytes\":";
            append_bytes(&o, t.top[k].first);
            o += '}';
        }
        o += "]}";
    }
    return o + "],\"refusal\":null}";
}

static std::string head_json(const ResponseHead& h, const char* object) {
    std::string o = "{\"id\":";
    json_append_str(&o, h.id);
    o += ",\"object\":\"";
    o += object;
    o += "\",\"created\":" + std::to_string(h.created) + ",\"model\":";
    json_append_str(&o, h.model);
    return o;
}

static std::string finish_json(const std::string& reason) {
    return reason.empty() ? "null" : json_str(reason);
}

static void append_tool_calls(std::string* o, const std::vector<ToolCall>& calls) {
    *o += '[';
    for (size_t k = 0; k < calls.size(); k++) {
        if (k) *o += ',';
        *o += "{\"id\":";
        json_append_str(o, calls[k].id);
        *o += ",\"type\":\"function\",\"function\":{\"name\":";
        json_append_str(o, calls[k].name);
        *o += ",\"arguments\":";
        json_append_str(o, calls[k].arguments);
        *o += "}}";
    }
    *o += ']';
}

std::string response_json(const ResponseHead& h, const std::vector<ChoiceResult>& choices, bool want_logprobs,
                          int prompt_tokens, int completion_tokens, int reasoning_tokens) {
    std::string o = head_json(h, h.chat ? "chat.completion" : "text_completion") + ",\"choices\":[";
    for (size_t i = 0; i < choices.size(); i++) {
        const ChoiceResult& c = choices[i];
        if (i) o += ',';
        o += "{\"index\":" + std::to_string(i);
        if (h.chat) {
            o += ",\"message\":{\"role\":\"assistant\",\"content\":";
            if (c.parsed && c.text.empty()) o += "null";
            else json_append_str(&o, c.text);
            if (c.has_reasoning_field) {
                o += ",\"reasoning_content\":";
                if (c.reasoning.empty()) o += "null";
                else json_append_str(&o, c.reasoning);
            }
            o += ",\"tool_calls\":";
            append_tool_calls(&o, c.tool_calls);
            o += '}';
            o += ",\"logprobs\":" + (want_logprobs ? chat_logprobs_json(c.logprobs) : std::string("null"));
        } else {
            o += ",\"text\":";
            json_append_str(&o, c.text);
            o += ",\"logprobs\":" + (want_logprobs ? completion_logprobs_json(c.logprobs, 0) : std::string("null"));
        }
        o += ",\"finish_reason\":" + finish_json(c.finish_reason) + ",\"stop_reason\":" + c.stop_reason_json + "}";
    }
    o += "],\"usage\":" + usage_json(prompt_tokens, completion_tokens, reasoning_tokens) + "}";
    return o;
}

std::string chunk_json(const ResponseHead& h, int index, const std::string& text, const std::vector<TokenLogprobOut>* lps,
                       size_t text_offset, const std::string& finish_reason, bool role_delta,
                       const std::string& stop_reason_json) {
    std::string o = head_json(h, h.chat ? "chat.completion.chunk" : "text_completion") + ",\"choices\":[{\"index\":" +
                    std::to_string(index);
    if (h.chat) {
        if (role_delta) {
            o += ",\"delta\":{\"role\":\"assistant\",\"content\":\"\"}";
        } else if (text.empty() && !finish_reason.empty()) {
            o += ",\"delta\":{}";
        } else {
            o += ",\"delta\":{\"content\":";
            json_append_str(&o, text);
            o += "}";
        }
        o += ",\"logprobs\":" + (lps ? chat_logprobs_json(*lps) : std::string("null"));
    } else {
        o += ",\"text\":";
        json_append_str(&o, text);
        o += ",\"logprobs\":" + (lps ? completion_logprobs_json(*lps, text_offset) : std::string("null"));
    }
    o += ",\"finish_reason\":" + finish_json(finish_reason);
    if (!finish_reason.empty()) o += ",\"stop_reason\":" + stop_reason_json;
    o += "}]}";
    return o;
}

std::string usage_chunk_json(const ResponseHead& h, int prompt_tokens, int completion_tokens, int reasoning_tokens) {
    return head_json(h, h.chat ? "chat.completion.chunk" : "text_completion") + ",\"choices\":[],\"usage\":" +
           usage_json(prompt_tokens, completion_tokens, reasoning_tokens) + "}";
}

std::string chat_chunk_json(const ResponseHead& h, int index, const std::string& delta_json,
                            const std::vector<TokenLogprobOut>* lps, const std::string& finish_reason,
                            const std::string& stop_reason_json) {
    std::string o = head_json(h, "chat.completion.chunk") + ",\"choices\":[{\"index\":" + std::to_string(index) +
                    ",\"delta\":" + delta_json + ",\"logprobs\":" + (lps ? chat_logprobs_json(*lps) : std::string("null")) +
                    ",\"finish_reason\":" + finish_json(finish_reason);
    if (!finish_reason.empty()) o += ",\"stop_reason\":" + stop_reason_json;
    return o + "}]}";
}

std::string delta_text_json(const char* field, const std::string& text) {
    std::string o = "{\"";
    o += field;
    o += "\":";
    json_append_str(&o, text);
    return o + "}";
}

std::string delta_call_head_json(int index, const ToolCall& call) {
    std::string o = "{\"tool_calls\":[{\"index\":" + std::to_string(index) + ",\"id\":";
    json_append_str(&o, call.id);
    o += ",\"type\":\"function\",\"function\":{\"name\":";
    json_append_str(&o, call.name);
    return o + ",\"arguments\":\"\"}}]}";
}

std::string delta_call_args_json(int index, const std::string& arguments) {
    std::string o = "{\"tool_calls\":[{\"index\":" + std::to_string(index) + ",\"function\":{\"arguments\":";
    json_append_str(&o, arguments);
    return o + "}}]}";
}

std::vector<std::string> chat_delta_jsons(const ChatDelta& d) {
    std::vector<std::string> out;
    if (!d.reasoning.empty()) out.push_back(delta_text_json("reasoning_content", d.reasoning));
    if (!d.content.empty()) out.push_back(delta_text_json("content", d.content));
    for (size_t k = 0; k < d.calls.size(); k++) {
        out.push_back(delta_call_head_json(d.first_call_index + (int)k, d.calls[k]));
        out.push_back(delta_call_args_json(d.first_call_index + (int)k, d.calls[k].arguments));
    }
    return out;
}
