// vllm_flags.cpp — the table of `vllm serve` flags (see vllm_flags.h) and its uses.
#include "core/cli/vllm_flags.h"
#include <string.h>
#include <cxxopts.hpp>
#include "core/cli/config.h"
#include "core/server/reasoning_parser.h"   // reasoning_parser_names
#include "core/server/tool_parser.h"        // tool_parser_names

// clang-format off
static const std::vector<VllmFlag> k_flags = {
    {"help", "-h", false, 'E', "", ""},
    {"headless", "", false, 'R', "", "one edgellm process serves one GPU: run one per GPU behind a load balancer (dist/edgellm@.service, dist/nginx.conf)"},
    {"api-server-count", "-asc", true, 'R', "", "one HTTP server per process; run more processes behind a load balancer (dist/nginx.conf)"},
    {"config", "", true, 'R', "", "no YAML config files: use flags or EDGELLM_* variables (dist/edgellm.env)"},
    {"grpc", "", false, 'R', "", "HTTP only"},
    {"disable-log-stats", "", false, 'E', "", "accepted; no periodic stats lines (see /metrics)"},
    {"aggregate-engine-logging", "", false, 'N', "", "one engine per process: its numbers are already the total (see /metrics)"},
    {"enable-log-requests", "", false, 'N', "", "request contents and outputs are never logged"},
    {"no-enable-log-requests", "", false, 'N', "", "off here too"},
    {"disable-log-requests", "", false, 'E', "", "accepted; request contents are never logged"},
    {"no-disable-log-requests", "", false, 'N', "", "the default here"},
    {"host", "", true, 'E', "", ""},
    {"port", "", true, 'E', "", ""},
    {"uds", "", true, 'R', "", "TCP only: put a local proxy in front for a Unix socket"},
    {"uvicorn-log-level", "", true, 'N', "", "no uvicorn: edgellm logs at one level"},
    {"disable-uvicorn-access-log", "", false, 'E', "", "the same as --disable-access-log"},
    {"no-disable-uvicorn-access-log", "", false, 'N', "", "the default here"},
    {"disable-access-log-for-endpoints", "", true, 'R', "", "the access log is all or nothing (--disable-access-log)"},
    {"allow-credentials", "", false, 'E', "", ""},
    {"no-allow-credentials", "", false, 'N', "", "the default here"},
    {"allowed-origins", "", true, 'E', "", "CORS off unless given (vLLM's default is any origin)"},
    {"allowed-methods", "", true, 'E', "", ""},
    {"allowed-headers", "", true, 'E', "", ""},
    {"api-key", "", true, 'E', "", ""},
    {"lora-modules", "", true, 'R', "", "LoRA adapters are not supported (merge the adapter into the weights)"},
    {"chat-template", "", true, 'E', "", ""},
    {"chat-template-content-format", "", true, 'N', "", "text content as a string or as text parts is accepted either way"},
    {"trust-request-chat-template", "", false, 'R', "", "a chat_template in a request is always refused (give the template with --chat-template)"},
    {"no-trust-request-chat-template", "", false, 'N', "", "off here too"},
    {"default-chat-template-kwargs", "", true, 'R', "", "not supported (put the defaults into the template given with --chat-template)"},
    {"response-role", "", true, 'R', "", "the response role is always assistant"},
    {"ssl-keyfile", "", true, 'R', "", "no TLS in the binary: terminate TLS in a proxy (dist/nginx.conf)"},
    {"ssl-certfile", "", true, 'R', "", "no TLS in the binary: terminate TLS in a proxy (dist/nginx.conf)"},
    {"ssl-ca-certs", "", true, 'R', "", "no TLS in the binary: terminate TLS in a proxy (dist/nginx.conf)"},
    {"enable-ssl-refresh", "", false, 'R', "", "no TLS in the binary: terminate TLS in a proxy (dist/nginx.conf)"},
    {"no-enable-ssl-refresh", "", false, 'N', "", "off here too"},
    {"ssl-cert-reqs", "", true, 'R', "", "no TLS in the binary: terminate TLS in a proxy (dist/nginx.conf)"},
    {"ssl-ciphers", "", true, 'R', "", "no TLS in the binary: terminate TLS in a proxy (dist/nginx.conf)"},
    {"root-path", "", true, 'R', "", "serve behind a proxy that strips the path prefix"},
    {"middleware", "", true, 'R', "", "no Python middleware"},
    {"return-tokens-as-token-ids", "", false, 'R', "", "not supported"},
    {"no-return-tokens-as-token-ids", "", false, 'N', "", "off here too"},
    {"disable-frontend-multiprocessing", "", false, 'N', "", "the HTTP server and the engine are one process"},
    {"no-disable-frontend-multiprocessing", "", false, 'N', "", "off here too"},
    {"enable-request-id-headers", "", false, 'R', "", "not supported"},
    {"no-enable-request-id-headers", "", false, 'N', "", "off here too"},
    {"enable-auto-tool-choice", "", false, 'T', "", "tool_choice auto (and a request with tools and no tool_choice) parses tool calls; needs --tool-call-parser"},
    {"no-enable-auto-tool-choice", "", false, 'N', "", "off here too"},
    {"exclude-tools-when-tool-choice-none", "", false, 'R', "", "with tool_choice none the tools still reach the chat template"},
    {"no-exclude-tools-when-tool-choice-none", "", false, 'N', "", "off here too"},
    {"tool-call-parser", "", true, 'T', "", "hermes, llama3_json, mistral or qwen3_coder"},
    {"tool-parser-plugin", "", true, 'R', "", "no plugins: the parsers are hermes, llama3_json, mistral and qwen3_coder"},
    {"tool-server", "", true, 'R', "", "no built-in tools"},
    {"log-config-file", "", true, 'R', "", "the log goes to stderr, one line per event (journald keeps it)"},
    {"max-log-len", "", true, 'N', "", "request contents and outputs are never logged"},
    {"disable-fastapi-docs", "", false, 'N', "", "no /docs pages"},
    {"no-disable-fastapi-docs", "", false, 'N', "", "off here too"},
    {"enable-prompt-tokens-details", "", false, 'R', "", "usage has no prompt_tokens_details"},
    {"no-enable-prompt-tokens-details", "", false, 'N', "", "off here too"},
    {"enable-server-load-tracking", "", false, 'R', "", "not supported (see vllm:num_requests_running on /metrics)"},
    {"no-enable-server-load-tracking", "", false, 'N', "", "off here too"},
    {"enable-force-include-usage", "", false, 'R', "", "usage is sent when a request's stream_options.include_usage asks for it"},
    {"no-enable-force-include-usage", "", false, 'N', "", "off here too"},
    {"enable-tokenizer-info-endpoint", "", false, 'R', "", "no /tokenizer_info route"},
    {"no-enable-tokenizer-info-endpoint", "", false, 'N', "", "off here too"},
    {"enable-log-outputs", "", false, 'N', "", "request contents and outputs are never logged"},
    {"no-enable-log-outputs", "", false, 'N', "", "off here too"},
    {"enable-log-deltas", "", false, 'N', "", "request contents and outputs are never logged"},
    {"no-enable-log-deltas", "", false, 'N', "", "off here too"},
    {"h11-max-incomplete-event-size", "", true, 'R', "", "no h11: the request size limit is --max-request-bytes"},
    {"h11-max-header-count", "", true, 'R', "", "no h11: the request size limit is --max-request-bytes"},
    {"log-error-stack", "", false, 'N', "", "no Python stacks"},
    {"no-log-error-stack", "", false, 'N', "", "off here too"},
    {"enable-offline-docs", "", false, 'N', "", "no /docs pages"},
    {"no-enable-offline-docs", "", false, 'N', "", "off here too"},
    {"tokens-only", "", false, 'R', "", "not supported"},
    {"no-tokens-only", "", false, 'N', "", "off here too"},
    {"model", "", true, 'E', "", ""},
    {"runner", "", true, 'R', "", "edgellm runs generative models only"},
    {"convert", "", true, 'R', "", "edgellm runs generative models only"},
    {"task", "", true, 'R', "", "edgellm runs generative models only"},
    {"tokenizer", "", true, 'R', "", "the tokenizer is read from the model directory (copy tokenizer.json and tokenizer_config.json there)"},
    {"tokenizer-mode", "", true, 'N', "", "one tokenizer implementation (tokenizer.json)"},
    {"trust-remote-code", "", false, 'E', "", "accepted; no code from the model directory ever runs"},
    {"no-trust-remote-code", "", false, 'N', "", "the default here"},
    {"dtype", "", true, 'E', "", "auto, bfloat16, fp8 or fp8_e4m3 (fp8_e5m2 is refused with the reason)"},
    {"seed", "", true, 'E', "", ""},
    {"hf-config-path", "", true, 'R', "", "config.json is read from the model directory"},
    {"allowed-local-media-path", "", true, 'R', "", "edgellm serves text-only models"},
    {"allowed-media-domains", "", true, 'R', "", "edgellm serves text-only models"},
    {"revision", "", true, 'R', "", "models are local directories; nothing is downloaded"},
    {"code-revision", "", true, 'R', "", "models are local directories; nothing is downloaded"},
    {"rope-scaling", "", true, 'R', "", "rope scaling is read from config.json (edit it there)"},
    {"rope-theta", "", true, 'R', "", "rope_theta is read from config.json (edit it there)"},
    {"tokenizer-revision", "", true, 'R', "", "models are local directories; nothing is downloaded"},
    {"max-model-len", "", true, 'E', "", ""},
    {"quantization", "-q", true, 'E', "", "the checkpoint's own method (fp8, awq, awq_marlin, gptq, gptq_marlin, compressed-tensors, mxfp4), or fp8 on an unquantized checkpoint (quantized at load)"},
    {"enforce-eager", "", false, 'E', "", ""},
    {"no-enforce-eager", "", false, 'N', "", "the default here"},
    {"max-seq-len-to-capture", "", true, 'N', "", "decode graphs serve every context length"},
    {"max-logprobs", "", true, 'V', "20", "requests may ask for up to 20 logprobs (vLLM's default)"},
    {"logprobs-mode", "", true, 'V', "raw_logprobs", "logprobs are the model's raw log-softmax"},
    {"disable-sliding-window", "", false, 'R', "", "sliding windows follow config.json"},
    {"no-disable-sliding-window", "", false, 'N', "", "off here too"},
    {"disable-cascade-attn", "", false, 'N', "", "no cascade attention"},
    {"no-disable-cascade-attn", "", false, 'N', "", "off here too"},
    {"skip-tokenizer-init", "", false, 'R', "", "the tokenizer is always loaded (prompts as token ids work with it)"},
    {"no-skip-tokenizer-init", "", false, 'N', "", "off here too"},
    {"enable-prompt-embeds", "", false, 'R', "", "prompts are text or token ids"},
    {"no-enable-prompt-embeds", "", false, 'N', "", "off here too"},
    {"served-model-name", "", true, 'E', "", ""},
    {"config-format", "", true, 'V', "auto|hf", "config.json is read as Hugging Face writes it"},
    {"hf-token", "", true, 'N', "", "models are local directories; nothing is downloaded"},
    {"hf-overrides", "", true, 'R', "", "edit config.json in the model directory"},
    {"pooler-config", "", true, 'R', "", "edgellm runs generative models only"},
    {"override-pooler-config", "", true, 'R', "", "edgellm runs generative models only"},
    {"logits-processor-pattern", "", true, 'R', "", "no custom logits processors"},
    {"generation-config", "", true, 'E', "", ""},
    {"override-generation-config", "", true, 'R', "", "give a directory with its own generation_config.json (--generation-config DIR)"},
    {"enable-sleep-mode", "", false, 'R', "", "not supported"},
    {"no-enable-sleep-mode", "", false, 'N', "", "off here too"},
    {"model-impl", "", true, 'V', "auto", "edgellm's own implementation"},
    {"override-attention-dtype", "", true, 'R', "", "attention computes in bfloat16 with fp32 softmax"},
    {"logits-processors", "", true, 'R', "", "no custom logits processors"},
    {"io-processor-plugin", "", true, 'R', "", "no plugins"},
    {"load-format", "", true, 'V', "auto|safetensors", "only *.safetensors weights are read"},
    {"download-dir", "", true, 'N', "", "models are local directories; nothing is downloaded"},
    {"safetensors-load-strategy", "", true, 'N', "", "weights are read through the page cache on up to 8 threads"},
    {"model-loader-extra-config", "", true, 'R', "", "no loader options"},
    {"ignore-patterns", "", true, 'N', "", "only *.safetensors files are read"},
    {"use-tqdm-on-load", "", false, 'N', "", "loading is reported in the log"},
    {"no-use-tqdm-on-load", "", false, 'N', "", "off here too"},
    {"pt-load-map-location", "", true, 'R', "", "only *.safetensors weights are read"},
    {"reasoning-parser", "", true, 'T', "", "qwen3 or deepseek_r1"},
    {"reasoning-parser-plugin", "", true, 'R', "", "no plugins: the parsers are qwen3 and deepseek_r1"},
    {"enable-reasoning", "", false, 'T', "", "accepted with --reasoning-parser, which alone turns reasoning on"},
    {"guided-decoding-backend", "", true, 'N', "", "structured outputs have one built-in backend (core/grammar), always on"},
    {"guided-decoding-disable-fallback", "", true, 'N', "", "structured outputs have one built-in backend (core/grammar), always on"},
    {"guided-decoding-disable-any-whitespace", "", true, 'N', "", "structured outputs have one built-in backend (core/grammar), always on"},
    {"guided-decoding-disable-additional-properties", "", true, 'N', "", "structured outputs have one built-in backend (core/grammar), always on"},
    {"distributed-executor-backend", "", true, 'N', "", "one process, one GPU"},
    {"pipeline-parallel-size", "-pp", true, 'E', "", "1 only (other values are refused with the reason)"},
    {"tensor-parallel-size", "-tp", true, 'E', "", "CPU platform: any size that divides the heads; GPUs: 1 for now (others refused with the reason)"},
    {"decode-context-parallel-size", "-dcp", true, 'V', "1", "one edgellm process serves one GPU: run one per GPU behind a load balancer (dist/edgellm@.service, dist/nginx.conf)"},
    {"data-parallel-size", "-dp", true, 'V', "1", "one edgellm process serves one GPU: run one per GPU behind a load balancer (dist/edgellm@.service, dist/nginx.conf)"},
    {"data-parallel-rank", "-dpn", true, 'R', "", "one edgellm process serves one GPU: run one per GPU behind a load balancer (dist/edgellm@.service, dist/nginx.conf)"},
    {"data-parallel-start-rank", "-dpr", true, 'R', "", "one edgellm process serves one GPU: run one per GPU behind a load balancer (dist/edgellm@.service, dist/nginx.conf)"},
    {"data-parallel-size-local", "-dpl", true, 'R', "", "one edgellm process serves one GPU: run one per GPU behind a load balancer (dist/edgellm@.service, dist/nginx.conf)"},
    {"data-parallel-address", "-dpa", true, 'R', "", "one edgellm process serves one GPU: run one per GPU behind a load balancer (dist/edgellm@.service, dist/nginx.conf)"},
    {"data-parallel-rpc-port", "-dpp", true, 'R', "", "one edgellm process serves one GPU: run one per GPU behind a load balancer (dist/edgellm@.service, dist/nginx.conf)"},
    {"data-parallel-backend", "-dpb", true, 'R', "", "one edgellm process serves one GPU: run one per GPU behind a load balancer (dist/edgellm@.service, dist/nginx.conf)"},
    {"data-parallel-hybrid-lb", "", false, 'R', "", "one edgellm process serves one GPU: run one per GPU behind a load balancer (dist/edgellm@.service, dist/nginx.conf)"},
    {"no-data-parallel-hybrid-lb", "", false, 'N', "", "off here too"},
    {"enable-expert-parallel", "", false, 'R', "", "expert parallelism is not supported (one GPU per process)"},
    {"no-enable-expert-parallel", "", false, 'N', "", "off here too"},
    {"all2all-backend", "", true, 'R', "", "expert parallelism is not supported (one GPU per process)"},
    {"enable-dbo", "", false, 'R', "", "expert parallelism is not supported (one GPU per process)"},
    {"no-enable-dbo", "", false, 'N', "", "off here too"},
    {"dbo-decode-token-threshold", "", true, 'R', "", "expert parallelism is not supported (one GPU per process)"},
    {"dbo-prefill-token-threshold", "", true, 'R', "", "expert parallelism is not supported (one GPU per process)"},
    {"disable-nccl-for-dp-synchronization", "", false, 'N', "", "no NCCL (one GPU)"},
    {"no-disable-nccl-for-dp-synchronization", "", false, 'N', "", "off here too"},
    {"enable-eplb", "", false, 'R', "", "expert parallelism is not supported (one GPU per process)"},
    {"no-enable-eplb", "", false, 'N', "", "off here too"},
    {"eplb-config", "", true, 'R', "", "expert parallelism is not supported (one GPU per process)"},
    {"expert-placement-strategy", "", true, 'R', "", "expert parallelism is not supported (one GPU per process)"},
    {"num-redundant-experts", "", true, 'R', "", "expert parallelism is not supported (one GPU per process)"},
    {"eplb-window-size", "", true, 'R', "", "expert parallelism is not supported (one GPU per process)"},
    {"eplb-step-interval", "", true, 'R', "", "expert parallelism is not supported (one GPU per process)"},
    {"eplb-log-balancedness", "", false, 'R', "", "expert parallelism is not supported (one GPU per process)"},
    {"no-eplb-log-balancedness", "", false, 'N', "", "off here too"},
    {"max-parallel-loading-workers", "", true, 'N', "", "weights are read on up to 8 threads"},
    {"ray-workers-use-nsight", "", false, 'N', "", "no Ray"},
    {"no-ray-workers-use-nsight", "", false, 'N', "", "off here too"},
    {"disable-custom-all-reduce", "", false, 'N', "", "no all-reduce (one GPU)"},
    {"no-disable-custom-all-reduce", "", false, 'N', "", "off here too"},
    {"worker-cls", "", true, 'R', "", "no Python workers"},
    {"worker-extension-cls", "", true, 'R', "", "no Python workers"},
    {"enable-multimodal-encoder-data-parallel", "", false, 'R', "", "edgellm serves text-only models"},
    {"block-size", "", true, 'E', "", ""},
    {"gpu-memory-utilization", "", true, 'E', "", ""},
    {"kv-cache-memory-bytes", "", true, 'R', "", "give the KV pool in blocks with --num-kv-blocks, or a share with --gpu-memory-utilization"},
    {"swap-space", "", true, 'N', "", "preemption recomputes; nothing is swapped to host memory"},
    {"kv-cache-dtype", "", true, 'E', "", "auto, bfloat16, fp8 or fp8_e4m3 (fp8_e5m2 is refused with the reason)"},
    {"num-gpu-blocks-override", "", true, 'A', "num-kv-blocks", ""},
    {"enable-prefix-caching", "", false, 'E', "", ""},
    {"no-enable-prefix-caching", "", false, 'E', "", ""},
    {"prefix-caching-hash-algo", "", true, 'N', "", "prefix blocks are matched by their token ids"},
    {"cpu-offload-gb", "", true, 'R', "", "weights stay on the device"},
    {"calculate-kv-scales", "", false, 'R', "", "the KV cache is bfloat16"},
    {"no-calculate-kv-scales", "", false, 'N', "", "off here too"},
    {"kv-sharing-fast-prefill", "", false, 'R', "", "not supported"},
    {"no-kv-sharing-fast-prefill", "", false, 'N', "", "off here too"},
    {"mamba-cache-dtype", "", true, 'R', "", "no Mamba models"},
    {"mamba-ssm-cache-dtype", "", true, 'R', "", "no Mamba models"},
    {"mamba-block-size", "", true, 'R', "", "no Mamba models"},
    {"limit-mm-per-prompt", "", true, 'R', "", "edgellm serves text-only models"},
    {"enable-mm-embeds", "", false, 'R', "", "edgellm serves text-only models"},
    {"no-enable-mm-embeds", "", false, 'N', "", "off here too"},
    {"media-io-kwargs", "", true, 'R', "", "edgellm serves text-only models"},
    {"mm-processor-kwargs", "", true, 'R', "", "edgellm serves text-only models"},
    {"mm-processor-cache-gb", "", true, 'R', "", "edgellm serves text-only models"},
    {"disable-mm-preprocessor-cache", "", false, 'R', "", "edgellm serves text-only models"},
    {"mm-processor-cache-type", "", true, 'R', "", "edgellm serves text-only models"},
    {"mm-shm-cache-max-object-size-mb", "", true, 'R', "", "edgellm serves text-only models"},
    {"mm-encoder-tp-mode", "", true, 'R', "", "edgellm serves text-only models"},
    {"mm-encoder-attn-backend", "", true, 'R', "", "edgellm serves text-only models"},
    {"interleave-mm-strings", "", false, 'R', "", "edgellm serves text-only models"},
    {"no-interleave-mm-strings", "", false, 'N', "", "off here too"},
    {"skip-mm-profiling", "", false, 'R', "", "edgellm serves text-only models"},
    {"no-skip-mm-profiling", "", false, 'N', "", "off here too"},
    {"video-pruning-rate", "", true, 'R', "", "edgellm serves text-only models"},
    {"enable-lora", "", false, 'R', "", "LoRA adapters are not supported (merge the adapter into the weights)"},
    {"no-enable-lora", "", false, 'N', "", "off here too"},
    {"enable-lora-bias", "", false, 'R', "", "LoRA adapters are not supported (merge the adapter into the weights)"},
    {"no-enable-lora-bias", "", false, 'N', "", "off here too"},
    {"max-loras", "", true, 'R', "", "LoRA adapters are not supported (merge the adapter into the weights)"},
    {"max-lora-rank", "", true, 'R', "", "LoRA adapters are not supported (merge the adapter into the weights)"},
    {"lora-extra-vocab-size", "", true, 'R', "", "LoRA adapters are not supported (merge the adapter into the weights)"},
    {"lora-dtype", "", true, 'R', "", "LoRA adapters are not supported (merge the adapter into the weights)"},
    {"max-cpu-loras", "", true, 'R', "", "LoRA adapters are not supported (merge the adapter into the weights)"},
    {"fully-sharded-loras", "", false, 'R', "", "LoRA adapters are not supported (merge the adapter into the weights)"},
    {"no-fully-sharded-loras", "", false, 'N', "", "off here too"},
    {"default-mm-loras", "", true, 'R', "", "LoRA adapters are not supported (merge the adapter into the weights)"},
    {"long-lora-scaling-factors", "", true, 'R', "", "LoRA adapters are not supported (merge the adapter into the weights)"},
    {"enable-prompt-adapter", "", false, 'R', "", "LoRA adapters are not supported (merge the adapter into the weights)"},
    {"no-enable-prompt-adapter", "", false, 'N', "", "off here too"},
    {"max-prompt-adapters", "", true, 'R', "", "LoRA adapters are not supported (merge the adapter into the weights)"},
    {"max-prompt-adapter-token", "", true, 'R', "", "LoRA adapters are not supported (merge the adapter into the weights)"},
    {"prompt-adapters", "", true, 'R', "", "LoRA adapters are not supported (merge the adapter into the weights)"},
    {"show-hidden-metrics-for-version", "", true, 'N', "", "no hidden metrics"},
    {"otlp-traces-endpoint", "", true, 'R', "", "no tracing: see /metrics and the access log"},
    {"collect-detailed-traces", "", true, 'R', "", "no tracing: see /metrics and the access log"},
    {"max-num-batched-tokens", "", true, 'E', "", ""},
    {"max-num-seqs", "", true, 'E', "", ""},
    {"max-num-partial-prefills", "", true, 'V', "1", "one prompt is chunked at a time"},
    {"max-long-partial-prefills", "", true, 'V', "1", "one prompt is chunked at a time"},
    {"long-prefill-token-threshold", "", true, 'N', "", "prefill chunks follow --max-num-batched-tokens"},
    {"num-lookahead-slots", "", true, 'V', "0", "no speculative decoding"},
    {"scheduler-delay-factor", "", true, 'V', "0", "steps are scheduled at once"},
    {"preemption-mode", "", true, 'V', "recompute", "preemption recomputes (nothing is swapped)"},
    {"num-scheduler-steps", "", true, 'V', "1", "one step per iteration"},
    {"multi-step-stream-outputs", "", false, 'N', "", "one step per iteration"},
    {"no-multi-step-stream-outputs", "", false, 'N', "", "off here too"},
    {"scheduling-policy", "", true, 'V', "fcfs", "requests are served first come, first served"},
    {"enable-chunked-prefill", "", false, 'N', "", "chunked prefill is always on"},
    {"no-enable-chunked-prefill", "", false, 'R', "", "chunked prefill is always on (it keeps decode steps short)"},
    {"disable-chunked-mm-input", "", false, 'N', "", "edgellm serves text-only models"},
    {"no-disable-chunked-mm-input", "", false, 'N', "", "off here too"},
    {"scheduler-cls", "", true, 'R', "", "the scheduler is edgellm's own"},
    {"disable-hybrid-kv-cache-manager", "", false, 'N', "", "one KV cache manager"},
    {"no-disable-hybrid-kv-cache-manager", "", false, 'N', "", "off here too"},
    {"async-scheduling", "", false, 'N', "", "the scheduler is edgellm's own"},
    {"no-async-scheduling", "", false, 'N', "", "off here too"},
    {"disable-async-output-proc", "", false, 'N', "", "the scheduler is edgellm's own"},
    {"cudagraph-capture-sizes", "", true, 'N', "", "decode graphs are captured for every batch size up to --max-num-seqs (1, 2, 4, then every 8)"},
    {"cuda-graph-sizes", "", true, 'N', "", "decode graphs are captured for every batch size up to --max-num-seqs (1, 2, 4, then every 8)"},
    {"max-cudagraph-capture-size", "", true, 'N', "", "decode graphs are captured for every batch size up to --max-num-seqs (1, 2, 4, then every 8)"},
    {"speculative-config", "", true, 'R', "", "no speculative decoding"},
    {"kv-transfer-config", "", true, 'R', "", "no disaggregated prefill / KV transfer"},
    {"kv-events-config", "", true, 'R', "", "no KV cache events"},
    {"ec-transfer-config", "", true, 'R', "", "no disaggregated encoders"},
    {"compilation-config", "-O", true, 'N', "", "kernels are compiled ahead of time"},
    {"additional-config", "", true, 'R', "", "no platform plugins"},
    {"structured-outputs-config", "", true, 'N', "", "structured outputs have one built-in backend (core/grammar), always on"},
    {"device", "", true, 'E', "", "edgellm's --device is the GPU ordinal (vLLM's --device named the device type, and is gone from vLLM 0.11)"},
    {"override-neuron-config", "", true, 'R', "", "no Neuron devices"},
};
// clang-format on

const std::vector<VllmFlag>& vllm_flags() { return k_flags; }

void vllm_flags_register(cxxopts::Options& opts) {
    auto shown = opts.add_options("vllm");
    for (const VllmFlag& f : k_flags) {
        if (f.kind != 'T') continue;
        if (f.takes_value) shown(f.name, f.note, cxxopts::value<std::string>());
        else shown(f.name, f.note);
    }
    auto group = opts.add_options("vllm-table");
    for (const VllmFlag& f : k_flags) {
        if (f.kind == 'E' || f.kind == 'T') continue;
        // single-letter short forms (-q, -O) are cxxopts' own; longer ones are expanded first
        const bool short1 = f.alias[0] == '-' && strlen(f.alias) == 2;
        const std::string spec = short1 ? std::string(f.alias + 1) + "," + f.name : std::string(f.name);
        if (f.takes_value) group(spec, f.note, cxxopts::value<std::string>());
        else group(spec, f.note);
    }
    group("vllm-flags-table", "print the table of vLLM's flags and what edgellm does with each");
}

std::string vllm_flags_expand(const std::string& arg) {
    if (arg.size() < 3 || arg[0] != '-' || arg[1] == '-') return arg;
    for (const VllmFlag& f : k_flags) {
        const size_t n = strlen(f.alias);
        if (n < 3) continue;
        if (arg == f.alias) return std::string("--") + f.name;
        if (arg.compare(0, n, f.alias) == 0 && arg[n] == '=') return std::string("--") + f.name + arg.substr(n);
    }
    return arg;
}

static std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (const std::string& n : names) out += (out.empty() ? "" : ", ") + n;
    return out;
}

// The T flags: their values into cfg, their combinations checked ("" or the refusal).
static std::string take_flags(const cxxopts::ParseResult& a, Config* cfg) {
    bool& auto_tool = cfg->enable_auto_tool_choice;
    std::string& tool_parser = cfg->tool_call_parser;
    std::string& reasoning = cfg->reasoning_parser;
    auto_tool = a.count("enable-auto-tool-choice") > 0;
    tool_parser = a.count("tool-call-parser") ? a["tool-call-parser"].as<std::string>() : "";
    reasoning = a.count("reasoning-parser") ? a["reasoning-parser"].as<std::string>() : "";
    if (!tool_parser.empty() && !tool_parser_known(tool_parser))
        return "--tool-call-parser " + tool_parser + " is not supported by edgellm (accepted: " +
               joined(tool_parser_names()) + ")";
    if (auto_tool && tool_parser.empty())
        return "--enable-auto-tool-choice requires --tool-call-parser (" + joined(tool_parser_names()) + ")";
    if (!reasoning.empty() && !reasoning_parser_known(reasoning))
        return "--reasoning-parser " + reasoning + " is not supported by edgellm (accepted: " +
               joined(reasoning_parser_names()) + ")";
    if (a.count("enable-reasoning") && reasoning.empty())
        return "--enable-reasoning requires --reasoning-parser (" + joined(reasoning_parser_names()) + ")";
    return "";
}

std::string vllm_flags_check(const cxxopts::ParseResult& a, Config* cfg) {
    std::vector<std::string>* noop_notes = &cfg->vllm_noops;
    const std::string taken = take_flags(a, cfg);
    for (const VllmFlag& f : k_flags) {
        if (f.kind == 'E' || f.kind == 'A' || f.kind == 'T' || a.count(f.name) == 0) continue;
        const std::string flag = std::string("--") + f.name;
        if (f.kind == 'R') return "vLLM's " + flag + " is not supported by edgellm: " + f.note;
        if (f.kind == 'N') {
            noop_notes->push_back("vLLM's " + flag + " is accepted and has no effect here: " + f.note);
            continue;
        }
        const std::string v = f.takes_value ? a[f.name].as<std::string>() : "";
        const std::string allowed = std::string("|") + f.values + "|";
        if (allowed.find("|" + v + "|") == std::string::npos) {
            std::string list = f.values;
            for (char& c : list)
                if (c == '|') c = ',';
            return "vLLM's " + flag + " " + v + " is not supported by edgellm: " + f.note + " (accepted: " + list + ")";
        }
    }
    return taken;
}

std::string vllm_flags_markdown() {
    std::string out = "| vLLM flag | edgellm |\n|---|---|\n";
    for (const VllmFlag& f : k_flags) {
        std::string name = std::string("`--") + f.name + "`";
        if (f.alias[0]) name += std::string(" (`") + f.alias + "`)";
        std::string what;
        switch (f.kind) {
            case 'E': case 'T': what = std::string("same meaning") + (f.note[0] ? std::string("; ") + f.note : ""); break;
            case 'A': what = std::string("the same as `--") + f.values + "`"; break;
            case 'N': what = std::string("accepted, no effect: ") + f.note; break;
            case 'V': {
                std::string list = f.values;
                for (size_t i = 0; (i = list.find('|', i)) != std::string::npos;) list.replace(i, 1, "`, `");
                what = "accepted at `" + list + "` (" + f.note + "); other values refused";
                break;
            }
            default: what = std::string("refused: ") + f.note;
        }
        out += "| " + name + " | " + what + " |\n";
    }
    return out;
}
