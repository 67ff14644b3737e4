// safetensors_fixture.h — shared by the SafeTensors tests: a temporary directory per test and
// helpers that write hand-built .safetensors files (8-byte little-endian header length, header
// text, data bytes) and open them expecting failure.
#pragma once
#include <gtest/gtest.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <filesystem>
#include <string>
#include <vector>

#include "core/model/safetensors.h"

namespace fs = std::filesystem;
typedef std::vector<uint8_t> Bytes;

// A fresh temporary directory per test, removed afterwards.
class SafeTensorsTest : public ::testing::Test {
protected:
    void SetUp() override {
        std::string tmpl = (fs::temp_directory_path() / "st_test_XXXXXX").string();
        ASSERT_NE(mkdtemp(&tmpl[0]), nullptr);
        dir = tmpl;
    }
    void TearDown() override { fs::remove_all(dir); }

    std::string path(const std::string& name) const { return dir + "/" + name; }

    // Writes raw bytes to dir/name; returns the path.
    std::string write_raw(const std::string& name, const Bytes& bytes) {
        std::string p = path(name);
        FILE* f = fopen(p.c_str(), "wb");
        EXPECT_NE(f, nullptr);
        if (!bytes.empty()) fwrite(bytes.data(), 1, bytes.size(), f);
        fclose(f);
        return p;
    }

    // A safetensors file: 8-byte little-endian header length, the header text, the data bytes.
    std::string write_st(const std::string& name, const std::string& header, const Bytes& data) {
        return write_raw(name, st_bytes(header, data));
    }

    static Bytes st_bytes(const std::string& header, const Bytes& data) {
        Bytes out;
        uint64_t n = header.size();
        for (int i = 0; i < 8; i++) out.push_back((uint8_t)(n >> (8 * i)));
        out.insert(out.end(), header.begin(), header.end());
        out.insert(out.end(), data.begin(), data.end());
        return out;
    }

    // Opens `p` expecting failure; returns the message.
    std::string open_error(const std::string& p) {
        SafeTensors st;
        std::string err;
        EXPECT_FALSE(st.open_file(p, &err)) << "opened " << p;
        EXPECT_TRUE(st.tensors().empty());
        EXPECT_TRUE(st.files().empty());
        EXPECT_NE(err.find(p), std::string::npos) << "message does not name the file: " << err;
        return err;
    }
    std::string open_dir_error() {
        SafeTensors st;
        std::string err;
        EXPECT_FALSE(st.open_dir(dir, &err)) << "opened " << dir;
        EXPECT_TRUE(st.tensors().empty());
        EXPECT_NE(err.find(dir), std::string::npos) << "message does not name the directory: " << err;
        return err;
    }

    std::string dir;
};

#define EXPECT_HAS(haystack, needle) EXPECT_NE((haystack).find(needle), std::string::npos) \
    << "message: " << (haystack) << "\nexpected to contain: " << (needle)

inline Bytes zeros(size_t n) { return Bytes(n, 0); }

// Header + data of one valid F32 [2, 2] tensor "w" holding 1.5, -2, 3, 0.25.
static const char kOneTensor[] = R"({"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}})";
inline Bytes one_tensor_data() {
    return {0x00, 0x00, 0xc0, 0x3f,   0x00, 0x00, 0x00, 0xc0,
            0x00, 0x00, 0x40, 0x40,   0x00, 0x00, 0x80, 0x3e};
}
