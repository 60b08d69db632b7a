#!/usr/bin/env python3
"""Generate assets/switch-profiles/profiles.json from githedgehog/fabric's built-in SwitchProfiles.

The built-in profiles are Go composite literals in pkg/ctrl/switchprofile (p_*.go at 78827de,
profile_*.go in 2025 releases), listed by catalog.go. No Go toolchain is needed: this script reads the files of one commit with `git show`,
parses the small subset of Go those files use (composite literals, string/int/bool literals,
string concatenation, package constants, references to another profile's fields, and
lo.OmitBy with a one-line predicate) and prints the profiles as JSON, with the field names of the
SwitchProfile CRD (the `json:` tags of api/wiring/v1beta1/switchprofile_types.go) and Go's
omitempty rules. Anything outside that subset stops the script with an error naming the file
and line, so a new construct upstream is noticed instead of silently mistranslated.

Usage:
    python3 tools/gen_switch_profiles.py --repo PATH_TO_FABRIC_GIT --commit SHA \
        > assets/switch-profiles/profiles.json
"""

import argparse
import copy
import json
import re
import subprocess
import sys

PROFILE_DIR = "pkg/ctrl/switchprofile"
TYPES_FILE = "api/wiring/v1beta1/switchprofile_types.go"
META_DIR = "api/meta"
WIRING_DIR = "api/wiring/v1beta1"

# catalog.go list name -> the FabricConfig gate that adds it (None: always registered)
CATALOG_LISTS = {
    "defaultSwitchProfiles": None,
    "sonicCLSPlusSwitchProfiles": "includeSONiCCLSPlus",
    "cumulusSwitchProfiles": "includeCumulus",
}


class GoError(Exception):
    pass


def git(repo, *args):
    return subprocess.run(["git", "-C", repo, *args], check=True, capture_output=True, text=True).stdout


def list_files(repo, commit, directory):
    out = git(repo, "ls-tree", "--name-only", f"{commit}:{directory}")
    return [f"{directory}/{name}" for name in out.split() if name.endswith(".go") and not name.endswith("_test.go")]


# ---------------------------------------------------------------- tokenizer

TOKEN_RE = re.compile(
    r"""
    (?P<ws>[ \t\r\n]+)
  | (?P<comment>//[^\n]*|/\*.*?\*/)
  | (?P<string>"(?:[^"\\\n]|\\.)*")
  | (?P<raw>`[^`]*`)
  | (?P<number>[0-9]+)
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op>!=|==|[{}\[\]().,:&+=;!*])
    """,
    re.VERBOSE | re.DOTALL,
)


class Tok:
    def __init__(self, kind, value, line):
        self.kind, self.value, self.line = kind, value, line

    def __repr__(self):
        return f"{self.kind}:{self.value!r}@{self.line}"


def tokenize(text, path):
    toks, pos, line = [], 0, 1
    while pos < len(text):
        m = TOKEN_RE.match(text, pos)
        if not m:
            raise GoError(f"{path}:{line}: cannot tokenize {text[pos:pos + 20]!r}")
        kind = m.lastgroup
        value = m.group(kind)
        if kind == "string":
            toks.append(Tok("str", json.loads(value), line))
        elif kind == "raw":
            toks.append(Tok("str", value[1:-1], line))
        elif kind == "number":
            toks.append(Tok("num", int(value), line))
        elif kind in ("ident", "op"):
            toks.append(Tok(kind, value, line))
        line += value.count("\n")
        pos = m.end()
    toks.append(Tok("eof", None, line))
    return toks


# ---------------------------------------------------------------- declarations

def const_decls(text, path):
    """String constants: `Name [Type] = "literal"`, alone or in a const ( ... ) block."""
    consts = {}
    for block in re.findall(r"^const\s*\((.*?)^\)", text, re.MULTILINE | re.DOTALL):
        for m in re.finditer(r'^\s*([A-Za-z_]\w*)(?:\s+[A-Za-z_][\w.]*)?\s*=\s*"((?:[^"\\]|\\.)*)"', block, re.MULTILINE):
            consts[m.group(1)] = json.loads(f'"{m.group(2)}"')
    for m in re.finditer(r'^const\s+([A-Za-z_]\w*)(?:\s+[A-Za-z_][\w.]*)?\s*=\s*"((?:[^"\\]|\\.)*)"', text, re.MULTILINE):
        consts[m.group(1)] = json.loads(f'"{m.group(2)}"')
    return consts


def json_tags(text):
    """Go field name -> json name, over every struct of the SwitchProfile types file."""
    tags = {}
    for m in re.finditer(r'^\s+([A-Z]\w*)\s+[^`\n]+`json:"([^",]*)', text, re.MULTILINE):
        field, name = m.group(1), m.group(2)
        if name == "" or name == "-":
            continue
        if tags.get(field, name) != name:
            raise GoError(f"{TYPES_FILE}: field {field} has two json names ({tags[field]}, {name})")
        tags[field] = name
    return tags


# ---------------------------------------------------------------- parser / evaluator

class Struct(dict):
    """A Go struct value: field name -> value. Kept apart from maps for omitempty."""


class Evaluator:
    def __init__(self, var_sources, consts_by_pkg, fields):
        self.fields = fields  # the Go field names a struct may leave out
        self.var_sources = var_sources  # var name -> (tokens, start index, path)
        self.consts = consts_by_pkg  # qualifier ("" for local) -> {name: value}
        self.values = {}
        self.evaluating = set()

    def var(self, name):
        if name in self.values:
            return self.values[name]
        if name not in self.var_sources:
            return None
        if name in self.evaluating:
            raise GoError(f"variable {name} refers to itself")
        self.evaluating.add(name)
        toks, start, path = self.var_sources[name]
        p = Parser(toks, start, path, self)
        value = p.expr()
        self.evaluating.discard(name)
        self.values[name] = value
        return value


class Parser:
    def __init__(self, toks, pos, path, ev):
        self.toks, self.pos, self.path, self.ev = toks, pos, path, ev

    def peek(self, offset=0):
        return self.toks[self.pos + offset]

    def fail(self, msg):
        raise GoError(f"{self.path}:{self.peek().line}: {msg} (at {self.peek()!r})")

    def take(self, kind=None, value=None):
        t = self.peek()
        if (kind and t.kind != kind) or (value is not None and t.value != value):
            self.fail(f"expected {value or kind}")
        self.pos += 1
        return t

    def accept(self, value):
        if self.peek().kind == "op" and self.peek().value == value:
            self.pos += 1
            return True
        return False

    # type := qualified ident | map[T]T | []T | *T
    def parse_type(self):
        t = self.peek()
        if t.kind == "ident" and t.value == "map":
            self.take()
            self.take("op", "[")
            self.parse_type()
            self.take("op", "]")
            self.parse_type()
            return "map"
        if t.kind == "op" and t.value == "[":
            self.take()
            self.take("op", "]")
            self.parse_type()
            return "slice"
        if t.kind == "op" and t.value == "*":
            self.take()
            return self.parse_type()
        name = self.take("ident").value
        while self.accept("."):
            name += "." + self.take("ident").value
        return name

    def expr(self):
        value = self.term()
        while self.accept("+"):
            right = self.term()
            if not isinstance(value, str) or not isinstance(right, str):
                self.fail("+ on non-strings")
            value += right
        return value

    def term(self):
        t = self.peek()
        if t.kind == "str" or t.kind == "num":
            self.pos += 1
            return t.value
        if t.kind == "op" and t.value == "&":
            self.take()
            return self.composite()
        if t.kind == "op" and t.value in ("[",):
            return self.composite()
        if t.kind == "ident":
            if t.value in ("true", "false"):
                self.pos += 1
                return t.value == "true"
            if t.value == "nil":
                self.pos += 1
                return None
            if t.value == "map":
                return self.composite()
            if t.value == "lo" and self.peek(2).value == "OmitBy":
                return self.omit_by()
            # composite literal with a named type, or a selector
            save = self.pos
            self.parse_type()
            if self.peek().kind == "op" and self.peek().value == "{":
                self.pos = save
                return self.composite()
            self.pos = save
            return self.selector()
        self.fail("unexpected token")

    def composite(self):
        kind = self.parse_type()
        return self.body(kind)

    def body(self, kind):
        self.take("op", "{")
        if kind == "slice":
            out = []
            while not self.accept("}"):
                out.append(self.element())
                if not self.accept(","):
                    self.take("op", "}")
                    break
            return out
        out = {} if kind == "map" else Struct()
        while not self.accept("}"):
            if kind == "map":
                key = self.expr()
            else:
                key = self.take("ident").value
            self.take("op", ":")
            if key in out:
                self.fail(f"duplicate key {key!r}")
            out[key] = self.element()
            if not self.accept(","):
                self.take("op", "}")
                break
        return out

    def element(self):
        # elided composite type inside a map or slice literal: `{...}`
        if self.peek().kind == "op" and self.peek().value == "{":
            return self.body("elided")
        return self.expr()

    def selector(self):
        line = self.peek().line
        parts = [self.take("ident").value]
        while self.accept("."):
            parts.append(self.take("ident").value)
        value = self.ev.var(parts[0])
        if value is not None:
            for field in parts[1:]:
                if isinstance(value, Struct) and field not in value and field in self.ev.fields:
                    value = None  # a field left out of a Go literal holds its zero value
                    break
                if not isinstance(value, dict) or field not in value:
                    raise GoError(f"{self.path}:{line}: {'.'.join(parts)}: no field {field}")
                value = value[field]
            return copy.deepcopy(value)
        qualifier, name = ("", parts[0]) if len(parts) == 1 else (parts[0], parts[1])
        if len(parts) > 2 or name not in self.ev.consts.get(qualifier, {}):
            raise GoError(f"{self.path}:{line}: unknown name {'.'.join(parts)}")
        return self.ev.consts[qualifier][name]

    def omit_by(self):
        """lo.OmitBy(m, func(_ K, v V) bool { return v.Field != "" | nil }): drop matching entries."""
        self.take("ident", "lo")
        self.take("op", ".")
        self.take("ident", "OmitBy")
        self.take("op", "(")
        source = self.expr()
        self.take("op", ",")
        self.take("ident", "func")
        self.take("op", "(")
        self.take("ident")
        self.parse_type()
        self.take("op", ",")
        var = self.take("ident").value
        self.parse_type()
        self.take("op", ")")
        self.take("ident", "bool")
        self.take("op", "{")
        self.take("ident", "return")
        if self.take("ident").value != var:
            self.fail("predicate must test its value parameter")
        self.take("op", ".")
        field = self.take("ident").value
        op = self.take("op").value
        if op not in ("!=", "=="):
            self.fail("predicate must be a comparison")
        zero = self.term()
        self.take("op", "}")
        self.take("op", ")")
        if not isinstance(source, dict):
            self.fail("lo.OmitBy on a non-map")
        kept = {}
        for key, value in source.items():
            actual = value.get(field)
            is_zero = actual in (None, "", False, 0) or actual == {}
            equal = is_zero if zero in (None, "") else actual == zero
            omit = (not equal) if op == "!=" else equal
            if not omit:
                kept[key] = value
        return kept


def var_decls(toks, path):
    """Top-level `var Name = expr` and `var ( Name = expr ... )`: name -> start token index."""
    out = {}
    depth = 0
    for i, t in enumerate(toks):
        if t.kind == "op" and t.value in "{(":
            depth += 1
        elif t.kind == "op" and t.value in "})":
            depth -= 1
        elif depth == 0 and t.kind == "ident" and t.value == "var":
            n, eq = toks[i + 1], toks[i + 2]
            if n.kind == "ident" and eq.kind == "op" and eq.value == "=":
                out[n.value] = (toks, i + 3, path)
    return out


def to_json(value, tags):
    """Go value -> JSON value: json tag names, omitempty (structs themselves are never omitted)."""
    if isinstance(value, Struct):
        out = {}
        for field, v in value.items():
            if field not in tags:
                raise GoError(f"field {field} has no json tag in {TYPES_FILE}")
            if v in (None, "", False, 0) or (isinstance(v, (list, dict)) and not isinstance(v, Struct) and not v):
                continue
            out[tags[field]] = to_json(v, tags)
        return out
    if isinstance(value, dict):
        return {k: to_json(v, tags) for k, v in value.items()}
    if isinstance(value, list):
        return [to_json(v, tags) for v in value]
    return value


def catalog_lists(text):
    lists = {}
    for name in CATALOG_LISTS:
        m = re.search(r"var\s+" + name + r"\s*=\s*\[\]wiringapi\.SwitchProfile\{(.*?)\n\}", text, re.DOTALL)
        if not m:
            if CATALOG_LISTS[name] is None:
                raise GoError(f"{PROFILE_DIR}/catalog.go: list {name} not found")
            continue  # an older release without this gated list
        lists[name] = re.findall(r"([A-Za-z_]\w*)\s*,", m.group(1))
    return lists


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", required=True, help="a git directory of githedgehog/fabric")
    ap.add_argument("--commit", required=True, help="the commit to read")
    args = ap.parse_args()
    commit = git(args.repo, "rev-parse", "--verify", args.commit + "^{commit}").strip()

    def show(path):
        return git(args.repo, "show", f"{commit}:{path}")

    consts = {"": {}, "meta": {}, "wiringapi": {}}
    for path in list_files(args.repo, commit, META_DIR):
        consts["meta"].update(const_decls(show(path), path))
    for path in list_files(args.repo, commit, WIRING_DIR):
        consts["wiringapi"].update(const_decls(show(path), path))

    sources = {}
    for path in list_files(args.repo, commit, PROFILE_DIR):
        text = show(path)
        consts[""].update(const_decls(text, path))
        sources.update(var_decls(tokenize(text, path), path))

    tags = json_tags(show(TYPES_FILE))
    tags["Name"] = "name"  # kmetav1.ObjectMeta
    ev = Evaluator(sources, consts, set(tags))

    profiles = []
    for list_name, variables in catalog_lists(show(f"{PROFILE_DIR}/catalog.go")).items():
        for variable in variables:
            value = ev.var(variable)
            if not isinstance(value, Struct) or "ObjectMeta" not in value or "Spec" not in value:
                raise GoError(f"catalog entry {variable} is not a SwitchProfile literal")
            profiles.append(
                {
                    "name": value["ObjectMeta"]["Name"],
                    "gate": CATALOG_LISTS[list_name],
                    "spec": to_json(value["Spec"], tags),
                }
            )

    names = [p["name"] for p in profiles]
    if len(set(names)) != len(names):
        raise GoError(f"duplicate profile names: {names}")

    doc = {
        "source": {"repository": "githedgehog/fabric", "commit": commit, "path": PROFILE_DIR},
        "profiles": profiles,
    }
    json.dump(doc, sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")


if __name__ == "__main__":
    try:
        main()
    except GoError as e:
        sys.exit(f"gen_switch_profiles: {e}")
