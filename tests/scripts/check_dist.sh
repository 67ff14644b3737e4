#!/usr/bin/env bash
# check_dist.sh — the operations files in dist/ work:
#  - systemd accepts both units (systemd-analyze verify prints nothing) and a broken copy is
#    caught, so the check can fail; the template unit equals the single one but for its
#    per-instance lines; the hardening rating stays "OK"; the stop timeout exceeds the drain time;
#  - install.sh into a temporary DESTDIR: idempotent, never overwrites configuration, replaces
#    a changed binary, --uninstall keeps only the configuration, --purge leaves the root empty;
#    and on a "live" root inside a private mount namespace: user creation and removal;
#  - nginx accepts dist/nginx.conf (nginx -t) and rejects a broken copy;
#  - prometheus.yml is YAML with a scrape job; edgellm.env lists exactly serve's flags (once
#    serve prints its flags).
# Uses the CPU build's binary when present (only its path matters), else a stub.
# systemd-analyze verify needs no running systemd, but it checks that ExecStart's binary exists
# on this machine: --root=DIR would look the units' dependencies (sysinit.target, ...) up under
# DIR too, so instead the units are verified as copies whose ExecStart points at the binary
# install.sh put into the temporary root.
set -u
cd "$(dirname "$0")/../.." || exit 1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
note() { echo "NOTE $1"; }

bin=build/cpu/edgellm
if [ ! -x "$bin" ]; then bin=$work/edgellm-stub; printf '#!/bin/sh\necho stub\n' > "$bin"; chmod +x "$bin"; fi
root=$work/root
snapshot() {  # path, mode and content hash of everything under $root
  (cd "$root" && find . -mindepth 1 -printf '%p %y %m\n' | sort &&
   find . -type f -exec sha256sum {} + | sort -k2)
}

# --- install.sh -------------------------------------------------------------------------------
if out=$(dist/install.sh --destdir "$root" --binary "$bin" --instances "0 1" 2>&1); then
  want="etc/edgellm/edgellm-0.env etc/edgellm/edgellm-1.env etc/edgellm/edgellm.env
etc/systemd/system/edgellm.service etc/systemd/system/edgellm@.service usr/local/bin/edgellm
usr/local/share/edgellm/README.md usr/local/share/edgellm/edgellm.env.example
usr/local/share/edgellm/nginx.conf usr/local/share/edgellm/prometheus.yml"
  got=$(cd "$root" && find . -type f | sed 's|^\./||' | sort | tr '\n' ' ')
  if [ "$got" = "$(echo "$want" | tr ' ' '\n' | sort | tr '\n' ' ')" ] &&
     grep -q '^EDGELLM_PORT=8001$' "$root/etc/edgellm/edgellm-1.env" &&
     cmp -s "$bin" "$root/usr/local/bin/edgellm" && [ -x "$root/usr/local/bin/edgellm" ]; then
    pass install_sh_installs_binary_units_examples_and_config
  else fail install_sh_installs_binary_units_examples_and_config "files: $got"; fi
  if echo "$out" | grep -q "not creating the system user"; then pass install_sh_explains_skipped_useradd_under_destdir
  else fail install_sh_explains_skipped_useradd_under_destdir "$out"; fi
else
  fail install_sh_installs_binary_units_examples_and_config "exit $?: $out"
fi

before=$(snapshot)
out=$(dist/install.sh --destdir "$root" --binary "$bin" --instances "0 1" 2>&1)
if [ "$before" = "$(snapshot)" ] && ! echo "$out" | grep -qE '^  (installed|created|removed)'; then
  pass install_sh_second_run_changes_nothing
else fail install_sh_second_run_changes_nothing "$out"; fi

echo "EDGELLM_MODEL=/srv/models/mine" > "$root/etc/edgellm/edgellm.env"
echo "EDGELLM_PORT=9001" > "$root/etc/edgellm/edgellm-1.env"
dist/install.sh --destdir "$root" --binary "$bin" --instances "0 1" >/dev/null 2>&1
if [ "$(cat "$root/etc/edgellm/edgellm.env")" = "EDGELLM_MODEL=/srv/models/mine" ] &&
   [ "$(cat "$root/etc/edgellm/edgellm-1.env")" = "EDGELLM_PORT=9001" ]; then
  pass install_sh_never_overwrites_existing_config
else fail install_sh_never_overwrites_existing_config "$(cat "$root/etc/edgellm/edgellm.env")"; fi

cp "$bin" "$work/newer"; echo "# newer" >> "$work/newer"
dist/install.sh --destdir "$root" --binary "$work/newer" >/dev/null 2>&1
if cmp -s "$work/newer" "$root/usr/local/bin/edgellm"; then pass install_sh_replaces_a_changed_binary
else fail install_sh_replaces_a_changed_binary "binary not replaced"; fi

# --- the units --------------------------------------------------------------------------------
if command -v systemd-analyze >/dev/null; then
  mkdir -p "$work/units"
  for u in edgellm.service edgellm@.service; do
    sed "s|^ExecStart=/usr/local/bin/edgellm|ExecStart=$root/usr/local/bin/edgellm|" "$root/etc/systemd/system/$u" > "$work/units/$u"
  done
  verify() { systemd-analyze verify "$@" 2>&1; echo "rc=$?"; }
  out=$(verify "$work/units/edgellm.service" "$work/units/edgellm@.service:edgellm@0.service")
  if [ "$out" = "rc=0" ]; then pass systemd_verify_accepts_both_units
  else fail systemd_verify_accepts_both_units "$out"; fi
  # The same verification must notice a mistyped key and a bad value.
  mkdir -p "$work/bad"
  sed 's/^Type=notify/Type=notfy/; s/^LimitMEMLOCK=/LimitMemLock=/' "$work/units/edgellm.service" > "$work/bad/edgellm.service"
  out=$(verify "$work/bad/edgellm.service")
  if echo "$out" | grep -q "notfy" && echo "$out" | grep -q "LimitMemLock"; then pass systemd_verify_check_catches_broken_units
  else fail systemd_verify_check_catches_broken_units "$out"; fi

  out=$(systemd-analyze security --offline=true "$work/units/edgellm.service" 2>&1 | grep "Overall exposure")
  level=$(echo "$out" | grep -oE '[0-9]+\.[0-9]+' | head -1)
  if [ -n "$level" ] && awk -v l="$level" 'BEGIN{exit !(l <= 2.5)}'; then pass "unit_hardening_exposure_at_most_2.5 ($level)"
  else fail unit_hardening_exposure_at_most_2.5 "${out:-no rating}"; fi
else
  note "systemd checks skipped: systemd-analyze not installed"
fi

strip() { grep -v '^#' "$1" | grep -vE '^(Description|EnvironmentFile|ExecStart)='; }
if diff <(strip dist/edgellm.service) <(strip dist/edgellm@.service) >/dev/null &&
   grep -q '^ExecStart=/usr/local/bin/edgellm serve --device %i$' dist/edgellm@.service &&
   grep -q '^EnvironmentFile=/etc/edgellm/edgellm-%i.env$' dist/edgellm@.service; then
  pass template_unit_equals_single_unit_but_device_and_env_file
else fail template_unit_equals_single_unit_but_device_and_env_file "$(diff <(strip dist/edgellm.service) <(strip dist/edgellm@.service))"; fi

missing=""
for line in 'Type=notify' 'LimitMEMLOCK=infinity' 'Restart=on-failure' 'DevicePolicy=closed' \
            'DeviceAllow=/dev/nvidiactl rw' 'DeviceAllow=/dev/nvidia-uvm rw' 'DeviceAllow=/dev/nvidia-uvm-tools rw' \
            'DeviceAllow=char-nvidia-frontend rw' 'DeviceAllow=char-nvidia rw' 'DeviceAllow=char-nvidia-uvm rw' \
            'EnvironmentFile=/etc/edgellm/edgellm.env' 'ExecStart=/usr/local/bin/edgellm serve'; do
  grep -qxF "$line" dist/edgellm.service || missing="$missing [$line]"
done
grep -qE '^PrivateDevices=(yes|true)' dist/edgellm.service && missing="$missing [PrivateDevices hides /dev/nvidia*]"
if [ -z "$missing" ]; then pass unit_reaches_nvidia_devices_and_notifies
else fail unit_reaches_nvidia_devices_and_notifies "$missing"; fi

# Stop timeout: longer than the drain (--shutdown-timeout default) so a drain is not SIGKILLed.
stop_s=$(grep -oE '^TimeoutStopSec=[0-9]+' dist/edgellm.service | cut -d= -f2)
drain_s=$(grep -oE '^#?EDGELLM_SHUTDOWN_TIMEOUT=[0-9]+' dist/edgellm.env | cut -d= -f2)
help=$(build/cpu/edgellm serve --help 2>&1)
if echo "$help" | grep -q -- '--shutdown-timeout'; then
  d=$(echo "$help" | grep -- '--shutdown-timeout' | grep -oE 'default: *[0-9]+' | grep -oE '[0-9]+')
  [ -n "$d" ] && drain_s=$d
fi
if [ -n "$stop_s" ] && [ -n "$drain_s" ] && [ "$stop_s" -ge $((drain_s + 10)) ]; then
  pass "stop_timeout_exceeds_shutdown_timeout (${stop_s}s vs ${drain_s}s)"
else fail stop_timeout_exceeds_shutdown_timeout "TimeoutStopSec=$stop_s shutdown-timeout=$drain_s"; fi

# --- uninstall --------------------------------------------------------------------------------
dist/install.sh --destdir "$root" --uninstall >/dev/null 2>&1
got=$(cd "$root" && find . -mindepth 1 | sed 's|^\./||' | sort | tr '\n' ' ')
if [ "$got" = "etc etc/edgellm etc/edgellm/edgellm-0.env etc/edgellm/edgellm-1.env etc/edgellm/edgellm.env " ]; then
  pass uninstall_removes_everything_but_the_configuration
else fail uninstall_removes_everything_but_the_configuration "left: $got"; fi
dist/install.sh --destdir "$root" --uninstall --purge >/dev/null 2>&1
got=$(cd "$root" && find . -mindepth 1 | tr '\n' ' ')
if [ -z "$got" ]; then pass uninstall_purge_leaves_the_root_empty
else fail uninstall_purge_leaves_the_root_empty "left: $got"; fi
root2=$work/root2
dist/install.sh --destdir "$root2" --binary "$bin" >/dev/null 2>&1
dist/install.sh --destdir "$root2" --uninstall --purge >/dev/null 2>&1
got=$(cd "$root2" && find . -mindepth 1 | tr '\n' ' ')
if [ -z "$got" ]; then pass install_then_purge_in_one_step_leaves_the_root_empty
else fail install_then_purge_in_one_step_leaves_the_root_empty "left: $got"; fi

out=$(dist/install.sh --destdir "$root" --purge 2>&1); rc=$?
out2=$(dist/install.sh --destdir "$root" --frobnicate 2>&1); rc2=$?
if [ $rc -ne 0 ] && echo "$out" | grep -q "with --uninstall" && [ $rc2 -ne 0 ] && echo "$out2" | grep -q "unknown argument"; then
  pass install_sh_refuses_bad_arguments
else fail install_sh_refuses_bad_arguments "rc=$rc $out / rc=$rc2 $out2"; fi

if command -v shellcheck >/dev/null; then
  if out=$(shellcheck dist/install.sh tests/scripts/check_dist.sh 2>&1); then pass shellcheck_install_sh
  else fail shellcheck_install_sh "$out"; fi
else note "shellcheck not installed: install.sh not linted"; fi

# --- install.sh on a live system -------------------------------------------------------------
# Runs the real (non-DESTDIR) path, useradd and userdel included, as root inside a private mount
# namespace: /etc is a copy, /usr/local/{bin,share} and /var/{lib,cache,log} are empty tmpfs, so
# nothing reaches this machine. systemd is not running there, so systemctl steps are skipped.
if [ "$(id -u)" = 0 ] && unshare -m true 2>/dev/null; then
  cp -a /etc "$work/etc"
  unshare -m env BIN="$bin" WORK="$work" REPO="$PWD" bash -s <<'LIVE'
set -u
pass() { echo "PASS $1"; }
fail() { echo "FAIL $1: $2"; }
mount --make-rprivate / 2>/dev/null
mount --bind "$WORK/etc" /etc
for d in /usr/local/bin /usr/local/share /var/lib /var/cache /var/log; do mount -t tmpfs tmpfs "$d"; done
getent passwd edgellm >/dev/null && { fail live_install_creates_system_user "edgellm already exists"; exit 0; }
cp /etc/passwd "$WORK/passwd.orig"; cp /etc/group "$WORK/group.orig"
out=$("$REPO/dist/install.sh" --binary "$BIN" 2>&1); rc=$?
pw=$(getent passwd edgellm)
uid=$(echo "$pw" | cut -d: -f3)
if [ $rc -eq 0 ] && [ -n "$pw" ] && [ "$uid" -lt 1000 ] && [ "$(echo "$pw" | cut -d: -f6,7)" = "/var/lib/edgellm:/usr/sbin/nologin" ] &&
   getent group edgellm >/dev/null; then
  pass live_install_creates_system_user_and_group
else fail live_install_creates_system_user_and_group "rc=$rc user='$pw' $out"; fi
if [ "$(stat -c '%U:%G %a' /etc/edgellm/edgellm.env)" = "root:edgellm 640" ] &&
   [ "$(stat -c '%U:%G %a' /etc/edgellm)" = "root:edgellm 750" ] && [ -x /usr/local/bin/edgellm ] &&
   [ -f /etc/systemd/system/edgellm.service ]; then
  pass live_install_config_is_root_owned_and_readable_by_group_edgellm
else fail live_install_config_is_root_owned_and_readable_by_group_edgellm "$(stat -c '%n %U:%G %a' /etc/edgellm /etc/edgellm/edgellm.env 2>&1)"; fi
out=$("$REPO/dist/install.sh" --binary "$BIN" 2>&1); rc=$?
if [ $rc -eq 0 ] && [ "$(grep -c '^edgellm:' /etc/passwd)" = 1 ] && echo "$out" | grep -q "user      edgellm exists"; then
  pass live_reinstall_keeps_the_one_user
else fail live_reinstall_keeps_the_one_user "rc=$rc $out"; fi
"$REPO/dist/install.sh" --uninstall >/dev/null 2>&1
if getent passwd edgellm >/dev/null && [ -f /etc/edgellm/edgellm.env ] && [ ! -e /usr/local/bin/edgellm ] &&
   [ ! -e /etc/systemd/system/edgellm.service ] && [ ! -e /usr/local/share/edgellm ] && [ -d /usr/local/bin ]; then
  pass live_uninstall_keeps_user_and_config_and_system_directories
else fail live_uninstall_keeps_user_and_config_and_system_directories "$(ls -la /etc/edgellm /usr/local/bin 2>&1)"; fi
mkdir -p /var/lib/edgellm/models /var/cache/edgellm/cuda
out=$("$REPO/dist/install.sh" --uninstall --purge 2>&1); rc=$?
if [ $rc -eq 0 ] && ! getent passwd edgellm >/dev/null && ! getent group edgellm >/dev/null && [ ! -e /etc/edgellm ] &&
   [ ! -e /var/cache/edgellm ] && [ -d /var/lib/edgellm/models ] && echo "$out" | grep -q "kept /var/lib/edgellm" &&
   cmp -s /etc/passwd "$WORK/passwd.orig" && cmp -s /etc/group "$WORK/group.orig"; then
  pass live_purge_removes_user_config_and_cache_but_not_a_full_state_dir
else fail live_purge_removes_user_config_and_cache_but_not_a_full_state_dir "rc=$rc $out"; fi
LIVE
else
  note "not root or no mount namespaces: install.sh's live (non-DESTDIR) path not exercised"
fi

# --- nginx --------------------------------------------------------------------------------------
if ! command -v nginx >/dev/null && [ "$(id -u)" = 0 ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null 2>&1 ||
    { apt-get update -qq >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq nginx-light >/dev/null 2>&1; }
fi
if command -v nginx >/dev/null; then
  ng=$work/nginx; mkdir -p "$ng/logs"
  wrap() {  # a main configuration that includes $1 in its http block, the way conf.d files are
    printf 'pid %s/nginx.pid;\nerror_log %s/logs/error.log;\nevents {}\nhttp {\n  access_log off;\n  include %s;\n}\n' \
      "$ng" "$ng" "$1" > "$ng/main.conf"
    nginx -t -q -p "$ng" -e "$ng/logs/error.log" -c "$ng/main.conf" 2>&1
  }
  if out=$(wrap "$PWD/dist/nginx.conf"); then pass nginx_accepts_dist_nginx_conf
  else fail nginx_accepts_dist_nginx_conf "$out"; fi
  sed 's/least_conn;/least_conns;/' dist/nginx.conf > "$ng/bad.conf"
  if ! wrap "$ng/bad.conf" >/dev/null; then pass nginx_check_rejects_a_broken_copy
  else fail nginx_check_rejects_a_broken_copy "nginx -t accepted an unknown directive"; fi
else
  note "nginx not installed and not installable here: dist/nginx.conf not checked"
fi
missing=""
for d in 'least_conn;' 'proxy_buffering off;' 'proxy_read_timeout 3600s;' 'proxy_http_version 1.1;'; do
  grep -qF "$d" dist/nginx.conf || missing="$missing [$d]"
done
if [ -z "$missing" ]; then pass nginx_conf_balances_by_connections_and_streams_unbuffered
else fail nginx_conf_balances_by_connections_and_streams_unbuffered "$missing"; fi

# --- prometheus.yml and edgellm.env -----------------------------------------------------------
if command -v python3 >/dev/null && python3 -c 'import yaml' 2>/dev/null; then
  if out=$(python3 - <<'PY' 2>&1
import yaml
c = yaml.safe_load(open("dist/prometheus.yml"))
job = [j for j in c["scrape_configs"] if j["job_name"] == "edgellm"][0]
assert job["metrics_path"] == "/metrics", job
targets = [t for s in job["static_configs"] for t in s["targets"]]
assert targets and all(t.rsplit(":", 1)[1].isdigit() for t in targets), targets
PY
  ); then pass prometheus_yml_has_an_edgellm_scrape_job
  else fail prometheus_yml_has_an_edgellm_scrape_job "$out"; fi
else note "python3-yaml missing: prometheus.yml not parsed"; fi

bad=$(grep -vE '^(#.*|[A-Z][A-Z0-9_]*=.*|)$' dist/edgellm.env)
if [ -z "$bad" ] && ! grep -qE '^#?EDGELLM_[A-Z0-9_]*=.* $' dist/edgellm.env; then
  pass env_example_is_a_systemd_environment_file
else fail env_example_is_a_systemd_environment_file "lines: $bad"; fi

# The example must name exactly serve's flags. Until serve prints its flags there is nothing to
# compare with; that is reported without a PASS.
if echo "$help" | grep -qE '^ +(-[a-zA-Z], )?--[a-z]'; then
  flags=$(echo "$help" | grep -oE '^ +(-[a-zA-Z], )?--[a-z][a-z0-9-]*' | grep -oE -- '--[a-z][a-z0-9-]*' |
          grep -vxE -- '--(help|version)' | sed 's/^--//' | tr 'a-z-' 'A-Z_' | sed 's/^/EDGELLM_/' | sort -u)
  vars=$(grep -oE '^#?EDGELLM_[A-Z0-9_]+' dist/edgellm.env | tr -d '#' | sort -u)
  if [ "$flags" = "$vars" ]; then pass env_example_lists_every_serve_flag
  else fail env_example_lists_every_serve_flag "$(diff <(echo "$flags") <(echo "$vars") | grep '^[<>]' | tr '\n' ' ')"; fi
else
  note "edgellm serve --help lists no flags in this build: env example not compared with serve's flags"
fi
