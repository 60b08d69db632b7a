#!/usr/bin/env python3
"""Git loop benchmark: `fgd push` and `fgd sync` against git itself on the same repository, on
fabrics ingested from deterministic corpora of ../shared/bench/gen_corpus.py.

    python3 benches/git.py [--sizes 10k,100k] [--runs 3] [--out benches/results.md]

Every run builds, in a fresh scratch directory, a bare remote on local disk (a plain path
remote: libgit2 writes it directly, git runs `git-upload-pack`/`git-receive-pack`; no server)
and a clone holding a fabric (`fgd init`, the corpus hard-linked into raw/, `fgd ingest --rules
envelope`, untimed), then times, each fgd figure paired with git's in the same run:

1. first push: `fgd push FAB` against `git add -A && git commit -q -m x && git push -q` of an
   identical copy of the working tree (`cp -a`, made before fgd's push) into its own identical
   bare remote; the two pushed fabric trees must have the same git tree id.
2. no-op sync: `fgd sync FAB` with nothing changed against `git status --porcelain` plus
   `git fetch` (the sum) in the same clone.
3. one-file sync: one new VPC file dropped into raw/; `fgd sync FAB` (ingest, commit, push)
   against the same baseline as 2.
4. fetch-only sync: a second clone updates one managed VPC with fgd and pushes; `fgd sync FAB`
   (fetch, fast-forward) against `git fetch` plus `git merge --ff-only` of a second such change.

Each timed command runs after a `sync` with the fabric read once (warm: see benches/ingest.py).
A fast wrong answer does not count: every fgd run is checked (the remote holds our commit, the
file is where ingest puts it). fgd runs with `--json`; the harness timestamps each line it
prints, counts the progress lines (`progress`, `git-progress`) and reports the longest silence
and the event it followed, which says whether a long pass goes without progress. Peak RSS is
fgd's own (os.wait4). Standard library only.
"""

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHARED = os.path.join(os.path.dirname(REPO), "shared", "bench")
SIZES = {"1k": (1000, 10), "10k": (10000, 100), "100k": (100000, 1000)}
BRANCH = "main"
PROGRESS = ("progress", "git-progress")
# Longer than "a moment": a pass this long should say how far it is.
QUIET = 0.5
# A VPC the default rules accept beside the generator's pod 0001 (its namespaces; a subnet and
# VLAN none of the generated VPCs use), so the one-file sync manages it.
NEW_VPC = """apiVersion: vpc.githedgehog.com/v1beta1
kind: VPC
metadata:
  name: bench-new-{i}
  namespace: default
spec:
  ipv4Namespace: ipns-0001
  vlanNamespace: vlanns-0001
  subnets:
    subnet-1:
      subnet: 10.129.{net}.0/24
      gateway: 10.129.{net}.1
      vlan: {vlan}
"""


def warm(*paths):
    """Read every file under `paths` so a timed run starts with its input in the page cache
    (this machine pages out what nobody touched for a while: benches/ingest.py says more)."""
    for path in paths:
        for root, dirs, files in os.walk(path):
            dirs[:] = [d for d in dirs if d != ".git"]
            for n in files:
                with open(os.path.join(root, n), "rb") as f:
                    while f.read(1 << 20):
                        pass


def run(cmd, cwd=None, warm_first=()):
    """Wall time of one child process (output discarded), after a `sync`."""
    os.sync()
    warm(*warm_first)
    t = time.perf_counter()
    p = subprocess.run(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    took = time.perf_counter() - t
    if p.returncode != 0:
        sys.exit(f"FAIL: {' '.join(cmd)} in {cwd} exited {p.returncode}: {p.stderr.decode()[-500:]}")
    return took


class Output:
    """What the harness keeps of fgd's `--json` lines, read as they arrive: counts, progress
    lines repeating the one before word for word, and every silence longer than QUIET with the
    event it followed. Nothing per line is kept: this process must stay small (see run_fgd)."""

    def __init__(self, t0):
        self.t0, self.lines, self.progress, self.repeated = t0, 0, 0, 0
        self.prev_at, self.after, self.prev_progress, self.silences = 0.0, "start", None, []

    def stamp(self, at, event):
        if at - self.prev_at > QUIET:
            self.silences.append((at - self.prev_at, self.after))
        self.prev_at = at
        self.after = event

    def read(self, stream):
        for line in stream:
            at = time.perf_counter() - self.t0
            e = json.loads(line)
            self.lines += 1
            if e["event"] in PROGRESS:
                self.progress += 1
                self.repeated += line == self.prev_progress
                self.prev_progress = line
            self.stamp(at, e["event"] + (f" {e['phase']}" if "phase" in e else ""))
            self.last = line


def run_fgd(cmd, warm_first=()):
    """Wall time, peak RSS (KiB) and a summary of the `--json` lines of one fgd run. This
    process stays small: a child spawned from it counts this process's peak RSS in its own
    ru_maxrss."""
    os.sync()
    warm(*warm_first)
    t = time.perf_counter()
    out = Output(t)
    p = subprocess.Popen(cmd + ["--json"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    reader = threading.Thread(target=out.read, args=(p.stdout,))
    reader.start()
    err = []
    errs = threading.Thread(target=lambda: err.append(p.stderr.read()))
    errs.start()
    _, status, usage = os.wait4(p.pid, 0)
    took = time.perf_counter() - t
    reader.join()
    errs.join()
    out.stamp(took, "exit")
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        sys.exit(f"FAIL: {' '.join(cmd)} exited {code}: {err[0].decode()[-800:]}\n{getattr(out, 'last', b'').decode()[:800]}")
    return {"s": took, "rss": usage.ru_maxrss, "lines": out.lines, "progress": out.progress,
            "repeated": out.repeated, "silences": sorted(out.silences, reverse=True)}


def git(*args, cwd=None):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout.strip()


def new_remote(scratch, tag):
    """A bare remote holding one empty commit, and a clone of it tracking `main`."""
    remote = os.path.join(scratch, f"{tag}.git")
    wc = os.path.join(scratch, tag)
    git("init", "-q", "--bare", "-b", BRANCH, remote)
    git("clone", "-q", remote, wc)
    identity(wc)
    # Fixed dates: both remotes start from the same commit.
    env = dict(os.environ, GIT_AUTHOR_DATE="2026-01-01T00:00:00Z", GIT_COMMITTER_DATE="2026-01-01T00:00:00Z")
    subprocess.run(["git", "checkout", "-q", "-b", BRANCH], cwd=wc, check=True)
    subprocess.run(["git", "commit", "-q", "--allow-empty", "-m", "start"], cwd=wc, check=True, env=env)
    git("push", "-q", "-u", "origin", BRANCH, cwd=wc)
    return remote, wc


def identity(wc):
    git("config", "user.name", "Bench", cwd=wc)
    git("config", "user.email", "bench@example.com", cwd=wc)


def drop(path, text):
    """Write a file whole under a temporary name and rename it in, as an editor saving does."""
    tmp = os.path.join(os.path.dirname(os.path.dirname(path)), ".bench-drop")
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def update_vpc(fgd, wc, name):
    """The second clone changes one managed VPC (the end of its first DHCP range) through raw/
    and pushes it with fgd, as a colleague would."""
    fab = os.path.join(wc, "fab")
    text = open(os.path.join(fab, "managed", "vpcs", f"{name}.yaml")).read()
    head, sep, tail = text.partition("end: ")
    ip, nl, rest = tail.partition("\n")
    changed = head + sep + ip.rsplit(".", 1)[0] + ".98" + nl + rest
    if changed == text or not sep:
        sys.exit(f"FAIL: could not change {name}")
    drop(os.path.join(fab, "raw", f"update-{name}.yaml"), changed)
    p = subprocess.run([fgd, "sync", fab], capture_output=True, text=True)
    if p.returncode != 0:
        sys.exit(f"FAIL: the other clone's sync exited {p.returncode}: {p.stderr[-500:]}")
    return changed


def pushed(wc, remote):
    """The remote's branch is the clone's HEAD, and nothing of the working copy is left out."""
    head, tip = git("rev-parse", "HEAD", cwd=wc), git("rev-parse", BRANCH, cwd=remote)
    if head != tip:
        sys.exit(f"FAIL: {remote} is at {tip}, the clone at {head}")
    left = git("status", "--porcelain", cwd=wc)
    if left:
        sys.exit(f"FAIL: {wc} has uncommitted paths after the run: {left[:300]}")
    return head


def one_run(fgd, scratch, raw, i):
    """One pairing of every scenario, in fresh repositories."""
    s = {}
    remote, wc = new_remote(scratch, f"fgd{i}")
    fab = os.path.join(wc, "fab")
    subprocess.run([fgd, "init", fab], check=True, stdout=subprocess.DEVNULL)
    for n in os.listdir(raw):
        os.link(os.path.join(raw, n), os.path.join(fab, "raw", n))
    # Exit 1: what the rules refuse went to unmanaged/ (every rule: a push checks them all).
    if subprocess.run([fgd, "ingest", fab], stdout=subprocess.DEVNULL).returncode not in (0, 1):
        sys.exit("FAIL: the untimed ingest failed")
    g_remote, g_wc = new_remote(scratch, f"git{i}")
    subprocess.run(["cp", "-a", fab, os.path.join(g_wc, "fab")], check=True)

    # 1. First push of the whole ingested fabric.
    s["push"] = run_fgd([fgd, "push", fab], warm_first=[fab])
    pushed(wc, remote)
    s["git_push"] = run(["sh", "-c", "git add -A && git commit -q -m x && git push -q"], cwd=g_wc,
                        warm_first=[os.path.join(g_wc, "fab")])
    pushed(g_wc, g_remote)
    ours, theirs = git("rev-parse", f"{BRANCH}:fab", cwd=remote), git("rev-parse", f"{BRANCH}:fab", cwd=g_remote)
    if ours != theirs:
        sys.exit(f"FAIL: fgd pushed fab tree {ours}, git {theirs}: not the same tree")
    s["files"] = int(subprocess.run(f"git ls-tree -r --name-only {BRANCH} fab | wc -l", shell=True, cwd=wc,
                                    check=True, capture_output=True, text=True).stdout)

    # 2. No-op sync against git status + git fetch in the same clone.
    before = git("rev-parse", "HEAD", cwd=wc)
    s["noop"] = run_fgd([fgd, "sync", fab], warm_first=[fab])
    if pushed(wc, remote) != before:
        sys.exit("FAIL: a no-op sync made a commit")
    s["git_status"] = run(["git", "status", "--porcelain"], cwd=wc, warm_first=[fab])
    s["git_fetch"] = run(["git", "fetch", "-q"], cwd=wc, warm_first=[fab])

    # 3. One new raw/ file: ingested, committed, pushed.
    drop(os.path.join(fab, "raw", f"bench-new-{i}.yaml"), NEW_VPC.format(i=i, net=200 + i, vlan=1075 + i))
    s["one"] = run_fgd([fgd, "sync", fab], warm_first=[fab])
    pushed(wc, remote)
    if not os.path.isfile(os.path.join(fab, "managed", "vpcs", f"bench-new-{i}.yaml")):
        sys.exit("FAIL: the one-file sync did not manage the new VPC")
    if git("rev-parse", "HEAD", cwd=wc) == before:
        sys.exit("FAIL: the one-file sync made no commit")

    # 4. Fetch only: another clone changed one managed object.
    other = os.path.join(scratch, f"other{i}")
    git("clone", "-q", remote, other)
    identity(other)
    vpcs = sorted(n for n in os.listdir(os.path.join(fab, "managed", "vpcs")) if n.startswith("vpc-"))
    want = update_vpc(fgd, other, vpcs[0][:-5])
    s["fetch"] = run_fgd([fgd, "sync", fab], warm_first=[fab])
    pushed(wc, remote)
    if open(os.path.join(fab, "managed", "vpcs", vpcs[0])).read() != want:
        sys.exit("FAIL: the fetch-only sync did not bring the other clone's change")
    want = update_vpc(fgd, other, vpcs[1][:-5])
    s["git_fetch2"] = run(["git", "fetch", "-q"], cwd=wc, warm_first=[fab])
    s["git_merge"] = run(["git", "merge", "-q", "--ff-only", f"origin/{BRANCH}"], cwd=wc)
    if open(os.path.join(fab, "managed", "vpcs", vpcs[1])).read() != want:
        sys.exit("FAIL: git merge --ff-only did not bring the other clone's change")
    return s


def bench(size, runs, fgd, scratch):
    docs, files = SIZES[size]
    base = tempfile.mkdtemp(prefix=f"corpus-{size}-", dir=scratch)
    raw = os.path.join(base, "raw")
    subprocess.run([sys.executable, os.path.join(SHARED, "gen_corpus.py"), "--docs", str(docs), "--files", str(files),
                    "--seed", "1", "--invalid-fraction", "0.05", "--out", raw, "--manifest", os.path.join(base, "m.json")],
                   check=True, stderr=subprocess.DEVNULL)
    all_runs = []
    for i in range(runs):
        d = tempfile.mkdtemp(prefix=f"run{i}-", dir=scratch)
        all_runs.append(one_run(fgd, d, raw, i))
        print(f"{size}: run {i + 1} of {runs} done", file=sys.stderr)
    med = lambda f: statistics.median(f(r) for r in all_runs)
    m = {"docs": docs, "files": all_runs[0]["files"], "runs": all_runs}
    for k in ("push", "noop", "one", "fetch"):
        m[k] = med(lambda r: r[k]["s"])
        m[k + "_rss"] = max(r[k]["rss"] for r in all_runs)
        for n in ("lines", "progress", "repeated"):
            m[f"{k}_{n}"] = med(lambda r: r[k][n])
        # The silences of the run whose longest is the median, longest first.
        m[k + "_silences"] = sorted((r[k]["silences"] for r in all_runs),
                                    key=lambda g: g[0][0] if g else 0)[len(all_runs) // 2]
    m["git_push"] = med(lambda r: r["git_push"])
    m["git_status"] = med(lambda r: r["git_status"])
    m["git_fetch"] = med(lambda r: r["git_fetch"])
    m["base"] = med(lambda r: r["git_status"] + r["git_fetch"])
    m["git_ff"] = med(lambda r: r["git_fetch2"] + r["git_merge"])
    return m


def table(rows, runs, scratch_fs):
    machine = f"{os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') >> 30} GiB"
    out = [f"Machine: {machine}, {scratch_fs} for /tmp; remotes: bare repositories on the same disk, plain path "
           f"URLs (no server); git {git('--version').split()[-1]}; medians of {runs} paired runs; each ratio is fgd's time "
           f"over git's.", "",
           "| size | files in fab/ | fgd push s | git add+commit+push s | ratio | fgd no-op sync s | git status s | "
           "git fetch s | status+fetch s | ratio | fgd one-file sync s | ratio | fgd fetch-only sync s | "
           "git fetch+merge --ff-only s | ratio |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for size, m in rows.items():
        out.append(f"| {size} | {m['files']} | {m['push']:.3f} | {m['git_push']:.3f} | {m['push'] / m['git_push']:.2f}x | "
                   f"{m['noop']:.3f} | {m['git_status']:.3f} | {m['git_fetch']:.3f} | {m['base']:.3f} | "
                   f"{m['noop'] / m['base']:.2f}x | {m['one']:.3f} | {m['one'] / m['base']:.2f}x | {m['fetch']:.3f} | "
                   f"{m['git_ff']:.3f} | {m['fetch'] / m['git_ff']:.2f}x |")
    out += ["", f"fgd's output (`--json`, medians): lines, progress lines (`progress`, `git-progress`) and those "
                f"repeating the one before word for word; every silence longer than {QUIET} s (of the run whose longest "
                f"is the median) with the event it followed: a pass that long without progress; peak RSS:", "",
            "| size | command | lines | progress lines | repeated | silences > {QUIET} s (after) | peak RSS MiB |".replace("{QUIET}", str(QUIET)),
            "| --- | --- | --- | --- | --- | --- | --- |"]
    for size, m in rows.items():
        for k, name in (("push", "push"), ("noop", "no-op sync"), ("one", "one-file sync"), ("fetch", "fetch-only sync")):
            long = [f"{gap:.2f} ({after})" for gap, after in m[k + "_silences"]] or ["none"]
            out.append(f"| {size} | {name} | {m[k + '_lines']:.0f} | {m[k + '_progress']:.0f} | {m[k + '_repeated']:.0f} | "
                       f"{', '.join(long)} | {m[k + '_rss'] / 1024:.1f} |")
    for size, m in rows.items():
        targets = [
            ("first push no slower than git add+commit+push", m["push"] <= m["git_push"]),
            ("no-op sync within 2x of git status+fetch", m["noop"] <= 2 * m["base"]),
            ("one-file sync within 3x of git status+fetch", m["one"] <= 3 * m["base"]),
        ]
        out += ["", f"Targets at {size}: " + "; ".join(f"{n}: {'PASS' if ok else 'MISS'}" for n, ok in targets)]
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="10k,100k")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--out", default=os.path.join(REPO, "benches", "results.md"))
    ap.add_argument("--note", default="", help="added to the run's heading (say so when the machine was busy)")
    a = ap.parse_args()
    if not os.path.isdir(SHARED):
        sys.exit(f"{SHARED} is missing: the benchmark needs ../shared/bench beside the repository")
    sizes = a.sizes.split(",")
    if any(s not in SIZES for s in sizes):
        sys.exit(f"--sizes: each of {', '.join(SIZES)}")
    subprocess.run(["cargo", "build", "--release", "--quiet"], cwd=REPO, check=True)
    fgd = os.path.join(REPO, "target", "release", "fgd")
    load = os.getloadavg()[0]
    scratch = tempfile.mkdtemp(prefix="fgd-gitbench-")
    rows = {}
    try:
        for size in sizes:
            rows[size] = bench(size, a.runs, fgd, scratch)
    finally:
        # Clean-up once, at the end (deleting 10^5 files slows later creations on ext4).
        shutil.rmtree(scratch, ignore_errors=True)
    fs = subprocess.run(["stat", "-f", "-c", "%T", tempfile.gettempdir()], capture_output=True, text=True).stdout.strip()
    if fs == "ext2/ext3":
        fs = "ext2/3/4 (one magic number; `stat -f` cannot tell them apart)"
    text = table(rows, a.runs, fs)
    print(text)
    before = open(a.out).read() if os.path.exists(a.out) else ""
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True, text=True).stdout.strip()
    note = f"; {a.note}" if a.note else ""
    head = (f"# Git run of {stamp} (`benches/git.py --sizes {a.sizes} --runs {a.runs}`, code at {rev or 'unknown'}, "
            f"load average {load:.2f} at the start{note})")
    with open(a.out, "w") as f:
        f.write(head + "\n\n" + text + ("\n\n" + before if before else ""))


if __name__ == "__main__":
    main()
