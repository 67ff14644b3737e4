// Tests for core/util/sd_notify: datagrams reach a socket bound the way systemd binds its notify
// socket (filesystem path and abstract namespace), and the no-op / failure paths.
#include <gtest/gtest.h>
#include <poll.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <string>
#include "core/util/sd_notify.h"

namespace {

// A datagram socket standing in for systemd's notify socket. name starting with '@' binds in
// the abstract namespace, otherwise at that filesystem path.
struct FakeSystemd {
    int fd = -1;
    std::string name;
    explicit FakeSystemd(const std::string& n) : name(n) {
        fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        sockaddr_un addr;
        memset(&addr, 0, sizeof(addr));
        addr.sun_family = AF_UNIX;
        socklen_t len;
        if (name[0] == '@') {
            memcpy(addr.sun_path + 1, name.data() + 1, name.size() - 1);
            len = (socklen_t)(offsetof(sockaddr_un, sun_path) + name.size());
        } else {
            unlink(name.c_str());
            memcpy(addr.sun_path, name.data(), name.size());
            len = (socklen_t)sizeof(addr);
        }
        if (bind(fd, (sockaddr*)&addr, len) != 0) { close(fd); fd = -1; }
    }
    ~FakeSystemd() {
        if (fd >= 0) close(fd);
        if (name[0] != '@') unlink(name.c_str());
    }
    // Next datagram within timeout_ms, or "<none>".
    std::string recv_one(int timeout_ms = 2000) {
        pollfd p = {fd, POLLIN, 0};
        if (poll(&p, 1, timeout_ms) != 1) return "<none>";
        char buf[4096];
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        return n < 0 ? "<error>" : std::string(buf, (size_t)n);
    }
};

class SdNotify : public ::testing::Test {
  protected:
    std::string saved;
    bool had = false;
    void SetUp() override {
        const char* s = getenv("NOTIFY_SOCKET");
        had = s != nullptr;
        if (had) saved = s;
    }
    void TearDown() override {
        if (had) setenv("NOTIFY_SOCKET", saved.c_str(), 1);
        else unsetenv("NOTIFY_SOCKET");
    }
};

std::string unique_name(const char* tag) {
    return std::string("edgellm-sdn-") + tag + "-" + std::to_string(getpid());
}

}  // namespace

TEST_F(SdNotify, path_socket_receives_ready_then_stopping) {
    std::string path = "/tmp/" + unique_name("path") + ".sock";
    FakeSystemd sd(path);
    ASSERT_GE(sd.fd, 0) << "bind " << path;
    setenv("NOTIFY_SOCKET", path.c_str(), 1);
    EXPECT_TRUE(sd_notify_enabled());
    std::string err;
    EXPECT_TRUE(sd_notify_ready(&err)) << err;
    EXPECT_TRUE(sd_notify_stopping(&err)) << err;
    EXPECT_EQ(sd.recv_one(), "READY=1");
    EXPECT_EQ(sd.recv_one(), "STOPPING=1");
    EXPECT_EQ(sd.recv_one(50), "<none>");
}

TEST_F(SdNotify, abstract_socket_receives_ready_then_stopping) {
    std::string name = "@" + unique_name("abs");
    FakeSystemd sd(name);
    ASSERT_GE(sd.fd, 0) << "bind " << name;
    setenv("NOTIFY_SOCKET", name.c_str(), 1);
    std::string err;
    EXPECT_TRUE(sd_notify_ready(&err)) << err;
    EXPECT_TRUE(sd_notify_stopping(&err)) << err;
    EXPECT_EQ(sd.recv_one(), "READY=1");
    EXPECT_EQ(sd.recv_one(), "STOPPING=1");
}

TEST_F(SdNotify, abstract_name_is_not_confused_with_a_longer_name_sharing_its_prefix) {
    // The address length must be exactly the name: a socket bound to name+"x" gets nothing.
    std::string name = "@" + unique_name("len");
    FakeSystemd longer(name + "x");
    FakeSystemd exact(name);
    ASSERT_GE(longer.fd, 0);
    ASSERT_GE(exact.fd, 0);
    setenv("NOTIFY_SOCKET", name.c_str(), 1);
    EXPECT_TRUE(sd_notify_ready(nullptr));
    EXPECT_EQ(exact.recv_one(), "READY=1");
    EXPECT_EQ(longer.recv_one(50), "<none>");
}

TEST_F(SdNotify, status_and_extend_timeout_are_single_line_assignments) {
    std::string path = "/tmp/" + unique_name("status") + ".sock";
    FakeSystemd sd(path);
    ASSERT_GE(sd.fd, 0);
    setenv("NOTIFY_SOCKET", path.c_str(), 1);
    EXPECT_TRUE(sd_notify_status("loading weights\n(3 of 7 shards)"));
    EXPECT_TRUE(sd_notify_extend_timeout(90000000));
    EXPECT_EQ(sd.recv_one(), "STATUS=loading weights (3 of 7 shards)");
    EXPECT_EQ(sd.recv_one(), "EXTEND_TIMEOUT_USEC=90000000");
}

TEST_F(SdNotify, without_notify_socket_calls_succeed_and_send_nothing) {
    std::string path = "/tmp/" + unique_name("unset") + ".sock";
    FakeSystemd sd(path);
    ASSERT_GE(sd.fd, 0);
    unsetenv("NOTIFY_SOCKET");
    EXPECT_FALSE(sd_notify_enabled());
    std::string err;
    EXPECT_TRUE(sd_notify_ready(&err));
    EXPECT_TRUE(sd_notify_stopping(&err));
    EXPECT_TRUE(err.empty());
    setenv("NOTIFY_SOCKET", "", 1);
    EXPECT_FALSE(sd_notify_enabled());
    EXPECT_TRUE(sd_notify_ready(&err));
    EXPECT_EQ(sd.recv_one(50), "<none>");
}

TEST_F(SdNotify, relative_path_is_refused_with_a_message) {
    setenv("NOTIFY_SOCKET", "run/notify.sock", 1);
    std::string err;
    EXPECT_FALSE(sd_notify_ready(&err));
    EXPECT_NE(err.find("run/notify.sock"), std::string::npos) << err;
}

TEST_F(SdNotify, missing_socket_file_fails_with_a_message) {
    std::string path = "/tmp/" + unique_name("missing") + ".sock";
    unlink(path.c_str());
    setenv("NOTIFY_SOCKET", path.c_str(), 1);
    std::string err;
    EXPECT_FALSE(sd_notify_ready(&err));
    EXPECT_NE(err.find(path), std::string::npos) << err;
}

TEST_F(SdNotify, overlong_path_is_refused) {
    std::string path = "/tmp/" + std::string(200, 'a');
    setenv("NOTIFY_SOCKET", path.c_str(), 1);
    std::string err;
    EXPECT_FALSE(sd_notify_ready(&err));
    EXPECT_NE(err.find("too long"), std::string::npos) << err;
}
