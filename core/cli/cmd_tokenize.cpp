// cmd_tokenize.cpp — `edgellm tokenize`: encode/decode with a model directory's tokenizer (only
// tokenizer.json and tokenizer_config.json are needed). Line-oriented modes for scripts:
//   --jsonl   stdin: one JSON string per line; stdout: one JSON array of ids per line
//   --decode  stdin: one JSON array of ids per line; stdout: one JSON string per line
//   --bench   encodes a file line by line and prints the throughput
// Without a mode, all of stdin is encoded as one text and one JSON array is printed.
#include <stdio.h>
#include <time.h>
#include <chrono>
#include <cxxopts.hpp>
#include <fstream>
#include <iostream>
#include <sstream>
#include "core/cli/commands.h"
#include "core/text/tokenizer.h"
#include "core/text/unicode.h"
#include "simdjson.h"

namespace {
int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// Parses a line holding one JSON string. Lone surrogate escapes become U+FFFD. Returns false on
// anything that is not a JSON string.
bool parse_json_string(const std::string& line, std::string* out) {
    out->clear();
    size_t i = 0, n = line.size();
    while (i < n && isspace((unsigned char)line[i])) i++;
    if (i >= n || line[i] != '"') return false;
    i++;
    auto hex4 = [&](size_t at, uint32_t* v) {
        if (at + 4 > n) return false;
        *v = 0;
        for (size_t k = 0; k < 4; k++) {
            int h = hexval(line[at + k]);
            if (h < 0) return false;
            *v = *v * 16 + h;
        }
        return true;
    };
    while (i < n && line[i] != '"') {
        char c = line[i];
        if (c != '\\') { out->push_back(c); i++; continue; }
        if (++i >= n) return false;
        char e = line[i++];
        switch (e) {
        case '"': out->push_back('"'); break;
        case '\\': out->push_back('\\'); break;
        case '/': out->push_back('/'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case 'u': {
            uint32_t v, lo;
            if (!hex4(i, &v)) return false;
            i += 4;
            if (v >= 0xD800 && v < 0xDC00 && i + 6 <= n && line[i] == '\\' && line[i + 1] == 'u' && hex4(i + 2, &lo) &&
                lo >= 0xDC00 && lo < 0xE000) {
                v = 0x10000 + ((v - 0xD800) << 10) + (lo - 0xDC00);
                i += 6;
            } else if (v >= 0xD800 && v < 0xE000) {
                v = 0xFFFD;
            }
            utf8_append(out, v);
            break;
        }
        default: return false;
        }
    }
    if (i >= n) return false;
    i++;
    while (i < n && isspace((unsigned char)line[i])) i++;
    return i == n;
}

void json_string(const std::string& s, std::string* out) {
    out->push_back('"');
    for (unsigned char c : s) {
        if (c == '"') *out += "\\\"";
        else if (c == '\\') *out += "\\\\";
        else if (c == '\n') *out += "\\n";
        else if (c == '\r') *out += "\\r";
        else if (c == '\t') *out += "\\t";
        else if (c < 0x20 || c == 0x7F) {
            char buf[8];
            snprintf(buf, sizeof buf, "\\u%04x", c);
            *out += buf;
        } else out->push_back((char)c);
    }
    out->push_back('"');
}

void json_ids(const std::vector<int32_t>& ids, std::string* out) {
    out->push_back('[');
    for (size_t i = 0; i < ids.size(); i++) {
        if (i) out->push_back(',');
        *out += std::to_string(ids[i]);
    }
    out->push_back(']');
}

// Makes text valid UTF-8 (U+FFFD for bad bytes); warns once per run.
void make_valid(std::string* text, size_t line_no, bool* warned) {
    if (utf8_valid(*text, nullptr)) return;
    *text = utf8_lossy(*text);
    if (!*warned) {
        fprintf(stderr, "edgellm tokenize: line %zu: invalid UTF-8 replaced with U+FFFD (further cases not reported)\n", line_no);
        *warned = true;
    }
}

int run_bench(const Tokenizer& tok, const std::string& path, bool add_special) {
    std::ifstream f(path, std::ios::binary);
    if (!f) { fprintf(stderr, "edgellm tokenize: cannot read %s\n", path.c_str()); return 1; }
    std::vector<std::string> lines;
    std::string line;
    size_t bytes = 0;
    while (std::getline(f, line)) {
        if (!f.eof()) line.push_back('\n');
        bool warned = true;
        make_valid(&line, 0, &warned);
        bytes += line.size();
        lines.push_back(std::move(line));
    }
    std::vector<int32_t> ids;
    std::string err;
    size_t n_tokens = 0;
    timespec c0, c1;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0);
    auto t0 = std::chrono::steady_clock::now();
    for (const std::string& l : lines) {
        tok.encode(l, add_special, &ids, &err);
        n_tokens += ids.size();
    }
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1);
    double cpu = (c1.tv_sec - c0.tv_sec) + (c1.tv_nsec - c0.tv_nsec) * 1e-9;
    printf("edgellm tokenize --bench: %zu bytes, %zu lines, %zu tokens, %.3f s, %.2f MB/s (CPU time %.3f s, %.2f MB/s per CPU-second)\n",
           bytes, lines.size(), n_tokens, s, bytes / 1e6 / s, cpu, bytes / 1e6 / cpu);
    return 0;
}
}  // namespace

int cmd_tokenize(int argc, char** argv) {
    cxxopts::Options opts("edgellm tokenize",
                          "Encode or decode with a model's tokenizer (DIR needs tokenizer.json and tokenizer_config.json).\n"
                          "Input text that is not valid UTF-8 (raw bytes, or lone surrogate \\u escapes) is encoded\n"
                          "with U+FFFD in place of each bad sequence; a warning goes to stderr.");
    opts.add_options()
        ("model", "model directory", cxxopts::value<std::string>())
        ("jsonl", "stdin: one JSON string per line; stdout: one JSON array of ids per line")
        ("decode", "stdin: one JSON array of ids per line; stdout: one JSON string per line")
        ("stream", "with --decode: decode through the incremental (streaming) detokenizer")
        ("add-special-tokens", "apply the post-processor (e.g. BOS) when encoding")
        ("skip-special-tokens", "with --decode: leave out special tokens")
        ("bench", "encode FILE line by line and print MB/s", cxxopts::value<std::string>())
        ("h,help", "show this help");
    cxxopts::ParseResult args;
    try {
        args = opts.parse(argc, argv);
    } catch (const std::exception& e) {
        fprintf(stderr, "edgellm tokenize: %s\n", e.what());
        return 2;
    }
    if (args.count("help")) { printf("%s\n", opts.help().c_str()); return 0; }
    if (!args.count("model")) { fprintf(stderr, "edgellm tokenize: --model DIR is required\n%s\n", opts.help().c_str()); return 2; }
    Tokenizer tok;
    std::string err;
    if (!tok.load(args["model"].as<std::string>(), &err)) { fprintf(stderr, "edgellm tokenize: %s\n", err.c_str()); return 1; }
    bool add_special = args.count("add-special-tokens") > 0, skip_special = args.count("skip-special-tokens") > 0;
    if (args.count("bench")) return run_bench(tok, args["bench"].as<std::string>(), add_special);

    std::string line, out;
    std::vector<int32_t> ids;
    size_t line_no = 0;
    bool warned = false;
    if (args.count("decode")) {
        simdjson::dom::parser parser;
        bool stream = args.count("stream") > 0;
        while (std::getline(std::cin, line)) {
            line_no++;
            simdjson::dom::array arr;
            if (parser.parse(line).get(arr) != simdjson::SUCCESS) {
                fprintf(stderr, "edgellm tokenize: line %zu: expected a JSON array of ids\n", line_no);
                return 1;
            }
            ids.clear();
            for (simdjson::dom::element e : arr) {
                int64_t v;
                if (e.get(v) != simdjson::SUCCESS || v < INT32_MIN || v > INT32_MAX) {
                    fprintf(stderr, "edgellm tokenize: line %zu: ids must be integers\n", line_no);
                    return 1;
                }
                ids.push_back((int32_t)v);
            }
            std::string text;
            if (stream) {
                IncrementalDetokenizer detok(tok, skip_special);
                for (int32_t id : ids) text += detok.push(id);
                text += detok.finish();
            } else {
                text = tok.decode(ids, skip_special);
            }
            out.clear();
            json_string(text, &out);
            out.push_back('\n');
            fwrite(out.data(), 1, out.size(), stdout);
        }
        return 0;
    }
    if (args.count("jsonl")) {
        std::string text;
        while (std::getline(std::cin, line)) {
            line_no++;
            if (!parse_json_string(line, &text)) {
                fprintf(stderr, "edgellm tokenize: line %zu: expected one JSON string\n", line_no);
                return 1;
            }
            make_valid(&text, line_no, &warned);
            tok.encode(text, add_special, &ids, &err);
            out.clear();
            json_ids(ids, &out);
            out.push_back('\n');
            fwrite(out.data(), 1, out.size(), stdout);
        }
        return 0;
    }
    std::ostringstream ss;
    ss << std::cin.rdbuf();
    std::string text = ss.str();
    make_valid(&text, 1, &warned);
    tok.encode(text, add_special, &ids, &err);
    out.clear();
    json_ids(ids, &out);
    printf("%s\n", out.c_str());
    return 0;
}
