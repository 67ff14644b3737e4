// numa.h — `--numa auto|off|N`: pin the server's threads and host memory to one NUMA node,
// normally the node the GPU hangs off (read from sysfs via the GPU's PCI bus id), so that
// pinned staging buffers and the threads that fill them sit next to the device. No libnuma:
// sched_setaffinity and the set_mempolicy system call.
//
// Call numa_apply() once at start-up after plat_init() (it needs the device's PCI id) and
// before loading weights and starting the engine/HTTP threads: CPU affinity is applied to every
// thread that exists at the time; the memory policy only to the calling thread, and both are
// inherited by threads it creates afterwards.
#pragma once
#include <string>
#include <vector>

enum NumaMode { NUMA_OFF, NUMA_AUTO, NUMA_NODE };

struct NumaSetting {
    NumaMode mode = NUMA_AUTO;
    int node = -1;               // NUMA_NODE only
    bool strict_memory = false;  // MPOL_BIND (allocation fails over to swap/OOM) instead of
                                 // MPOL_PREFERRED (falls back to other nodes when full)
};

// What numa_apply did, for one start-up log line (summary()).
struct NumaResult {
    int node = -1;              // node chosen, -1 = none
    std::string source;         // "off" | "--numa N" | "GPU 0000:3b:00.0"
    bool cpus_bound = false;    // every thread's affinity set to `cpus`
    std::vector<int> cpus;      // node CPUs ∩ CPUs the process was allowed before
    bool memory_bound = false;  // memory policy set on the calling thread
    std::string notes;          // why something was not done ("; "-separated), empty if all done
    std::string summary() const;
};

// "auto" | "off" | a node number ("0", "1", ...). False with *err on anything else.
bool numa_parse_setting(const std::string& text, NumaSetting* out, std::string* err);

// "0000:3B:00.0", "00000000:3b:00.0" (nvidia-smi's 8-digit domain) or "3b:00.0" (no domain)
// -> "0000:3b:00.0", the name of the device's directory in /sys/bus/pci/devices. False with *err
// when the text is not domain:bus:device.function in hex (device <= 1f, function <= 7).
bool numa_normalize_pci_bus_id(const std::string& text, std::string* out, std::string* err);

// Linux cpulist format ("0-3,8-11", "5", "" for none; trailing newline allowed) -> sorted CPU
// numbers. False with *err on anything else (descending ranges, junk, negative numbers).
bool numa_parse_cpulist(const std::string& text, std::vector<int>* cpus, std::string* err);
// The inverse, compressing runs: {0,1,2,3,8} -> "0-3,8".
std::string numa_format_cpulist(const std::vector<int>& cpus);

// <sysfs_root>/bus/pci/devices/<normalized id>/numa_node -> *node (-1 = firmware does not say).
// False with *err when the id is malformed or the file is missing/unreadable/not a number.
bool numa_read_pci_node(const std::string& sysfs_root, const std::string& pci_bus_id, int* node,
                        std::string* err);
// <sysfs_root>/devices/system/node/node<N>/cpulist -> *cpus. False with *err when the node does
// not exist or the list does not parse.
bool numa_read_node_cpus(const std::string& sysfs_root, int node, std::vector<int>* cpus,
                         std::string* err);

// Applies `setting`. sysfs_root is "/sys" outside tests; pci_bus_id is PlatDeviceProps's (may be
// empty). Returns false with *err only when an explicit `--numa N` names a node that does not
// exist. Everything else that prevents binding (off, no PCI id, unknown node, CPUs outside the
// allowed set, a refused system call) returns true with the reason in res->notes: NUMA
// placement is an optimisation and never stops the server.
bool numa_apply(const NumaSetting& setting, const std::string& pci_bus_id,
                const std::string& sysfs_root, NumaResult* res, std::string* err);
