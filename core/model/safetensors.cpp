// safetensors.cpp — one .safetensors file: map it read-only, validate its header (see the
// contract in safetensors.h) and record its tensors. Directories and sharded sets are in
// safetensors_dir.cpp.
#include "core/model/safetensors.h"
#include "core/model/safetensors_util.h"

#include <algorithm>
#include <errno.h>
#include <fcntl.h>
#include <limits>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "simdjson.h"

static const uint64_t kMaxHeaderBytes = 100ull * 1000 * 1000;

struct DtypeEntry {
    const char* name;
    StDtype dtype;
    size_t size;
};
static const DtypeEntry kDtypes[] = {
    {"F64", StDtype::F64, 8},  {"F32", StDtype::F32, 4},         {"F16", StDtype::F16, 2},
    {"BF16", StDtype::BF16, 2}, {"F8_E4M3", StDtype::F8_E4M3, 1}, {"F8_E5M2", StDtype::F8_E5M2, 1},
    {"I64", StDtype::I64, 8},  {"I32", StDtype::I32, 4},         {"I16", StDtype::I16, 2},
    {"I8", StDtype::I8, 1},    {"U8", StDtype::U8, 1},           {"BOOL", StDtype::BOOL, 1},
};
// Defined by the safetensors format but not loadable here.
static const char* const kUnsupportedDtypes[] = {"U16", "U32", "U64", "C64", "F8_E8M0",
                                                 "F4",  "F6_E2M3", "F6_E3M2"};

const char* st_dtype_name(StDtype dtype) {
    for (const DtypeEntry& e : kDtypes)
        if (e.dtype == dtype) return e.name;
    return "?";
}

std::string st_shape_str(const std::vector<int64_t>& shape) {
    std::string out;
    for (int64_t d : shape) out += (out.empty() ? "" : ",") + std::to_string(d);
    return "[" + out + "]";
}

size_t st_dtype_size(StDtype dtype) {
    for (const DtypeEntry& e : kDtypes)
        if (e.dtype == dtype) return e.size;
    return 0;
}

int64_t StTensor::n_elements() const {
    int64_t n = 1;
    for (int64_t d : shape) n *= d;
    return n;
}

bool st_fail(std::string* err, const std::string& msg) {
    if (err) *err = msg;
    return false;
}

std::string st_quote(const std::string& s) {
    static const char hex[] = "0123456789abcdef";
    std::string out = "'";
    size_t n = std::min(s.size(), (size_t)200);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c == 0x7f || c == '\\' || c == '\'') {
            out += "\\x";
            out += hex[c >> 4];
            out += hex[c & 15];
        } else {
            out += (char)c;  // bytes >= 0x80 pass through: callers quote only valid UTF-8
        }
    }
    if (n < s.size()) out += "...";
    return out + "'";
}

size_t st_utf8_error_offset(const uint8_t* s, size_t n) {
    size_t i = 0;
    while (i < n) {
        uint8_t c = s[i];
        if (c < 0x80) { i++; continue; }
        size_t len;
        uint32_t cp, min_cp;
        if ((c & 0xe0) == 0xc0) { len = 2; cp = c & 0x1f; min_cp = 0x80; }
        else if ((c & 0xf0) == 0xe0) { len = 3; cp = c & 0x0f; min_cp = 0x800; }
        else if ((c & 0xf8) == 0xf0) { len = 4; cp = c & 0x07; min_cp = 0x10000; }
        else return i;
        if (n - i < len) return i;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80) return i;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min_cp || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
        i += len;
    }
    return (size_t)-1;
}

// Escaped text around header byte `at`, for messages about bytes that are not UTF-8.
static std::string bytes_near(const uint8_t* s, size_t n, size_t at) {
    size_t from = at > 24 ? at - 24 : 0, to = std::min(n, at + 8);
    std::string out;
    for (size_t i = from; i < to; i++) {
        unsigned char c = s[i];
        if (c >= 0x20 && c < 0x7f && c != '\\') {
            out += (char)c;
        } else {
            char buf[8];
            snprintf(buf, sizeof(buf), "\\x%02x", c);
            out += buf;
        }
    }
    return out;
}

SafeTensors::~SafeTensors() { close(); }

void SafeTensors::close() {
    for (const Mapping& m : maps_) munmap(m.addr, m.n_bytes);
    maps_.clear();
    paths_.clear();
    tensors_.clear();
    by_name_.clear();
}

const StTensor* SafeTensors::find(const std::string& name) const {
    auto it = by_name_.find(name);
    return it == by_name_.end() ? nullptr : &tensors_[it->second];
}

size_t SafeTensors::total_bytes() const {
    size_t n = 0;
    for (const StTensor& t : tensors_) n += t.n_bytes;
    return n;
}

bool SafeTensors::open_file(const std::string& path, std::string* err) {
    close();
    if (!load_file(path, err)) {
        close();
        return false;
    }
    return true;
}

// Maps `path` read-only and appends it to maps_/paths_. Fails (nothing appended) when the file
// cannot be opened, is not a regular file, or is shorter than the 8-byte length prefix.
bool SafeTensors::map_file(const std::string& path, std::string* err) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) return st_fail(err, path + ": cannot open: " + strerror(errno));
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return st_fail(err, path + ": not a regular file");
    }
    size_t n_bytes = (size_t)st.st_size;
    if (n_bytes < 8) {
        ::close(fd);
        return st_fail(err, path + ": file is " + std::to_string(n_bytes) +
                                " bytes, shorter than the 8-byte header length");
    }
    void* addr = mmap(nullptr, n_bytes, PROT_READ, MAP_PRIVATE, fd, 0);
    int mmap_errno = errno;
    ::close(fd);
    if (addr == MAP_FAILED) return st_fail(err, path + ": mmap failed: " + strerror(mmap_errno));
    madvise(addr, n_bytes, MADV_WILLNEED);  // start reading ahead; the weights are read once, in order
    maps_.push_back({addr, n_bytes});
    paths_.push_back(path);
    return true;
}

// Reads a JSON array of non-negative integers (each <= INT64_MAX) into *out; false otherwise.
static bool get_dims(simdjson::dom::element el, std::vector<int64_t>* out, std::string* why) {
    simdjson::dom::array arr;
    if (el.get_array().get(arr) != simdjson::SUCCESS) return (*why = "is not an array", false);
    for (simdjson::dom::element v : arr) {
        int64_t i;
        uint64_t u;
        if (v.get_int64().get(i) == simdjson::SUCCESS) {
            if (i < 0) return (*why = "has negative entry " + std::to_string(i), false);
            out->push_back(i);
        } else if (v.get_uint64().get(u) == simdjson::SUCCESS) {
            return (*why = "has entry " + std::to_string(u) + " beyond the int64 range", false);
        } else {
            return (*why = "has an entry that is not an integer", false);
        }
    }
    return true;
}

static std::string dims_str(const std::vector<int64_t>& d) {
    std::string s = "[";
    for (size_t i = 0; i < d.size(); i++) s += (i ? ", " : "") + std::to_string(d[i]);
    return s + "]";
}

struct Range {
    uint64_t begin, end;
    size_t tensor;  // index into tensors_
};

bool SafeTensors::load_file(const std::string& path, std::string* err) {
    if (!map_file(path, err)) return false;
    int file_index = (int)maps_.size() - 1;
    const uint8_t* base = (const uint8_t*)maps_.back().addr;
    uint64_t file_bytes = maps_.back().n_bytes;
    uint64_t header_bytes = 0;
    for (int i = 7; i >= 0; i--) header_bytes = (header_bytes << 8) | base[i];  // little-endian
    if (header_bytes > kMaxHeaderBytes)
        return st_fail(err, path + ": header length " + std::to_string(header_bytes) +
                                " exceeds the limit of " + std::to_string(kMaxHeaderBytes) + " bytes");
    if (header_bytes > file_bytes - 8)
        return st_fail(err, path + ": header length " + std::to_string(header_bytes) +
                                " runs past the end of the file (" + std::to_string(file_bytes) +
                                " bytes)");
    const uint8_t* header = base + 8;
    const uint8_t* data = header + header_bytes;
    uint64_t data_bytes = file_bytes - 8 - header_bytes;

    size_t bad = st_utf8_error_offset(header, header_bytes);
    if (bad != (size_t)-1)
        return st_fail(err, path + ": header is not valid UTF-8 at byte " + std::to_string(bad) +
                                " (near \"" + bytes_near(header, header_bytes, bad) +
                                "\"); tensor names must be UTF-8");
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    auto code = parser.parse((const char*)header, header_bytes).get(root);
    if (code != simdjson::SUCCESS)
        return st_fail(err, path + ": header is not valid JSON: " + simdjson::error_message(code));
    simdjson::dom::object obj;
    if (root.get_object().get(obj) != simdjson::SUCCESS)
        return st_fail(err, path + ": header is not a JSON object");

    std::vector<Range> ranges;
    bool seen_metadata = false;
    for (simdjson::dom::key_value_pair field : obj) {
        std::string name(field.key);
        std::string where = path + ": tensor " + st_quote(name) + ": ";
        if (st_utf8_error_offset((const uint8_t*)name.data(), name.size()) != (size_t)-1)
            return st_fail(err, where + "name is not valid UTF-8 (escaped surrogate?)");
        if (name == "__metadata__") {
            simdjson::dom::object meta;
            if (seen_metadata) return st_fail(err, path + ": __metadata__ appears twice");
            seen_metadata = true;
            if (field.value.get_object().get(meta) != simdjson::SUCCESS)
                return st_fail(err, path + ": __metadata__ is not an object");
            for (simdjson::dom::key_value_pair m : meta)
                if (!m.value.is_string())
                    return st_fail(err, path + ": __metadata__ value " + st_quote(std::string(m.key)) +
                                            " is not a string");
            continue;
        }
        auto dup = by_name_.find(name);
        if (dup != by_name_.end()) {
            int other = tensors_[dup->second].file_index;
            if (other == file_index) return st_fail(err, where + "name appears twice in the header");
            return st_fail(err, where + "also present in " + paths_[other]);
        }
        simdjson::dom::object entry;
        if (field.value.get_object().get(entry) != simdjson::SUCCESS)
            return st_fail(err, where + "entry is not an object");

        std::string_view dtype_name;
        if (entry["dtype"].get_string().get(dtype_name) != simdjson::SUCCESS)
            return st_fail(err, where + "dtype is missing or not a string");
        const DtypeEntry* dt = nullptr;
        for (const DtypeEntry& e : kDtypes)
            if (dtype_name == e.name) dt = &e;
        if (!dt) {
            for (const char* u : kUnsupportedDtypes)
                if (dtype_name == u)
                    return st_fail(err, where + "dtype " + std::string(dtype_name) + " is not supported");
            return st_fail(err, where + "unknown dtype " + st_quote(std::string(dtype_name)));
        }

        StTensor t;
        t.name = name;
        t.dtype = dt->dtype;
        t.file_index = file_index;
        std::string why;
        simdjson::dom::element shape_el;
        if (entry["shape"].get(shape_el) != simdjson::SUCCESS)
            return st_fail(err, where + "shape is missing");
        if (!get_dims(shape_el, &t.shape, &why)) return st_fail(err, where + "shape " + why);
        uint64_t n_bytes = dt->size;
        for (int64_t d : t.shape) {
            if (d != 0 && n_bytes > (uint64_t)std::numeric_limits<int64_t>::max() / (uint64_t)d)
                return st_fail(err, where + "shape " + dims_str(t.shape) + " is too large");
            n_bytes *= (uint64_t)d;
        }

        std::vector<int64_t> offsets;
        simdjson::dom::element off_el;
        if (entry["data_offsets"].get(off_el) != simdjson::SUCCESS)
            return st_fail(err, where + "data_offsets is missing");
        if (!get_dims(off_el, &offsets, &why)) return st_fail(err, where + "data_offsets " + why);
        if (offsets.size() != 2)
            return st_fail(err, where + "data_offsets must have 2 entries, has " +
                                    std::to_string(offsets.size()));
        uint64_t begin = (uint64_t)offsets[0], end = (uint64_t)offsets[1];
        std::string range = "data_offsets " + dims_str(offsets);
        if (begin > end) return st_fail(err, where + range + " ends before it begins");
        if (end - begin != n_bytes)
            return st_fail(err, where + "shape " + dims_str(t.shape) + " x " + dt->name + " is " +
                                    std::to_string(n_bytes) + " bytes but " + range + " spans " +
                                    std::to_string(end - begin) + " bytes");
        if (end > data_bytes)
            return st_fail(err, where + range + " runs past the end of the data section (" +
                                    std::to_string(data_bytes) + " bytes): file truncated?");
        t.data = data + begin;
        t.n_bytes = (size_t)n_bytes;
        by_name_[name] = tensors_.size();
        ranges.push_back({begin, end, tensors_.size()});
        tensors_.push_back(std::move(t));
    }

    // Empty tensors own no bytes and cannot overlap anything.
    ranges.erase(std::remove_if(ranges.begin(), ranges.end(),
                                [](const Range& r) { return r.begin == r.end; }),
                 ranges.end());
    std::sort(ranges.begin(), ranges.end(),
              [](const Range& a, const Range& b) { return a.begin < b.begin; });
    for (size_t i = 1; i < ranges.size(); i++) {
        const Range& a = ranges[i - 1];
        const Range& b = ranges[i];
        if (b.begin < a.end)
            return st_fail(err, path + ": tensors " + st_quote(tensors_[a.tensor].name) + " [" +
                                    std::to_string(a.begin) + ", " + std::to_string(a.end) + ") and " +
                                    st_quote(tensors_[b.tensor].name) + " [" +
                                    std::to_string(b.begin) + ", " + std::to_string(b.end) +
                                    ") overlap");
    }
    return true;
}
