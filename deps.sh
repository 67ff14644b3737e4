#!/usr/bin/env bash
# Builds edgellm's third-party dependencies into $1 (default build/deps), idempotently:
#  - Debian packages the build and tests need (installed with apt-get when missing);
#  - static simdjson and mimalloc, and the cpp-httplib header, from Debian's source packages
#    with Debian's patches applied (dpkg-source -x), so security fixes are in.
# Output: $1/include/{simdjson.h,httplib.h}, $1/lib/{libsimdjson.a,mimalloc.o}.
set -euo pipefail
out=${1:-build/deps}
mkdir -p "$out"/{include,lib,src}
out=$(cd "$out" && pwd)

pkgs="g++ make libgtest-dev libcxxopts-dev dpkg-dev xz-utils clang libclang-rt-14-dev libxml2-utils universal-ctags"
missing=""
for p in $pkgs; do dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"; done
if [ -n "$missing" ]; then
  echo "deps: installing Debian packages:$missing"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
fi

src=$out/src
if [ ! -f "$src/.fetched" ]; then
  # deb-src entries for the same suites as the binary sources, in a private lists dir.
  mkdir -p "$src/apt/lists/partial" "$src/apt/parts"
  : > "$src/apt/sources.list"
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] && sed 's/^Types: deb$/Types: deb-src/' "$f" > "$src/apt/parts/$(basename "$f")"
  done
  if [ -f /etc/apt/sources.list ]; then
    grep -E '^deb ' /etc/apt/sources.list | sed 's/^deb /deb-src /' > "$src/apt/sources.list" || true
  fi
  apt_opts=(-o Dir::Etc::SourceList="$src/apt/sources.list" -o Dir::Etc::SourceParts="$src/apt/parts"
            -o Dir::State::Lists="$src/apt/lists" -o APT::Sandbox::User=root)
  apt-get "${apt_opts[@]}" update -qq
  (cd "$src" && apt-get "${apt_opts[@]}" source --download-only simdjson mimalloc cpp-httplib)
  touch "$src/.fetched"
fi
cd "$src"
for dsc in simdjson_*.dsc mimalloc_*.dsc cpp-httplib_*.dsc; do
  dir=$(grep -m1 '^Source:' "$dsc" | awk '{print $2}')-$(grep -m1 '^Version:' "$dsc" | awk '{print $2}' | sed 's/^[0-9]*://; s/-[^-]*$//')
  [ -d "$dir" ] || dpkg-source -q -x --no-check "$dsc" "$dir" >/dev/null
done
sj=$(ls -d simdjson-*/ | head -1); mi=$(ls -d mimalloc-*/ | head -1); hl=$(ls -d cpp-httplib-*/ | head -1)

cp "$sj/singleheader/simdjson.h" "$out/include/simdjson.h"
cp "$hl/httplib.h" "$out/include/httplib.h"
if [ ! -f "$out/lib/libsimdjson.a" ]; then
  g++ -O2 -std=c++17 -fPIC -c "$sj/singleheader/simdjson.cpp" -I"$sj/singleheader" -o "$out/lib/simdjson.o"
  ar rcs "$out/lib/libsimdjson.a" "$out/lib/simdjson.o"
fi
if [ ! -f "$out/lib/mimalloc.o" ]; then
  # static.c is the whole library in one unit; MI_MALLOC_OVERRIDE makes it the process allocator.
  gcc -O2 -fPIC -DMI_MALLOC_OVERRIDE -DNDEBUG -I"$mi/include" -c "$mi/src/static.c" -o "$out/lib/mimalloc.o"
fi
echo "deps: ready in $out ($(basename "$sj") $(basename "$mi") $(basename "$hl"))"
