#!/usr/bin/env python3
"""The tail of the cached path, at a constant request rate (scripts/bench --tail).

A closed-loop load generator (wrk, or oha without -q) sends the next request only when the last
one answered, so a slow answer also delays the requests that would have met it, and the tail
hides. Here oha sends at a fixed rate (-q) and corrects latency for coordinated omission
(--latency-correction: a request's latency counts from when it should have been sent).

For every scenario, in every round:
- throughput: closed loop, the scenario right after no authentication with the same header;
- at each load (a share of no authentication's closed-loop capacity, measured first): the
  scenario right after no authentication with the same header, at the same rate.
Each ratio is the scenario's figure over its paired no-auth run; medians over the rounds.
It asserts nothing: docs/benchmarks.md records a run and what it shows.
"""

import argparse
import json
import statistics
import subprocess
import sys

PERCENTILES = ("p50", "p99", "p99.9")


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--baseline", required=True, help="URL without authentication")
    p.add_argument("--scenario", action="append", required=True, help="NAME|URL|Authorization value")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--seconds", type=int, default=8)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--loads", default="0.5,0.8", help="shares of no-auth capacity")
    args = p.parse_args()
    scenarios = [s.split("|", 2) for s in args.scenario]
    loads = [float(x) for x in args.loads.split(",")]

    capacity = statistics.median(oha(args, args.baseline, "")["rps"] for _ in range(3))
    print(f"==> no-auth capacity, closed loop, {args.connections} connections: {capacity:.0f} requests/s")
    runs = []  # (round, scenario, load or None, paired baseline figures, scenario figures)
    for rnd in range(1, args.rounds + 1):
        for name, url, value in scenarios:
            for load in [None] + loads:
                rate = round(load * capacity) if load else None
                base = oha(args, args.baseline, value, rate)
                this = oha(args, url, value, rate)
                runs.append((rnd, name, load, base, this))
                where = f"at {rate}/s" if rate else "closed loop"
                print(f"    round {rnd}  {name:<18} {where:<14} " + "  ".join(
                    f"{k} {this[k]:7.3f} ms (no auth {base[k]:7.3f})" for k in PERCENTILES) +
                    f"  {this['rps']:.0f}/s (no auth {base['rps']:.0f}/s){failures(base, this)}")
    report(runs, scenarios, loads, capacity)


def oha(args, url, value, rate=None):
    """One oha run: requests/s, the latency percentiles in ms, and the answers that were not 200."""
    cmd = ["oha", "--no-tui", "--output-format", "json", "-z", f"{args.seconds}s", "-c", str(args.connections)]
    if rate:
        cmd += ["-q", str(rate), "--latency-correction"]
    if value:
        cmd += ["-H", f"Authorization: {value}"]
    out = json.loads(subprocess.run(cmd + [url], check=True, capture_output=True, text=True).stdout)
    statuses = out.get("statusCodeDistribution", {})
    figures = {k: out["latencyPercentiles"][k] * 1000 for k in PERCENTILES}
    figures["rps"] = out["summary"]["requestsPerSec"]
    # oha cancels the requests still in flight when the duration ends; those are not answers.
    errors = {e: n for e, n in out.get("errorDistribution", {}).items() if "deadline" not in e}
    figures["bad"] = sum(n for s, n in statuses.items() if s != "200") + sum(errors.values())
    figures["errors"] = errors
    return figures


def failures(base, this):
    bad = base["bad"] + this["bad"]
    return f"  ({bad} answers not 200)" if bad else ""


def report(runs, scenarios, loads, capacity):
    print("\nmedians over the rounds; ratio = scenario / no auth with the same header, run just before it")
    head = f"| {'scenario':<18} | {'load':<22} |" + "".join(f" {k + ' ms':>9} | {'ratio':>5} |" for k in PERCENTILES)
    head += f" {'requests/s':>10} | {'ratio':>5} | {'not 200':>7} |"
    print(head)
    print("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    for load in [None] + loads:
        where = "closed loop" if load is None else f"{load:.0%} ({round(load * capacity)}/s)"
        pairs = [(b, t) for _, _, l, b, t in runs if l == load]
        print(row("no auth", where, [b for b, _ in pairs], [[1] * 4 for _ in pairs]))
        for name, _, _ in scenarios:
            pairs = [(b, t) for _, n, l, b, t in runs if n == name and l == load]
            ratios = [[t[k] / b[k] if b[k] else float("nan") for k in PERCENTILES + ("rps",)] for b, t in pairs]
            print(row(name, where, [t for _, t in pairs], ratios))


def row(name, where, figures, ratios):
    med = lambda key: statistics.median(f[key] for f in figures)
    r = [statistics.median(col) for col in zip(*ratios)]
    cells = "".join(f" {med(k):>9.3f} | {r[i]:>5.2f} |" for i, k in enumerate(PERCENTILES))
    return f"| {name:<18} | {where:<22} |{cells} {med('rps'):>10.0f} | {r[3]:>5.2f} | {sum(f['bad'] for f in figures):>7} |"


if __name__ == "__main__":
    sys.exit(main())
