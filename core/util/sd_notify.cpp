// sd_notify.cpp — see sd_notify.h. The wire format is systemd's: a datagram of KEY=VALUE lines
// on an AF_UNIX SOCK_DGRAM socket; '@' at the start of the address means the abstract namespace
// (a leading NUL byte in sun_path, address length not NUL-terminated).
#include "core/util/sd_notify.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static void set_err(std::string* err, const std::string& msg) {
    if (err) *err = msg;
}

bool sd_notify_enabled() {
    const char* s = getenv("NOTIFY_SOCKET");
    return s && *s;
}

bool sd_notify_send(const std::string& state, std::string* err) {
    const char* env = getenv("NOTIFY_SOCKET");
    if (!env || !*env) return true;
    std::string path = env;

    sockaddr_un addr;
    memset(&addr, 0, sizeof(addr));
    addr.sun_family = AF_UNIX;
    socklen_t addr_len;
    if (path[0] == '@') {
        // Abstract: sun_path = "\0name", length counts exactly the name bytes after the NUL.
        if (path.size() > sizeof(addr.sun_path)) {
            set_err(err, "NOTIFY_SOCKET abstract name is too long: " + path);
            return false;
        }
        memcpy(addr.sun_path + 1, path.data() + 1, path.size() - 1);
        addr_len = (socklen_t)(offsetof(sockaddr_un, sun_path) + path.size());
    } else if (path[0] == '/') {
        if (path.size() >= sizeof(addr.sun_path)) {
            set_err(err, "NOTIFY_SOCKET path is too long: " + path);
            return false;
        }
        memcpy(addr.sun_path, path.data(), path.size());
        addr_len = (socklen_t)(offsetof(sockaddr_un, sun_path) + path.size() + 1);
    } else {
        // systemd also knows "vsock:CID:PORT" (for VMs); a server on the host never gets one.
        set_err(err, "NOTIFY_SOCKET is neither an absolute path nor an '@' abstract name: " + path);
        return false;
    }

    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd < 0) {
        set_err(err, std::string("NOTIFY_SOCKET: socket(): ") + strerror(errno));
        return false;
    }
    ssize_t n;
    do {
        n = sendto(fd, state.data(), state.size(), MSG_NOSIGNAL, (const sockaddr*)&addr, addr_len);
    } while (n < 0 && errno == EINTR);
    int saved = errno;
    close(fd);
    if (n < 0) {
        set_err(err, "NOTIFY_SOCKET: sendto " + path + ": " + strerror(saved));
        return false;
    }
    if ((size_t)n != state.size()) {
        set_err(err, "NOTIFY_SOCKET: short datagram to " + path);
        return false;
    }
    return true;
}

bool sd_notify_ready(std::string* err) { return sd_notify_send("READY=1", err); }
bool sd_notify_stopping(std::string* err) { return sd_notify_send("STOPPING=1", err); }

bool sd_notify_status(const std::string& text, std::string* err) {
    std::string line = text;
    for (char& c : line)
        if (c == '\n' || c == '\r') c = ' ';
    return sd_notify_send("STATUS=" + line, err);
}

bool sd_notify_extend_timeout(uint64_t usec, std::string* err) {
    return sd_notify_send("EXTEND_TIMEOUT_USEC=" + std::to_string((unsigned long long)usec), err);
}
