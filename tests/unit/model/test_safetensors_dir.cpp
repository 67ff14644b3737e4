// test_safetensors_dir.cpp — SafeTensors::open_dir: which file a model directory resolves to,
// and sharded sets described by model.safetensors.index.json, valid and inconsistent.
#include "tests/unit/safetensors_fixture.h"

TEST_F(SafeTensorsTest, open_dir_prefers_model_safetensors_then_the_only_file) {
    write_st("other.safetensors", kOneTensor, one_tensor_data());
    SafeTensors st;
    std::string err;
    ASSERT_TRUE(st.open_dir(dir, &err)) << err;  // the only *.safetensors
    EXPECT_EQ(st.files()[0], path("other.safetensors"));

    write_st("model.safetensors", R"({"v":{"dtype":"U8","shape":[1],"data_offsets":[0,1]}})", {9});
    ASSERT_TRUE(st.open_dir(dir, &err)) << err;
    EXPECT_EQ(st.files(), std::vector<std::string>{path("model.safetensors")});
    EXPECT_EQ(st.find("w"), nullptr);  // the previous open was released
    ASSERT_NE(st.find("v"), nullptr);
    EXPECT_EQ(st.find("v")->data[0], 9);
}

TEST_F(SafeTensorsTest, open_dir_refuses_several_files_without_an_index_or_none) {
    std::string err = open_dir_error();
    EXPECT_HAS(err, "no .safetensors file");
    SafeTensors st;
    EXPECT_FALSE(st.open_dir(dir + "/absent", &err));
    EXPECT_HAS(err, dir + "/absent: cannot open directory");
    write_st("a.safetensors", kOneTensor, one_tensor_data());
    write_st("b.safetensors", kOneTensor, one_tensor_data());
    err = open_dir_error();
    EXPECT_HAS(err, "2 .safetensors files");
    EXPECT_HAS(err, "no model.safetensors.index.json");
}

// Two shards: "a" and "b" in shard 1, "c" in shard 2.
static const char* kIndex = R"({"metadata":{"total_size":12},"weight_map":{
    "a":"model-00001-of-00002.safetensors","b":"model-00001-of-00002.safetensors",
    "c":"model-00002-of-00002.safetensors"}})";
static const char* kShard1 = R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},)"
                             R"("b":{"dtype":"I16","shape":[1],"data_offsets":[2,4]}})";
static const char* kShard2 = R"({"c":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";

TEST_F(SafeTensorsTest, sharded_set_via_index_reads_each_tensor_from_its_shard) {
    write_raw("model.safetensors.index.json", Bytes(kIndex, kIndex + strlen(kIndex)));
    write_st("model-00001-of-00002.safetensors", kShard1, {5, 6, 0xff, 0xff});
    write_st("model-00002-of-00002.safetensors", kShard2, {0, 0, 0x80, 0x3f, 0, 0, 0, 0x40});
    SafeTensors st;
    std::string err;
    ASSERT_TRUE(st.open_dir(dir, &err)) << err;
    ASSERT_EQ(st.files().size(), 2u);
    ASSERT_EQ(st.tensors().size(), 3u);
    EXPECT_EQ(st.total_bytes(), 12u);
    const StTensor* a = st.find("a");
    const StTensor* b = st.find("b");
    const StTensor* c = st.find("c");
    ASSERT_TRUE(a && b && c);
    EXPECT_EQ(st.files()[a->file_index], path("model-00001-of-00002.safetensors"));
    EXPECT_EQ(st.files()[c->file_index], path("model-00002-of-00002.safetensors"));
    EXPECT_EQ(a->data[1], 6);
    int16_t bv;
    memcpy(&bv, b->data, 2);
    EXPECT_EQ(bv, -1);
    float cv[2];
    memcpy(cv, c->data, 8);
    EXPECT_EQ(cv[0], 1.0f);
    EXPECT_EQ(cv[1], 2.0f);
}

TEST_F(SafeTensorsTest, missing_shard_named_by_index_is_refused) {
    write_raw("model.safetensors.index.json", Bytes(kIndex, kIndex + strlen(kIndex)));
    write_st("model-00001-of-00002.safetensors", kShard1, {5, 6, 0xff, 0xff});
    std::string err = open_dir_error();
    EXPECT_HAS(err, "model.safetensors.index.json");
    EXPECT_HAS(err, "'model-00002-of-00002.safetensors'");
    EXPECT_HAS(err, "tensor 'c'");
    EXPECT_HAS(err, "does not exist");
}

TEST_F(SafeTensorsTest, tensor_missing_from_its_shard_is_refused) {
    write_raw("model.safetensors.index.json", Bytes(kIndex, kIndex + strlen(kIndex)));
    write_st("model-00001-of-00002.safetensors",
             R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", {5, 6});
    write_st("model-00002-of-00002.safetensors", kShard2, zeros(8));
    std::string err = open_dir_error();
    EXPECT_HAS(err, "model.safetensors.index.json");
    EXPECT_HAS(err, "tensor 'b' is not in its shard");
    EXPECT_HAS(err, "model-00001-of-00002.safetensors");
}

TEST_F(SafeTensorsTest, tensor_in_the_wrong_shard_or_unlisted_is_refused) {
    write_raw("model.safetensors.index.json", Bytes(kIndex, kIndex + strlen(kIndex)));
    write_st("model-00001-of-00002.safetensors",
             R"({"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}})", {5, 6});
    write_st("model-00002-of-00002.safetensors",
             R"({"b":{"dtype":"I16","shape":[1],"data_offsets":[0,2]},)"
             R"("c":{"dtype":"F32","shape":[2],"data_offsets":[2,10]}})", zeros(10));
    std::string err = open_dir_error();
    EXPECT_HAS(err, "tensor 'b' is in " + path("model-00002-of-00002.safetensors"));
    EXPECT_HAS(err, "as the index says");

    write_st("model-00001-of-00002.safetensors", kShard1, {5, 6, 0xff, 0xff});
    write_st("model-00002-of-00002.safetensors",
             R"({"c":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
             R"("extra":{"dtype":"U8","shape":[1],"data_offsets":[8,9]}})", zeros(9));
    err = open_dir_error();
    EXPECT_HAS(err, path("model-00002-of-00002.safetensors"));
    EXPECT_HAS(err, "tensor 'extra' is not listed in");
}

TEST_F(SafeTensorsTest, same_tensor_in_two_shards_is_refused) {
    write_raw("model.safetensors.index.json", Bytes(kIndex, kIndex + strlen(kIndex)));
    write_st("model-00001-of-00002.safetensors", kShard1, {5, 6, 0xff, 0xff});
    write_st("model-00002-of-00002.safetensors",
             R"({"c":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},)"
             R"("a":{"dtype":"U8","shape":[2],"data_offsets":[8,10]}})", zeros(10));
    std::string err = open_dir_error();
    EXPECT_HAS(err, path("model-00002-of-00002.safetensors") + ": tensor 'a'");
    EXPECT_HAS(err, "also present in " + path("model-00001-of-00002.safetensors"));
}

TEST_F(SafeTensorsTest, index_that_is_not_json_or_escapes_the_directory_is_refused) {
    write_raw("model.safetensors.index.json", {'{', 'x'});
    std::string err = open_dir_error();
    EXPECT_HAS(err, "model.safetensors.index.json: not valid JSON");

    std::string idx = R"({"weight_map":{"a":"../model.safetensors"}})";
    write_raw("model.safetensors.index.json", Bytes(idx.begin(), idx.end()));
    err = open_dir_error();
    EXPECT_HAS(err, "tensor 'a'");
    EXPECT_HAS(err, "is not a file name in the model directory");

    idx = R"({"metadata":{}})";
    write_raw("model.safetensors.index.json", Bytes(idx.begin(), idx.end()));
    EXPECT_HAS(open_dir_error(), "no \"weight_map\" object");
}
