#!/usr/bin/env bash
# install.sh — installs (or removes) edgellm as a systemd service on this host.
#
#   sudo ./install.sh [--binary PATH] [--instances "0 1 2 3"]
#   sudo ./install.sh --uninstall [--purge]
#   DESTDIR=/tmp/root ./install.sh ...        (or --destdir DIR): stage into DIR instead of /
#
# Installs, idempotently (a second run changes nothing; a newer binary replaces the old one):
#   /usr/local/bin/edgellm                             the binary (atomic replace, safe while running)
#   /etc/systemd/system/edgellm.service, edgellm@.service
#   /usr/local/share/edgellm/                          README.md, edgellm.env.example, nginx.conf,
#                                                      prometheus.yml
#   /etc/edgellm/edgellm.env                           from the example, only if it does not exist
#   /etc/edgellm/edgellm-N.env                         per --instances entry, only if missing;
#                                                      EDGELLM_PORT=8000+N
#   system user and group `edgellm`                    not under DESTDIR (useradd works on this
#                                                      host's /etc/passwd only); a note says so
# --uninstall stops and disables the units (not under DESTDIR) and removes the files above
# except the configuration in /etc/edgellm; --purge also removes that, the user, the cache
# directory /var/cache/edgellm and /var/lib/edgellm if it is empty. Under DESTDIR, directories
# left empty are removed up to DESTDIR itself, so a staged install + uninstall --purge leaves
# DESTDIR as it was; on a live system only edgellm's own directories are removed.
# The binary is --binary, else the first of ./edgellm, ../edgellm, ../build/cuda/edgellm
# next to this script. Exits non-zero with a message on any failure.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
destdir=${DESTDIR:-}
binary=""
instances=""
mode=install
purge=0

die() { echo "install.sh: $*" >&2; exit 1; }
note() { echo "install.sh: $*"; }

while [ $# -gt 0 ]; do
  case "$1" in
    --binary) binary=${2:?--binary needs a path}; shift 2 ;;
    --binary=*) binary=${1#*=}; shift ;;
    --destdir) destdir=${2:?--destdir needs a directory}; shift 2 ;;
    --destdir=*) destdir=${1#*=}; shift ;;
    --instances) instances=${2?--instances needs a list}; shift 2 ;;
    --instances=*) instances=${1#*=}; shift ;;
    --uninstall) mode=uninstall; shift ;;
    --purge) purge=1; shift ;;
    -h|--help) sed -n '2,25p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown argument '$1' (see --help)" ;;
  esac
done
[ "$purge" = 1 ] && [ "$mode" != uninstall ] && die "--purge goes with --uninstall"
destdir=${destdir%/}
if [ -n "$destdir" ]; then
  mkdir -p "$destdir"
  destdir=$(cd "$destdir" && pwd)
  [ "$destdir" = / ] && destdir=""
fi
live=1; [ -n "$destdir" ] && live=0
if [ "$live" = 1 ] && [ "$(id -u)" != 0 ]; then
  die "run as root to install into / (or stage with DESTDIR=DIR / --destdir DIR)"
fi
systemd_running=0
[ "$live" = 1 ] && [ -d /run/systemd/system ] && command -v systemctl >/dev/null && systemd_running=1

D=$destdir
bin_dir=$D/usr/local/bin
unit_dir=$D/etc/systemd/system
share_dir=$D/usr/local/share/edgellm
conf_dir=$D/etc/edgellm
units="edgellm.service edgellm@.service"
shared="README.md nginx.conf prometheus.yml"

# mkdir -p that reports nothing; ownership root, mode 0755 unless given.
make_dir() { [ -d "$1" ] || install -d -m "${2:-0755}" "$1"; }

# put SRC DEST MODE: copy when the content differs, through a temporary file and a rename so a
# running binary is never overwritten in place. Prints what it did.
put() {
  local src=$1 dst=$2 mode=$3
  if [ -f "$dst" ] && cmp -s "$src" "$dst"; then
    chmod "$mode" "$dst"; echo "  unchanged $dst"; return
  fi
  make_dir "$(dirname "$dst")"
  local tmp
  tmp=$(mktemp "$dst.XXXXXX")
  cp "$src" "$tmp"; chmod "$mode" "$tmp"; mv -f "$tmp" "$dst"
  echo "  installed $dst"
}

# conf_put SRC DEST: configuration is written once and never overwritten.
conf_put() {
  local src=$1 dst=$2
  if [ -e "$dst" ]; then echo "  kept      $dst (existing configuration is never overwritten)"; return; fi
  make_dir "$(dirname "$dst")" 0750
  install -m 0640 "$src" "$dst"
  [ "$live" = 1 ] && chgrp edgellm "$dst" "$(dirname "$dst")"
  echo "  created   $dst"
}

# prune DIR: under DESTDIR, removes DIR and its parents while empty, stopping at DESTDIR.
prune() {
  local d=$1
  [ "$live" = 1 ] && return 0
  while [ "$d" != "$D" ] && [ "${d#"$D"/}" != "$d" ] && [ -d "$d" ] && rmdir "$d" 2>/dev/null; do
    d=$(dirname "$d")
  done
}

remove() {  # remove FILE [prune]
  if [ -e "$1" ] || [ -L "$1" ]; then rm -f "$1"; echo "  removed   $1"; fi
  prune "$(dirname "$1")"
}

install_all() {
  if [ -z "$binary" ]; then
    for c in "$here/edgellm" "$here/../edgellm" "$here/../build/cuda/edgellm"; do
      [ -f "$c" ] && { binary=$c; break; }
    done
  fi
  [ -n "$binary" ] || die "no edgellm binary next to this script; pass --binary PATH"
  { [ -f "$binary" ] && [ -x "$binary" ]; } || die "$binary is not an executable file"
  for f in $units edgellm.env $shared; do [ -f "$here/$f" ] || die "missing $here/$f"; done

  if [ "$live" = 1 ]; then
    if getent passwd edgellm >/dev/null; then
      echo "  user      edgellm exists"
    else
      useradd --system --user-group --home-dir /var/lib/edgellm --no-create-home \
              --shell /usr/sbin/nologin --comment "edgellm LLM server" edgellm
      echo "  created   system user edgellm"
    fi
  else
    note "DESTDIR install: not creating the system user 'edgellm'; on the target run:"
    note "  useradd --system --user-group --home-dir /var/lib/edgellm --no-create-home --shell /usr/sbin/nologin edgellm"
  fi

  put "$binary" "$bin_dir/edgellm" 0755
  for u in $units; do put "$here/$u" "$unit_dir/$u" 0644; done
  for f in $shared; do put "$here/$f" "$share_dir/$f" 0644; done
  put "$here/edgellm.env" "$share_dir/edgellm.env.example" 0644
  conf_put "$here/edgellm.env" "$conf_dir/edgellm.env"
  local tmp
  tmp=$(mktemp)
  for n in $instances; do
    case "$n" in ''|*[!0-9]*) rm -f "$tmp"; die "--instances wants GPU numbers, got '$n'" ;; esac
    printf '# Settings of edgellm@%s (GPU %s); shared ones are in edgellm.env.\nEDGELLM_PORT=%s\n' \
      "$n" "$n" "$((8000 + n))" > "$tmp"
    conf_put "$tmp" "$conf_dir/edgellm-$n.env"
  done
  rm -f "$tmp"

  if [ "$systemd_running" = 1 ]; then
    systemctl daemon-reload
    echo "  reloaded  systemd units"
    note "edit $conf_dir/edgellm.env, then: systemctl enable --now edgellm (or edgellm@0 ...);"
    note "after an upgrade: systemctl restart edgellm (or 'edgellm@*')"
  fi
}

uninstall_all() {
  # Stop and disable every unit of ours that systemd knows, instances included.
  if [ "$systemd_running" = 1 ]; then
    for u in $(systemctl list-units --all --plain --no-legend 'edgellm.service' 'edgellm@*.service' | awk '{print $1}') \
             $(systemctl list-unit-files --plain --no-legend 'edgellm.service' 'edgellm@*.service' | awk '{print $1}'); do
      case "$u" in edgellm@.service) continue ;; esac
      if systemctl disable --now "$u" >/dev/null 2>&1; then echo "  stopped   $u"; fi
    done
  fi
  for link in "$unit_dir"/*.wants/edgellm.service "$unit_dir"/*.wants/edgellm@*.service; do
    [ -L "$link" ] && remove "$link"
  done
  remove "$bin_dir/edgellm"
  for u in $units; do remove "$unit_dir/$u"; done
  for f in $shared edgellm.env.example; do remove "$share_dir/$f"; done
  [ -d "$share_dir" ] && rmdir "$share_dir" 2>/dev/null && prune "$(dirname "$share_dir")"
  [ "$systemd_running" = 1 ] && systemctl daemon-reload

  if [ "$purge" = 1 ]; then
    for f in "$conf_dir"/edgellm.env "$conf_dir"/edgellm-*.env; do [ -e "$f" ] && remove "$f"; done
    if [ -d "$conf_dir" ]; then
      if rmdir "$conf_dir" 2>/dev/null; then echo "  removed   $conf_dir"; prune "$(dirname "$conf_dir")"
      else note "kept $conf_dir: it holds files this script did not install"; fi
    fi
    if [ "$live" = 1 ]; then
      rm -rf /var/cache/edgellm
      if [ -d /var/lib/edgellm ] && ! rmdir /var/lib/edgellm 2>/dev/null; then
        note "kept /var/lib/edgellm: not empty (models?); remove it by hand if it is not needed"
      fi
      if getent passwd edgellm >/dev/null; then userdel edgellm && echo "  removed   system user edgellm"; fi
    fi
  elif [ -d "$conf_dir" ]; then
    note "kept configuration in $conf_dir (--purge removes it)"
  fi
}

if [ "$mode" = install ]; then
  echo "installing edgellm into ${D:-/}"
  install_all
else
  echo "removing edgellm from ${D:-/}"
  uninstall_all
fi
