// server_gate.cpp — see server_gate.h.
#include "core/server/server_gate.h"
#include <errno.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <algorithm>
#include <vector>
#include "core/server/lifo_pool.h"
#include "core/server/server_json.h"
#include "core/util/clock.h"

namespace {

double now_s() { return std::chrono::duration<double>(Clock::now().time_since_epoch()).count(); }

// httplib's accept loop runs the task it makes for a new connection right here, on its own
// thread: the task is GatedServer::process_and_close_socket, which only hands it to the gate.
class InlineQueue : public httplib::TaskQueue {
public:
    void enqueue(std::function<void()> fn) override { fn(); }
    void shutdown() override {}
};

const size_t HEAD_MAX = 64 << 10;   // a longer head: 431
const size_t BODY_FAST = 64 << 10;  // this much body already here: the client is not slow

// What has arrived on a connection, looked at without consuming it.
struct Peek {
    bool closed = false, head = false, complete = false, too_big = false, head_too_big = false;
    bool lane = false;  // GET /health, /metrics or /version
    size_t n = 0;
};

bool starts_route(const char* b, size_t n, const char* route) {
    const size_t k = strlen(route);
    return n > k && memcmp(b, route, k) == 0 && (b[k] == ' ' || b[k] == '?');
}

Peek peek_request(int s, size_t max_body) {
    static thread_local std::vector<char> buf(HEAD_MAX + BODY_FAST);
    Peek p;
    const ssize_t n = recv(s, buf.data(), buf.size(), MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) p.closed = true;
    if (n <= 0) {
        if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) p.closed = true;
        return p;
    }
    p.n = (size_t)n;
    const char* b = buf.data();
    const char* end = (const char*)memmem(b, p.n, "\r\n\r\n", 4);
    if (!end) {
        p.head_too_big = p.n >= HEAD_MAX;
        return p;
    }
    p.head = true;
    const size_t head_len = (size_t)(end - b) + 4;
    long long length = 0;
    bool chunked = false;
    for (const char* line = (const char*)memchr(b, '\n', head_len) + 1; line < end;) {
        const char* eol = (const char*)memchr(line, '\n', (size_t)(end + 2 - line));
        if (!eol) break;
        if (strncasecmp(line, "content-length:", 15) == 0) length = strtoll(line + 15, nullptr, 10);
        else if (strncasecmp(line, "transfer-encoding:", 18) == 0)
            chunked = memmem(line, (size_t)(eol - line), "chunked", 7) != nullptr;
        line = eol + 1;
    }
    if (length < 0 || (size_t)length > max_body) {
        p.too_big = true;
        return p;
    }
    p.lane = starts_route(b, p.n, "GET /health") || starts_route(b, p.n, "GET /metrics") ||
             starts_route(b, p.n, "GET /version");
    const size_t body = p.n - head_len;
    p.complete = chunked || (size_t)length <= body || body >= BODY_FAST;
    return p;
}

}  // namespace

GatedServer::GatedServer() {
    new_task_queue = [] { return new InlineQueue; };
}

GatedServer::~GatedServer() { stop_gate(); }

void GatedServer::start_gate() {
    // thousands of connections need as many descriptors: take the hard limit
    rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    epfd_ = epoll_create1(EPOLL_CLOEXEC);
    wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = wake_fd_;
    epoll_ctl(epfd_, EPOLL_CTL_ADD, wake_fd_, &ev);
    workers_.reset(new LifoPool(std::max(1, gate_cfg_.workers)));
    lane_.reset(new httplib::ThreadPool(2));
    gate_thread_ = std::thread([this] { gate_loop(); });
}

void GatedServer::stop_gate() {
    if (!gate_thread_.joinable()) return;
    gate_stop_ = true;
    uint64_t one = 1;
    if (write(wake_fd_, &one, sizeof one) < 0) {
    }
    gate_thread_.join();
    {
        std::lock_guard<std::mutex> lk(mu_);
        for (auto& kv : conns_) {
            shutdown(kv.first, SHUT_RDWR);
            close(kv.first);
            n_open_--;
        }
        conns_.clear();
    }
    if (workers_) workers_->shutdown();
    if (lane_) lane_->shutdown();
    close(epfd_);
    close(wake_fd_);
}

bool GatedServer::process_and_close_socket(socket_t sock) {
    if (gate_stop_) {
        close(sock);
        return false;
    }
    if (n_open_.load() >= gate_cfg_.max_connections) {
        n_open_++;  // reject counts it down
        reject(sock, 503, "Service Unavailable", "too many open connections; try again");
        return true;
    }
    n_open_++;
    Conn c;
    c.opened = now_s();
    c.deadline = c.opened + gate_cfg_.header_timeout_s;
    watch(sock, c);
    return true;
}

void GatedServer::watch(socket_t sock, const Conn& c) {
    if (gate_stop_) {
        close_conn(sock);
        return;
    }
    {
        std::lock_guard<std::mutex> lk(mu_);
        conns_[sock] = c;
    }
    // edge-triggered: a peek leaves the bytes there, so only new arrivals may wake the gate;
    // Linux reports the readiness a socket already has when it is added
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLET;
    ev.data.fd = sock;
    epoll_ctl(epfd_, EPOLL_CTL_ADD, sock, &ev);
}

void GatedServer::gate_loop() {
    std::vector<epoll_event> evs(512);
    double last_sweep = now_s();
    while (!gate_stop_) {
        const int n = epoll_wait(epfd_, evs.data(), (int)evs.size(), 100);
        for (int i = 0; i < n; i++) {
            if (evs[i].data.fd == wake_fd_) {
                uint64_t v;
                while (read(wake_fd_, &v, sizeof v) > 0) {
                }
                continue;
            }
            check(evs[i].data.fd);
        }
        const double t = now_s();
        if (t - last_sweep < 0.1) continue;
        last_sweep = t;
        std::vector<std::pair<socket_t, bool>> expired;  // (socket, bytes had arrived)
        {
            std::lock_guard<std::mutex> lk(mu_);
            for (auto it = conns_.begin(); it != conns_.end();) {
                if (t > it->second.deadline) {
                    expired.push_back({it->first, it->second.seen > 0 && !it->second.lingering});
                    it = conns_.erase(it);
                } else {
                    ++it;
                }
            }
        }
        for (auto& e : expired) {
            epoll_ctl(epfd_, EPOLL_CTL_DEL, e.first, nullptr);
            if (e.second) reject(e.first, 408, "Request Timeout", "the request did not arrive in time");
            else close_conn(e.first);  // idle: closed without a word, as keep-alive ends
        }
    }
}

void GatedServer::check(socket_t sock) {
    Conn c;
    {
        std::lock_guard<std::mutex> lk(mu_);
        auto it = conns_.find(sock);
        if (it == conns_.end()) return;
        c = it->second;
    }
    auto take = [&] {  // the gate lets go of it
        std::lock_guard<std::mutex> lk(mu_);
        conns_.erase(sock);
        epoll_ctl(epfd_, EPOLL_CTL_DEL, sock, nullptr);
    };
    if (c.lingering) {  // drain and drop until the client closes (or the deadline)
        static thread_local std::vector<char> sink(64 << 10);
        for (;;) {
            const ssize_t r = recv(sock, sink.data(), sink.size(), MSG_DONTWAIT);
            if (r > 0) continue;
            if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return;
            take();
            close_conn(sock);
            return;
        }
    }
    const Peek p = peek_request(sock, gate_cfg_.max_request_bytes);
    const double t = now_s();
    if (p.closed) {
        take();
        close_conn(sock);
        return;
    }
    if (p.head_too_big || p.too_big) {
        take();
        if (p.head_too_big) reject(sock, 431, "Request Header Fields Too Large", "request head larger than 64 KiB");
        else
            reject(sock, 413, "Payload Too Large",
                   ("Request body too large: limit is " + std::to_string(gate_cfg_.max_request_bytes) +
                    " bytes (--max-request-bytes).").c_str());
        return;
    }
    if (!p.complete) {
        if (c.seen == 0 && p.n > 0) c.deadline = t + gate_cfg_.header_timeout_s;  // a request begins
        if (p.head && (!c.head_done || p.n > c.seen)) c.deadline = t + gate_cfg_.body_timeout_s;
        c.head_done = c.head_done || p.head;
        c.seen = std::max(c.seen, p.n);
        std::lock_guard<std::mutex> lk(mu_);
        auto it = conns_.find(sock);
        if (it != conns_.end()) it->second = c;
        return;
    }
    take();
    if (p.lane) lane_->enqueue([this, sock, c] { serve_one(sock, c); });
    else workers_->enqueue([this, sock, c] { serve_one(sock, c); });
}

void GatedServer::serve_one(socket_t sock, Conn c) {
    httplib::detail::SocketStream strm(sock, read_timeout_sec_, read_timeout_usec_, write_timeout_sec_,
                                       write_timeout_usec_);
    c.requests++;
    const bool close_now = gate_stop_ || svr_sock_ == INVALID_SOCKET ||
                           (size_t)c.requests >= keep_alive_max_count_;
    bool closed = false;
    const bool ok = process_request(strm, close_now, closed, nullptr);
    if (!ok || closed || close_now) {
        close_conn(sock);
        return;
    }
    Conn next;
    next.opened = now_s();
    next.deadline = next.opened + gate_cfg_.keep_alive_s;
    next.requests = c.requests;
    watch(sock, next);
}

void GatedServer::reject(socket_t sock, int status, const char* reason, const char* message) {
    const std::string body = openai_error_body(status, message);
    std::string resp = "HTTP/1.1 " + std::to_string(status) + " " + reason +
                       "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) +
                       "\r\nConnection: close\r\n";
    if (status == 503) resp += "Retry-After: 1\r\n";
    resp += "\r\n" + body;
    if (send(sock, resp.data(), resp.size(), MSG_DONTWAIT | MSG_NOSIGNAL) < 0 || status == 503 || gate_stop_) {
        close_conn(sock);
        return;
    }
    shutdown(sock, SHUT_WR);
    Conn c;
    c.opened = now_s();
    c.deadline = c.opened + 5;
    c.lingering = true;
    watch(sock, c);
}

void GatedServer::close_conn(socket_t sock) {
    shutdown(sock, SHUT_RDWR);
    close(sock);
    n_open_--;
}
