// text_util.cpp — see text_util.h.
#include "core/util/text_util.h"
#include <fstream>
#include <sstream>

bool read_file(const std::string& path, std::string* out) {
    std::ifstream f(path, std::ios::binary);
    if (!f) return false;
    std::ostringstream ss;
    ss << f.rdbuf();
    if (f.bad()) return false;
    *out = ss.str();
    return true;
}

void replace_all(std::string* s, const std::string& from, const std::string& to) {
    if (from.empty() || s->find(from) == std::string::npos) return;
    std::string r;
    r.reserve(s->size() + 16);
    size_t i = 0;
    for (size_t p; (p = s->find(from, i)) != std::string::npos; i = p + from.size()) {
        r.append(*s, i, p - i);
        r += to;
    }
    r.append(*s, i, std::string::npos);
    s->swap(r);
}
