// server_http.cpp — the HTTP side of ApiServer: cpp-httplib set-up (thread pool, keep-alive, body
// limit), the API-key check, admission control, OpenAI error bodies for every refusal, client
// liveness, the access log, and the life cycle (bind, serve, shutdown).
#include "core/server/server_impl.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include "core/util/log.h"
#include "core/util/version.h"
#include "core/server/server_json.h"


AccessRecord& access_record() {
    thread_local AccessRecord r;
    return r;
}

// --- client liveness ------------------------------------------------------------------------

static bool sockaddr_matches(const sockaddr_storage& ss, const std::string& addr, int port) {
    char buf[INET6_ADDRSTRLEN] = "";
    int p = -1;
    if (ss.ss_family == AF_INET) {
        const sockaddr_in* a = (const sockaddr_in*)&ss;
        inet_ntop(AF_INET, &a->sin_addr, buf, sizeof buf);
        p = ntohs(a->sin_port);
    } else if (ss.ss_family == AF_INET6) {
        const sockaddr_in6* a = (const sockaddr_in6*)&ss;
        inet_ntop(AF_INET6, &a->sin6_addr, buf, sizeof buf);
        p = ntohs(a->sin6_port);
    }
    return p == port && addr == buf;
}

// httplib does not hand the connection's socket to handlers; it is found among this process's
// descriptors by its two endpoints, which identify it while the handler runs.
ClientConn client_conn(const httplib::Request& req) {
    ClientConn c;
    DIR* d = opendir("/proc/self/fd");
    if (!d) return c;
    int self = dirfd(d);
    while (dirent* e = readdir(d)) {
        int fd = atoi(e->d_name);
        if (fd <= 2 || fd == self) continue;
        struct stat st;
        if (fstat(fd, &st) != 0 || !S_ISSOCK(st.st_mode)) continue;
        sockaddr_storage local{}, peer{};
        socklen_t ll = sizeof local, pl = sizeof peer;
        if (getsockname(fd, (sockaddr*)&local, &ll) != 0 || getpeername(fd, (sockaddr*)&peer, &pl) != 0) continue;
        if (sockaddr_matches(peer, req.remote_addr, req.remote_port) &&
            sockaddr_matches(local, req.local_addr, req.local_port)) {
            c.fd = fd;
            break;
        }
    }
    closedir(d);
    return c;
}

// httplib listens with a backlog of 5 (CPPHTTPLIB_LISTEN_BACKLOG), which drops connections under a
// burst of clients; listen() again on the bound socket raises it to SOMAXCONN.
static void raise_listen_backlog(int port) {
    DIR* d = opendir("/proc/self/fd");
    if (!d) return;
    int self = dirfd(d);
    while (dirent* e = readdir(d)) {
        int fd = atoi(e->d_name);
        if (fd <= 2 || fd == self) continue;
        int listening = 0;
        socklen_t len = sizeof listening;
        if (getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &listening, &len) != 0 || !listening) continue;
        sockaddr_storage local{};
        socklen_t ll = sizeof local;
        if (getsockname(fd, (sockaddr*)&local, &ll) != 0) continue;
        int p = local.ss_family == AF_INET    ? ntohs(((sockaddr_in*)&local)->sin_port)
                : local.ss_family == AF_INET6 ? ntohs(((sockaddr_in6*)&local)->sin6_port) : -1;
        if (p == port) listen(fd, SOMAXCONN);
    }
    closedir(d);
}

bool ClientConn::alive() const {
    if (fd < 0) return true;
    pollfd p{fd, (short)(POLLRDHUP), 0};
    if (poll(&p, 1, 0) < 0) return true;
    return !(p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL));
}

// --- ServerImpl -------------------------------------------------------------------------------

ServerImpl::ServerImpl(const ServerConfig& c, Engine* e, const ServedModel& m)
    : cfg(c), engine(e), model(m), metrics(c.max_model_len), created_unix((int64_t)time(nullptr)) {}

std::string ServerImpl::new_id(const char* prefix) {
    thread_local uint64_t salt = ((uint64_t)time(nullptr) << 20) ^ (uint64_t)(uintptr_t)&salt;
    uint64_t n = next_id.fetch_add(1);
    char buf[64];
    snprintf(buf, sizeof buf, "%s-%016llx%08llx", prefix, (unsigned long long)(salt * 0x9e3779b97f4a7c15ull ^ n),
             (unsigned long long)n);
    return buf;
}

void ServerImpl::reply_error(httplib::Response& res, int status, const std::string& message, const std::string& param) {
    res.status = status;
    res.set_content(openai_error_body(status, message, param), "application/json");
}

bool ServerImpl::authorized(const httplib::Request& req) const {
    if (cfg.api_key.empty()) return true;
    std::string want = "Bearer " + cfg.api_key;
    std::string got = req.get_header_value("Authorization");
    // Constant time in the content: every byte of the longer string is looked at.
    size_t n = std::max(want.size(), got.size());
    unsigned diff = (unsigned)(want.size() ^ got.size());
    for (size_t i = 0; i < n; i++) {
        unsigned char a = i < want.size() ? (unsigned char)want[i] : 0;
        unsigned char b = i < got.size() ? (unsigned char)got[i] : 0;
        diff |= (unsigned)(a ^ b);
    }
    return diff == 0;
}

bool ServerImpl::guard(const httplib::Request& req, httplib::Response& res) {
    if (!authorized(req)) {
        reply_error(res, 401, "Unauthorized: a valid API key is required (Authorization: Bearer <key>).");
        return false;
    }
    // Bodies sent chunked are not bounded by httplib's Content-Length check.
    if (req.body.size() > cfg.max_request_bytes) {
        reply_error(res, 413, "Request body too large: limit is " + std::to_string(cfg.max_request_bytes) +
                                  " bytes (--max-request-bytes).");
        return false;
    }
    return true;
}

bool ServerImpl::check_model(const std::string& name, httplib::Response& res) {
    if (name.empty() || name == cfg.served_model_name) return true;
    reply_error(res, 404, "The model `" + name + "` does not exist.", "model");
    return false;
}

std::shared_ptr<AdmissionSlot> ServerImpl::admit(httplib::Response& res) {
    if (shutting_down) {
        metrics.record_rejected("shutting_down");
        res.set_header("Retry-After", "1");  // another instance behind the balancer can take it
        reply_error(res, 503, "The server is shutting down and accepts no new requests.");
        return nullptr;
    }
    int limit = cfg.max_num_seqs + cfg.max_waiting_requests;
    int n = ++inflight;
    if (n > limit) {
        --inflight;
        metrics.record_rejected("queue_full");
        res.set_header("Retry-After", "1");
        reply_error(res, 429, "Too many requests: " + std::to_string(limit) +
                                  " are running or waiting (--max-num-seqs + --max-waiting-requests). Retry later.");
        return nullptr;
    }
    metrics.add_inflight(1);
    auto slot = std::make_shared<AdmissionSlot>();
    slot->inflight = &inflight;
    slot->metrics = &metrics;
    return slot;
}

void ServerImpl::track(int64_t id) {
    std::lock_guard<std::mutex> lk(live_mu);
    live.insert(id);
}

void ServerImpl::untrack(int64_t id) {
    std::lock_guard<std::mutex> lk(live_mu);
    live.erase(id);
}

// The route table: every path the server answers, registered from here and named from here in
// the access log (anything else is "other").
struct Route {
    const char* method;  // "GET" | "POST"
    const char* path;
    void (ServerImpl::*handler)(const httplib::Request&, httplib::Response&);
};
static const Route kRoutes[] = {
    {"POST", "/v1/completions", &ServerImpl::route_completions},
    {"POST", "/v1/chat/completions", &ServerImpl::route_chat},
    {"GET", "/v1/models", &ServerImpl::route_models},
    {"GET", "/metrics", &ServerImpl::route_metrics},
    {"POST", "/tokenize", &ServerImpl::route_tokenize},
    {"POST", "/detokenize", &ServerImpl::route_detokenize},
    {"GET", "/health", &ServerImpl::route_health},
    {"GET", "/version", &ServerImpl::route_version},
};

static std::string route_name(const std::string& path) {
    for (const Route& r : kRoutes)
        if (path == r.path) return path;
    return "other";
}

// The method the route table has for path, or nullptr when the path is not a route.
static const char* route_method(const std::string& path) {
    for (const Route& r : kRoutes)
        if (path == r.path) return r.method;
    return nullptr;
}

static bool has_item(const std::vector<std::string>& v, const std::string& x) {
    for (const std::string& e : v)
        if (e == x) return true;
    return false;
}
static std::string join_items(const std::vector<std::string>& v) {
    std::string out;
    for (const std::string& e : v) out += (out.empty() ? "" : ", ") + e;
    return out;
}

// CORS (only with --allowed-origins): a preflight (OPTIONS with Access-Control-Request-Method)
// from an allowed origin is answered here, 200 with what it may do, or 400 when its origin or
// method is not allowed; any other request from an allowed origin gets Allow-Origin on its
// answer. Returns true when it answered.
static bool cors_handle(const ServerConfig& cfg, const httplib::Request& req, httplib::Response& res) {
    if (cfg.allowed_origins.empty()) return false;
    const std::string origin = req.get_header_value("Origin");
    if (origin.empty()) return false;
    const bool any = has_item(cfg.allowed_origins, "*");
    const bool allowed = any || has_item(cfg.allowed_origins, origin);
    const bool preflight = req.method == "OPTIONS" && req.has_header("Access-Control-Request-Method");
    auto allow_origin = [&] {
        res.set_header("Access-Control-Allow-Origin", any && !cfg.allow_credentials ? "*" : origin);
        if (!any || cfg.allow_credentials) res.set_header("Vary", "Origin");
        if (cfg.allow_credentials) res.set_header("Access-Control-Allow-Credentials", "true");
    };
    if (!preflight) {
        if (allowed) allow_origin();
        return false;
    }
    const std::string method = req.get_header_value("Access-Control-Request-Method");
    const bool any_method = has_item(cfg.allowed_methods, "*");
    if (!allowed || !(any_method || has_item(cfg.allowed_methods, method))) {
        res.status = 400;
        res.set_content(!allowed ? "Disallowed CORS origin" : "Disallowed CORS method", "text/plain");
        return true;
    }
    allow_origin();
    res.set_header("Access-Control-Allow-Methods",
                   any_method ? "DELETE, GET, HEAD, OPTIONS, PATCH, POST, PUT" : join_items(cfg.allowed_methods));
    const std::string asked = req.get_header_value("Access-Control-Request-Headers");
    if (has_item(cfg.allowed_headers, "*")) {
        if (!asked.empty()) res.set_header("Access-Control-Allow-Headers", asked);
    } else {
        res.set_header("Access-Control-Allow-Headers", join_items(cfg.allowed_headers));
    }
    res.set_header("Access-Control-Max-Age", "600");
    res.status = 200;
    return true;
}

void ServerImpl::setup() {
    int threads = cfg.http_threads > 0 ? cfg.http_threads : cfg.max_num_seqs + cfg.max_waiting_requests + 16;
    GateConfig g;
    g.workers = threads;
    g.max_connections = cfg.max_connections;
    g.header_timeout_s = cfg.client_header_timeout_s;
    g.body_timeout_s = cfg.client_body_timeout_s;
    g.keep_alive_s = 5;
    g.max_request_bytes = cfg.max_request_bytes;
    http.configure_gate(g);
    http.set_payload_max_length(cfg.max_request_bytes);
    http.set_tcp_nodelay(true);  // SSE chunks leave at once, not when Nagle releases them
    http.set_keep_alive_max_count(1000);
    http.set_keep_alive_timeout(5);
    http.set_read_timeout(30);
    http.set_write_timeout(30);

    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
        AccessRecord& rec = access_record();
        rec = AccessRecord();
        rec.start = Clock::now();
        return cors_handle(cfg, req, res) ? httplib::Server::HandlerResponse::Handled
                                          : httplib::Server::HandlerResponse::Unhandled;
    });
    http.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request& req, httplib::Response& res) {
        if (!res.body.empty()) return httplib::Server::HandlerResponse::Unhandled;
        if (res.status == 413)
            reply_error(res, 413, "Request body too large: limit is " + std::to_string(cfg.max_request_bytes) +
                                      " bytes (--max-request-bytes).");
        else if (res.status == 404 && route_method(req.path)) {  // a route, asked with another method
            res.set_header("Allow", route_method(req.path));
            reply_error(res, 405, "Method not allowed: " + req.method + " " + req.path + " (allowed: " +
                                      route_method(req.path) + ")");
        } else if (res.status == 404)
            reply_error(res, 404, "Not found: " + req.method + " " + req.path);
        else if (res.status == 405)
            reply_error(res, 405, "Method not allowed: " + req.method + " " + req.path);
        else
            reply_error(res, res.status, res.status == 400 ? "Bad request" : "Error " + std::to_string(res.status));
        return httplib::Server::HandlerResponse::Handled;
    }));
    http.set_exception_handler([this](const httplib::Request&, httplib::Response& res, std::exception_ptr) {
        reply_error(res, 500, "internal error while handling the request");
    });
    http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
        metrics.record_http(res.status);
        if (!cfg.access_log) return;
        const AccessRecord& r = access_record();
        double total_ms = seconds_since(r.start) * 1e3;
        log_info("access %s %s %s status=%d id=%s prompt_tokens=%d gen_tokens=%d ttft_ms=%.1f total_ms=%.1f",
                 req.remote_addr.c_str(), req.method.c_str(), route_name(req.path).c_str(), res.status,
                 r.id.empty() ? "-" : r.id.c_str(), r.prompt_tokens, r.gen_tokens, r.ttft_ms, total_ms);
    });

    for (const Route& route : kRoutes) {
        auto handler = [this, h = route.handler](const httplib::Request& q, httplib::Response& r) { (this->*h)(q, r); };
        if (route.method[0] == 'G') http.Get(route.path, handler);
        else http.Post(route.path, handler);
    }
}

void ServerImpl::route_health(const httplib::Request&, httplib::Response& res) {
    if (shutting_down) {
        res.set_header("Retry-After", "1");
        reply_error(res, 503, "shutting down");
    }
    else res.status = 200;
}

void ServerImpl::route_version(const httplib::Request&, httplib::Response& res) {
    res.set_content(std::string("{\"version\":\"") + EDGELLM_VERSION + "\"}", "application/json");
}

// --- ApiServer --------------------------------------------------------------------------------

ApiServer::ApiServer(const ServerConfig& cfg, Engine* engine, const ServedModel& model)
    : impl_(new ServerImpl(cfg, engine, model)) {
    impl_->setup();
}

ApiServer::~ApiServer() { stop(); }

bool ApiServer::bind(std::string* err) {
    ServerImpl& s = *impl_;
    if (s.cfg.port == 0) {
        s.port = s.http.bind_to_any_port(s.cfg.host);
    } else {
        s.port = s.http.bind_to_port(s.cfg.host, s.cfg.port) ? s.cfg.port : -1;
    }
    if (s.port <= 0) {
        *err = "cannot listen on " + s.cfg.host + ":" + std::to_string(s.cfg.port) + " (address in use or not local?)";
        return false;
    }
    raise_listen_backlog(s.port);
    return true;
}

int ApiServer::bound_port() const { return impl_->port; }
bool ApiServer::serve() {
    impl_->http.start_gate();
    return impl_->http.listen_after_bind();
}
void ApiServer::begin_shutdown() { impl_->shutting_down = true; }
int ApiServer::n_inflight() const { return impl_->inflight.load(); }

void ApiServer::abort_all() {
    std::vector<int64_t> ids;
    {
        std::lock_guard<std::mutex> lk(impl_->live_mu);
        ids.assign(impl_->live.begin(), impl_->live.end());
    }
    for (int64_t id : ids) impl_->engine->abort(id);
}

void ApiServer::stop() {
    if (impl_->http.is_running()) impl_->http.stop();
    impl_->http.stop_gate();
}
