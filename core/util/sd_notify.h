// sd_notify.h — systemd's readiness protocol (sd_notify(3)) without libsystemd: one datagram
// per state change to the AF_UNIX socket named by $NOTIFY_SOCKET (a path, or '@name' for the
// abstract namespace). Without the variable every call is a no-op that succeeds, so `serve`
// may call these unconditionally. Used by `serve` with Type=notify units (dist/edgellm.service).
#pragma once
#include <stdint.h>
#include <string>

// Sends `state` (newline-separated KEY=VALUE assignments, e.g. "READY=1\nSTATUS=serving") as one
// datagram. Returns true when sent, or when $NOTIFY_SOCKET is unset or empty (nothing to do).
// Returns false with *err set (err may be null) when the variable is set but unusable (relative
// path, name too long, unsupported scheme) or the send fails; no retry is made and nothing else
// is touched. Never blocks for long: the socket is non-blocking.
bool sd_notify_send(const std::string& state, std::string* err);

// True when $NOTIFY_SOCKET is set and non-empty (i.e. we run under Type=notify).
bool sd_notify_enabled();

// Shorthands: "READY=1", "STOPPING=1", "STATUS=<text>" (newlines in text become spaces),
// "EXTEND_TIMEOUT_USEC=<n>" (asks systemd for n more microseconds of start or stop time,
// for long model loads).
bool sd_notify_ready(std::string* err = nullptr);
bool sd_notify_stopping(std::string* err = nullptr);
bool sd_notify_status(const std::string& text, std::string* err = nullptr);
bool sd_notify_extend_timeout(uint64_t usec, std::string* err = nullptr);
