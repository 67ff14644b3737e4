// startup.cpp — see startup.h.
#include "core/cli/startup.h"
#include "core/engine/tp_runner.h"
#include <stdio.h>
#include <algorithm>
#include <thread>
#include "core/model/memory_plan.h"
#include "core/util/clock.h"
#include "core/util/log.h"
#include "core/util/numa.h"
#include "core/util/sd_notify.h"
#include "kernels/kernels.h"
#include "platform/platform.h"


static const char* command_name(const Config& c) {
    return c.command == CMD_SERVE ? "edgellm serve" : c.command == CMD_GENERATE ? "edgellm generate" : "edgellm info";
}

static int fail(const Config& c, int code, const std::string& why) {
    fprintf(stderr, "%s: %s\n", command_name(c), why.c_str());
    return code;
}

// plat_init, the device's description, NUMA placement. -1 or an exit code.
static int start_device(const Config& cfg) {
    NumaSetting numa;
    std::string err;
    if (!numa_parse_setting(cfg.numa, &numa, &err)) return fail(cfg, 2, "--numa: " + err);
    plat_set_kernel_arch(plat_parse_kernel_arch(cfg.kernel_arch.c_str()));
    plat_init(cfg.device);
    kernels_set_batch_invariant(cfg.batch_invariant);
    if (cfg.batch_invariant)
        log_info("batch-invariant kernel paths: every row's result independent of the rest of its batch");
    PlatDeviceProps props;
    plat_get_props(&props);
    log_info("platform %s, device %d: %s, %.1f GiB", plat_name(), props.device, props.name,
             props.total_bytes / 1073741824.0);
    if (props.native_arch > 0)
        log_info("kernel paths: sm%d%s (device sm_%d), %zu KiB shared memory per block", props.kernel_arch,
                 props.kernel_arch != props.native_arch ? ", forced by --kernel-arch" : "", props.native_arch,
                 props.smem_per_block_bytes / 1024);
    NumaResult placed;
    if (!numa_apply(numa, props.pci_bus_id, "/sys", &placed, &err)) return fail(cfg, 2, "--numa: " + err);
    log_info("%s", placed.summary().c_str());
    return -1;
}

// Every eos id that ends a sequence: generation_config.json's and config.json's, and the
// tokenizer's (the primary one, which reports stop_reason null).
static void collect_eos(const Runtime& rt, SchedulerConfig* sc) {
    int vocab = rt.model.config().vocab_size;
    for (int32_t e : rt.generation.eos_token_ids)
        if (e < vocab) sc->eos_token_ids.push_back(e);
    int32_t tok_eos = rt.have_tokenizer ? rt.tokenizer.eos_id() : -1;
    if (tok_eos >= 0 && tok_eos < vocab) {
        sc->primary_eos = tok_eos;
        if (std::find(sc->eos_token_ids.begin(), sc->eos_token_ids.end(), tok_eos) == sc->eos_token_ids.end())
            sc->eos_token_ids.push_back(tok_eos);
    }
}

// The KV pool's size: --num-kv-blocks, else the memory plan, capped. -1 or an exit code.
static int plan_kv(const Config& cfg, int64_t max_blocks_wanted, Runtime* rt) {
    SchedulerConfig& sc = rt->sched;
    if (cfg.num_kv_blocks > 0) {
        sc.n_blocks = cfg.num_kv_blocks;
        return -1;
    }
    size_t free_b = 0, total_b = 0;
    plat_mem_info(&free_b, &total_b);
    // captured decode graphs hold a little device memory of their own (a few MiB measured per
    // bucket on an H100); reserve it up front so the pool never takes it
    size_t graphs_reserve = cfg.enforce_eager || !plat_graphs_supported() ? 0 : (size_t)256 << 20;
    MemoryPlan plan;
    std::string err;
    // the weights with the bf16 scratch their quantized prefill paths decode into
    if (!memory_plan_compute(total_b, free_b, cfg.gpu_memory_utilization,
                             rt->model.weight_bytes() + rt->model.gemm_scratch_bytes(),
                             rt->model.workspace_bytes(rt->limits), graphs_reserve,
                             rt->model.kv_bytes_per_block(sc.block_size), sc.block_size, sc.max_model_len,
                             &plan, &err))
        return fail(cfg, 1, err);
    // A pool larger than every sequence at full length could use is never needed.
    int64_t useful = (int64_t)rt->limits.max_blocks_per_seq * sc.max_num_seqs;
    if (max_blocks_wanted > 0) useful = std::min(useful, max_blocks_wanted);
    memory_plan_cap(&plan, std::max<int64_t>(1, useful));
    plan.kv_dtype = kv_type_name(rt->model.kv_type());
    sc.n_blocks = plan.n_blocks;
    log_info("memory plan:\n%s", memory_plan_report(plan).c_str());
    return -1;
}

// The scheduler's and the workspace's limits from cfg and the model. -1 or an exit code.
static int set_limits(const Config& cfg, Runtime* rt) {
    const ModelConfig& mc = rt->model.config();
    std::string err;
    SchedulerConfig& sc = rt->sched;
    if (!config_resolve_model(cfg, mc, &sc.max_model_len, &err)) return fail(cfg, 2, err);
    sc.max_num_seqs = cfg.max_num_seqs;
    sc.max_num_batched_tokens = cfg.max_num_batched_tokens;
    sc.block_size = cfg.block_size;
    sc.enable_prefix_caching = cfg.enable_prefix_caching;
    sc.vocab_size = mc.vocab_size;
    if (!generation_config_load(cfg.generation_config, cfg.model_dir, mc, &rt->generation, &err))
        return fail(cfg, 1, "--generation-config: " + err);
    collect_eos(*rt, &sc);
    ModelLimits& lim = rt->limits;
    lim.max_tokens = sc.max_num_batched_tokens;
    lim.max_seqs = sc.max_num_seqs;
    lim.max_model_len = sc.max_model_len;
    lim.max_blocks_per_seq = (sc.max_model_len + sc.block_size - 1) / sc.block_size;
    lim.max_logits_rows = std::max(sc.max_num_seqs, 1);  // at most one row per sequence
    return -1;
}

Runtime::~Runtime() {
    engine.reset();  // before the models it runs
    runner.reset();
    ranks.clear();
    if (comm) plat_comm_destroy(comm);
}

int startup_run(const Config& cfg, int64_t max_blocks_wanted, Runtime* rt) {
    Clock::time_point t0 = Clock::now();
    for (const std::string& note : cfg.vllm_noops) log_info("%s", note.c_str());
    int rc = start_device(cfg);
    if (rc >= 0) return rc;
    double init_s = seconds_since(t0);
    sd_notify_status("loading " + cfg.model_dir);

    // The tokenizer loads on another thread while the weights stream to the device.
    Clock::time_point t_load = Clock::now();
    double tokenizer_s = 0;
    std::thread tok_thread([&] {
        Clock::time_point t = Clock::now();
        rt->have_tokenizer = rt->tokenizer.load(cfg.model_dir, &rt->tokenizer_error);
        tokenizer_s = seconds_since(t);
    });
    std::string err;
    const int tp = cfg.tensor_parallel_size;
    if (tp > 1) {  // the other ranks load their shards after rank 0
        rt->comm = plat_comm_create_local(tp);
        rt->model.set_tensor_parallel(rt->comm, 0);
    }
    LoadOptions lo;
    lo.quantization = cfg.quantization;
    bool loaded = rt->model.load(cfg.model_dir, &err, lo);
    for (int r = 1; loaded && r < tp; r++) {
        rt->ranks.emplace_back(new Model());
        rt->ranks.back()->set_tensor_parallel(rt->comm, r);
        loaded = rt->ranks.back()->load(cfg.model_dir, &err, lo);
    }
    tok_thread.join();
    if (!loaded) return fail(cfg, 1, err);
    const LoadStats& ls = rt->model.load_stats();
    log_info("weights: %.2f GB in %.2f s (%.2f s filling staging buffers on %d threads, %.2f s waiting "
             "for uploads; %.1f GB/s); tokenizer %.2f s alongside%s",
             ls.bytes / 1e9, ls.total_s, ls.read_s, ls.n_threads, ls.upload_wait_s,
             ls.bytes / 1e9 / std::max(ls.total_s, 1e-9), tokenizer_s,
             rt->have_tokenizer ? "" : " (not loaded)");
    if (rt->model.config().quant.method != QuantMethod::NONE) {
        const double gib = 1073741824.0;
        const QuantMethod qm = rt->model.config().quant.method;
        const bool int4 = qm == QuantMethod::INT4, mx = qm == QuantMethod::MXFP4;
        const size_t q = int4 ? rt->model.weight_int4_bytes()
                         : mx ? rt->model.weight_mxfp4_bytes() : rt->model.weight_fp8_bytes();
        log_info("quantization: %s; weights by type: %s %.2f GiB, %s %.2f GiB; bf16 scratch for %s prefill %.2f GiB",
                 rt->model.config().quant.summary().c_str(),
                 int4 ? "int4 with scales and zeros" : mx ? "mxfp4 experts with exponents" : "fp8 e4m3 with scales",
                 q / gib, plat_name() == std::string("cpu") ? "fp32" : "bf16", (rt->model.weight_bytes() - q) / gib,
                 int4 ? "int4" : mx ? "MXFP4 expert" : "FP8", rt->model.gemm_scratch_bytes() / gib);
    }
    if (tp > 1)
        log_info("tensor parallel: %d ranks in this process, each with %d of %d query heads, %d KV heads and "
                 "%.2f GB of weights", tp, rt->model.config().n_heads, rt->model.config().n_heads * tp,
                 rt->model.config().n_kv_heads, rt->model.weight_bytes() / 1e9);
    if (config_kv_type(cfg) == KV_FP8_E4M3) {
        rt->model.set_kv_type(KV_FP8_E4M3);
        for (auto& m : rt->ranks) m->set_kv_type(KV_FP8_E4M3);
        log_info("KV cache: fp8 e4m3 (--kv-cache-dtype %s), %s", cfg.kv_cache_dtype.c_str(),
                 rt->model.kv_scales_in_checkpoint() ? "the checkpoint's per-layer k_scale / v_scale"
                                                     : "scales 1.0 (the checkpoint has no k_scale / v_scale)");
    } else if (rt->model.kv_scales_in_checkpoint()) {
        log_info("KV cache: %s; the checkpoint's k_scale / v_scale apply only with --kv-cache-dtype fp8",
                 kv_type_name(rt->model.kv_type()));
    }
    double load_s = seconds_since(t_load);
    const double tune_s = rt->model.tune_matmuls();

    if ((rc = set_limits(cfg, rt)) >= 0) return rc;
    Clock::time_point t_kv = Clock::now();
    if ((rc = plan_kv(cfg, max_blocks_wanted, rt)) >= 0) return rc;
    if (!rt->sched.validate(&err)) return fail(cfg, 2, err);
    rt->model.allocate_kv(rt->sched.n_blocks, rt->sched.block_size);
    rt->model.allocate_workspace(rt->limits);
    for (auto& m : rt->ranks) {
        m->allocate_kv(rt->sched.n_blocks, rt->sched.block_size);
        m->allocate_workspace(rt->limits);
    }
    double kv_s = seconds_since(t_kv);
    log_info("KV cache: %d blocks of %d tokens; max_model_len %d", rt->sched.n_blocks,
             rt->sched.block_size, rt->sched.max_model_len);

    double graphs_ms = 0;
    if (!cfg.enforce_eager) {
        graphs_ms = rt->model.capture_graphs();
        if (graphs_ms >= 0) log_info("captured decode graphs in %.0f ms", graphs_ms);
    }
    if (tp > 1) {
        std::vector<Model*> group = {&rt->model};
        for (auto& m : rt->ranks) group.push_back(m.get());
        rt->runner.reset(new TpRunner(group));
    } else {
        rt->runner.reset(new ModelAdapter(&rt->model));
    }
    rt->engine.reset(new Engine(rt->sched, rt->runner.get(), cfg.device));
    if (cfg.has_seed && cfg.command == CMD_SERVE) rt->engine->set_seed(cfg.seed);
    rt->startup_s = seconds_since(t0);
    log_info("start-up: device %.2f s | weights and tokenizer %.2f s | GEMM timing %.2f s | KV pool and "
             "workspace %.2f s | graphs %.2f s | total %.2f s",
             init_s, load_s, tune_s, kv_s, std::max(graphs_ms, 0.0) / 1e3, rt->startup_s);
    return -1;
}
