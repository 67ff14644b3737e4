// server_structured.h — the structured-output fields of a generation request (vLLM's and
// OpenAI's spellings) into one StructuredOutput:
//   response_format {"type": "text" | "json_object" | "json_schema", "json_schema": {"schema"}}
//   guided_json (schema object or its JSON text), guided_regex, guided_choice (strings)
//   guided_grammar (GBNF text)
//   structured_outputs {"json" | "regex" | "choice" | "json_object" | "grammar"}
// Structural tags and any second constraint in one request are refused. The
// server compiles the result against its vocabulary (ServerImpl::attach_grammar).
#pragma once
#include <string_view>
#include "core/server/server_request.h"

namespace simdjson { namespace dom { class element; } }

// True for the request keys this file parses.
bool structured_output_key(std::string_view key);
// Parses one of them into *out. False with *err (message and field) on a refusal.
bool parse_structured_output(std::string_view key, const simdjson::dom::element& v, StructuredOutput* out,
                             RequestError* err);
