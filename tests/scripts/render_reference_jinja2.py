# render_reference_jinja2.py — a second reference renderer for tests/scripts/check_chat_template.sh, used
# when Python's jinja2 is installed: `python3 tests/scripts/render_reference_jinja2.py TEMPLATE < contexts.jsonl`.
# Configures jinja2 the way transformers' chat-template code does (immutable sandbox, trim_blocks,
# lstrip_blocks, loop controls, raise_exception, strftime_now, and a tojson that calls json.dumps
# with ensure_ascii=False) and prints one line per context: the output as a JSON string, or
# {"error": message}.
import json
import sys
from datetime import datetime

import jinja2
from jinja2.ext import loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment


def raise_exception(message):
    raise jinja2.exceptions.TemplateError(message)


def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
    return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)


def strftime_now(fmt):
    return datetime.now().strftime(fmt)


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[loopcontrols])
env.filters["tojson"] = tojson
env.globals["raise_exception"] = raise_exception
env.globals["strftime_now"] = strftime_now
def main():
    with open(sys.argv[1], encoding="utf-8") as f:
        template = env.from_string(f.read())
    for line in sys.stdin:
        if not line.strip():
            continue
        try:
            print(json.dumps(template.render(**json.loads(line)), ensure_ascii=False))
        except Exception as e:  # the comparison wants the message, whatever the error type
            print(json.dumps({"error": str(e)}, ensure_ascii=False))


if __name__ == "__main__":
    main()
