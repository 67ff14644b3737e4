#!/usr/bin/env bash
# check_layers.sh — dependencies point one way. Each source folder may include only the folders
# listed for it below (its own included); one line per folder, PASS when none of its files
# includes anything else. Order: cli -> server -> engine -> model -> kernels -> platform, with
# text and util usable from above, grammar (itself on text and util) from engine up, and bench
# using util only; main.cpp dispatches to core/cli.
# With a DIR argument the check runs over that tree instead of the repository (its own test
# plants a wrong-way include in a copy).
set -u
root=${1:-$(cd "$(dirname "$0")/../.." && pwd)}
cd "$root" || exit 1

# folder  allowed include prefixes (space separated)
rules="
core/util       core/util/
core/text       core/text/ core/util/
core/bench      core/bench/ core/util/
core/grammar    core/grammar/ core/text/ core/util/
core/model      core/model/ core/text/ core/util/ kernels/ platform/
core/engine     core/engine/ core/grammar/ core/model/ core/text/ core/util/ kernels/ platform/
core/server     core/server/ core/engine/ core/grammar/ core/model/ core/text/ core/util/
core/cli        core/cli/ core/server/ core/engine/ core/grammar/ core/model/ core/text/ core/bench/ core/util/ kernels/ platform/
kernels         kernels/ platform/
platform        platform/
main.cpp        core/cli/
"

n_fail=0
while read -r dir allowed; do
  [ -n "$dir" ] || continue
  if [ -d "$dir" ]; then
    files=$(find "$dir" -type f \( -name '*.h' -o -name '*.cpp' -o -name '*.cu' -o -name '*.cuh' -o -name '*.inc' \))
  else
    files=$dir
  fi
  bad=""
  for f in $files; do
    # project includes only: "core/...", "kernels/...", "platform/..."
    while IFS= read -r inc; do
      ok=0
      for a in $allowed; do case "$inc" in "$a"*) ok=1 ;; esac; done
      [ $ok = 1 ] || bad="$bad $f->$inc"
    done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\(\(core\|kernels\|platform\)\/[^"]*\)".*/\1/p' "$f")
  done
  name=layers_$(echo "$dir" | tr '/.' '__')_includes_only_what_it_may
  if [ -z "$bad" ]; then echo "PASS $name"
  else echo "FAIL $name:$bad"; n_fail=$((n_fail + 1)); fi
done <<< "$rules"

# Every core/ folder has a rule (a new folder must say what it may include).
for d in core/*/; do
  d=${d%/}
  if ! grep -q "^$d " <<< "$rules"; then echo "FAIL layers_rule_for_$d: no rule"; n_fail=$((n_fail + 1)); fi
done

# The check itself must catch a wrong-way include: plant one in a copy and expect a FAIL.
if [ -z "${1:-}" ]; then
  tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
  cp -r core kernels platform main.cpp "$tmp/"
  mkdir -p "$tmp/tests/scripts"; cp "$0" "$tmp/tests/scripts/"
  echo '#include "core/server/server.h"' >> "$tmp/core/engine/engine.cpp"
  if bash "$0" "$tmp" | grep -q '^FAIL layers_core_engine_.*core/engine/engine.cpp->core/server/server.h'; then
    echo "PASS layers_check_fails_on_a_planted_wrong_way_include"
  else echo "FAIL layers_check_fails_on_a_planted_wrong_way_include"; n_fail=$((n_fail + 1)); fi
fi
exit 0
