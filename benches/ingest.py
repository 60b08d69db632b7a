#!/usr/bin/env python3
"""Ingest benchmark: fgd vs the older Python ingest (../shared/bench/reference_ingest.py) vs the
file system floor, on deterministic corpora from ../shared/bench/gen_corpus.py.

    python3 benches/ingest.py [--sizes 1k,10k,100k] [--runs 5] [--out benches/results.md]

Runs are paired and interleaved (fgd, peer --cloader --atomic, peer --cloader, floor, ...), each
in a fresh directory, after a `sync` and with its input read once just before (warm: this machine
pages out what nobody touched for a while): deleting 10^4-10^5 files slows later creations on ext4 for a while, so all
clean-up happens once, at the end. A fast wrong answer does not count: the first fgd run of each
size is checked against the generator's manifest. Standard library only.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(REPO), "shared", "bench")
SIZES = {"1k": (1000, 10), "10k": (10000, 100), "100k": (100000, 1000)}


def warm(*paths):
    """Read every file under `paths`, so that a timed run starts with its input in the page
    cache. This machine runs DAMON with a pageout scheme: what nobody touched for a while leaves
    the page cache, and a copy of a tree written minutes before turned into 95,000 small reads
    from disk (`cp -r` of the 100k tree took 7-9 s instead of 1.5-2.5 s), as could fgd's own
    reading of raw/. Warm for every command alike."""
    for path in paths:
        for root, _, files in os.walk(path):
            for n in files:
                with open(os.path.join(root, n), "rb") as f:
                    while f.read(1 << 20):
                        pass


def run(cmd, warm_first=(), **kw):
    """Wall time and peak RSS (KiB) of one child process (its CPU time: `run_cpu`). This process must stay small: a child
    spawned from it counts this process's peak RSS in its own ru_maxrss. Every run starts with
    nothing dirty in the page cache: otherwise a durable writer (fgd's syncfs, the peer's
    fsyncs) pays for the write-back of whatever ran before it, and the order of the pairing
    decides the figures."""
    os.sync()
    warm(*warm_first)
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)
    _, status, usage = os.wait4(p.pid, 0)
    took = time.perf_counter() - t
    code = os.waitstatus_to_exitcode(status)
    if code not in (0, 1):
        sys.exit(f"FAIL: {' '.join(cmd)} exited {code}: {p.stderr.read().decode()[-500:]}")
    run.cpu = (usage.ru_utime, usage.ru_stime)
    return took, usage.ru_maxrss


def run_cpu(cmd, warm_first=()):
    """`run`, and the child's user and system CPU seconds: the wall time of a run that creates
    10^4-10^5 files depends on the state of the file system (ext4 slows at creating inodes
    after many create/delete cycles: kernel time in `find_inode_bit`), the user time does not."""
    took, rss = run(cmd, warm_first)
    return took, rss, *run.cpu


def fresh_fabric(fgd, scratch, raw, tag):
    d = tempfile.mkdtemp(prefix=f"{tag}-", dir=scratch)
    subprocess.run([fgd, "init", d], check=True, stdout=subprocess.DEVNULL)
    for n in os.listdir(raw):
        os.link(os.path.join(raw, n), os.path.join(d, "raw", n))
    return d


def check(fabric, manifest):
    """The outcome must match the generator's manifest, document for document."""
    expected = json.load(open(manifest))
    managed = [d for f in expected["files"] for d in f["docs"] if d["expect"] == "managed"]
    for d in managed:
        p = os.path.join(fabric, d["path"])
        if not os.path.isfile(p) or d["name"] not in open(p).read():
            sys.exit(f"FAIL: {d['path']} missing or wrong")
    kust = open(os.path.join(fabric, "managed/kustomization.yaml")).read()
    listed = sum(1 for line in kust.splitlines() if line.startswith("- "))
    if listed != len(managed):
        sys.exit(f"FAIL: kustomization lists {listed}, expected {len(managed)}")
    left = [n for n in os.listdir(os.path.join(fabric, "raw")) if n.endswith((".yaml", ".yml"))]
    if left:
        sys.exit(f"FAIL: raw/ still holds {left[:3]}")
    return len(managed)


def bench(size, runs, fgd, scratch):
    docs, files = SIZES[size]
    base = tempfile.mkdtemp(prefix=f"corpus-{size}-", dir=scratch)
    raw, manifest = os.path.join(base, "raw"), os.path.join(base, "expected.json")
    subprocess.run([sys.executable, os.path.join(SHARED, "gen_corpus.py"), "--docs", str(docs), "--files", str(files),
                    "--seed", "1", "--invalid-fraction", "0.05", "--out", raw, "--manifest", manifest],
                   check=True, stderr=subprocess.DEVNULL)
    corpus_bytes = sum(os.path.getsize(os.path.join(raw, n)) for n in os.listdir(raw))
    peer = os.path.join(SHARED, "reference_ingest.py")
    t = {"fgd": [], "rss": [], "atomic": [], "cloader": [], "cp": [], "cat": [], "validate": [],
         "fgd_all": [], "rss_all": [], "validate_env": [], "kubeconform": [],
         "user": [], "sys": [], "user_all": [], "sys_all": []}
    kubeconform = os.path.join(SHARED, "peers", "kubeconform.sh")
    finished = None
    for i in range(runs):
        # The envelope, as the generator's manifest judges it (its fabrics are consistent for
        # the envelope only: bench/README.md), then every rule (other counts: see `rules`).
        d = fresh_fabric(fgd, scratch, raw, "fgd")
        took, rss, user, system = run_cpu([fgd, "ingest", "--rules", "envelope", d], warm_first=[os.path.join(d, "raw")])
        t["fgd"].append(took)
        t["rss"].append(rss)
        t["user"].append(user)
        t["sys"].append(system)
        da = fresh_fabric(fgd, scratch, raw, "all")
        took, rss, user, system = run_cpu([fgd, "ingest", da], warm_first=[os.path.join(da, "raw")])
        t["fgd_all"].append(took)
        t["rss_all"].append(rss)
        t["user_all"].append(user)
        t["sys_all"].append(system)
        if i == 0:
            # In a child: the manifest of 10^5 documents is about 80 MB of Python objects, and a
            # process spawned from a big parent inherits its peak RSS (Linux counts the image it
            # replaced at exec in ru_maxrss), which made fgd look 30 MB bigger than it is.
            subprocess.run([sys.executable, os.path.abspath(__file__), "--check", d, manifest], check=True)
            finished = d
        for key, extra in (("atomic", ["--cloader", "--atomic"]), ("cloader", ["--cloader"])):
            d = fresh_fabric(fgd, scratch, raw, key)
            t[key].append(run([sys.executable, peer, *extra, d], warm_first=[os.path.join(d, "raw")])[0])
        dst = tempfile.mkdtemp(prefix="cp-", dir=scratch)
        tree = os.path.join(finished, "managed")
        t["cp"].append(run(["cp", "-r", tree, os.path.join(dst, "m")], warm_first=[tree])[0])
        t["cat"].append(run(["sh", "-c", f"cat {raw}/* > /dev/null"], warm_first=[raw])[0])
        t["validate"].append(run([fgd, "validate", raw], warm_first=[raw])[0])
        t["validate_env"].append(run([fgd, "validate", "--rules", "envelope", raw], warm_first=[raw])[0])
        t["kubeconform"].append(run([kubeconform, "-n", "4", "-summary", raw], warm_first=[raw])[0])
    m = {k: statistics.median(v) for k, v in t.items()}
    m["docs"], m["bytes"], m["finished"] = docs, corpus_bytes, finished
    m["rules"] = rule_counts(fgd, raw)
    # The editor's per-document validation of a ~1,000-line file, and the cross-object re-check
    # after that file changes, in the whole fabric (raw/ over nothing managed yet).
    d = fresh_fabric(fgd, scratch, raw, "live")
    p = subprocess.run([fgd, "bench-validate", d], capture_output=True, text=True, check=True)
    m["live"] = json.loads(p.stdout)
    return m


def rule_counts(fgd, raw):
    """What every rule changes against the manifest's (envelope) verdicts: documents refused
    as invalid-spec, and the error-level problems by rule."""
    p = subprocess.run([fgd, "validate", "--json", raw], capture_output=True, text=True)
    invalid, by_rule = 0, {}
    for line in p.stdout.splitlines():
        e = json.loads(line)
        if e.get("event") == "document-classified" and e.get("code") == "invalid-spec":
            invalid += 1
        if e.get("event") == "problem" and e.get("severity") == "error":
            by_rule[e["rule"]] = by_rule.get(e["rule"], 0) + 1
    return invalid, sorted(by_rule.items(), key=lambda kv: -kv[1])


def pct(v, p):
    v = sorted(v)
    return v[min(len(v) - 1, len(v) * p // 100)]


def watch_latency(fgd, scratch, quiet_ms=300, trials=20):
    """From a file being complete in raw/ to `fgd watch` reporting it classified, in ms: a file
    renamed in (an atomic save) and a file written in place, `trials` of each."""
    import queue
    import threading
    d = tempfile.mkdtemp(prefix="watch-", dir=scratch)
    subprocess.run([fgd, "init", d], check=True, stdout=subprocess.DEVNULL)
    p = subprocess.Popen([fgd, "watch", d, "--json", "--quiet-ms", str(quiet_ms)],
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    lines = queue.Queue()
    threading.Thread(target=lambda: [lines.put((time.perf_counter(), json.loads(l))) for l in p.stdout],
                     daemon=True).start()

    def wait(event, suffix):
        while True:
            at, v = lines.get(timeout=30)
            if v.get("event") == event and (v.get("file") or v.get("dir") or "").endswith(suffix):
                return at
    vpc = "apiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: {n}\nspec:\n  subnets: {{}}\n"
    out = {"renamed": [], "in_place": []}
    try:
        wait("watching", "raw")
        for i in range(trials):
            staged = os.path.join(d, f".stage-{i}")
            with open(staged, "w") as f:
                f.write(vpc.format(n=f"r{i}"))
                f.flush()
                os.fsync(f.fileno())
            t0 = time.perf_counter()
            os.rename(staged, os.path.join(d, "raw", f"renamed-{i}.yaml"))
            out["renamed"].append((wait("document-classified", f"renamed-{i}.yaml") - t0) * 1000)
            with open(os.path.join(d, "raw", f"inplace-{i}.yaml"), "w") as f:
                f.write(vpc.format(n=f"p{i}"))
            t0 = time.perf_counter()
            out["in_place"].append((wait("document-classified", f"inplace-{i}.yaml") - t0) * 1000)
    finally:
        p.kill()
        p.wait()
    return {k: (statistics.median(v), pct(v, 95)) for k, v in out.items()} | {"quiet_ms": quiet_ms, "trials": trials}


def render(fgd, fabric):
    r = subprocess.run([fgd, "bench-render", fabric], capture_output=True, text=True, check=True)
    return json.loads(r.stdout)


def keys_during_ingest(fgd, scratch, files=5000, docs=10):
    """Key-to-frame through the dashboard's event loop while a 50,000-document fabric is
    ingested (`fgd bench-render --ingest`: a key every 20 ms, each timed to the frame that
    shows it)."""
    ws = os.path.join(scratch, "ingest-keys")
    fabric = os.path.join(ws, "big")
    os.makedirs(fabric)
    subprocess.run([fgd, "init", fabric], capture_output=True, check=True)
    for f in range(files):
        with open(os.path.join(fabric, "raw", f"f{f:05}.yaml"), "w") as out:
            for d in range(docs):
                name = f"Bad{f}" if d == 0 else f"v{f}x{d}"
                out.write(f"---\napiVersion: vpc.githedgehog.com/v1beta1\nkind: VPC\nmetadata:\n  name: {name}\n")
    r = subprocess.run([fgd, "bench-render", "--ingest", ws], capture_output=True, text=True, check=True)
    return json.loads(r.stdout)


def main():
    if sys.argv[1:2] == ["--check"]:
        check(sys.argv[2], sys.argv[3])
        return
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="1k,10k,100k")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--out", default=os.path.join(REPO, "benches", "results.md"))
    a = ap.parse_args()
    if not os.path.isdir(SHARED):
        sys.exit(f"{SHARED} is missing: the benchmark needs ../shared/bench beside the repository")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=REPO, check=True)
    fgd = os.path.join(REPO, "target", "release", "fgd")
    scratch = tempfile.mkdtemp(prefix="fgd-bench-")
    rows = {}
    try:
        for size in a.sizes.split(","):
            rows[size] = bench(size, a.runs, fgd, scratch)
            print(f"{size}: done", file=sys.stderr)
        watch = watch_latency(fgd, scratch)
        print("watch: done", file=sys.stderr)
        biggest = max(rows.values(), key=lambda m: m["docs"])
        screen = render(fgd, biggest["finished"])
        print("render: done", file=sys.stderr)
        keys = keys_during_ingest(fgd, scratch)
        print("keys during ingest: done", file=sys.stderr)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    machine = f"{os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') >> 30} GiB"
    fs = subprocess.run(["stat", "-f", "-c", "%T", tempfile.gettempdir()], capture_output=True, text=True).stdout.strip()
    if fs == "ext2/ext3":
        fs = "ext2/3/4 (one magic number; `stat -f` cannot tell them apart)"
    out = [f"Machine: {machine}, {fs} for /tmp; medians of {a.runs} paired runs.", "",
           "| size | fgd ingest s | docs/s | peak RSS MiB | peer --cloader --atomic s | ratio | peer --cloader s | ratio | cp -r floor s | fgd/floor | cat s | validate s | validate docs/s |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for size, m in rows.items():
        out.append(f"| {size} | {m['fgd']:.3f} | {m['docs'] / m['fgd']:.0f} | {m['rss'] / 1024:.1f} | {m['atomic']:.3f} | "
                   f"{m['atomic'] / m['fgd']:.1f}x | {m['cloader']:.3f} | {m['cloader'] / m['fgd']:.1f}x | {m['cp']:.3f} | "
                   f"{m['fgd'] / m['cp']:.2f}x | {m['cat']:.3f} | {m['validate']:.3f} | {m['docs'] / m['validate']:.0f} |")
    out += ["", "Every rule (`--rules all`, the default) beside the envelope (`--rules envelope`, what the table above "
                "times and checks against the manifest), and kubeconform (`-n 4 -summary`, schema only, no positions) on the same raw/:", "",
            "| size | ingest all rules s | vs envelope | peak RSS MiB | validate all s | validate envelope s | kubeconform s | kubeconform / fgd validate | refused invalid-spec | errors by rule |",
            "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for size, m in rows.items():
        invalid, by_rule = m["rules"]
        top = ", ".join(f"{r} {n}" for r, n in by_rule[:6])
        out.append(f"| {size} | {m['fgd_all']:.3f} | {m['fgd_all'] / m['fgd']:.2f}x | {m['rss_all'] / 1024:.1f} | {m['validate']:.3f} | "
                   f"{m['validate_env']:.3f} | {m['kubeconform']:.3f} | {m['kubeconform'] / m['validate']:.1f}x | {invalid} | {top} |")
    out += ["", "CPU of the two ingests (user + system s; system time is mostly the file system's, see `run_cpu`):", "",
            "| size | envelope user s | envelope sys s | all rules user s | all rules sys s | all/envelope user |",
            "| --- | --- | --- | --- | --- | --- |"]
    for size, m in rows.items():
        out.append(f"| {size} | {m['user']:.2f} | {m['sys']:.2f} | {m['user_all']:.2f} | {m['sys_all']:.2f} | "
                   f"{m['user_all'] / m['user']:.2f}x |")
    for size, m in rows.items():
        lv = m["live"]
        out += ["", f"Live validation at {size} (`fgd bench-validate`, {lv['objects']} objects): per-document rules on "
                    f"{lv['file']} ({lv['lines']} lines) {lv['per_document_ms']:.1f} ms (target < 16: "
                    f"{'PASS' if lv['per_document_ms'] < 16 else 'MISS'}); after it changes, its objects replaced in the index "
                    f"{lv['update_ms']:.1f} ms and the cross-object re-check {lv['cross_ms']:.1f} ms (target < 100: "
                    f"{'PASS' if lv['cross_ms'] < 100 else 'MISS'})"]
    if "10k" in rows:
        m = rows["10k"]
        out += ["", "Validation targets at 10k: "
                f"fgd validate (every rule) >= 3x faster than kubeconform: {'PASS' if m['kubeconform'] / m['validate'] >= 3 else 'MISS'}; "
                f"ingest with every rule within 2x of the cp floor: {'PASS' if m['fgd_all'] / m['cp'] <= 2 else 'MISS'}; "
                f">= 15x the durable peer: {'PASS' if m['atomic'] / m['fgd_all'] >= 15 else 'MISS'}"]
    if "100k" in rows:
        m = rows["100k"]
        out += ["", "Validation targets at 100k: "
                f"ingest with every rule within 1.5x of the cp floor: {'PASS' if m['fgd_all'] / m['cp'] <= 1.5 else 'MISS'}; "
                f"peak memory as the envelope's: {m['rss_all'] / 1024:.1f} vs {m['rss'] / 1024:.1f} MiB"]
    if "10k" in rows and "100k" in rows:
        g_fgd = rows["100k"]["fgd"] / rows["10k"]["fgd"]
        g_floor = rows["100k"]["cp"] / rows["10k"]["cp"]
        out += ["", f"10k -> 100k cost growth: fgd {g_fgd:.1f}x, floor {g_floor:.1f}x, ratio {g_fgd / g_floor:.2f} (target <= 1.2)"]
    if "10k" in rows:
        m = rows["10k"]
        targets = [
            ("vs --cloader --atomic >= 15x", m["atomic"] / m["fgd"] >= 15),
            ("vs --cloader >= 4x", m["cloader"] / m["fgd"] >= 4),
            ("within 2x of the cp floor", m["fgd"] / m["cp"] <= 2),
            ("peak memory <= max(32 MiB, 2x corpus)", m["rss"] * 1024 <= max(32 << 20, 2 * m["bytes"])),
            ("validate faster than ingest", m["validate"] < m["fgd"]),
        ]
        out += ["", "Targets at 10k: " + "; ".join(f"{n}: {'PASS' if ok else 'MISS'}" for n, ok in targets)]
    if "100k" in rows:
        m = rows["100k"]
        targets = [
            ("within 1.5x of the cp floor", m["fgd"] / m["cp"] <= 1.5),
            ("peak memory <= max(32 MiB, 2x corpus)", m["rss"] * 1024 <= max(32 << 20, 2 * m["bytes"])),
            ("validate faster than ingest", m["validate"] < m["fgd"]),
        ]
        out += ["", "Targets at 100k: " + "; ".join(f"{n}: {'PASS' if ok else 'MISS'}" for n, ok in targets)]
    r, ip = watch["renamed"], watch["in_place"]
    out += ["", f"Watch latency (`fgd watch`, quiet period {watch['quiet_ms']} ms, {watch['trials']} files each): "
                f"renamed in: median {r[0]:.0f} ms, p95 {r[1]:.0f} ms (target p95 <= 250 ms: {'PASS' if r[1] <= 250 else 'MISS'}); "
                f"written in place: median {ip[0]:.0f} ms, p95 {ip[1]:.0f} ms "
                f"(target <= quiet + 200 = {watch['quiet_ms'] + 200} ms: {'PASS' if ip[1] <= watch['quiet_ms'] + 200 else 'MISS'})"]
    out += ["", f"Dashboard (`fgd bench-render`, TestBackend 160x48, {screen['files']} files in the tree): "
                f"first frame {screen['first_frame_ms']:.1f} ms (target <= 50: {'PASS' if screen['first_frame_ms'] <= 50 else 'MISS'}); "
                f"frame p50 {screen['frame_p50_ms']:.2f} ms, p95 {screen['frame_p95_ms']:.2f} ms (target <= 2: {'PASS' if screen['frame_p95_ms'] <= 2 else 'MISS'}); "
                f"key to frame p95 {screen['key_to_frame_p95_ms']:.2f} ms (target < 16: {'PASS' if screen['key_to_frame_p95_ms'] < 16 else 'MISS'}); "
                f"full scan of the fabric {screen['scan_ms']:.0f} ms (in the background, after the first frame)"]
    p99 = keys["key_to_frame_p99_ms"]
    out += ["", f"Dashboard during an ingest (`fgd bench-render --ingest`, {keys['documents']} documents, "
                f"{keys['keys']} keys over {keys['ingest_s']:.1f} s): key to frame p50 {keys['key_to_frame_p50_ms']:.1f} ms, "
                f"p99 {p99:.1f} ms (target < 50: {'PASS' if p99 < 50 else 'MISS'}), max {keys['key_to_frame_max_ms']:.1f} ms"]
    text = "\n".join(out) + "\n"
    print(text)
    # Newest first: every run is kept (docs/benchmarks.md reads the history from here).
    before = open(a.out).read() if os.path.exists(a.out) else ""
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    with open(a.out, "w") as f:
        f.write(f"## Run of {stamp}, code at {rev or 'unknown'}\n\n" + text + ("\n" + before if before else ""))


if __name__ == "__main__":
    main()
