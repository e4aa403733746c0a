"""Read what bench/soak/probe.sh sampled: per interval, or the slow ones, or per minute.

Usage: probe.py PROBE.csv [FROM_MIN TO_MIN]   every interval in that window
       probe.py PROBE.csv --slow              intervals with a commit over 100 ms or /health
                                              over 300 ms
       probe.py PROBE.csv --minutes           a line a minute
Minutes count from the first sample.
"""

import csv
import sys


def intervals(rows):
    t0 = float(rows[0]["t"])
    for prev, r in zip(rows, rows[1:]):
        def d(k):
            return float(r[k] or 0) - float(prev[k] or 0)

        commits = d("commits")
        yield {
            "min": (float(r["t"]) - t0) / 60,
            "dt": float(r["t"]) - float(prev["t"]),
            "health_ms": float(r["health_ms"] or 0),
            "commits": commits,
            "commit_s": d("commit_sum_s"),
            "slow_commits": commits - d("commits_le_100ms"),
            "api": d("api_count"),
            "cpu_ticks": d("cpu_ticks"),
            "wal_kib": int(r["wal_b"] or 0) // 1024,
            "db_mib": int(r["db_b"] or 0) // 2**20,
            "io_some_ms": d("io_some_us") / 1e3,
            "io_full_ms": d("io_full_us") / 1e3,
            "cpu_some_ms": d("cpu_some_us") / 1e3,
            "dirty_kib": int(r["dirty_kb"] or 0),
            "written_mb": d("write_bytes") / 1e6,
            "rustc": int(r["rustc"] or 0),
            "load1": float(r["load1"] or 0),
            # Columns added later; older probes lack them.
            "rss_mib": int(r.get("rss_anon_kb") or 0) / 1024,
            "sqlite_mib": int(float(r.get("sqlite_mem_b") or 0)) / 2**20,
        }


def show(i):
    print(
        f"{i['min']:7.2f} dt={i['dt']:4.2f} health={i['health_ms']:6.1f}ms "
        f"commits={i['commits']:4.0f} in {i['commit_s']:5.2f}s slow={i['slow_commits']:2.0f} "
        f"api={i['api']:4.0f} cpu={i['cpu_ticks']:3.0f} wal={i['wal_kib']}K db={i['db_mib']}M "
        f"io={i['io_some_ms']:4.0f}/{i['io_full_ms']:4.0f}ms cpuP={i['cpu_some_ms']:4.0f}ms "
        f"dirty={i['dirty_kib']}K written={i['written_mb']:5.1f}MB rustc={i['rustc']} "
        f"load={i['load1']}"
    )


def main() -> None:
    with open(sys.argv[1], newline="") as f:
        rows = list(csv.DictReader(f))
    if len(rows) < 2:
        sys.exit(f"{sys.argv[1]}: fewer than two samples")
    args = sys.argv[2:]
    if args == ["--slow"]:
        for i in intervals(rows):
            if i["slow_commits"] > 0 or i["health_ms"] > 300:
                show(i)
    elif args == ["--minutes"]:
        by_min = {}
        for i in intervals(rows):
            by_min.setdefault(int(i["min"]), []).append(i)
        print(
            "minute commits/s busy slow_commits health_max_ms written_MB/s rustc_samples load1 "
            "rss_anon_MiB sqlite_MiB"
        )
        for m, xs in sorted(by_min.items()):
            secs = sum(x["dt"] for x in xs)
            print(
                f"{m + 1:6d} {sum(x['commits'] for x in xs) / secs:9.0f} "
                f"{sum(x['commit_s'] for x in xs) / secs:5.0%} "
                f"{sum(x['slow_commits'] for x in xs):12.0f} "
                f"{max(x['health_ms'] for x in xs):13.1f} "
                f"{sum(x['written_mb'] for x in xs) / secs:12.1f} "
                f"{sum(1 for x in xs if x['rustc']):13d} {xs[-1]['load1']:5.2f} "
                f"{xs[-1]['rss_mib']:12.1f} {xs[-1]['sqlite_mib']:10.1f}"
            )
    else:
        lo, hi = (float(args[0]), float(args[1])) if len(args) == 2 else (0, float("inf"))
        for i in intervals(rows):
            if lo <= i["min"] <= hi:
                show(i)


if __name__ == "__main__":
    main()
