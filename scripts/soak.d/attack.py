#!/usr/bin/env python3
"""The attack phase of scripts/soak: two floods against the same NGINX after driver.py's run,
with no reloads and no faults, and what valid users see meanwhile.

- Baseline, no flood: the cached valid users sampled on new connections; a few uncached logins
  (fresh store tokens, new Argon2id users).
- Argon2 flood: exactly 2,000 wrong passwords for the Argon2id user --target over --connections
  keep-alive connections, as fast as the module answers. Every answer must be 401 or 503 (a
  wait for a hash permit past auth.timeout_in_ms is a 503: fail closed); the cached users must
  get 200 with p99 under 50 ms (the issue's goal); new Argon2id users logging in once each,
  after 1 s and after 3 s, must get 200 within --timeout-ms. The same flood over
  --other-connections is reported, not judged on time: it shows how a new user's wait grows
  with the flood's connections.
- Forged-token flood: --forged well-formed store tokens with a correct checksum that nobody
  issued, over --connections (100,000 by default: about 10 s, time for samples). Every one
  must be refused; fresh (never used) real store tokens, each once, must get 200, as must the
  cached users and a new Argon2id user; the cached users' p99 must stay under 50 ms, and the
  real tokens' median under STORE_P50_MS and p99 under STORE_P99_MS.

Every answer names its worker (scripts/soak's NGINX adds X-Worker: $pid), so the report can say
how the flood's connections fell on the two workers and which queue a new user joined.

Floods run in a child process: their threads would otherwise share the interpreter lock with
the samplers, and a sample would include time spent waiting for it. Exits 1 when a check fails.
"""

import argparse
import base64
import collections
import http.client
import math
import multiprocessing
import re
import statistics
import sys
import threading
import time

from driver import forged_token

ARGON2_FLOOD = 2000
CACHED_P99_MS = 50  # the bound for the cached users, during either flood
# A real store token waits for the worker's pool (4 connections) behind the flood's lookups:
# 2-18 ms at the median, but its slowest took up to 878 ms in 14 runs on the shared 2-core
# machine, where PostgreSQL, NGINX and the flood's client take turns on the cores
# (docs/reliability.md, "Floods"). Below 100 samples, p99 is the slowest; it must stay well
# below the store's timeout (2 s), past which the token would get 503.
STORE_P50_MS = 50
STORE_P99_MS = 1500
SAMPLES_PER_SECOND = 40

Answer = collections.namedtuple("Answer", "status ms worker")


def basic(userpass):
    return "Basic " + base64.b64encode(userpass.encode()).decode()


def ask(conn, header, path):
    """One request on `conn`; status 0 when there was no answer."""
    t0 = time.monotonic()
    try:
        conn.request("GET", path, headers={"Authorization": header})
        response = conn.getresponse()
        response.read()
        return Answer(response.status, 1000 * (time.monotonic() - t0), response.getheader("X-Worker", "?"))
    except (OSError, http.client.HTTPException):
        conn.close()  # http.client connects again for the next request
        return Answer(0, 1000 * (time.monotonic() - t0), "?")


def once(port, header):
    """One request on a new connection (the time includes the connect), so that the kernel
    spreads them over both workers."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        return ask(conn, header, "/api/attack")
    finally:
        conn.close()


class Sampler:
    """SAMPLES_PER_SECOND requests of the cached users in turn, each on a new connection, from
    start() to stop(); after a slow answer it goes on from then rather than catch up."""

    def __init__(self, port, headers):
        self.port, self.headers = port, headers
        self.results = []
        self.halt = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self):
        tick, i = time.monotonic(), 0
        while not self.halt.is_set():
            self.results.append(once(self.port, self.headers[i % len(self.headers)]))
            i += 1
            tick = max(tick + 1 / SAMPLES_PER_SECOND, time.monotonic())
            self.halt.wait(max(0, tick - time.monotonic()))

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.halt.set()
        self.thread.join()
        return self.results


def flood_process(port, headers, connections, out):
    """Sends every header once over `connections` keep-alive connections, each sending its next
    request when the last is answered; sends back the answers, the workers of each connection's
    first answer, and the duration."""
    todo = iter(headers)
    lock = threading.Lock()
    answers, first_worker = [], []
    go = threading.Barrier(connections + 1)

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        conn.connect()
        go.wait()
        mine = []
        while (header := next(todo, None)) is not None:  # next() on an iterator is atomic in CPython
            mine.append(ask(conn, header, "/api/flood"))
        conn.close()
        with lock:
            answers.extend(mine)
            if mine:
                first_worker.append(mine[0].worker)

    threads = [threading.Thread(target=client) for _ in range(connections)]
    for t in threads:
        t.start()
    go.wait()
    t0 = time.monotonic()
    for t in threads:
        t.join()
    out.send((answers, collections.Counter(first_worker), time.monotonic() - t0))


class Flood:
    def __init__(self, port, headers, connections):
        self.pipe, child = multiprocessing.Pipe(duplex=False)
        self.proc = multiprocessing.Process(target=flood_process, args=(port, headers, connections, child))
        self.proc.start()

    def running(self):
        return not self.pipe.poll()  # its results arrive when it ends

    def wait(self):
        answers, per_worker, seconds = self.pipe.recv()
        self.proc.join()
        return answers, per_worker, seconds


def percentile(values, q):
    """Nearest rank."""
    values = sorted(values)
    return values[max(0, math.ceil(q * len(values)) - 1)]


def p99(answers):
    return percentile([a.ms for a in answers], 0.99) if answers else 0.0


def statuses(answers):
    return collections.Counter(a.status for a in answers)


class Report:
    def __init__(self):
        self.rows = []
        self.fails = []

    def row(self, scenario, answers):
        ms = [a.ms for a in answers]
        counts = " ".join(f"{s or 'none'}x{n}" for s, n in sorted(statuses(answers).items()))
        self.rows.append((scenario, len(answers), counts, statistics.median(ms), p99(answers), max(ms)))
        return answers

    def check(self, ok, failure):
        if not ok:
            self.fails.append(failure)

    def show(self):
        head = f"| {'scenario':<42} | {'requests':>8} | {'statuses':<16} | {'p50 ms':>7} | {'p99 ms':>7} | {'max ms':>7} |"
        print(head)
        print(re.sub(r"[^|]", "-", head))
        for scenario, n, counts, p50, top99, top in self.rows:
            print(f"| {scenario:<42} | {n:>8} | {counts:<16} | {p50:>7.1f} | {top99:>7.1f} | {top:>7.1f} |")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--timeout-ms", type=int, required=True, help="the config's auth.timeout_in_ms")
    p.add_argument("--cached", action="append", required=True, help="USER:PASSWORD of a valid user to sample")
    p.add_argument("--target", required=True, help="the Argon2id user whose password the flood guesses")
    p.add_argument("--new-user", action="append", required=True,
                   help="USER:PASSWORD of an Argon2id user nothing else uses; each logs in once (7 needed)")
    p.add_argument("--tokens", required=True, help="fresh store tokens, one a line; each is used once")
    p.add_argument("--error-log", required=True)
    p.add_argument("--connections", type=int, default=64)
    p.add_argument("--other-connections", type=int, default=256)
    p.add_argument("--forged", type=int, default=100_000)
    args = p.parse_args()

    cached = [basic(u) for u in args.cached]
    new_users = iter(basic(u) for u in args.new_user)
    tokens = iter("Bearer " + line.strip() for line in open(args.tokens) if line.strip())
    log_start = len(open(args.error_log, "rb").read())
    report = Report()
    print(f"\n==> attack phase: floods over {args.connections} connections "
          f"(the Argon2 flood also over {args.other_connections}), auth.timeout_in_ms {args.timeout_ms}")

    # Each worker caches on its own: enough new connections that both have the users cached.
    for _ in range(20):
        for header in cached:
            once(args.port, header)

    # Baseline: nothing else runs.
    sampler = Sampler(args.port, cached).start()
    time.sleep(3)
    base = report.row("baseline: cached users", sampler.stop())
    base += report.row("baseline: new Argon2id users", [once(args.port, next(new_users)) for _ in range(2)])
    base += report.row("baseline: fresh store tokens", [once(args.port, next(tokens)) for _ in range(10)])
    report.check(all(a.status == 200 for a in base), f"baseline: valid users got {dict(statuses(base))}")

    for n in (args.connections, args.other_connections):
        argon2_flood(args, report, cached, new_users, n, judged=n == args.connections)
    forged_flood(args, report, cached, new_users, tokens)

    print()
    report.show()
    text = open(args.error_log, "rb").read()[log_start:].decode(errors="replace")
    serious = re.findall(r"^.*(?:\[(?:emerg|alert|crit)\]|exited on signal|panicked).*$", text, re.M)
    report.check(not serious, f"{len(serious)} [emerg]/[alert]/[crit] or crash lines in the error log during the "
                              f"attack phase, the first: {serious[0][:200] if serious else ''}")
    if report.fails:
        print("FAIL (attack phase):")
        for f in report.fails:
            print(f"  - {f}")
        return 1
    print(f"PASS (attack phase): during 2,000 wrong Argon2id passwords over {args.connections} connections, "
          f"cached users 200 with p99 < {CACHED_P99_MS} ms and new users 200 within {args.timeout_ms} ms; "
          f"forged tokens all refused, cached users 200 with p99 < {CACHED_P99_MS} ms, real store tokens 200 "
          f"with p50 < {STORE_P50_MS} ms and p99 < {STORE_P99_MS} ms")
    return 0


def argon2_flood(args, report, cached, new_users, n, judged):
    label = f"argon2 flood, {n} conns"
    # Random passwords: a repeated one would be answered from the negative cache, not hashed.
    wrong = [basic(f"{args.target}:wrong-{i}-{time.monotonic_ns()}") for i in range(ARGON2_FLOOD)]
    flood = Flood(args.port, wrong, n)
    sampler = Sampler(args.port, cached).start()
    newcomers, start = [], time.monotonic()
    for at in (1, 3):  # the queues for hash permits have filled; two logins, two chances at each worker
        time.sleep(max(0, start + at - time.monotonic()))
        if flood.running():
            newcomers.append(once(args.port, next(new_users)))
    answers, per_worker, seconds = flood.wait()
    samples = sampler.stop()
    report.row(f"{label}: wrong passwords", answers)
    report.row(f"{label}: cached users", samples)
    report.row(f"{label}: new Argon2id users", newcomers)
    counts = statuses(answers)
    print(f"    {label}: {len(answers)} answered in {seconds:.1f} s, {counts[401] / seconds:.0f} hashes/s "
          f"(401s), {counts[503]} x 503 (no hash permit within the timeout); connections per worker "
          f"{dict(per_worker)}; new users: " +
          ", ".join(f"{a.status} after {a.ms:.0f} ms (worker {a.worker})" for a in newcomers))
    report.check(len(answers) == ARGON2_FLOOD and set(counts) <= {401, 503},
                 f"{label}: wrong passwords got {dict(counts)}, not only 401 or 503")
    report.check(all(a.status == 200 for a in samples), f"{label}: cached users got {dict(statuses(samples))}")
    if judged:
        report.check(p99(samples) < CACHED_P99_MS,
                     f"{label}: cached users' p99 {p99(samples):.1f} ms, not under {CACHED_P99_MS} ms")
        report.check(newcomers and all(a.status == 200 and a.ms < args.timeout_ms for a in newcomers),
                     f"{label}: new Argon2id users got " + ", ".join(f"{a.status} after {a.ms:.0f} ms" for a in newcomers) +
                     f", not 200 within {args.timeout_ms} ms")


def forged_flood(args, report, cached, new_users, tokens):
    label = f"forged flood, {args.connections} conns"
    flood = Flood(args.port, ["Bearer " + forged_token() for _ in range(args.forged)], args.connections)
    sampler = Sampler(args.port, cached).start()
    time.sleep(1)
    login = [once(args.port, next(new_users))]
    real = []
    # Fresh real tokens, each once, ten a second until the flood ends or they run out.
    while flood.running() and (token := next(tokens, None)):
        real.append(once(args.port, token))
        time.sleep(0.1)
    answers, per_worker, seconds = flood.wait()
    samples = sampler.stop()
    report.row(f"{label}: forged tokens", answers)
    report.row(f"{label}: cached users", samples)
    report.row(f"{label}: fresh store tokens", real)
    report.row(f"{label}: new Argon2id user", login)
    counts = statuses(answers)
    print(f"    {label}: {len(answers)} answered in {seconds:.1f} s ({len(answers) / seconds:.0f}/s), "
          f"statuses {dict(counts)}; connections per worker {dict(per_worker)}")
    report.check(not any(200 <= s < 300 for s in counts), f"{label}: forged tokens got {dict(counts)}")
    report.check(real and all(a.status == 200 for a in real), f"{label}: real store tokens got {dict(statuses(real))}")
    report.check(all(a.status == 200 for a in samples + login),
                 f"{label}: cached users got {dict(statuses(samples))}, the new user {login[0].status}")
    for what, answers, bound in (("cached users", samples, CACHED_P99_MS), ("fresh store tokens", real, STORE_P99_MS)):
        report.check(p99(answers) < bound, f"{label}: {what}' p99 {p99(answers):.1f} ms, not under {bound} ms")
    median = statistics.median(a.ms for a in real) if real else 0.0
    report.check(median < STORE_P50_MS, f"{label}: fresh store tokens' p50 {median:.1f} ms, not under {STORE_P50_MS} ms")


if __name__ == "__main__":
    sys.exit(main())
