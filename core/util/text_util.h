// text_util.h — small string and file helpers shared across core/.
#pragma once
#include <string>

// Reads the whole file into *out. False (and *out untouched) when it cannot be opened or read.
bool read_file(const std::string& path, std::string* out);

// Replaces every occurrence of `from` in *s with `to` (left to right, no overlaps); an empty
// `from` changes nothing.
void replace_all(std::string* s, const std::string& from, const std::string& to);
