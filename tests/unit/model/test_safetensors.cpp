// test_safetensors.cpp — SafeTensors::open_file on hand-built files: values and shapes of a
// valid file read back as written, and every malformed input is refused with a message that
// names the file, the tensor (where there is one) and the reason. Expected values are written
// out by hand (IEEE/bfloat16/float8 bit patterns), not produced by the code under test.
#include <random>

#include "tests/unit/safetensors_fixture.h"

TEST_F(SafeTensorsTest, valid_file_reads_back_every_dtype_with_shape_size_and_values) {
    std::string header = R"({"__metadata__":{"format":"pt","note":"x"},)"
                         R"("f32":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},)"
                         R"("f16":{"dtype":"F16","shape":[3],"data_offsets":[16,22]},)"
                         R"("bf16":{"dtype":"BF16","shape":[1,2],"data_offsets":[22,26]},)"
                         R"("i32":{"dtype":"I32","shape":[2],"data_offsets":[26,34]},)"
                         R"("u8":{"dtype":"U8","shape":[3,1,1],"data_offsets":[34,37]},)"
                         R"("f8":{"dtype":"F8_E4M3","shape":[2],"data_offsets":[37,39]}})";
    Bytes data = one_tensor_data();                          // 1.5, -2, 3, 0.25
    Bytes f16 = {0x00, 0x3c, 0x00, 0xc0, 0x00, 0x38};         // 1.0, -2.0, 0.5
    Bytes bf16 = {0x80, 0x3f, 0x40, 0xc0};                   // 1.0, -3.0
    Bytes i32 = {0x07, 0, 0, 0, 0xf7, 0xff, 0xff, 0xff};      // 7, -9
    Bytes u8 = {0, 200, 255};
    Bytes f8 = {0x38, 0xc0};                                 // e4m3: 1.0, -2.0
    for (const Bytes* b : {&f16, &bf16, &i32, &u8, &f8}) data.insert(data.end(), b->begin(), b->end());
    std::string p = write_st("m.safetensors", header, data);

    SafeTensors st;
    std::string err;
    ASSERT_TRUE(st.open_file(p, &err)) << err;
    ASSERT_EQ(st.tensors().size(), 6u);
    EXPECT_EQ(st.find("__metadata__"), nullptr);
    EXPECT_EQ(st.files(), std::vector<std::string>{p});
    EXPECT_EQ(st.total_bytes(), 39u);

    const StTensor* t = st.find("f32");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->dtype, StDtype::F32);
    EXPECT_EQ(t->shape, (std::vector<int64_t>{2, 2}));
    EXPECT_EQ(t->n_bytes, 16u);
    EXPECT_EQ(t->n_elements(), 4);
    EXPECT_EQ(t->file_index, 0);
    float f[4];
    memcpy(f, t->data, 16);
    EXPECT_EQ(f[0], 1.5f);
    EXPECT_EQ(f[1], -2.0f);
    EXPECT_EQ(f[2], 3.0f);
    EXPECT_EQ(f[3], 0.25f);

    t = st.find("f16");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->dtype, StDtype::F16);
    EXPECT_EQ(t->n_bytes, 6u);
    uint16_t h[3];
    memcpy(h, t->data, 6);
    EXPECT_EQ(h[0], 0x3c00);
    EXPECT_EQ(h[1], 0xc000);
    EXPECT_EQ(h[2], 0x3800);

    t = st.find("bf16");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->dtype, StDtype::BF16);
    EXPECT_EQ(t->shape, (std::vector<int64_t>{1, 2}));
    uint16_t b[2];
    memcpy(b, t->data, 4);
    EXPECT_EQ(b[0], 0x3f80);
    EXPECT_EQ(b[1], 0xc040);

    t = st.find("i32");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->dtype, StDtype::I32);
    int32_t iv[2];
    memcpy(iv, t->data, 8);
    EXPECT_EQ(iv[0], 7);
    EXPECT_EQ(iv[1], -9);

    t = st.find("u8");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->dtype, StDtype::U8);
    EXPECT_EQ(t->shape, (std::vector<int64_t>{3, 1, 1}));
    EXPECT_EQ(t->n_elements(), 3);
    EXPECT_EQ(t->data[1], 200);
    EXPECT_EQ(t->data[2], 255);

    t = st.find("f8");
    ASSERT_NE(t, nullptr);
    EXPECT_EQ(t->dtype, StDtype::F8_E4M3);
    EXPECT_EQ(t->n_bytes, 2u);
    EXPECT_EQ(t->data[0], 0x38);
    EXPECT_EQ(t->data[1], 0xc0);
}

TEST_F(SafeTensorsTest, dtype_names_and_sizes_match_the_safetensors_format) {
    struct { StDtype d; const char* name; size_t size; } want[] = {
        {StDtype::F64, "F64", 8},   {StDtype::F32, "F32", 4},         {StDtype::F16, "F16", 2},
        {StDtype::BF16, "BF16", 2}, {StDtype::F8_E4M3, "F8_E4M3", 1}, {StDtype::F8_E5M2, "F8_E5M2", 1},
        {StDtype::I64, "I64", 8},   {StDtype::I32, "I32", 4},         {StDtype::I16, "I16", 2},
        {StDtype::I8, "I8", 1},     {StDtype::U8, "U8", 1},           {StDtype::BOOL, "BOOL", 1}};
    for (auto& w : want) {
        EXPECT_STREQ(st_dtype_name(w.d), w.name);
        EXPECT_EQ(st_dtype_size(w.d), w.size) << w.name;
    }
}

TEST_F(SafeTensorsTest, scalar_and_empty_tensors_and_header_padding_are_accepted) {
    // Scalar: shape [] is one element. Empty tensors own no bytes, so sharing an offset with a
    // real tensor is no overlap. Trailing spaces pad the header, as writers do for alignment.
    std::string header = R"({"s":{"dtype":"I64","shape":[],"data_offsets":[0,8]},)"
                         R"("e":{"dtype":"F32","shape":[4,0],"data_offsets":[8,8]},)"
                         R"("w":{"dtype":"BOOL","shape":[2],"data_offsets":[8,10]}}    )";
    Bytes data = {0x2a, 0, 0, 0, 0, 0, 0, 0, 1, 0};
    SafeTensors st;
    std::string err;
    ASSERT_TRUE(st.open_file(write_st("m.safetensors", header, data), &err)) << err;
    ASSERT_NE(st.find("s"), nullptr);
    EXPECT_EQ(st.find("s")->n_elements(), 1);
    EXPECT_EQ(st.find("s")->data[0], 0x2a);
    ASSERT_NE(st.find("e"), nullptr);
    EXPECT_EQ(st.find("e")->n_bytes, 0u);
    EXPECT_EQ(st.find("e")->n_elements(), 0);
    EXPECT_EQ(st.find("w")->n_bytes, 2u);
}

TEST_F(SafeTensorsTest, file_shorter_than_8_bytes_is_refused) {
    std::string p = write_raw("short.safetensors", {1, 2, 3});
    std::string err = open_error(p);
    EXPECT_HAS(err, p);
    EXPECT_HAS(err, "file is 3 bytes, shorter than the 8-byte header length");
    EXPECT_HAS(open_error(write_raw("empty.safetensors", {})), "file is 0 bytes");
}

TEST_F(SafeTensorsTest, header_length_past_end_of_file_is_refused) {
    Bytes b = st_bytes(kOneTensor, one_tensor_data());
    b[0] += 100;  // claims 100 more header bytes than the file has
    std::string p = write_raw("m.safetensors", b);
    std::string err = open_error(p);
    EXPECT_HAS(err, p);
    EXPECT_HAS(err, "runs past the end of the file");
}

TEST_F(SafeTensorsTest, header_length_over_the_100MB_bound_is_refused) {
    Bytes b = {0x01, 0xe1, 0xf5, 0x05, 0, 0, 0, 0};  // 100000001
    b.resize(64, ' ');
    std::string p = write_raw("m.safetensors", b);
    std::string err = open_error(p);
    EXPECT_HAS(err, p);
    EXPECT_HAS(err, "header length 100000001 exceeds the limit of 100000000 bytes");
    Bytes huge(8, 0xff);  // 2^64-1: must not wrap around in the size arithmetic
    EXPECT_HAS(open_error(write_raw("h.safetensors", huge)), "exceeds the limit");
}

TEST_F(SafeTensorsTest, header_not_json_or_not_an_object_is_refused) {
    std::string p = write_st("a.safetensors", R"({"w":{"dtype":"F32",)", zeros(4));
    std::string err = open_error(p);
    EXPECT_HAS(err, p);
    EXPECT_HAS(err, "header is not valid JSON");
    p = write_st("b.safetensors", R"([1,2,3])", {});
    err = open_error(p);
    EXPECT_HAS(err, p);
    EXPECT_HAS(err, "header is not a JSON object");
    EXPECT_HAS(open_error(write_st("c.safetensors", "", zeros(4))), "header is not valid JSON");
    p = write_st("d.safetensors", R"({"w":[1,2]})", {});
    EXPECT_HAS(open_error(p), "tensor 'w': entry is not an object");
}

TEST_F(SafeTensorsTest, truncated_data_section_is_refused_naming_the_tensor) {
    Bytes b = st_bytes(kOneTensor, one_tensor_data());
    b.resize(b.size() - 3);
    std::string p = write_raw("m.safetensors", b);
    std::string err = open_error(p);
    EXPECT_HAS(err, p + ": tensor 'w'");
    EXPECT_HAS(err, "runs past the end of the data section (13 bytes): file truncated?");
}

TEST_F(SafeTensorsTest, range_outside_or_reversed_is_refused) {
    std::string p = write_st("a.safetensors",
                             R"({"w":{"dtype":"U8","shape":[4],"data_offsets":[30,34]}})", zeros(16));
    std::string err = open_error(p);
    EXPECT_HAS(err, p + ": tensor 'w'");
    EXPECT_HAS(err, "data_offsets [30, 34] runs past the end of the data section (16 bytes)");
    p = write_st("b.safetensors", R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[8,4]}})",
                 zeros(16));
    EXPECT_HAS(open_error(p), "tensor 'w': data_offsets [8, 4] ends before it begins");
    p = write_st("c.safetensors", R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[0,0,0]}})",
                 zeros(16));
    EXPECT_HAS(open_error(p), "tensor 'w': data_offsets must have 2 entries, has 3");
    p = write_st("d.safetensors", R"({"w":{"dtype":"U8","shape":[0],"data_offsets":[-4,0]}})",
                 zeros(16));
    EXPECT_HAS(open_error(p), "tensor 'w': data_offsets has negative entry -4");
    p = write_st("e.safetensors", R"({"w":{"dtype":"U8","shape":[1]}})", zeros(16));
    EXPECT_HAS(open_error(p), "tensor 'w': data_offsets is missing");
}

TEST_F(SafeTensorsTest, overlapping_ranges_are_refused_naming_both_tensors) {
    std::string p = write_st("m.safetensors",
                             R"({"x":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
                             R"("y":{"dtype":"F32","shape":[2],"data_offsets":[8,16]},)"
                             R"("z":{"dtype":"F16","shape":[2],"data_offsets":[6,10]}})",
                             zeros(16));
    std::string err = open_error(p);
    EXPECT_HAS(err, p);
    EXPECT_HAS(err, "tensors 'x' [0, 8) and 'z' [6, 10) overlap");
}

TEST_F(SafeTensorsTest, unknown_or_unsupported_dtype_is_refused) {
    std::string p = write_st("a.safetensors",
                             R"({"w":{"dtype":"F17","shape":[1],"data_offsets":[0,4]}})", zeros(4));
    std::string err = open_error(p);
    EXPECT_HAS(err, p + ": tensor 'w'");
    EXPECT_HAS(err, "unknown dtype 'F17'");
    p = write_st("b.safetensors", R"({"w":{"dtype":"U32","shape":[1],"data_offsets":[0,4]}})",
                 zeros(4));
    EXPECT_HAS(open_error(p), "tensor 'w': dtype U32 is not supported");
    p = write_st("c.safetensors", R"({"w":{"dtype":7,"shape":[1],"data_offsets":[0,4]}})", zeros(4));
    EXPECT_HAS(open_error(p), "tensor 'w': dtype is missing or not a string");
}

TEST_F(SafeTensorsTest, shape_times_dtype_size_must_equal_the_range) {
    std::string p = write_st("m.safetensors",
                             R"({"w":{"dtype":"BF16","shape":[2,3],"data_offsets":[0,10]}})",
                             zeros(16));
    std::string err = open_error(p);
    EXPECT_HAS(err, p + ": tensor 'w'");
    EXPECT_HAS(err, "shape [2, 3] x BF16 is 12 bytes but data_offsets [0, 10] spans 10 bytes");
}

TEST_F(SafeTensorsTest, negative_non_integer_or_huge_shape_is_refused) {
    std::string p = write_st("a.safetensors",
                             R"({"w":{"dtype":"F32","shape":[-1,4],"data_offsets":[0,16]}})", zeros(16));
    std::string err = open_error(p);
    EXPECT_HAS(err, p + ": tensor 'w'");
    EXPECT_HAS(err, "shape has negative entry -1");
    p = write_st("b.safetensors", R"({"w":{"dtype":"F32","shape":[2.5],"data_offsets":[0,16]}})",
                 zeros(16));
    EXPECT_HAS(open_error(p), "tensor 'w': shape has an entry that is not an integer");
    p = write_st("c.safetensors", R"({"w":{"dtype":"F32","shape":"4","data_offsets":[0,16]}})",
                 zeros(16));
    EXPECT_HAS(open_error(p), "tensor 'w': shape is not an array");
    // 2^32 * 2^32 elements would wrap a 64-bit size to 0 and "match" an empty range.
    p = write_st("d.safetensors",
                 R"({"w":{"dtype":"U8","shape":[4294967296,4294967296],"data_offsets":[0,0]}})",
                 zeros(16));
    EXPECT_HAS(open_error(p), "tensor 'w': shape [4294967296, 4294967296] is too large");
    p = write_st("e.safetensors",
                 R"({"w":{"dtype":"U8","shape":[18446744073709551615],"data_offsets":[0,0]}})",
                 zeros(16));
    EXPECT_HAS(open_error(p), "tensor 'w': shape has entry 18446744073709551615 beyond the int64 range");
}

TEST_F(SafeTensorsTest, non_utf8_tensor_name_is_refused_showing_where) {
    std::string header = "{\"layer.\xff\xfe.w\":{\"dtype\":\"U8\",\"shape\":[1],\"data_offsets\":[0,1]}}";
    std::string p = write_st("a.safetensors", header, zeros(1));
    std::string err = open_error(p);
    EXPECT_HAS(err, p);
    EXPECT_HAS(err, "header is not valid UTF-8 at byte 8");
    EXPECT_HAS(err, "layer.\\xff\\xfe.w");  // the name as far as it goes, escaped
    // A lone surrogate written as a JSON escape is no more a valid name than raw bad bytes.
    header = R"({"bad\udc80":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})";
    err = open_error(write_st("b.safetensors", header, zeros(1)));
    EXPECT_HAS(err, "b.safetensors");
    EXPECT_TRUE(err.find("not valid UTF-8") != std::string::npos ||
                err.find("not valid JSON") != std::string::npos) << err;
}

TEST_F(SafeTensorsTest, duplicate_tensor_name_in_one_header_is_refused) {
    std::string p = write_st("m.safetensors",
                             R"({"w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},)"
                             R"("w":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}})", zeros(2));
    std::string err = open_error(p);
    EXPECT_HAS(err, p + ": tensor 'w': name appears twice in the header");
}

TEST_F(SafeTensorsTest, metadata_must_be_an_object_of_strings) {
    std::string p = write_st("m.safetensors",
                             R"({"__metadata__":{"format":"pt","step":3},)"
                             R"("w":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", zeros(1));
    std::string err = open_error(p);
    EXPECT_HAS(err, p);
    EXPECT_HAS(err, "__metadata__ value 'step' is not a string");
    p = write_st("n.safetensors", R"({"__metadata__":"pt"})", {});
    EXPECT_HAS(open_error(p), "__metadata__ is not an object");
}

TEST_F(SafeTensorsTest, failed_open_releases_a_previous_successful_open) {
    SafeTensors st;
    std::string err;
    ASSERT_TRUE(st.open_file(write_st("good.safetensors", kOneTensor, one_tensor_data()), &err));
    ASSERT_NE(st.find("w"), nullptr);
    EXPECT_FALSE(st.open_file(path("absent.safetensors"), &err));
    EXPECT_HAS(err, path("absent.safetensors") + ": cannot open");
    EXPECT_EQ(st.find("w"), nullptr);
    EXPECT_TRUE(st.tensors().empty());
    EXPECT_TRUE(st.files().empty());
    EXPECT_FALSE(st.open_file(dir, &err));
    EXPECT_HAS(err, dir + ": not a regular file");
}

// Every prefix of a valid two-tensor file, and 1500 random byte corruptions of it: the
// reader must never crash, and every refusal must name the file.
TEST_F(SafeTensorsTest, truncations_and_random_corruptions_never_crash_and_name_the_file) {
    std::string header = R"({"__metadata__":{"format":"pt"},)"
                         R"("a.w":{"dtype":"BF16","shape":[2,2],"data_offsets":[0,8]},)"
                         R"("b":{"dtype":"I32","shape":[2],"data_offsets":[8,16]}})";
    Bytes good = st_bytes(header, zeros(16));
    std::string p = path("m.safetensors");
    int n_opened = 0;
    for (size_t n = 0; n < good.size(); n++) {
        write_raw("m.safetensors", Bytes(good.begin(), good.begin() + n));
        SafeTensors st;
        std::string err;
        ASSERT_FALSE(st.open_file(p, &err)) << "prefix of " << n << " bytes opened";
        ASSERT_NE(err.find(p), std::string::npos) << err;
    }
    std::mt19937 rng(1234);
    for (int iter = 0; iter < 1500; iter++) {
        Bytes b = good;
        int n_flips = 1 + (int)(rng() % 4);
        for (int k = 0; k < n_flips; k++) b[rng() % b.size()] = (uint8_t)rng();
        write_raw("m.safetensors", b);
        SafeTensors st;
        std::string err;
        if (st.open_file(p, &err)) {
            n_opened++;
            unsigned sum = 0;
            for (const StTensor& t : st.tensors()) {  // whatever opened must be readable
                size_t n = st_dtype_size(t.dtype);
                for (int64_t d : t.shape) n *= (size_t)d;
                ASSERT_EQ(n, t.n_bytes);
                for (size_t i = 0; i < t.n_bytes; i++) sum += t.data[i];
            }
            EXPECT_GE(sum, 0u);
            ASSERT_LE(st.total_bytes(), good.size());
        } else {
            ASSERT_NE(err.find(p), std::string::npos) << err;
        }
    }
    EXPECT_GT(n_opened, 0);  // corruptions of the data bytes alone still open
}
