// server_gate.h — the front of the HTTP server, so that no slow or idle client can hold a
// worker. httplib's accept loop hands every new connection to the gate (one epoll thread) instead
// of a worker; the gate looks at what has arrived without consuming it (MSG_PEEK) and passes the
// connection to a worker only once a whole request is there: the head, and the body its
// Content-Length names (or 64 KiB of it: a client that fast is not slow). Meanwhile:
//   - more than max_connections open: 503 (Retry-After: 1) at once;
//   - a head not complete within header_timeout_s, or a body that stops growing for
//     body_timeout_s (nginx's client_header_timeout / client_body_timeout, 60 s each): 408;
//   - a Content-Length above max_request_bytes: 413 before any of the body is read;
//   - a head over 64 KiB: 431;
//   - GET /health, /metrics and /version go to a lane of their own (2 threads), so they answer
//     while every request worker is busy generating.
// Requests go to the worker that went idle last (a stack, not a queue): with hundreds of worker
// threads (one per request that may stream at once), a steady load then runs on as many threads
// as it has requests in flight, and the memory that each thread's allocator keeps stays bounded
// by that, not by the pool size. After a request the worker gives a keep-alive connection back
// to the gate, which closes it
// when idle for keep_alive_s. Chunked request bodies are passed on once the head is complete;
// pipelined requests are not supported (what a worker reads past one request is dropped).
#pragma once
#include <stddef.h>
#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include "httplib.h"

class LifoPool;  // the request workers, last idle first (lifo_pool.h)

struct GateConfig {
    int max_connections = 8192;
    double header_timeout_s = 60;
    double body_timeout_s = 60;
    double keep_alive_s = 5;
    size_t max_request_bytes = 8u << 20;
    int workers = 64;
};

class GatedServer : public httplib::Server {
public:
    GatedServer();
    ~GatedServer() override;
    void configure_gate(const GateConfig& g) { gate_cfg_ = g; }
    // Starts the gate thread and the worker lanes; then listen_after_bind() as usual.
    void start_gate();
    // Stops the gate and the lanes and closes every connection they hold (after stop()).
    void stop_gate();
    int gate_connections() const { return n_open_.load(); }

private:
    struct Conn {
        double opened = 0, deadline = 0;  // seconds (monotonic)
        size_t seen = 0;                  // bytes peeked so far (progress)
        int requests = 0;                 // served on this connection
        bool head_done = false;
        bool lingering = false;           // answered with an error: reading what the client still sends
    };
    bool process_and_close_socket(socket_t sock) override;
    void gate_loop();
    void watch(socket_t sock, const Conn& c);
    void check(socket_t sock);
    void serve_one(socket_t sock, Conn c);
    // Answers status and closes: at once (503), or after reading what the client still sends for
    // up to 5 s (a lingering close, as nginx does, so that the client reads the answer instead of
    // a reset).
    void reject(socket_t sock, int status, const char* reason, const char* message);
    void close_conn(socket_t sock);

    GateConfig gate_cfg_;
    int epfd_ = -1, wake_fd_ = -1;
    std::thread gate_thread_;
    std::atomic<bool> gate_stop_{false};
    std::atomic<int> n_open_{0};
    std::mutex mu_;
    std::unordered_map<socket_t, Conn> conns_;  // connections the gate holds (not the workers')
    std::unique_ptr<LifoPool> workers_;
    std::unique_ptr<httplib::ThreadPool> lane_;
};
