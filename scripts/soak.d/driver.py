#!/usr/bin/env python3
"""The run of scripts/soak: load, faults, probe and sampling, then the verdict.

scripts/soak has started NGINX (two workers), the mock identity service and the database, and
made the store tokens; it calls this program, which:

- runs one wrk process per traffic class (scripts/soak.d/traffic.lua) for the whole run;
- reloads NGINX every --reload-seconds, and from the end of the warm-up (the first 20 %) until
  the last tenth of the run repeats a fault cycle: the identity service stalls, then answers
  garbage, then the token table is locked;
- probes once a second with a valid credential, on a new connection each time;
- samples the RSS of every NGINX process every --sample-seconds;
- prints what it saw: statuses per traffic class, the probe's answers, the RSS series, the
  error log's lines by level, a few metrics;
- exits 1 when an assertion failed: an [emerg], [alert] or [crit] line; a worker that exited
  on a signal, with a non-zero code or after a panic; an answer to the probe other than 200
  (its user is a plaintext user of a `plain` provider, which is never down, so a 503 is wrong
  too); worker RSS not flat after the warm-up (below); a 2xx to a credential that is never
  valid (wrong passwords, garbage, unknown Bearer values, forged store tokens); a request to
  the identity service that breaks its protocol.

The "flat" method: workers are replaced at every reload, so a worker's RSS is compared only with
that of workers of the same age. Every generation of workers (those started by one reload)
gives one point, the largest RSS any of them reached while serving (not while shutting down).
Each generation lives one reload period under the same mix, so points are like with like. A
leak that outlives a reload would live in the master, whose memory every new worker inherits,
and would show as points that rise. Without reloads, a point is the largest worker RSS of each
window of 10 s (less in runs under 100 s). The reference is the median of the first third of
the points after the warm-up (at least five: all of them in a 1-minute run); every point after
the warm-up must stay within +10 % of it. So a rise over the run fails, and so does a
generation that took more memory than its peers under the same load: the median keeps one
unlucky early point from becoming the reference (with three points, a low one did in about one
1-minute run in 25), and the first third keeps a slow rise from hiding in it.
"""

import argparse
import base64
import bisect
import collections
import hashlib
import http.client
import json
import os
import re
import secrets
import signal
import sqlite3
import statistics
import subprocess
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))

# class: (default connections, the header values file it reads, whether a 2xx is a wrong answer)
CLASSES = {
    "cached": (6, "cached.txt", False),
    "wrongpw": (4, "wrongpw.txt", True),
    "garbage": (2, None, True),
    "bearer": (12, None, True),
    "forged": (8, "forged.txt", True),
    "store": (1, "store.txt", False),
}
WARMUP = 0.2  # of the run: the reference for RSS is taken after it, and faults start there
RSS_MARGIN = 1.10
LOG_LEVELS = ("emerg", "alert", "crit", "error", "warn", "notice", "info")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=10)
    p.add_argument("--work", required=True, help="scripts/soak's work directory")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--pid-file", required=True)
    p.add_argument("--error-log", required=True)
    p.add_argument("--idp-control", type=int, required=True)
    p.add_argument("--store", choices=("postgres", "sqlite"), required=True)
    p.add_argument("--probe", required=True, help="the probe's Authorization value")
    p.add_argument("--reload-seconds", type=float, default=float(os.environ.get("SOAK_RELOAD_SECONDS", 10)))
    # Often: a generation's peak includes the hash buffers in flight (up to two per worker),
    # and sparse samples would catch them in some generations and not in others.
    p.add_argument("--sample-seconds", type=float, default=0.5)
    args = p.parse_args()

    duration = round(args.minutes * 60)
    connections = class_connections(os.environ.get("SOAK_CONNECTIONS", ""))
    write_forged_tokens(os.path.join(args.work, "forged.txt"), 100_000)
    plan = Plan(duration, args.reload_seconds)
    print(f"==> soak: {duration} s, reloads every {args.reload_seconds:g} s, store on {args.store}; "
          f"connections {' '.join(f'{c}={n}' for c, n in connections.items())}")
    for start, end, fault in plan.faults:
        print(f"    {fault:<12} {start:6.1f} s .. {end:6.1f} s")

    master = int(open(args.pid_file).read())
    start = time.time()
    wrks = start_load(args, connections, duration)
    stop = threading.Event()
    probe = Probe(args.port, args.probe, start)
    sampler = Sampler(master, start, args.sample_seconds)
    threads = [threading.Thread(target=probe.run, args=(stop,)), threading.Thread(target=sampler.run, args=(stop,))]
    for t in threads:
        t.start()
    try:
        reloads = run_plan(plan, args, master, start)
    except BaseException:
        for proc, _ in wrks.values():
            proc.terminate()
        raise
    finally:
        stop.set()
        for t in threads:
            t.join()
    load = finish_load(wrks)
    with open(os.path.join(args.work, "samples.json"), "w") as f:
        json.dump({"reloads": reloads, "faults": plan.faults, "samples": sampler.samples, "probe": probe.results}, f)

    report = Report(plan, connections, load, probe.results, sampler, reloads, args)
    return 1 if report.show() else 0


def class_connections(spec):
    """Connections per class: the defaults, with SOAK_CONNECTIONS="class=n ..." over them."""
    out = {name: c[0] for name, c in CLASSES.items()}
    for item in spec.split():
        name, _, n = item.partition("=")
        if name not in out or not n.isdigit():
            sys.exit(f"SOAK_CONNECTIONS: {item!r} is not CLASS=N with CLASS one of {' '.join(out)}")
        out[name] = int(n)
    return {name: n for name, n in out.items() if n > 0}


def forged_token():
    """A token of the store's format (src/store/token.rs) that nobody issued: 32 random bytes,
    base64url, and the checksum the module verifies locally, so that it reaches the store (a
    wrong checksum would be refused without a lookup). scripts/soak.d/attack.py uses it too."""
    body = base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()
    check = base64.urlsafe_b64encode(hashlib.sha256(f"aot_{body}".encode()).digest()[:4]).rstrip(b"=").decode()
    return f"aot_{body}{check}"


def write_forged_tokens(path, count):
    """Made here because wrk's Lua has no SHA-256; the pool is large enough that a token comes
    back only after its cached refusal expired (and every reload empties the caches anyway)."""
    with open(path, "w") as f:
        for _ in range(count):
            f.write(f"Bearer {forged_token()}\n")


class Plan:
    """When to reload, and the fault cycle. Fault lengths are those of issue 12 (stall 20 s,
    garbage 20 s, lock 10 s) from 5-minute runs up, and scale down with shorter runs (to a quarter at
    least), so that a 1-minute run still goes through every fault once."""

    def __init__(self, duration, reload_seconds):
        self.duration = duration
        self.warmup = WARMUP * duration
        scale = min(1.0, max(0.25, duration / 300))
        stall, garbage, lock, gap = 20 * scale, 20 * scale, 10 * scale, 20 * scale
        cycle = [("idp-stall", stall), ("idp-garbage", garbage), (None, gap), ("db-lock", lock), (None, gap)]
        self.faults = []
        t = self.warmup
        # Whole cycles only, ending before the last tenth: the end of the run shows recovery.
        while t + sum(d for _, d in cycle) <= 0.9 * duration or not self.faults:
            for fault, length in cycle:
                if fault:
                    self.faults.append((t, t + length, fault))
                t += length
        self.reloads = []
        if reload_seconds > 0:
            t = reload_seconds
            while t < duration - 1:
                self.reloads.append(t)
                t += reload_seconds


def run_plan(plan, args, master, start):
    """Carries out the plan on time; returns the times of the reloads actually made."""
    events = [(t, "reload", None) for t in plan.reloads]
    for begin, end, fault in plan.faults:
        events += [(begin, "start", fault), (end, "end", fault)]
    events.sort(key=lambda e: e[0])
    faults = Faults(args)
    done = []
    try:
        for at, what, fault in events:
            time.sleep(max(0, start + at - time.time()))
            if what == "reload":
                os.kill(master, signal.SIGHUP)  # what nginx -s reload sends
                done.append(time.time() - start)
            else:
                getattr(faults, what)(fault)
        time.sleep(max(0, start + plan.duration - time.time()))
    finally:
        faults.clear()
    return done


class Faults:
    """The identity service's faults go through its control API; the database lock is a
    transaction held open by another connection."""

    def __init__(self, args):
        self.control = f"http://127.0.0.1:{args.idp_control}/_control/"
        self.store, self.work = args.store, args.work
        self.lock = None

    def idp(self, path, doc):
        req = urllib.request.Request(self.control + path, json.dumps(doc).encode(), {"Content-Type": "application/json"})
        urllib.request.urlopen(req, timeout=10).read()

    def start(self, fault):
        if fault == "idp-stall":
            # Longer than any timeout of the module: every call in the stall times out.
            self.idp("delay", {"target": "whoami", "ms": 60_000})
        elif fault == "idp-garbage":
            self.idp("fault", {"target": "whoami", "mode": "garbage"})
        elif fault == "db-lock":
            self.lock = DatabaseLock(self.store, self.work)

    def end(self, fault):
        if fault == "idp-stall":
            self.idp("delay", {"target": "whoami", "ms": 0})
        elif fault == "idp-garbage":
            self.idp("fault", {"target": "whoami", "mode": "none"})
        elif fault == "db-lock" and self.lock:
            self.lock.release()
            self.lock = None

    def clear(self):
        for fault in ("idp-stall", "idp-garbage", "db-lock"):
            try:
                self.end(fault)
            except OSError:
                pass


class DatabaseLock:
    """PostgreSQL: ACCESS EXCLUSIVE on the token table, which blocks reads too. SQLite: BEGIN
    EXCLUSIVE; the store runs SQLite in WAL mode, where readers go on under it, so there only
    writes (last_used_at, new tokens) wait."""

    def __init__(self, store, work):
        if store == "postgres":
            self.psql = subprocess.Popen(
                [os.path.join(ROOT, "scripts/postgres"), "psql", os.path.join(work, "postgres"), "-d", "authotron", "-A", "-t"],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            self.psql.stdin.write("BEGIN;\nLOCK TABLE authotron_tokens IN ACCESS EXCLUSIVE MODE;\nSELECT 'locked';\n")
            self.psql.stdin.flush()
            self.psql.stdout.readline()  # the lock is held once psql answers
        else:
            self.db = sqlite3.connect(os.path.join(work, "db", "tokens.db"), timeout=30, isolation_level=None)
            self.db.execute("BEGIN EXCLUSIVE")

    def release(self):
        if hasattr(self, "psql"):
            self.psql.communicate("COMMIT;\n", timeout=30)
        else:
            self.db.execute("COMMIT")
            self.db.close()


def start_load(args, connections, duration):
    wrks = {}
    for name, n in connections.items():
        values = CLASSES[name][1]
        out = open(os.path.join(args.work, f"wrk-{name}.out"), "w")
        cmd = ["wrk", "-t1", f"-c{n}", f"-d{duration}s", "--timeout", "10s", "-s", os.path.join(HERE, "traffic.lua"),
               f"http://127.0.0.1:{args.port}", "--", name] + ([os.path.join(args.work, values)] if values else [])
        wrks[name] = (subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT), out.name)
    return wrks


def finish_load(wrks):
    """Each class's counts: the JSON line traffic.lua prints when its wrk ends."""
    load = {}
    for name, (proc, path) in wrks.items():
        proc.wait(timeout=120)
        text = open(path).read()
        line = next((l for l in reversed(text.splitlines()) if l.startswith("{")), None)
        if line is None:
            raise SystemExit(f"wrk for {name} printed no result:\n{text}")
        load[name] = json.loads(line)
    return load


class Probe:
    """One request a second, each on a new connection: a keep-alive connection would be closed
    under it at every reload (HTTP/1.1's race, which clients retry), and that is not a wrong
    answer. Records (second, status or 0 for no answer, seconds taken, error)."""

    def __init__(self, port, header, start):
        self.port, self.header, self.start = port, header, start
        self.results = []

    def run(self, stop):
        tick = self.start
        while not stop.is_set():
            t0 = time.time()
            status, error = 0, ""
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
            try:
                conn.request("GET", "/api/probe", headers={"Authorization": self.header, "Connection": "close"})
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException) as e:
                error = repr(e)
            finally:
                conn.close()
            self.results.append((t0 - self.start, status, time.time() - t0, error))
            # After a slow answer, go on from now rather than catch up with a burst.
            tick = max(tick + 1, time.time())
            stop.wait(max(0, tick - time.time()))


class Sampler:
    """Every few seconds: the RSS and thread count of the master and of each of its children,
    with the child's role (a worker serving, or one shutting down after a reload), and the load
    average."""

    def __init__(self, master, start, every):
        self.master, self.start, self.every = master, start, every
        self.samples = []  # (t, pid, role, rss KiB, threads); role: master, worker, old
        self.first_seen = {}
        self.loadavg = []

    def run(self, stop):
        while not stop.is_set():
            t = time.time() - self.start
            for pid, role in [(self.master, "master")] + children(self.master):
                status = proc_status(pid)
                if status:
                    self.first_seen.setdefault(pid, t)
                    self.samples.append((t, pid, role, status["VmRSS"], status["Threads"]))
            self.loadavg.append(float(open("/proc/loadavg").read().split()[0]))
            stop.wait(self.every)


def children(master):
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = open(f"/proc/{entry}/stat").read()
            if int(stat[stat.rindex(")") + 2:].split()[1]) != master:
                continue
            title = open(f"/proc/{entry}/cmdline").read().replace("\0", " ")
        except (OSError, ValueError):
            continue  # gone meanwhile
        if "worker process" in title:
            out.append((int(entry), "old" if "shutting down" in title else "worker"))
    return out


def proc_status(pid):
    """VmRSS (KiB) and Threads of /proc/PID/status; None once the process is gone."""
    try:
        fields = dict(line.split(":", 1) for line in open(f"/proc/{pid}/status"))
        return {"VmRSS": int(fields["VmRSS"].split()[0]), "Threads": int(fields["Threads"])}
    except (OSError, KeyError, ValueError):
        return None


def rss_points(sampler, reloads, window):
    """[(start second, largest RSS KiB)]: per generation of workers, or per window without
    reloads (see the module's docstring)."""
    points = {}
    for t, pid, role, rss, _ in sampler.samples:
        if role != "worker":
            continue
        if reloads:
            key = bisect.bisect_right(reloads, sampler.first_seen[pid])
            at = reloads[key - 1] if key else 0.0
        else:
            key = int(t // window)
            at = key * window
        points[key] = (at, max(points.get(key, (at, 0))[1], rss))
    return [points[k] for k in sorted(points)]


def fetch(url):
    try:
        return urllib.request.urlopen(url, timeout=10).read().decode()
    except OSError as e:
        return f"# unavailable: {e}"


class Report:
    def __init__(self, plan, connections, load, probe, sampler, reloads, args):
        self.plan, self.connections, self.load, self.probe = plan, connections, load, probe
        self.sampler, self.reloads, self.args = sampler, reloads, args
        self.fails = []

    def show(self):
        """Prints every section; returns the failures."""
        print()
        self.traffic()
        self.probe_results()
        self.memory()
        self.logs()
        self.services()
        load = self.sampler.loadavg
        print(f"\nmachine: {os.cpu_count()} cores; 1-minute load average during the run: "
              f"mean {statistics.mean(load):.1f}, max {max(load):.1f} (other jobs included)")
        print()
        if self.fails:
            print("FAIL:")
            for f in self.fails:
                print(f"  - {f}")
        else:
            print("PASS: no alert/crit/emerg line, no worker crash, no wrong answer to the probe, "
                  "worker RSS flat after warm-up, no refused credential let through")
        return self.fails

    def traffic(self):
        statuses = sorted({s for r in self.load.values() for s in r["statuses"]}, key=int)
        total = sum(r["requests"] for r in self.load.values())
        seconds = max(r["seconds"] for r in self.load.values())
        print(f"traffic: {total} requests in {seconds:.0f} s ({total / seconds:.0f}/s), answers by status per class")
        head = f"| {'class':<8} | {'conns':>5} | {'requests':>9} | {'share':>5} |" + "".join(f" {s:>8} |" for s in statuses)
        head += f" {'sock err':>8} | {'mean ms':>7} |"
        print(head)
        print(re.sub(r"[^|]", "-", head))
        for name, r in self.load.items():
            errors = sum(r["errors"].values())
            row = f"| {name:<8} | {self.connections[name]:>5} | {r['requests']:>9} | {100 * r['requests'] / total:>4.1f}% |"
            row += "".join(f" {r['statuses'].get(s, 0):>8} |" for s in statuses)
            # Little's law: each connection has one request in flight all along. wrk's own
            # latency figures are not used: they disagree with its request count and duration.
            row += f" {errors:>8} | {1000 * self.connections[name] * r['seconds'] / max(1, r['requests']):>7.2f} |"
            print(row)
            accepted = sum(n for s, n in r["statuses"].items() if s.startswith("2"))
            if CLASSES[name][2] and accepted:
                self.fails.append(f"{accepted} requests of class {name} were accepted (2xx): such credentials are never valid")
        print("socket errors are wrk's (connect, read, write, timeout): a keep-alive connection that is idle "
              "when its worker stops at a reload is closed, and a request sent at that moment is lost")

    def probe_results(self):
        results = self.probe
        by_status = {}
        for _, status, _, _ in results:
            by_status[status] = by_status.get(status, 0) + 1
        # The probe's user is a plaintext user of a plain provider, which is never down: every
        # answer but 200 is wrong, 503 included.
        wrong = [r for r in results if r[1] != 200]
        times = sorted(r[2] for r in results)
        print(f"\nprobe: {len(results)} requests, statuses {json.dumps(by_status)}; seconds p50 "
              f"{statistics.median(times):.3f}, p99 {times[int(0.99 * (len(times) - 1))]:.3f}, max {times[-1]:.3f}")
        for t, status, took, error in wrong[:10]:
            print(f"  wrong: at {t:.1f} s ({self.phase(t)}): {status or 'no answer'} after {took:.2f} s {error}")
        if wrong:
            self.fails.append(f"{len(wrong)} wrong answers to the probe (its provider is never down: only 200 is right)")
        if len(results) < 0.9 * self.plan.duration:
            self.fails.append(f"the probe made {len(results)} requests in {self.plan.duration} s, not one a second")

    def phase(self, t):
        for begin, end, fault in self.plan.faults:
            if begin <= t < end:
                return fault
        return "no fault"

    def memory(self):
        # Without reloads, windows short enough for a short run to have points to compare.
        window = min(10, self.plan.duration / 10)
        points = rss_points(self.sampler, self.reloads, window)
        unit = "generation of workers" if self.reloads else f"{window:g} s"
        mib = lambda kib: kib / 1024
        after = [(t, rss) for t, rss in points if t >= self.plan.warmup]
        if len(after) < 3:
            self.fails.append(f"too few RSS points after the warm-up ({len(after)}) to judge")
            return
        reference = statistics.median(rss for _, rss in after[:max(5, len(after) // 3)])
        peak_t, peak = max(after, key=lambda p: p[1])
        print(f"\nworker RSS (MiB), largest per {unit}: start {mib(points[0][1]):.1f}, "
              f"after warm-up (reference) {mib(reference):.1f}, end {mib(after[-1][1]):.1f}, "
              f"max {mib(max(rss for _, rss in points)):.1f} (after warm-up {mib(peak):.1f} at {peak_t:.0f} s, "
              f"{peak / reference:.2f} of the reference)")
        step = max(1, len(points) // 20)
        print("  series: " + " ".join(f"{t:.0f}s:{mib(rss):.0f}" for t, rss in points[::step]))
        samples = self.sampler.samples
        masters = [rss for _, _, role, rss, _ in samples if role == "master"]
        threads = [n for _, _, role, _, n in samples if role == "worker"]
        olds = {}
        for t, pid, role, _, _ in samples:
            if role == "old":
                olds.setdefault(pid, [t, t])[1] = t
        per_sample = collections.Counter(t for t, _, role, _, _ in samples if role == "old")
        print(f"  master RSS: start {mib(masters[0]):.1f}, end {mib(masters[-1]):.1f}, max {mib(max(masters)):.1f}; "
              f"{len(self.reloads)} reloads; workers shutting down at once: max {max(per_sample.values(), default=0)}, "
              f"longest seen shutting down {max((b - a for a, b in olds.values()), default=0):.0f} s; "
              f"threads per worker: max {max(threads)}")
        over = [(t, rss) for t, rss in after if rss > RSS_MARGIN * reference]
        if over:
            self.fails.append(f"worker RSS grew past +{100 * (RSS_MARGIN - 1):.0f} % of {mib(reference):.1f} MiB after "
                              f"warm-up: " + ", ".join(f"{mib(rss):.1f} MiB at {t:.0f} s" for t, rss in over[:5]))

    def logs(self):
        text = open(self.args.error_log, errors="replace").read()
        levels = {level: len(re.findall(rf"\[{level}\]", text)) for level in LOG_LEVELS}
        signals = len(re.findall(r"exited on signal", text))
        panics = len(re.findall(r"panicked", text))
        codes = re.findall(r"worker process \d+ exited with code (\d+)", text)
        bad_codes = [c for c in codes if c != "0"]
        print(f"\nerror log lines: " + ", ".join(f"{level} {n}" for level, n in levels.items()) +
              f"; worker exits {len(codes)} (non-zero code {len(bad_codes)}), exited on signal {signals}, panicked {panics}")
        # The kinds of warnings, numbers (counts, connections, addresses) folded into N.
        warns = collections.Counter(re.sub(r"\d+", "N", m) for m in re.findall(r"\[warn\] \d+#\d+: (?:\*\d+ )?(.{0,100})", text))
        for line, n in warns.most_common(8):
            print(f"  warn x{n}: {line}")
        serious = levels["emerg"] + levels["alert"] + levels["crit"]
        if serious:
            first = re.search(r"^.*\[(?:emerg|alert|crit)\].*$", text, re.M).group(0)
            self.fails.append(f"{serious} [emerg]/[alert]/[crit] lines, the first: {first[:200]}")
        if signals or bad_codes or panics:
            self.fails.append(f"worker crashes: {signals} exited on signal, {len(bad_codes)} non-zero exit codes, {panics} panics")

    def services(self):
        metrics = fetch(f"http://127.0.0.1:{self.args.port}/metrics")
        totals = {}
        for m in re.finditer(r"^(authotron_\w+?)(\{[^}]*\})? (\S+)$", metrics, re.M):
            name, labels, value = m.groups()
            if name in ("authotron_auth_requests_total",):
                name += re.search(r'result="([^"]*)"', labels).group(1).join(("[", "]"))
            totals[name] = totals.get(name, 0) + float(value)
        wanted = [k for k in totals if k.startswith("authotron_auth_requests_total[")] + [
            "authotron_cache_hits_total", "authotron_cache_misses_total", "authotron_unavailable_total",
            "authotron_outbound_refused_total"]
        print("metrics at the end: " + ", ".join(f"{k.replace('authotron_', '')} {totals[k]:.0f}" for k in wanted if k in totals))
        stats = json.loads(fetch(f"http://127.0.0.1:{self.args.idp_control}/_control/stats"))
        violations = stats["violations"]
        print(f"identity service: {stats['calls'].get('whoami', 0)} who-am-i calls, "
              f"{len(violations)} protocol violations, faults hit {json.dumps(stats['fault_hits'])}")
        if violations:
            self.fails.append(f"{len(violations)} requests to the identity service broke its protocol, the first: {violations[0]}")


if __name__ == "__main__":
    sys.exit(main())
