#!/usr/bin/env python3
"""Rewrite the rule table of docs/validation.md from `fgd rules --json` (the catalogue in
src/validate/rules/catalogue.rs), between the BEGIN/END markers.

    cargo build && python3 tools/rules_table.py
"""
import json
import pathlib
import subprocess
import sys

root = pathlib.Path(__file__).resolve().parent.parent
fgd = root / "target" / "debug" / "fgd"
out = subprocess.run([str(fgd), "rules", "--json"], capture_output=True, text=True, check=True)
rows = [json.loads(l) for l in out.stdout.splitlines() if l.strip()]
status = {
    "object": "checked per object",
    "fabric": "checked across the fabric",
    "fabric config": "checked; assumed config without `--fab`",
    "switch profiles": "checked against the built-in profiles",
    "live cluster (not checked)": "**not checked** (needs the live cluster)",
    "committed fabric": "checked against git HEAD (a push: the last push); not checked outside git",
    "moot (kind refused)": "**moot**: fgd never manages a SwitchProfile (GEN-10)",
}
lines = ["| rule | needs | status | what |", "|---|---|---|---|"]
for r in rows:
    title = r["title"].replace("|", "\\|")
    lines.append(f"| {r['rule']} | {r['needs']} | {status.get(r['needs'], r['needs'])} | {title} |")
doc = root / "docs" / "validation.md"
text = doc.read_text()
begin, end = "<!-- BEGIN rules -->", "<!-- END rules -->"
a, b = text.index(begin) + len(begin), text.index(end)
doc.write_text(text[:a] + "\n" + "\n".join(lines) + "\n" + text[b:])
print(f"{len(rows)} rules", file=sys.stderr)
