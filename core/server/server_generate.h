// server_generate.h — one generation request as the HTTP layer sees it: its prompts submitted to
// the engine (one engine request per prompt, n samples each), and the engine's token events turned
// into per-choice text pieces: detokenized incrementally, cut at stop strings (text that may start
// one is held back), with logprobs attached to the text they produced. Choice c of prompt p is
// index p * n + c. Finished choices are recorded in the metrics; whatever is unfinished when the
// run is destroyed is aborted in the engine.
#pragma once
#include <stdint.h>
#include <functional>
#include <memory>
#include <string>
#include <vector>
#include "core/server/server_impl.h"
#include "core/server/server_stop.h"
#include "core/text/tokenizer.h"

struct TokenLogprobOut {
    std::string token;                                   // the token's own text
    double logprob = 0;
    std::vector<std::pair<std::string, double>> top;     // top alternatives, best first
};

// Text that became final for one choice (and the tokens behind it), and/or its end.
struct GenPiece {
    int choice = 0;
    std::string text;
    std::vector<TokenLogprobOut> logprobs;
    int n_tokens = 0;            // tokens generated since the choice's previous piece
    std::string finish_reason;   // "" unless the choice ended with this piece
    std::string stop_reason_json = "null";  // vLLM's stop_reason: the stop string or stop token id
};

class GenerationRun {
public:
    enum Status { PIECES, DONE, CLIENT_GONE, QUEUE_TIMEOUT, TOTAL_TIMEOUT, FAILED };

    GenerationRun(ServerImpl* s, const GenerationFields& g);
    ~GenerationRun();

    // Submits one engine request per prompt. False with an HTTP status and message (the ones
    // already submitted are aborted).
    bool start(const std::vector<std::vector<int32_t>>& prompts, const SamplingParams& params,
               int* status, std::string* message);
    // Waits for progress. PIECES: *pieces holds new text/ends; DONE: every choice has ended;
    // otherwise the run was aborted for the reason named (message in *message). Every 50 ms it
    // checks client_alive and --request-timeout: no first token in time -> QUEUE_TIMEOUT; a
    // non-streamed request not finished in time -> TOTAL_TIMEOUT (a stream that has started
    // producing text is not waiting and runs on).
    Status next(std::vector<GenPiece>* pieces, const std::function<bool()>& client_alive, std::string* message);
    void abort();

    int n_choices() const { return (int)choices_.size(); }
    int prompt_tokens() const { return n_prompt_tokens_; }
    int completion_tokens() const;
    double ttft_s() const { return ttft_s_; }

private:
    struct Choice {
        std::unique_ptr<IncrementalDetokenizer> detok;
        std::unique_ptr<StopChecker> stop;
        int n_tokens = 0;
        int n_pending_tokens = 0;   // generated, not yet counted in a piece
        bool done = false;
        std::vector<TokenLogprobOut> pending_lp;
        Clock::time_point first, last;
        std::vector<double> itl;
    };
    struct Sub {
        int64_t id = 0;
        std::shared_ptr<RequestChannel> channel;
        int n_prompt = 0;
        bool done = false;      // request_done seen (or abandoned)
        Clock::time_point submitted;
        double queue_s = -1;    // the engine's queue time, once its first token came
        int max_tokens = 0;     // the max_tokens it runs with (for vllm:request_params_max_tokens)
        bool recorded = false;  // its per-request histograms are recorded
    };
    void record_sub(int si);
    void on_event(int sub, const EngineEvent& ev, std::vector<GenPiece>* pieces);
    void finish_choice(int c, const std::string& reason, std::vector<GenPiece>* pieces,
                       const std::string& stop_reason_json = "null");
    TokenLogprobOut token_lp(const SampleResult& r) const;

    ServerImpl* s_;
    GenerationFields g_;
    std::vector<Sub> subs_;
    std::vector<Choice> choices_;
    Clock::time_point start_, last_check_;
    double ttft_s_ = -1;
    int n_prompt_tokens_ = 0;
};

// SamplingParams of the engine from the request's fields; max_tokens_default is used when the
// request gave none (16 for completions like OpenAI, -1 = rest of the context for chat). The
// model's generation_config.json defaults fill the sampling fields the request left out, and its
// max_new_tokens caps max_tokens (vLLM's rule: the smallest of the limits that apply).
SamplingParams sampling_params_from(const GenerationFields& g, int max_tokens_default,
                                    const GenerationDefaults& defaults = GenerationDefaults());
