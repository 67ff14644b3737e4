#!/usr/bin/env python3
"""A tiny fixture model (tests/fixtures/<name>, with golden.json from transformers) on the GPU.

    python3 tests/gpu/check_fixture.py BUILD_DIR FIXTURE_DIR...
BUILD_DIR holds edgellm and model_check built for the GPU. For each fixture: (1) edgellm generate
on golden.json's prompt, 16 tokens greedy, must give transformers' greedy tokens; (2) model_check
(the prompt as one prefill, then the greedy tokens teacher-forced one decode step at a time)
against the golden float64 logits: prints the worst row's relative L2 error and max|d|/max|ref|
(bf16 weights and activations here, so these are bf16-sized, not the CPU platform's 1e-3), and
the argmax agreement (which must be 100 %, or for fixtures whose golden.json records transformers'
own bf16 figures, at least transformers' bf16 agreement; its worst relL2 is printed beside ours). Prints "N passed, N failed"; exit status 1 on any failure.
"""
import json, os, subprocess, sys
import numpy as np


def check(build_dir, d):
    g = json.load(open(os.path.join(d, "golden.json")))
    prompt, greedy = g["prompt_ids"], g["greedy_ids"]
    ref = np.fromfile(os.path.join(d, g["logits_file"]), dtype="<f4").reshape(g["logits_shape"])
    name = os.path.basename(d.rstrip("/"))
    pf = "/tmp/edgellm-fixture-prompt.jsonl"
    with open(pf, "w") as f:
        f.write(json.dumps(prompt) + "\n")
    r = subprocess.run([os.path.join(build_dir, "edgellm"), "generate", "--model", d, "--prompts-file", pf,
                        "--max-tokens", str(len(greedy)), "--ignore-eos", "--temperature", "0"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(f"FAIL {name}: generate exited {r.returncode}: {r.stderr[-2000:]}")
        return False
    got = json.loads(r.stdout.splitlines()[0])
    same = got == greedy
    print(f"{name}: generate greedy {got}\n{name}: transformers     {greedy} -> {'same' if same else 'DIFFERENT'}")
    ids = "/tmp/edgellm-fixture.ids"
    out = "/tmp/edgellm-fixture.logits"
    np.array(prompt + greedy, dtype="<i4").tofile(ids)
    r = subprocess.run([os.path.join(build_dir, "model_check"), d, ids, str(len(prompt)), out],
                       capture_output=True, text=True)
    if r.returncode != 0:
        print(f"FAIL {name}: model_check exited {r.returncode}: {r.stderr[-2000:]}")
        return False
    ours = np.fromfile(out, dtype="<f4").reshape(-1, ref.shape[1])[: ref.shape[0]]
    rel = np.linalg.norm(ours - ref, axis=1) / np.linalg.norm(ref, axis=1)
    mad = np.abs(ours - ref).max(axis=1) / np.abs(ref).max(axis=1)
    agree = (ours.argmax(1) == ref.argmax(1)).mean()
    print(f"{name}: rows {len(rel)}, worst relL2 {rel.max():.3e} (row {rel.argmax()}), mean {rel.mean():.3e}, "
          f"worst max|d|/max|ref| {mad.max():.3e}, argmax agreement {agree * 100:.1f}%")
    need = g.get("bf16_argmax_agreement", 1.0)
    if "bf16_worst_rel_l2" in g:
        print(f"{name}: transformers bf16 on the same weights: worst relL2 {g['bf16_worst_rel_l2']:.3e}, "
              f"argmax agreement {need * 100:.1f}%")
    ok = same and agree >= need - 1e-9
    print(("PASS " if ok else "FAIL ") + name)
    return ok


if __name__ == "__main__":
    res = [check(sys.argv[1], d) for d in sys.argv[2:]]
    print(f"{sum(res)} passed, {len(res) - sum(res)} failed")
    sys.exit(0 if all(res) else 1)
