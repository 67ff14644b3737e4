// safetensors.h — read-only, memory-mapped access to Hugging Face .safetensors weights:
// a single file, or a sharded set described by model.safetensors.index.json.
//
// Contract: open_*() validate everything before returning true: the 8-byte header length is
// within the file and below a sane bound (100 MB), the header is a JSON object of
// name -> {dtype, shape, data_offsets} (plus an optional "__metadata__" of strings), names are
// valid UTF-8 and unique, each dtype is one of StDtype (the format's other dtypes, U16 U32 U64
// C64 F8_E8M0 F4 F6_*, are refused as unsupported, anything else as unknown), shape entries are
// non-negative integers, shape product × dtype size == data_offsets range, every range lies
// inside the file's data section and no two non-empty ranges overlap (gaps are allowed). On
// any failure they return false and set *err to a message naming the file and, where there is
// one, the tensor; nothing is left mapped. Data pointers stay valid until the object is
// destroyed or opened again.
#pragma once
#include <stddef.h>
#include <stdint.h>
#include <string>
#include <unordered_map>
#include <vector>

enum class StDtype { F64, F32, F16, BF16, F8_E4M3, F8_E5M2, I64, I32, I16, I8, U8, BOOL };

const char* st_dtype_name(StDtype dtype);
size_t st_dtype_size(StDtype dtype);
// F32, BF16 or F16: the dtypes the loader converts to the activation type.
inline bool st_float_dtype(StDtype d) { return d == StDtype::F32 || d == StDtype::BF16 || d == StDtype::F16; }
// A shape for messages: "[4,64]".
std::string st_shape_str(const std::vector<int64_t>& shape);

struct StTensor {
    std::string name;
    StDtype dtype;
    std::vector<int64_t> shape;
    const uint8_t* data;   // into the mapping
    size_t n_bytes;
    int file_index;        // which shard (index into files())
    int64_t n_elements() const;
};

class SafeTensors {
public:
    SafeTensors() = default;
    ~SafeTensors();
    SafeTensors(const SafeTensors&) = delete;
    SafeTensors& operator=(const SafeTensors&) = delete;

    // DIR/model.safetensors.index.json if present (every shard it names must exist and every
    // tensor must be in the shard the index says), else DIR/model.safetensors, else the only
    // *.safetensors file in DIR. A tensor that a shard holds but the index does not list is an
    // error too. Opening again first releases whatever was open (its data pointers die).
    bool open_dir(const std::string& dir, std::string* err);
    bool open_file(const std::string& path, std::string* err);

    const StTensor* find(const std::string& name) const;  // nullptr if absent
    const std::vector<StTensor>& tensors() const { return tensors_; }
    const std::vector<std::string>& files() const { return paths_; }
    size_t total_bytes() const;

private:
    bool map_file(const std::string& path, std::string* err);
    // Maps `path` and appends its validated tensors (file_index = its index in paths_). On
    // failure the caller must close(): earlier entries of this file may have been appended.
    bool load_file(const std::string& path, std::string* err);
    bool open_index(const std::string& dir, const std::string& index_path, std::string* err);
    void close();
    struct Mapping { void* addr; size_t n_bytes; };
    std::vector<Mapping> maps_;
    std::vector<std::string> paths_;
    std::vector<StTensor> tensors_;
    std::unordered_map<std::string, size_t> by_name_;
};
