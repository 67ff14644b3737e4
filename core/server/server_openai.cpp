// server_openai.cpp — OpenAI response and stream-chunk JSON (see server_openai.h).
#include "core/server/server_openai.h"
#include "core/server/server_json.h"

std::string usage_json(int prompt_tokens, int completion_tokens) {
    return "{\"prompt_tokens\":" + std::to_string(prompt_tokens) + ",\"total_tokens\":" +
           std::to_string(prompt_tokens + completion_tokens) + ",\"completion_tokens\":" +
           std::to_string(completion_tokens) + "}";
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

std::string response_json(const ResponseHead& h, const std::vector<ChoiceResult>& choices, bool want_logprobs,
                          int prompt_tokens, int completion_tokens) {
    std::string o = head_json(h, h.chat ? "chat.completion" : "text_completion") + ",\"choices\":[";
    for (size_t i = 0; i < choices.size(); i++) {
        const ChoiceResult& c = choices[i];
        if (i) o += ',';
        o += "{\"index\":" + std::to_string(i);
        if (h.chat) {
            o += ",\"message\":{\"role\":\"assistant\",\"content\":";
            json_append_str(&o, c.text);
            o += ",\"tool_calls\":[]}";
            o += ",\"logprobs\":" + (want_logprobs ? chat_logprobs_json(c.logprobs) : std::string("null"));
        } else {
            o += ",\"text\":";
            json_append_str(&o, c.text);
            o += ",\"logprobs\":" + (want_logprobs ? completion_logprobs_json(c.logprobs, 0) : std::string("null"));
        }
        o += ",\"finish_reason\":" + finish_json(c.finish_reason) + ",\"stop_reason\":" + c.stop_reason_json + "}";
    }
    o += "],\"usage\":" + usage_json(prompt_tokens, completion_tokens) + "}";
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

std::string usage_chunk_json(const ResponseHead& h, int prompt_tokens, int completion_tokens) {
    return head_json(h, h.chat ? "chat.completion.chunk" : "text_completion") + ",\"choices\":[],\"usage\":" +
           usage_json(prompt_tokens, completion_tokens) + "}";
}
