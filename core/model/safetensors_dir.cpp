// safetensors_dir.cpp — opening a model directory: a sharded set described by
// model.safetensors.index.json ("weight_map": tensor name -> shard file name), or a single file.
#include "core/model/safetensors.h"
#include "core/model/safetensors_util.h"

#include <dirent.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include <algorithm>
#include <unordered_set>

#include "simdjson.h"

static std::string path_join(const std::string& dir, const std::string& name) {
    if (dir.empty()) return name;
    return dir.back() == '/' ? dir + name : dir + "/" + name;
}

static bool exists(const std::string& path) {
    struct stat st;
    return stat(path.c_str(), &st) == 0;
}

bool SafeTensors::open_dir(const std::string& dir, std::string* err) {
    close();
    std::string index_path = path_join(dir, "model.safetensors.index.json");
    if (exists(index_path)) {
        if (!open_index(dir, index_path, err)) {
            close();
            return false;
        }
        return true;
    }
    std::string single = path_join(dir, "model.safetensors");
    if (exists(single)) return open_file(single, err);

    DIR* d = opendir(dir.c_str());
    if (!d) return st_fail(err, dir + ": cannot open directory: " + strerror(errno));
    std::vector<std::string> found;
    while (struct dirent* e = readdir(d)) {
        std::string name = e->d_name;
        const std::string ext = ".safetensors";
        if (name.size() > ext.size() && name.compare(name.size() - ext.size(), ext.size(), ext) == 0)
            found.push_back(name);
    }
    closedir(d);
    if (found.empty()) return st_fail(err, dir + ": no .safetensors file in the directory");
    if (found.size() > 1) {
        std::sort(found.begin(), found.end());
        return st_fail(err, dir + ": " + std::to_string(found.size()) +
                                " .safetensors files (" + found[0] + ", " + found[1] +
                                ", ...) but no model.safetensors.index.json to say which to use");
    }
    return open_file(path_join(dir, found[0]), err);
}

// Loads every shard the index names, in order of first mention, then checks that the index and
// the shards agree tensor by tensor.
bool SafeTensors::open_index(const std::string& dir, const std::string& index_path,
                             std::string* err) {
    simdjson::padded_string json;
    auto code = simdjson::padded_string::load(index_path).get(json);
    if (code != simdjson::SUCCESS)
        return st_fail(err, index_path + ": cannot read: " + simdjson::error_message(code));
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    code = parser.parse(json).get(root);
    if (code != simdjson::SUCCESS)
        return st_fail(err, index_path + ": not valid JSON: " + simdjson::error_message(code));
    simdjson::dom::object weight_map;
    if (root["weight_map"].get_object().get(weight_map) != simdjson::SUCCESS)
        return st_fail(err, index_path + ": no \"weight_map\" object");

    std::vector<std::pair<std::string, std::string>> entries;  // (tensor, shard)
    std::unordered_set<std::string> listed;
    std::vector<std::string> shards;
    for (simdjson::dom::key_value_pair kv : weight_map) {
        std::string name(kv.key);
        std::string_view shard_view;
        if (kv.value.get_string().get(shard_view) != simdjson::SUCCESS)
            return st_fail(err, index_path + ": tensor " + st_quote(name) +
                                    ": weight_map value is not a string");
        std::string shard(shard_view);
        if (shard.empty() || shard == "." || shard == ".." || shard.find('/') != std::string::npos)
            return st_fail(err, index_path + ": tensor " + st_quote(name) + ": shard " +
                                    st_quote(shard) + " is not a file name in the model directory");
        if (!listed.insert(name).second)
            return st_fail(err, index_path + ": tensor " + st_quote(name) + " is listed twice");
        if (std::find(shards.begin(), shards.end(), shard) == shards.end()) {
            if (!exists(path_join(dir, shard)))
                return st_fail(err, index_path + ": shard " + st_quote(shard) + " (holding tensor " +
                                        st_quote(name) + ") does not exist: " + path_join(dir, shard));
            shards.push_back(shard);
        }
        entries.emplace_back(name, shard);
    }
    if (entries.empty()) return st_fail(err, index_path + ": weight_map is empty");

    for (const std::string& shard : shards)
        if (!load_file(path_join(dir, shard), err)) return false;

    for (const auto& [name, shard] : entries) {
        const StTensor* t = find(name);
        std::string shard_path = path_join(dir, shard);
        if (!t)
            return st_fail(err, index_path + ": tensor " + st_quote(name) + " is not in its shard " +
                                    shard_path);
        if (paths_[t->file_index] != shard_path)
            return st_fail(err, index_path + ": tensor " + st_quote(name) + " is in " +
                                    paths_[t->file_index] + ", not in " + shard_path +
                                    " as the index says");
    }
    for (const StTensor& t : tensors_)
        if (!listed.count(t.name))
            return st_fail(err, paths_[t.file_index] + ": tensor " + st_quote(t.name) +
                                    " is not listed in " + index_path);
    return true;
}
