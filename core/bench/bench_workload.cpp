// bench_workload.cpp — see bench_workload.h.
#include "core/bench/bench_workload.h"
#include <stdio.h>
#include <random>
#include "simdjson.h"

static const char* const k_words[] = {
    "time", "year", "people", "way", "day", "man", "thing", "woman", "life", "child", "world",
    "school", "state", "family", "student", "group", "country", "problem", "hand", "part", "place",
    "case", "week", "company", "system", "program", "question", "work", "number", "night", "point",
    "home", "water", "room", "mother", "area", "money", "story", "fact", "month", "lot", "right",
    "study", "book", "eye", "job", "word", "business", "issue", "side", "kind", "head", "house",
    "service", "friend", "father", "power", "hour", "game", "line", "end", "member", "law", "car",
    "city", "name", "team", "minute", "idea", "kid", "body", "back", "parent", "face", "others",
    "level", "office", "door", "health", "person", "art", "war", "history", "party", "result",
    "change", "morning", "reason", "research", "girl", "guy", "moment", "air", "teacher", "force",
    "education", "good", "new", "first", "last", "long", "great", "little", "own", "other", "old",
};

std::vector<BenchPrompt> bench_random_prompts(int n, int input_len, int output_len, int vocab_size,
                                              bool as_text, uint64_t seed) {
    std::mt19937_64 rng(seed);
    std::uniform_int_distribution<int32_t> id(0, vocab_size - 1);
    std::uniform_int_distribution<size_t> word(0, sizeof(k_words) / sizeof(k_words[0]) - 1);
    std::vector<BenchPrompt> out((size_t)n);
    for (BenchPrompt& p : out) {
        p.max_tokens = output_len;
        for (int i = 0; i < input_len; i++) {
            if (as_text) {
                if (i) p.text += ' ';
                p.text += k_words[word(rng)];
            } else {
                p.ids.push_back(id(rng));
            }
        }
    }
    return out;
}

std::string json_quote(const std::string& s) {
    std::string o = "\"";
    for (unsigned char c : s) {
        switch (c) {
        case '"': o += "\\\""; break;
        case '\\': o += "\\\\"; break;
        case '\n': o += "\\n"; break;
        case '\r': o += "\\r"; break;
        case '\t': o += "\\t"; break;
        default:
            if (c < 0x20) {
                char b[8];
                snprintf(b, sizeof(b), "\\u%04x", c);
                o += b;
            } else {
                o += (char)c;
            }
        }
    }
    return o + "\"";
}

static void add_prompt(const std::string& p, int max_chars, std::vector<std::string>* prompts, int* n_skipped) {
    if (max_chars > 0 && (int64_t)p.size() > max_chars) { (*n_skipped)++; return; }
    prompts->push_back(p);
}

bool bench_load_dataset(const std::string& path, int max_prompt_chars, std::vector<std::string>* prompts,
                        int* n_skipped, std::string* err) {
    prompts->clear();
    *n_skipped = 0;
    simdjson::padded_string text;
    if (simdjson::padded_string::load(path).get(text)) { *err = "cannot read dataset " + path; return false; }
    std::string_view sv(text.data(), text.size());
    size_t first = sv.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) { *err = "dataset " + path + " is empty"; return false; }
    simdjson::dom::parser parser;
    if (sv[first] == '[') {  // ShareGPT-style JSON array
        simdjson::dom::element doc;
        if (parser.parse(text).get(doc)) { *err = "dataset " + path + ": not valid JSON"; return false; }
        simdjson::dom::array items;
        if (doc.get_array().get(items)) { *err = "dataset " + path + ": expected an array"; return false; }
        size_t i = 0;
        for (simdjson::dom::element item : items) {
            i++;
            simdjson::dom::array conv;
            if (item["conversations"].get_array().get(conv)) {
                *err = "dataset " + path + ": item " + std::to_string(i) + " has no \"conversations\" array";
                return false;
            }
            for (simdjson::dom::element turn : conv) {
                std::string_view from, value;
                if (turn["from"].get_string().get(from) || turn["value"].get_string().get(value)) continue;
                if (from == "human" || from == "user") {
                    add_prompt(std::string(value), max_prompt_chars, prompts, n_skipped);
                    break;
                }
            }
        }
    } else {  // JSON Lines
        size_t pos = 0;
        int line_no = 0;
        while (pos < sv.size()) {
            size_t nl = sv.find('\n', pos);
            if (nl == std::string_view::npos) nl = sv.size();
            std::string line(sv.substr(pos, nl - pos));
            pos = nl + 1;
            line_no++;
            if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
            simdjson::dom::element doc;
            std::string_view v;
            std::string where = "dataset " + path + " line " + std::to_string(line_no);
            if (parser.parse(line).get(doc)) { *err = where + ": not valid JSON"; return false; }
            if (doc["prompt"].get_string().get(v) && doc["question"].get_string().get(v)) {
                *err = where + ": no string \"prompt\" or \"question\"";
                return false;
            }
            add_prompt(std::string(v), max_prompt_chars, prompts, n_skipped);
        }
    }
    if (prompts->empty()) {
        *err = "dataset " + path + ": no prompt" + (*n_skipped ? " within --max-prompt-length" : "");
        return false;
    }
    return true;
}

bool bench_load_schema(const std::string& path, std::string* schema, std::string* err) {
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    simdjson::padded_string text;
    if (simdjson::padded_string::load(path).get(text)) {
        *err = "cannot read --json-schema file " + path;
        return false;
    }
    if (parser.parse(text).get(doc)) {
        *err = "--json-schema file " + path + " is not valid JSON";
        return false;
    }
    if (doc.type() != simdjson::dom::element_type::OBJECT) {
        *err = "--json-schema file " + path + " must hold a JSON Schema object";
        return false;
    }
    *schema = simdjson::minify(doc);
    return true;
}

std::string bench_fresh_schema(const std::string& schema, const std::string& tag) {
    // schema is a minified object: "{}" or "{...}"
    std::string member = "\"description\":" + json_quote(tag);
    if (schema == "{}") return "{" + member + "}";
    return schema.substr(0, schema.size() - 1) + "," + member + "}";
}

std::string bench_request_body(const BodyOptions& o, const BenchPrompt& p) {
    std::string b = "{\"model\":" + json_quote(o.model);
    if (o.chat) {
        b += ",\"messages\":[{\"role\":\"user\",\"content\":" + json_quote(p.text) + "}]";
    } else if (!p.ids.empty()) {
        b += ",\"prompt\":[";
        for (size_t i = 0; i < p.ids.size(); i++) b += (i ? "," : "") + std::to_string(p.ids[i]);
        b += "]";
    } else {
        b += ",\"prompt\":" + json_quote(p.text);
    }
    b += ",\"max_tokens\":" + std::to_string(p.max_tokens);
    if (o.temperature >= 0) {
        char t[32];
        snprintf(t, sizeof(t), "%.17g", o.temperature);
        b += std::string(",\"temperature\":") + t;
    }
    if (o.exact_output && o.json_schema.empty())  // min_tokens with a grammar is refused
        b += ",\"ignore_eos\":true,\"min_tokens\":" + std::to_string(p.max_tokens);
    if (!o.json_schema.empty()) {
        std::string schema = o.fresh_schema
                                 ? bench_fresh_schema(o.json_schema, o.fresh_tag + " request " + std::to_string(p.index))
                                 : o.json_schema;
        if (o.chat)
            b += ",\"response_format\":{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"bench\",\"schema\":" +
                 schema + ",\"strict\":true}}";
        else
            b += ",\"guided_json\":" + schema;
    }
    if (o.stream) b += ",\"stream\":true,\"stream_options\":{\"include_usage\":true}";
    else b += ",\"stream\":false";
    return b + "}";
}
