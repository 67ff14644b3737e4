// chat_template_load.cpp — finds a model directory's chat template and special tokens the way
// transformers does: DIR/chat_template.jinja if present, else tokenizer_config.json's
// "chat_template" (a string, or a list of {"name", "template"} from which "default" is taken);
// bos_token / eos_token as strings or AddedToken objects ({"content": ...}).
#include <fstream>
#include <sstream>

#include "core/text/chat_template.h"
#include "core/util/text_util.h"


static std::string token_text(const Value* v) {
    if (!v) return "";
    if (v->is_string()) return v->s;
    if (v->is_dict() && v->get("content") && v->get("content")->is_string()) return v->get("content")->s;
    return "";
}

bool chat_template_load_dir(const std::string& dir, ChatTemplateSource* out, std::string* err) {
    *out = ChatTemplateSource();
    std::string text;
    const std::string config_path = dir + "/tokenizer_config.json";
    Value config;
    bool have_config = read_file(config_path, &text);
    if (have_config && !value_from_json(text, &config, err)) {
        *err = config_path + ": " + *err;
        return false;
    }
    if (have_config && config.is_dict()) {
        out->bos_token = token_text(config.get("bos_token"));
        out->eos_token = token_text(config.get("eos_token"));
    }
    if (read_file(dir + "/chat_template.jinja", &out->source)) {
        out->origin = dir + "/chat_template.jinja";
        return true;
    }
    if (!have_config) {
        *err = "no chat template: neither " + dir + "/chat_template.jinja nor " + config_path + " can be read";
        return false;
    }
    const Value* t = config.is_dict() ? config.get("chat_template") : nullptr;
    if (t && t->is_string()) {
        out->source = t->s;
        out->origin = config_path;
        return true;
    }
    if (t && t->is_list()) {
        for (const Value& entry : *t->list) {
            const Value* name = entry.is_dict() ? entry.get("name") : nullptr;
            const Value* tmpl = entry.is_dict() ? entry.get("template") : nullptr;
            if (name && name->is_string() && name->s == "default" && tmpl && tmpl->is_string()) {
                out->source = tmpl->s;
                out->origin = config_path + " (chat_template \"default\")";
                return true;
            }
        }
        *err = config_path + ": chat_template list has no \"default\" entry";
        return false;
    }
    *err = config_path + " has no chat_template";
    return false;
}
