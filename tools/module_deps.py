#!/usr/bin/env python3
"""Dependencies between the engine's top-level modules, and the cycles among them.

The engine is src/ minus src/cli/ (and main.rs). For each top-level module A (src/A.rs or
src/A/), an edge A -> B is any path into B from a file of A: `crate::B...`, an item of
`use crate::{B, ...}`, or `super::` climbing out to the crate root and on into B. Test code is
left out: files named tests.rs or under a tests/ folder, files whose module is declared
`#[cfg(test)] mod x;`, and items under `#[cfg(test)]` (a `mod tests { ... }`, a `use`, a fn).

Prints the edges (one example file:line each) and, if the modules' graph has a strongly
connected component of more than one module (Tarjan), the cycle's edges; exits 1 then.
An edge listed in tools/module_deps.allow ("A -> B  # why", one a line) is left out of the
graph.

Why a script and not a tool: cargo plugins check module cycles (cargo-cycles; cargo-modules'
`dependencies --acyclic`), but each is one more binary to install and build on every test
machine, and they judge every module level with test code in; fgd's rule is about its
top-level modules, test code out. The engine's convention (other top-level modules by `crate::`
paths) makes a lexical scan enough, and this one runs in a fraction of a second with what the
tests already need (python3).

Usage: python3 tools/module_deps.py [--edges] [SRC_DIR]
"""

import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FRONT_ENDS = {"cli"}
IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def blank(text):
    """The text with comments, strings and char literals replaced by spaces (newlines kept),
    so that what remains is code and the line numbers stay right."""
    out = []
    i, n = 0, len(text)

    def keep_lines(s):
        return "".join(c if c == "\n" else " " for c in s)

    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(keep_lines(text[i:j]))
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append(keep_lines(text[i:j]))
            i = j
        elif (c == "r" or c == "b") and re.match(r'(br|r)#*"', text[i:i + 260]) and (
            i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")
        ):
            m = re.match(r'(br|r)(#*)"', text[i:])
            close = '"' + m.group(2)
            j = text.find(close, i + m.end())
            j = n if j < 0 else j + len(close)
            out.append(keep_lines(text[i:j]))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            j += 1
            out.append(keep_lines(text[i:j]))
            i = j
        elif c == "'":
            m = re.match(r"'(\\(x[0-9a-fA-F]{2}|u\{[0-9a-fA-F]+\}|.)|[^\\'])'", text[i:i + 12])
            if m:
                out.append(" " * m.end())
                i += m.end()
            else:  # a lifetime or a label
                out.append(c)
                i += 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def item_end(code, start):
    """The end of the item that starts at `start` (after its attributes): its `;`, or the
    brace that closes its body."""
    depth = 0
    is_use = re.match(r"\s*(pub(\([^)]*\))?\s+)?use\b", code[start:]) is not None
    i = start
    while i < len(code):
        c = code[i]
        if c in "([":
            depth += 1
        elif c in ")]":
            depth -= 1
        elif c == ";" and depth == 0:
            return i + 1
        elif c == "{" and depth == 0 and not is_use:
            level, j = 0, i
            while j < len(code):
                if code[j] == "{":
                    level += 1
                elif code[j] == "}":
                    level -= 1
                    if level == 0:
                        return j + 1
                j += 1
            return len(code)
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
        i += 1
    return len(code)


CFG_TEST = re.compile(r"#\[cfg\(test\)\]")
ATTR = re.compile(r"\s*#\[[^\]]*\]")
TEST_MOD_FILE = re.compile(r"\s*(pub(\([^)]*\))?\s+)?mod\s+(" + IDENT + r")\s*;")


def strip_tests(code, path, test_files):
    """`code` with its `#[cfg(test)]` items blanked; the files of `#[cfg(test)] mod x;` are
    added to `test_files`."""
    if re.match(r"\s*#!\[cfg\(test\)\]", code):
        return re.sub(r"[^\n]", " ", code)
    parts, pos = [], 0
    for m in CFG_TEST.finditer(code):
        if m.start() < pos:
            continue
        start = m.end()
        while True:
            a = ATTR.match(code, start)
            if not a:
                break
            start = a.end()
        decl = TEST_MOD_FILE.match(code, start)
        if decl:
            name = decl.group(3)
            stem = os.path.splitext(os.path.basename(path))[0]
            here = os.path.dirname(path)
            folder = here if stem in ("mod", "lib", "main") else os.path.join(here, stem)
            test_files.add(os.path.normpath(os.path.join(folder, name + ".rs")))
            test_files.add(os.path.normpath(os.path.join(folder, name, "mod.rs")))
        end = item_end(code, start)
        parts.append(code[pos:m.start()])
        parts.append(re.sub(r"[^\n]", " ", code[m.start():end]))
        pos = end
    parts.append(code[pos:])
    return "".join(parts)


def group_items(code, open_brace):
    """The first path segment of each item of the `{...}` group at `open_brace`, with its
    offset."""
    items, depth, i, start = [], 0, open_brace, open_brace + 1
    while i < len(code):
        c = code[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                items.append(start)
                break
        elif c == "," and depth == 1:
            items.append(start)
            start = i + 1
        i += 1
    found = []
    for s in items:
        m = re.compile(r"\s*(" + IDENT + ")").match(code, s)
        if m:
            found.append((m.group(1), m.start(1)))
    return found


def module_depth(rel):
    """How many `super::` lead from the file `rel` (relative to src/) to the crate root."""
    parts = rel.split(os.sep)
    depth = len(parts)
    if parts[-1] == "mod.rs":
        depth -= 1
    return depth


def paths_into(code, rel, modules, aliases):
    """(module, offset) of every path in `code` into a top-level module; `aliases` maps the
    names the crate root re-exports (`crate::Error`) to the module they come from."""
    found = []
    for m in re.finditer(r"(?<![\w$])crate\s*::\s*(\{|" + IDENT + ")", code):
        if m.group(1) == "{":
            found.extend(group_items(code, m.start(1)))
        else:
            found.append((m.group(1), m.start(1)))
    depth = module_depth(rel)
    for m in re.finditer(r"(?<![\w$:])((?:super\s*::\s*)+)(\{|" + IDENT + ")", code):
        if m.group(1).count("super") < depth:
            continue
        if m.group(2) == "{":
            found.extend(group_items(code, m.start(2)))
        else:
            found.append((m.group(2), m.start(2)))
    return [(aliases.get(name, name), off) for name, off in found if aliases.get(name, name) in modules]


def top_level_modules(src):
    modules = {}
    for entry in sorted(os.listdir(src)):
        full = os.path.join(src, entry)
        name = entry[:-3] if entry.endswith(".rs") else entry
        if name in ("lib", "main") or name in FRONT_ENDS:
            continue
        if entry.endswith(".rs") or os.path.isdir(full):
            modules.setdefault(name, []).append(full)
    return modules


def root_reexports(src, modules):
    """{name: module} for the crate root's `pub use module::{name, ...};` and
    `pub use module::...::name;`."""
    aliases = {}
    lib = os.path.join(src, "lib.rs")
    if not os.path.exists(lib):
        return aliases
    with open(lib, encoding="utf-8") as fh:
        code = blank(fh.read())
    for m in re.finditer(r"\bpub\s+use\s+(" + IDENT + r")\s*::([^;]*);", code):
        if m.group(1) not in modules:
            continue
        rest = m.group(2)
        names = re.findall(IDENT, rest[rest.find("{"):]) if "{" in rest else re.findall(IDENT, rest)[-1:]
        for name in names:
            if name not in ("self", "as"):
                aliases[name] = m.group(1)
    return aliases


def rust_files(paths):
    for p in paths:
        if os.path.isdir(p):
            for d, dirs, files in os.walk(p):
                dirs.sort()
                for f in sorted(files):
                    if f.endswith(".rs"):
                        yield os.path.join(d, f)
        else:
            yield p


def edges_of(src):
    """{(A, B): "file:line"}, the first place A names B."""
    modules = top_level_modules(src)
    aliases = root_reexports(src, modules)
    edges = {}
    test_files = set()
    files = [(a, f) for a, paths in modules.items() for f in rust_files(paths)]
    # Module files declare their test modules: read them in an order where a parent comes
    # before its children (shorter paths first), so a test file is known before it is read.
    files.sort(key=lambda af: (af[1].count(os.sep), af[1]))
    for a, f in files:
        rel = os.path.relpath(f, src)
        parts = rel.split(os.sep)
        if os.path.normpath(f) in test_files or parts[-1] == "tests.rs" or "tests" in parts[:-1]:
            continue
        with open(f, encoding="utf-8") as fh:
            text = fh.read()
        code = strip_tests(blank(text), f, test_files)
        for b, off in paths_into(code, rel, modules, aliases):
            if b != a and (a, b) not in edges:
                line = code.count("\n", 0, off) + 1
                edges[(a, b)] = "%s:%d" % (os.path.relpath(f, os.path.dirname(src)), line)
    return sorted(modules), edges


def tarjan(nodes, succ):
    index, low, on, stack, out = {}, {}, set(), [], []
    counter = [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in succ.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            out.append(sorted(comp))

    for v in nodes:
        if v not in index:
            visit(v)
    return out  # reverse topological order: a component comes after those it depends on


def read_allow(path):
    allow = {}
    if not os.path.exists(path):
        return allow
    with open(path, encoding="utf-8") as fh:
        for n, raw in enumerate(fh, 1):
            line = raw.split("#", 1)[0].strip()
            if not line:
                continue
            m = re.fullmatch(r"(" + IDENT + r")\s*->\s*(" + IDENT + r")", line)
            if not m or "#" not in raw:
                sys.exit("%s:%d: expected 'A -> B  # why'" % (path, n))
            allow[(m.group(1), m.group(2))] = raw.split("#", 1)[1].strip()
    return allow


def layers(nodes, succ):
    """Each module's layer: 0 if it depends on no engine module, else one above its highest
    dependency."""
    level = {}

    def of(v):
        if v not in level:
            level[v] = 1 + max((of(w) for w in succ.get(v, ())), default=-1)
        return level[v]

    for v in nodes:
        of(v)
    return level


def main(argv):
    show_edges = "--edges" in argv
    args = [a for a in argv if not a.startswith("--")]
    src = os.path.abspath(args[0]) if args else os.path.join(ROOT, "src")
    nodes, edges = edges_of(src)
    allow = read_allow(os.path.join(ROOT, "tools", "module_deps.allow"))
    for e in sorted(set(allow) - set(edges)):
        print("allowed edge %s -> %s no longer exists: drop it from module_deps.allow" % e)
    succ = {}
    for (a, b) in edges:
        if (a, b) not in allow:
            succ.setdefault(a, []).append(b)
    if show_edges:
        for (a, b), where in sorted(edges.items()):
            mark = "  (allowed: %s)" % allow[(a, b)] if (a, b) in allow else ""
            print("%s -> %s  %s%s" % (a, b, where, mark))
    cycles = [c for c in tarjan(nodes, succ) if len(c) > 1]
    for comp in cycles:
        members = set(comp)
        print("cycle among %s:" % ", ".join(comp))
        for (a, b), where in sorted(edges.items()):
            if a in members and b in members and (a, b) not in allow:
                print("  %s -> %s  %s" % (a, b, where))
    if cycles:
        return 1
    level = layers(nodes, succ)
    print("no cycle between the engine's %d modules; layers, lowest first:" % len(nodes))
    for n in range(max(level.values()) + 1):
        print("  %d: %s" % (n, " ".join(sorted(v for v in nodes if level[v] == n))))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
