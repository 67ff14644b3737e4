// Tests for core/util/numa: sysfs parsing on a fake tree (cpulist ranges, numa_node = -1, missing
// files, malformed PCI ids), and binding that really changes this process's CPU affinity and
// memory policy (restored after each test).
#include <gtest/gtest.h>
#include <dirent.h>
#include <linux/mempolicy.h>
#include <sched.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <atomic>
#include <fstream>
#include <string>
#include <thread>
#include <vector>
#include "core/util/numa.h"

namespace {

// A throw-away sysfs tree under /tmp.
struct FakeSysfs {
    std::string root;
    FakeSysfs() {
        char tmpl[] = "/tmp/edgellm-sysfs-XXXXXX";
        root = mkdtemp(tmpl);
    }
    ~FakeSysfs() { std::system(("rm -rf '" + root + "'").c_str()); }
    void write(const std::string& rel, const std::string& text) {
        std::string path = root + "/" + rel;
        std::system(("mkdir -p '" + path.substr(0, path.rfind('/')) + "'").c_str());
        std::ofstream(path) << text;
    }
    void gpu(const std::string& id, const std::string& numa_node) {
        write("bus/pci/devices/" + id + "/numa_node", numa_node);
    }
    void node(int n, const std::string& cpulist) {
        write("devices/system/node/node" + std::to_string(n) + "/cpulist", cpulist);
    }
};

std::vector<int> cpus_of(const cpu_set_t& set) {
    std::vector<int> v;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, &set)) v.push_back(c);
    return v;
}

std::vector<int> affinity_of(pid_t tid) {
    cpu_set_t set;
    CPU_ZERO(&set);
    EXPECT_EQ(sched_getaffinity(tid, sizeof(set), &set), 0);
    return cpus_of(set);
}

std::vector<int> thread_ids() {
    std::vector<int> ids;
    DIR* d = opendir("/proc/self/task");
    while (dirent* e = d ? readdir(d) : nullptr)
        if (e->d_name[0] != '.') ids.push_back(atoi(e->d_name));
    if (d) closedir(d);
    return ids;
}

// Saves this process's CPU affinity and memory policy, restores both in TearDown.
class NumaBinding : public ::testing::Test {
  protected:
    cpu_set_t saved;
    void SetUp() override { ASSERT_EQ(sched_getaffinity(0, sizeof(saved), &saved), 0); }
    void TearDown() override {
        for (int tid : thread_ids()) sched_setaffinity(tid, sizeof(saved), &saved);
        syscall(SYS_set_mempolicy, MPOL_DEFAULT, nullptr, 0UL);
    }
};

}  // namespace

TEST(NumaParse, cpulist_ranges_and_singletons_expand_in_order) {
    std::vector<int> cpus;
    std::string err;
    ASSERT_TRUE(numa_parse_cpulist("0-3,8-11\n", &cpus, &err)) << err;
    EXPECT_EQ(cpus, (std::vector<int>{0, 1, 2, 3, 8, 9, 10, 11}));
    ASSERT_TRUE(numa_parse_cpulist("5", &cpus, &err)) << err;
    EXPECT_EQ(cpus, (std::vector<int>{5}));
    ASSERT_TRUE(numa_parse_cpulist("64-65,1,3-3", &cpus, &err)) << err;
    EXPECT_EQ(cpus, (std::vector<int>{1, 3, 64, 65}));
}

TEST(NumaParse, empty_cpulist_is_a_node_without_cpus) {
    std::vector<int> cpus = {7};
    std::string err;
    ASSERT_TRUE(numa_parse_cpulist("\n", &cpus, &err)) << err;
    EXPECT_TRUE(cpus.empty());
}

TEST(NumaParse, malformed_cpulists_are_refused) {
    std::vector<int> cpus;
    for (const char* bad : {"3-1", "a", "0-", "-1", "0,,1", "0-3,", "1 2", "0-3:2", "99999"}) {
        std::string err;
        EXPECT_FALSE(numa_parse_cpulist(bad, &cpus, &err)) << bad;
        EXPECT_NE(err.find("cpulist"), std::string::npos) << bad << ": " << err;
    }
}

TEST(NumaParse, cpulist_formatting_compresses_runs) {
    EXPECT_EQ(numa_format_cpulist({0, 1, 2, 3, 8, 10, 11}), "0-3,8,10-11");
    EXPECT_EQ(numa_format_cpulist({}), "");
}

TEST(NumaParse, pci_bus_ids_are_normalised_to_sysfs_names) {
    std::string id, err;
    ASSERT_TRUE(numa_normalize_pci_bus_id("0000:3B:00.0", &id, &err)) << err;
    EXPECT_EQ(id, "0000:3b:00.0");
    ASSERT_TRUE(numa_normalize_pci_bus_id("00000000:AF:1f.7", &id, &err)) << err;  // nvidia-smi
    EXPECT_EQ(id, "0000:af:1f.7");
    ASSERT_TRUE(numa_normalize_pci_bus_id("3b:00.0", &id, &err)) << err;
    EXPECT_EQ(id, "0000:3b:00.0");
    ASSERT_TRUE(numa_normalize_pci_bus_id("10000:01:00.0", &id, &err)) << err;  // VMD domains
    EXPECT_EQ(id, "10000:01:00.0");
}

TEST(NumaParse, malformed_pci_bus_ids_are_refused) {
    for (const char* bad : {"", "3b", "0000:3b:00", "0000:3g:00.0", "0000:3b:20.0", "0000:3b:00.8",
                            "0000:3b:00:00.0", "../../0:00.0", "0000:123:00.0"}) {
        std::string id, err;
        EXPECT_FALSE(numa_normalize_pci_bus_id(bad, &id, &err)) << bad;
        EXPECT_NE(err.find("PCI bus id"), std::string::npos) << bad << ": " << err;
    }
}

TEST(NumaParse, numa_setting_accepts_auto_off_and_node_numbers_only) {
    NumaSetting s;
    std::string err;
    ASSERT_TRUE(numa_parse_setting("off", &s, &err));
    EXPECT_EQ(s.mode, NUMA_OFF);
    ASSERT_TRUE(numa_parse_setting("auto", &s, &err));
    EXPECT_EQ(s.mode, NUMA_AUTO);
    ASSERT_TRUE(numa_parse_setting("3", &s, &err));
    EXPECT_EQ(s.mode, NUMA_NODE);
    EXPECT_EQ(s.node, 3);
    for (const char* bad : {"", "-1", "on", "1,2", "Auto"}) {
        EXPECT_FALSE(numa_parse_setting(bad, &s, &err)) << bad;
        EXPECT_NE(err.find("--numa"), std::string::npos);
    }
}

TEST(NumaSysfs, gpu_node_is_read_through_the_normalised_id) {
    FakeSysfs fs;
    fs.gpu("0000:3b:00.0", "1\n");
    int node = -5;
    std::string err;
    ASSERT_TRUE(numa_read_pci_node(fs.root, "0000:3B:00.0", &node, &err)) << err;
    EXPECT_EQ(node, 1);
}

TEST(NumaSysfs, numa_node_minus_one_means_unknown) {
    FakeSysfs fs;
    fs.gpu("0000:3b:00.0", "-1\n");
    int node = 5;
    std::string err;
    ASSERT_TRUE(numa_read_pci_node(fs.root, "0000:3b:00.0", &node, &err)) << err;
    EXPECT_EQ(node, -1);
}

TEST(NumaSysfs, missing_device_or_node_files_fail_with_the_path) {
    FakeSysfs fs;
    int node;
    std::string err;
    EXPECT_FALSE(numa_read_pci_node(fs.root, "0000:3b:00.0", &node, &err));
    EXPECT_NE(err.find("0000:3b:00.0/numa_node"), std::string::npos) << err;
    std::vector<int> cpus;
    EXPECT_FALSE(numa_read_node_cpus(fs.root, 2, &cpus, &err));
    EXPECT_NE(err.find("node 2 does not exist"), std::string::npos) << err;
    fs.gpu("0000:3b:00.0", "one\n");
    EXPECT_FALSE(numa_read_pci_node(fs.root, "0000:3b:00.0", &node, &err));
    EXPECT_NE(err.find("not a node number"), std::string::npos) << err;
}

TEST_F(NumaBinding, off_changes_nothing) {
    FakeSysfs fs;
    NumaResult res;
    std::string err;
    NumaSetting s;
    s.mode = NUMA_OFF;
    ASSERT_TRUE(numa_apply(s, "0000:3b:00.0", fs.root, &res, &err));
    EXPECT_EQ(res.node, -1);
    EXPECT_FALSE(res.cpus_bound || res.memory_bound);
    EXPECT_EQ(affinity_of(0), cpus_of(saved));
    EXPECT_EQ(res.summary(), "numa: off (no binding)");
}

TEST_F(NumaBinding, auto_without_a_known_node_binds_nothing_and_says_why) {
    FakeSysfs fs;
    fs.gpu("0000:3b:00.0", "-1\n");
    fs.node(0, "0");
    NumaSetting s;  // auto
    std::string err;
    struct Case { const char* id; const char* why; } cases[] = {
        {"0000:3B:00.0", "numa_node = -1"},
        {"0000:af:00.0", "cannot read"},
        {"garbage", "malformed PCI bus id"},
        {"", "no PCI bus id"},
    };
    for (const Case& c : cases) {
        NumaResult res;
        ASSERT_TRUE(numa_apply(s, c.id, fs.root, &res, &err)) << c.id;
        EXPECT_EQ(res.node, -1) << c.id;
        EXPECT_FALSE(res.cpus_bound || res.memory_bound) << c.id;
        EXPECT_NE(res.notes.find(c.why), std::string::npos) << c.id << ": " << res.notes;
        EXPECT_NE(res.summary().find("not bound"), std::string::npos) << res.summary();
    }
    EXPECT_EQ(affinity_of(0), cpus_of(saved));
}

TEST_F(NumaBinding, explicit_node_that_does_not_exist_is_an_error) {
    FakeSysfs fs;
    fs.node(0, "0");
    NumaSetting s;
    s.mode = NUMA_NODE;
    s.node = 7;
    NumaResult res;
    std::string err;
    EXPECT_FALSE(numa_apply(s, "", fs.root, &res, &err));
    EXPECT_NE(err.find("--numa 7"), std::string::npos) << err;
    EXPECT_EQ(affinity_of(0), cpus_of(saved));
}

TEST_F(NumaBinding, auto_binds_every_thread_to_the_gpus_node_cpus_within_the_allowed_set) {
    // The fake GPU's node lists the last CPU we may run on plus one far outside the allowed set;
    // only the allowed one is used. A thread started before binding is moved too.
    std::vector<int> allowed = cpus_of(saved);
    ASSERT_FALSE(allowed.empty());
    int cpu = allowed.back();
    FakeSysfs fs;
    fs.gpu("0000:3b:00.0", "1\n");
    fs.node(1, std::to_string(cpu) + "," + std::to_string(CPU_SETSIZE - 1) + "\n");

    std::atomic<int> other_tid{0};
    std::atomic<bool> stop{false};
    std::thread other([&] {
        other_tid = (int)syscall(SYS_gettid);
        while (!stop) usleep(1000);
    });
    while (!other_tid) usleep(1000);

    NumaResult res;
    std::string err;
    bool ok = numa_apply(NumaSetting(), "0000:3B:00.0", fs.root, &res, &err);
    std::vector<int> main_cpus = affinity_of(0), other_cpus = affinity_of(other_tid);
    stop = true;
    other.join();

    ASSERT_TRUE(ok) << err;
    EXPECT_EQ(res.node, 1);
    EXPECT_EQ(res.source, "GPU 0000:3b:00.0");
    EXPECT_TRUE(res.cpus_bound) << res.notes;
    EXPECT_EQ(res.cpus, std::vector<int>{cpu});
    EXPECT_EQ(main_cpus, std::vector<int>{cpu});
    EXPECT_EQ(other_cpus, std::vector<int>{cpu});
    EXPECT_NE(res.summary().find("threads on CPUs " + std::to_string(cpu)), std::string::npos) << res.summary();
}

TEST_F(NumaBinding, node_with_no_allowed_cpus_leaves_affinity_alone) {
    FakeSysfs fs;
    fs.node(0, std::to_string(CPU_SETSIZE - 1));
    NumaSetting s;
    s.mode = NUMA_NODE;
    s.node = 0;
    NumaResult res;
    std::string err;
    ASSERT_TRUE(numa_apply(s, "", fs.root, &res, &err)) << err;
    EXPECT_FALSE(res.cpus_bound);
    EXPECT_NE(res.notes.find("is allowed to this process"), std::string::npos) << res.notes;
    EXPECT_EQ(affinity_of(0), cpus_of(saved));
}

TEST_F(NumaBinding, real_node0_binds_threads_and_prefers_its_memory) {
    std::vector<int> node_cpus;
    std::string err;
    if (!numa_read_node_cpus("/sys", 0, &node_cpus, &err)) GTEST_SKIP() << "no /sys NUMA tree: " << err;
    std::vector<int> want;
    for (int c : node_cpus)
        if (CPU_ISSET(c, &saved)) want.push_back(c);

    NumaSetting s;
    s.mode = NUMA_NODE;
    s.node = 0;
    NumaResult res;
    ASSERT_TRUE(numa_apply(s, "", "/sys", &res, &err)) << err;
    EXPECT_EQ(res.node, 0);
    if (!want.empty()) {
        EXPECT_TRUE(res.cpus_bound) << res.notes;
        EXPECT_EQ(affinity_of(0), want);
    }
    int mode = -1;
    unsigned long mask[1024 / (8 * sizeof(unsigned long))] = {0};
    if (syscall(SYS_get_mempolicy, &mode, mask, (unsigned long)1024, nullptr, 0UL) == 0) {
        if (res.memory_bound) {
            EXPECT_EQ(mode, MPOL_PREFERRED);
            EXPECT_EQ(mask[0] & 1UL, 1UL);
        } else {
            EXPECT_EQ(mode, MPOL_DEFAULT);
            EXPECT_NE(res.notes.find("set_mempolicy"), std::string::npos) << res.notes;
        }
    } else {
        // The system call is filtered (e.g. by a container's seccomp profile): the set must
        // have failed too, and said so.
        EXPECT_FALSE(res.memory_bound);
        EXPECT_NE(res.notes.find("set_mempolicy"), std::string::npos) << res.notes;
    }
    std::printf("  %s\n", res.summary().c_str());
}
