// json_thread_parser.h — the rule for the per-thread simdjson parsers of the request and tool-call
// parsers. A parser keeps the buffers of the largest document it has parsed (about 14 bytes per
// byte); a worker that took a large body gives them back at its next document under 64 KB, so
// memory is not workers x the largest body for good.
#pragma once

#include <stddef.h>
#include "simdjson.h"

inline void json_parser_fit(simdjson::dom::parser* p, size_t next_len) {
    constexpr size_t KEEP_BYTES = 64 << 10;
    if (p->capacity() > KEEP_BYTES && next_len <= KEEP_BYTES) *p = simdjson::dom::parser();
}
