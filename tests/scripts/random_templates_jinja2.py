# random_templates_jinja2.py — differential testing of the chat-template interpreter against Python's
# jinja2 configured like transformers (see render_reference_jinja2.py).
#   python3 tests/scripts/random_templates_jinja2.py gen SEED COUNT > pairs.jsonl
#       writes random small templates (expressions, filters, tests, methods, slices, loops,
#       namespaces) with a fixed context, one {"template", "context"} object per line;
#   python3 tests/scripts/random_templates_jinja2.py render < pairs.jsonl
#       renders each with jinja2: the output as a JSON string, or {"error": message}.
# tests/scripts/check_chat_template.sh compares the second with `render_template --pairs`; two errors
# count as agreement (messages differ between engines), anything else must be identical.
import json
import random
import sys

CONTEXT = {
    "s": "Hello World", "p": "  padded\n", "c": "a,b,,c", "e": "", "uni": "héllo 日本",
    "n": 7, "z": 0, "m": -3, "f": 2.5, "g": -0.25, "t": True, "no": False, "nil": None,
    "l": [3, 1, 2], "ls": ["b", "a", "C"], "el": [], "d": {"k": "v", "a": 1, "z": [1, 2]},
    "msgs": [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"},
             {"role": "assistant", "content": "yo", "tool_calls": [{"name": "f", "arguments": {"x": 1}}]},
             {"role": "user", "content": "bye"}],
}
VARS = list(CONTEXT) + ["u"]
STRS = ["''", "'a'", "'ab'", "'x y'", "' s '", "'a,b'", "'Hi'", "'\\n'", "'<think>r</think>ans'"]
NUMS = ["0", "1", "2", "3", "-1", "10", "0.5", "1.5", "-2.0"]
FILTERS = ["length", "count", "upper", "lower", "trim", "title", "capitalize", "first", "last", "join",
           "join(', ')", "default('D')", "default('D', true)", "string", "int", "float", "list",
           "reverse | list", "sort | list", "sort(reverse=true) | list", "unique | list", "abs", "tojson",
           "tojson(indent=2)", "replace('a', 'b')", "items | list", "dictsort", "sum", "min", "max",
           "round", "round(1, 'floor')", "wordcount", "select | list", "reject | list",
           "map('string') | list", "map('upper') | join", "selectattr('role', 'equalto', 'user') | list",
           "rejectattr('content') | list", "map(attribute='role') | join(',')", "indent(2)", "e"]
TESTS = ["defined", "undefined", "none", "string", "number", "integer", "float", "mapping", "iterable",
         "sequence", "odd", "even", "divisibleby(2)", "divisibleby 3", "in l", "in 'Hello World'", "equalto 7",
         "lower", "upper", "true", "false", "boolean", "callable", "sameas none", "eq 1", "ne 1", "lt 3",
         "ge 2"]
METHODS = ["upper()", "lower()", "strip()", "strip('H')", "lstrip()", "rstrip('\\n')", "split()",
           "split(',')", "split(',', 1)", "startswith('H')", "endswith(('d', 'x'))", "replace('l', 'L')",
           "replace('l', '', 1)", "title()", "capitalize()", "find('o')", "count('l')", "splitlines()",
           "isdigit()", "get('k')", "get('q', 0)", "items() | list", "keys() | list", "values() | list",
           "index(2)", "count(1)"]
# No '**': jinja2 folds `-1 ** x` into Python source as -(1 ** x), a quirk not worth copying.
BINOPS = ["+", "-", "*", "/", "//", "~", "==", "!=", "<", "<=", ">", ">=", "in", "not in", "and", "or"]


def expr(r, depth):
    k = r.random()
    if depth <= 0 or k < 0.25:
        a = r.random()
        if a < 0.5:
            return r.choice(VARS)
        if a < 0.7:
            return r.choice(STRS)
        if a < 0.9:
            return r.choice(NUMS)
        return r.choice(["none", "true", "false", "[]", "[1, 'a']", "{'k': 1}", "(1, 2)"])
    if k < 0.45:
        return "(%s %s %s)" % (expr(r, depth - 1), r.choice(BINOPS), expr(r, depth - 1))
    if k < 0.5:   # '%' only between numbers: string formatting with '%' is not supported
        return "(%s %% %s)" % (r.choice(NUMS + ["n", "m", "f", "g", "z"]), r.choice(NUMS + ["n", "m", "f", "g"]))
    if k < 0.6:
        return "%s | %s" % (expr(r, depth - 1), r.choice(FILTERS))
    if k < 0.7:
        return "(%s is %s%s)" % (expr(r, depth - 1), r.choice(["", "not "]), r.choice(TESTS))
    if k < 0.8:
        return "%s.%s" % (r.choice(["s", "p", "c", "uni", "d", "l", "e"]), r.choice(METHODS))
    if k < 0.9:
        base = r.choice(["s", "l", "ls", "uni", "c", "msgs", "'abcdef'"])
        sl = r.choice(["[0]", "[-1]", "[1:]", "[:2]", "[::-1]", "[1:3]", "[::2]", "[-2:]", "[5]", "[1:-1]"])
        return base + sl
    if k < 0.95:
        return "(%s if %s else %s)" % (expr(r, depth - 1), expr(r, depth - 1), expr(r, depth - 1))
    return "(not %s)" % expr(r, depth - 1)


def template(r):
    k = r.random()
    if k < 0.6:
        return "{{ %s }}" % expr(r, 3)
    if k < 0.75:
        return ("{%% for x in %s %%}{{ loop.index0 }}{{ x }}{{ loop.previtem }}{{ ',' if not loop.last }}"
                "{%% else %%}E{%% endfor %%}" % r.choice(["l", "ls", "s", "d", "el", "msgs | map(attribute='role')",
                                                         "range(3)", "c.split(',')", "l | sort"]))
    if k < 0.85:
        return ("{%% set ns = namespace(a=0, b='') %%}{%% for x in %s %%}{%% set ns.a = ns.a + 1 %%}"
                "{%% set ns.b = ns.b ~ x %%}{%% endfor %%}{{ ns.a }}:{{ ns.b }}" % r.choice(["l", "ls", "range(4)", "'abc'"]))
    return ("{%% if %s %%}A{%% elif %s %%}B{%% else %%}C{%% endif %%}" % (expr(r, 2), expr(r, 2)))


def main():
    if sys.argv[1] == "gen":
        r = random.Random(int(sys.argv[2]))
        for _ in range(int(sys.argv[3])):
            print(json.dumps({"template": template(r), "context": CONTEXT}, ensure_ascii=False))
        return
    sys.path.insert(0, __file__.rsplit("/", 1)[0])
    import jinja2
    from render_reference_jinja2 import env
    for line in sys.stdin:
        if not line.strip():
            continue
        pair = json.loads(line)
        try:
            out = env.from_string(pair["template"]).render(**pair["context"])
            print(json.dumps(out, ensure_ascii=False))
        except Exception as e:  # any jinja2 failure is an expected error outcome
            print(json.dumps({"error": str(e)}, ensure_ascii=False))


if __name__ == "__main__":
    main()
