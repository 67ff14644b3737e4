#!/usr/bin/env bash
# Build-system checks: PLATFORM is validated; `make deps` is idempotent (a second run does nothing).
set -u
cd "$(dirname "$0")/../.."
out=$(make -n PLATFORM=rocm 2>&1); rc=$?
if [ $rc -ne 0 ] && echo "$out" | grep -q "PLATFORM must be one of cuda, maca, cpu"; then
  echo "PASS makefile_rejects_unknown_platform"
else echo "FAIL makefile_rejects_unknown_platform: rc=$rc $out"; fi
out=$(make deps 2>&1); rc=$?
if [ $rc -eq 0 ] && echo "$out" | grep -qE "Nothing to be done|is up to date"; then
  echo "PASS make_deps_is_idempotent"
else echo "FAIL make_deps_is_idempotent: rc=$rc $out"; fi
for f in build/deps/lib/libsimdjson.a build/deps/lib/mimalloc.o build/deps/include/httplib.h; do
  if [ -s "$f" ]; then echo "PASS deps_built_$(basename "$f")"; else echo "FAIL deps_built_$(basename "$f"): missing"; fi
done
# Debian's security patch for cpp-httplib (CVE-2023-26130) is applied by dpkg-source.
if ls build/deps/src/cpp-httplib-*/debian/patches/series >/dev/null 2>&1 &&
   grep -q "cve-2023-26130" build/deps/src/cpp-httplib-*/debian/patches/series &&
   [ -d build/deps/src/cpp-httplib-*/.pc ]; then
  echo "PASS httplib_built_with_debian_patches_applied"
else echo "FAIL httplib_built_with_debian_patches_applied"; fi
# mimalloc is the process allocator: malloc in the binary is mimalloc's, and it answers.
bin=build/cpu/edgellm
if [ -x $bin ] && [ "$(nm $bin | awk '$3=="malloc"{print $1}')" = "$(nm $bin | awk '$3=="mi_malloc"{print $1}')" ] &&
   MIMALLOC_VERBOSE=1 $bin version 2>&1 | grep -q "^mimalloc:"; then
  echo "PASS mimalloc_is_the_process_allocator"
else echo "FAIL mimalloc_is_the_process_allocator"; fi
