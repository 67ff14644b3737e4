#!/usr/bin/env bash
# On a GPU machine: compute-sanitizer (memcheck) over `edgellm generate` with several sequences
# on a tiny random Llama (transformers): greedy with graphs captured, then eager, then sampled
# (temperature 1.0: the device sampler).
#   tests/gpu/sanitize_generate.sh EDGELLM_BINARY [SHAPE [MAX_SEQS MAX_MODEL_LEN]]
# (SHAPE from check_model.py's SHAPES; a max-model-len above 256 makes decode use split-K)
set -u
bin=$1 shape=${2:-tiny-llama} seqs=${3:-8} len=${4:-256} d=/tmp/edgellm-$shape
python3 - "$d" "$shape" <<'PY'
import sys, torch
sys.path.insert(0, "tests/gpu")
from check_model import SHAPES
from transformers import AutoConfig, AutoModelForCausalLM
spec = dict(SHAPES[sys.argv[2]]); cfg = AutoConfig.for_model(spec.pop("model_type"), **spec)
torch.manual_seed(0)
AutoModelForCausalLM.from_config(cfg, dtype=torch.bfloat16).save_pretrained(sys.argv[1])
PY
python3 -c "
import random; random.seed(1)
print('\n'.join(str([random.randrange(1000) for _ in range(random.randrange(1, 40))]) for _ in range(70)))" > /tmp/p.jsonl
for mode in "" "--enforce-eager" "--temperature 1.0"; do
  echo "== $shape: generate 70 prompts, max-num-seqs $seqs, max-model-len $len $mode"
  compute-sanitizer --tool memcheck --print-limit 5 "$bin" generate --model $d --prompts-file /tmp/p.jsonl \
    --max-tokens 6 --ignore-eos --max-num-seqs $seqs --max-model-len $len $mode 2>&1 | grep -vE "^\s*$|^\[" | head -30
done
