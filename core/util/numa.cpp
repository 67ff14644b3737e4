// numa.cpp — see numa.h. sysfs formats: numa_node holds one decimal (-1 when unknown);
// cpulist holds comma-separated decimals and ranges "a-b".
#include "core/util/numa.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <linux/mempolicy.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <algorithm>
#include <fstream>
#include <sstream>

static bool set_err(std::string* err, const std::string& msg) {
    if (err) *err = msg;
    return false;
}

static void add_note(NumaResult* res, const std::string& note) {
    if (!res->notes.empty()) res->notes += "; ";
    res->notes += note;
}

// Whole string is a non-negative decimal that fits an int.
static bool parse_uint(const std::string& s, int* out) {
    if (s.empty() || s.size() > 9) return false;
    for (char c : s)
        if (c < '0' || c > '9') return false;
    *out = atoi(s.c_str());
    return true;
}

static bool read_file(const std::string& path, std::string* text) {
    std::ifstream f(path);
    if (!f) return false;
    std::stringstream ss;
    ss << f.rdbuf();
    *text = ss.str();
    return !f.bad();
}

static std::string trim(const std::string& s) {
    size_t a = s.find_first_not_of(" \t\r\n"), b = s.find_last_not_of(" \t\r\n");
    return a == std::string::npos ? "" : s.substr(a, b - a + 1);
}

bool numa_parse_setting(const std::string& text, NumaSetting* out, std::string* err) {
    NumaSetting s = *out;
    if (text == "auto") s.mode = NUMA_AUTO;
    else if (text == "off") s.mode = NUMA_OFF;
    else if (parse_uint(text, &s.node)) s.mode = NUMA_NODE;
    else return set_err(err, "--numa must be auto, off or a node number (got '" + text + "')");
    *out = s;
    return true;
}

static bool hex_field(const std::string& s, size_t min_len, size_t max_len, unsigned long* v) {
    if (s.size() < min_len || s.size() > max_len) return false;
    for (char c : s)
        if (!isxdigit((unsigned char)c)) return false;
    *v = strtoul(s.c_str(), nullptr, 16);
    return true;
}

bool numa_normalize_pci_bus_id(const std::string& text, std::string* out, std::string* err) {
    std::string t = trim(text);
    std::string bad = "malformed PCI bus id '" + text + "' (want domain:bus:device.function)";
    size_t dot = t.rfind('.');
    if (dot == std::string::npos) return set_err(err, bad);
    std::vector<std::string> parts;
    std::string head = t.substr(0, dot);
    size_t i = 0;
    while (true) {
        size_t j = head.find(':', i);
        parts.push_back(head.substr(i, j == std::string::npos ? std::string::npos : j - i));
        if (j == std::string::npos) break;
        i = j + 1;
    }
    if (parts.size() == 2) parts.insert(parts.begin(), "0");
    if (parts.size() != 3) return set_err(err, bad);
    unsigned long domain, bus, dev, fn;
    if (!hex_field(parts[0], 1, 8, &domain) || !hex_field(parts[1], 1, 2, &bus) ||
        !hex_field(parts[2], 1, 2, &dev) || !hex_field(t.substr(dot + 1), 1, 1, &fn) ||
        dev > 0x1f || fn > 7)
        return set_err(err, bad);
    char buf[32];
    snprintf(buf, sizeof(buf), "%04lx:%02lx:%02lx.%lx", domain, bus, dev, fn);
    *out = buf;
    return true;
}

bool numa_parse_cpulist(const std::string& text, std::vector<int>* cpus, std::string* err) {
    std::vector<int> out;
    std::string t = trim(text);
    size_t i = 0;
    while (i < t.size()) {
        size_t j = t.find(',', i);
        if (j == std::string::npos) j = t.size();
        std::string item = t.substr(i, j - i);
        size_t dash = item.find('-');
        int lo = 0, hi = -1;
        bool ok;
        if (dash == std::string::npos) {
            ok = parse_uint(item, &lo);
            hi = lo;
        } else {
            ok = parse_uint(item.substr(0, dash), &lo) && parse_uint(item.substr(dash + 1), &hi);
        }
        if (!ok || hi < lo || hi >= CPU_SETSIZE)
            return set_err(err, "bad cpulist '" + t + "' at '" + item + "'");
        for (int c = lo; c <= hi; c++) out.push_back(c);
        i = j + 1;
        if (j + 1 == t.size()) return set_err(err, "bad cpulist '" + t + "' (trailing comma)");
    }
    std::sort(out.begin(), out.end());
    out.erase(std::unique(out.begin(), out.end()), out.end());
    *cpus = out;
    return true;
}

std::string numa_format_cpulist(const std::vector<int>& cpus) {
    std::string s;
    for (size_t i = 0; i < cpus.size();) {
        size_t j = i;
        while (j + 1 < cpus.size() && cpus[j + 1] == cpus[j] + 1) j++;
        if (!s.empty()) s += ",";
        s += std::to_string(cpus[i]);
        if (j > i) s += "-" + std::to_string(cpus[j]);
        i = j + 1;
    }
    return s;
}

bool numa_read_pci_node(const std::string& sysfs_root, const std::string& pci_bus_id, int* node,
                        std::string* err) {
    std::string id;
    if (!numa_normalize_pci_bus_id(pci_bus_id, &id, err)) return false;
    std::string path = sysfs_root + "/bus/pci/devices/" + id + "/numa_node", text;
    if (!read_file(path, &text)) return set_err(err, "cannot read " + path);
    text = trim(text);
    int v;
    if (text == "-1") v = -1;
    else if (!parse_uint(text, &v)) return set_err(err, path + " holds '" + text + "', not a node number");
    *node = v;
    return true;
}

bool numa_read_node_cpus(const std::string& sysfs_root, int node, std::vector<int>* cpus,
                         std::string* err) {
    std::string path = sysfs_root + "/devices/system/node/node" + std::to_string(node) + "/cpulist";
    std::string text;
    if (!read_file(path, &text)) return set_err(err, "NUMA node " + std::to_string(node) + " does not exist (" + path + ")");
    return numa_parse_cpulist(text, cpus, err);
}

// Sets the affinity of every thread of this process (sched_setaffinity(0) alone would change
// only the calling thread). Threads that exit meanwhile are skipped. False with *err if one
// that exists refuses.
static bool bind_all_threads(const cpu_set_t& set, std::string* err) {
    DIR* d = opendir("/proc/self/task");
    if (!d) {
        if (sched_setaffinity(0, sizeof(set), &set) != 0) return set_err(err, strerror(errno));
        return true;
    }
    bool ok = true;
    while (dirent* e = readdir(d)) {
        int tid;
        if (!parse_uint(e->d_name, &tid)) continue;
        if (sched_setaffinity(tid, sizeof(set), &set) != 0 && errno != ESRCH) {
            int e = errno;
            ok = set_err(err, "thread " + std::to_string(tid) + ": " + strerror(e));
            break;
        }
    }
    closedir(d);
    return ok;
}

bool numa_apply(const NumaSetting& setting, const std::string& pci_bus_id,
                const std::string& sysfs_root, NumaResult* res, std::string* err) {
    *res = NumaResult();
    int node = -1;
    if (setting.mode == NUMA_OFF) {
        res->source = "off";
        return true;
    }
    if (setting.mode == NUMA_NODE) {
        res->source = "--numa " + std::to_string(setting.node);
        node = setting.node;
    } else {
        std::string id, why;
        if (pci_bus_id.empty()) {
            res->source = "GPU";
            add_note(res, "the device has no PCI bus id (CPU platform?)");
            return true;
        }
        if (!numa_normalize_pci_bus_id(pci_bus_id, &id, &why)) {
            res->source = "GPU";
            add_note(res, why);
            return true;
        }
        res->source = "GPU " + id;
        if (!numa_read_pci_node(sysfs_root, id, &node, &why)) {
            add_note(res, why);
            return true;
        }
        if (node < 0) {
            add_note(res, "firmware reports no NUMA node for " + id + " (numa_node = -1)");
            return true;
        }
    }
    res->node = node;

    std::vector<int> node_cpus;
    std::string why;
    if (!numa_read_node_cpus(sysfs_root, node, &node_cpus, &why)) {
        if (setting.mode == NUMA_NODE) return set_err(err, "--numa " + std::to_string(node) + ": " + why);
        add_note(res, why);
        res->node = -1;
        return true;
    }

    // CPUs: the node's, within what we were allowed already (taskset, CPUAffinity=, cpusets).
    cpu_set_t allowed, set;
    CPU_ZERO(&allowed);
    CPU_ZERO(&set);
    if (sched_getaffinity(0, sizeof(allowed), &allowed) != 0) CPU_ZERO(&allowed);
    for (int c : node_cpus)
        if (CPU_ISSET(c, &allowed)) {
            CPU_SET(c, &set);
            res->cpus.push_back(c);
        }
    if (node_cpus.empty()) {
        add_note(res, "node " + std::to_string(node) + " has no CPUs");
    } else if (res->cpus.empty()) {
        add_note(res, "none of node " + std::to_string(node) + "'s CPUs (" +
                          numa_format_cpulist(node_cpus) + ") is allowed to this process");
    } else if (bind_all_threads(set, &why)) {
        res->cpus_bound = true;
    } else {
        add_note(res, "sched_setaffinity failed: " + why);
    }

    // Memory: policy of the calling thread, inherited by the threads it starts later.
    if (node >= 1023) {
        add_note(res, "node number too large for the memory policy mask");
        return true;
    }
    unsigned long mask[1024 / (8 * sizeof(unsigned long))] = {0};
    const int bits_per_word = 8 * sizeof(unsigned long);
    mask[node / bits_per_word] |= 1UL << (node % bits_per_word);
    int mode = setting.strict_memory ? MPOL_BIND : MPOL_PREFERRED;
    if (syscall(SYS_set_mempolicy, mode, mask, (unsigned long)1024) == 0) {
        res->memory_bound = true;
    } else {
        int e = errno;
        add_note(res, std::string("set_mempolicy(") + (setting.strict_memory ? "MPOL_BIND" : "MPOL_PREFERRED") +
                          ", node " + std::to_string(node) + ") failed: " + strerror(e));
    }
    return true;
}

std::string NumaResult::summary() const {
    std::string s = "numa: ";
    if (source == "off") return s + "off (no binding)";
    if (node < 0) return s + "not bound (" + source + "): " + notes;
    s += "node " + std::to_string(node) + " (" + source + "): ";
    s += cpus_bound ? "threads on CPUs " + numa_format_cpulist(cpus) : std::string("threads not bound");
    s += memory_bound ? ", memory on node " + std::to_string(node) : std::string(", memory not bound");
    if (!notes.empty()) s += " (" + notes + ")";
    return s;
}
