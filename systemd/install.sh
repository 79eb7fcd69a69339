#!/usr/bin/env bash
# Installs the assistant as a systemd service, or removes it. Safe to run again.
#
#   sudo bash systemd/install.sh              install or update
#   sudo bash systemd/install.sh --uninstall  remove; keeps the audit log in /var/lib/assistant
#   bash systemd/install.sh --print-unit      the unit as it would be installed
#
# Install: the system user 'assistant' (in group audio), a virtual environment in
# /opt/assistant/venv, /etc/assistant/config.toml (an existing one is kept), and
# /etc/systemd/system/assistant.service, enabled and (re)started when systemd runs.
set -euo pipefail

SOURCE="$(cd "$(dirname "$0")/.." && pwd)"
PREFIX="${ASSISTANT_PREFIX:-/opt/assistant}"
VENV="$PREFIX/venv"
CONFIG_DIR="${ASSISTANT_CONFIG_DIR:-/etc/assistant}"
CONFIG="$CONFIG_DIR/config.toml"
UNIT="${ASSISTANT_UNIT_DIR:-/etc/systemd/system}/assistant.service"
STATE="/var/lib/assistant"
CACHE="/var/cache/assistant"
SERVICE_USER="assistant"

say() { printf 'install: %s\n' "$*"; }

print_unit() {
  sed -e "s#@VENV@#$VENV#g" -e "s#@CONFIG@#$CONFIG#g" "$SOURCE/systemd/assistant.service.in"
}

systemd_running() { [ -d /run/systemd/system ]; }

# The unit allows loopback only; a hub's satellites ([satellites.<name>] uri) are added in a
# drop-in, by address, and nothing else is: the exposure score stays as it was.
allow_satellites() {
  local dropin="${UNIT}.d/satellites.conf" hosts
  hosts=$("$VENV/bin/assistant" --config "$CONFIG" config show --json 2>/dev/null |
    "$VENV/bin/python" -c 'import json, sys, urllib.parse
config = json.load(sys.stdin)
for section in (config.get("satellites") or {}).values():
    print(urllib.parse.urlparse(section["uri"]).hostname or "")' |
    while read -r host; do
      [ -n "$host" ] && getent ahosts "$host" | awk '{print $1}' | sort -u
    done | sort -u | tr '\n' ' ')
  if [ -z "${hosts// }" ]; then
    rm -f "$dropin"
    return
  fi
  install -d -m 0755 "${UNIT}.d"
  printf '[Service]\n# written by install.sh from [satellites.*] in %s\nIPAddressAllow=%s\n' \
    "$CONFIG" "$hosts" > "$dropin"
  say "satellites allowed through the unit's IP filter: $hosts"
}

need_root() {
  if [ "$(id -u)" != 0 ]; then
    echo "install: run it as root (sudo bash $0 $*)" >&2
    exit 1
  fi
}

install_service() {
  need_root
  if getent passwd "$SERVICE_USER" >/dev/null; then
    say "user $SERVICE_USER exists"
  else
    getent group audio >/dev/null || groupadd --system audio
    useradd --system --user-group --groups audio --home-dir "$STATE" --no-create-home \
      --shell /usr/sbin/nologin --comment "offline voice assistant" "$SERVICE_USER"
    say "created system user $SERVICE_USER (groups: $SERVICE_USER, audio)"
  fi
  usermod -a -G audio "$SERVICE_USER"

  say "installing into $VENV (llama-cpp-python compiles the first time: ~5 min on 2 cores)"
  mkdir -p "$PREFIX"
  ASSISTANT_VENV="$VENV" bash "$SOURCE/.ci/setup" service
  say "installed $("$VENV/bin/python" -m pip show assistant 2>/dev/null | sed -n 's/^Version: /assistant /p')"

  install -d -m 0755 "$CONFIG_DIR"
  if [ -f "$CONFIG" ]; then
    say "kept the existing $CONFIG"
  else
    install -m 0640 -o root -g "$SERVICE_USER" "$SOURCE/systemd/config.toml" "$CONFIG"
    say "wrote $CONFIG"
  fi
  "$VENV/bin/assistant" config check "$CONFIG"

  # systemd makes these from StateDirectory=/CacheDirectory= too; made here so that a root
  # without a running systemd (a chroot, an image build) is complete.
  install -d -m 0750 -o "$SERVICE_USER" -g "$SERVICE_USER" "$STATE" "$CACHE"
  # An audit log kept by an earlier uninstall may belong to the old user's number.
  chown -R "$SERVICE_USER:$SERVICE_USER" "$STATE" "$CACHE"

  local rendered
  rendered="$(mktemp)"
  print_unit >"$rendered"
  install -D -m 0644 "$rendered" "$UNIT"
  rm -f "$rendered"
  say "wrote $UNIT"
  allow_satellites
  if command -v systemd-analyze >/dev/null; then
    systemd-analyze verify "$UNIT" && say "systemd-analyze verify: clean"
  fi

  if systemd_running; then
    systemctl daemon-reload
    systemctl enable assistant.service
    systemctl restart assistant.service
    say "started; follow it with: journalctl -u assistant -f"
  elif command -v systemctl >/dev/null; then
    systemctl enable assistant.service 2>/dev/null || true
    say "systemd is not running here (container or chroot): enabled, starts at next boot"
  else
    say "systemctl not found: start it by hand with $VENV/bin/assistant serve"
  fi
  say "check the machine with: sudo -u $SERVICE_USER $VENV/bin/assistant doctor"
}

uninstall_service() {
  need_root
  if systemd_running && systemctl list-unit-files assistant.service >/dev/null 2>&1; then
    systemctl disable --now assistant.service 2>/dev/null || true
  elif command -v systemctl >/dev/null; then
    systemctl disable assistant.service 2>/dev/null || true
  fi
  rm -f "$UNIT"
  systemd_running && systemctl daemon-reload
  rm -rf "$VENV" "$CONFIG_DIR" "$CACHE"
  rmdir "$PREFIX" 2>/dev/null || true
  if getent passwd "$SERVICE_USER" >/dev/null; then
    userdel "$SERVICE_USER"
  fi
  say "removed the service, its user, $VENV, $CONFIG_DIR and $CACHE"
  if [ -d "$STATE" ]; then
    say "kept the audit log in $STATE (delete it yourself when it is no longer needed)"
  fi
}

case "${1:-}" in
  "") install_service ;;
  --uninstall) uninstall_service ;;
  --print-unit) print_unit ;;
  *) echo "usage: $0 [--uninstall | --print-unit]" >&2; exit 2 ;;
esac
