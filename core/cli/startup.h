// startup.h — the one start-up path of `serve` and `generate`: select the device (and its NUMA
// node), load the weights (the tokenizer on another thread meanwhile), size the KV pool from the
// memory plan, allocate it and the workspace, capture the decode graphs, construct the engine.
// Each phase's time is logged, and the whole on one "start-up:" line.
#pragma once
#include <stdint.h>
#include <memory>
#include <string>
#include "core/cli/config.h"
#include "core/engine/engine.h"
#include "core/engine/model_runner.h"
#include "core/model/generation_config.h"
#include "core/model/model.h"
#include "core/text/tokenizer.h"

struct Runtime {
    Model model;
    Tokenizer tokenizer;             // loaded when the model directory has a usable tokenizer.json
    bool have_tokenizer = false;
    std::string tokenizer_error;     // why not, when have_tokenizer is false
    GenerationDefaults generation;   // --generation-config, with every eos id
    SchedulerConfig sched;
    ModelLimits limits;
    std::unique_ptr<ModelRunner> runner;
    // --tensor-parallel-size > 1 (CPU platform): ranks 1.. beside model (rank 0), one group
    std::vector<std::unique_ptr<Model>> ranks;
    PlatComm* comm = nullptr;
    ~Runtime();
    std::unique_ptr<Engine> engine;  // constructed (bound to cfg.device), not started
    double startup_s = 0;            // from startup_run's call to the engine's construction
};

// Runs the path for cfg (validated by config_validate). max_blocks_wanted > 0 caps the KV pool
// further (generate: what its prompts can use). Returns -1 on success; otherwise the exit code
// (1: infrastructure or model, 2: flags that do not fit the model) after printing
// "edgellm <command>: <why>" to stderr.
int startup_run(const Config& cfg, int64_t max_blocks_wanted, Runtime* rt);
