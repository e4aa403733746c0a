"""Plot the soak's per-minute figures (the CSV `hourglass-bench soak` writes) as one PNG.

Usage: plot.py SOAK.csv OUT.png [TITLE]
"""

import csv
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main() -> None:
    src, out = sys.argv[1], sys.argv[2]
    title = sys.argv[3] if len(sys.argv) > 3 else "hourglass soak"
    with open(src, newline="") as f:
        rows = [{k: float(v) for k, v in r.items()} for r in csv.DictReader(f)]
    if not rows:
        sys.exit(f"{src}: no rows")
    minute = [r["minute"] for r in rows]
    panels = [
        ("starts per second", [("starts", lambda r: r["starts"] / 60)]),
        (
            "API latency p99 (ms)",
            [
                ("StartExecution", lambda r: r["start_p99_ms"]),
                ("DescribeExecution", lambda r: r["describe_p99_ms"]),
                ("GetExecutionHistory", lambda r: r["history_p99_ms"]),
            ],
        ),
        (
            "Wait lateness (ms)",
            [
                ("p50", lambda r: r["lateness_p50_ms"]),
                ("p99", lambda r: r["lateness_p99_ms"]),
            ],
        ),
        ("daemon RSS (MiB)", [("RSS", lambda r: r["rss_mib"])]),
        ("database files (MiB)", [("database + WAL", lambda r: r["db_mib"])]),
        (
            "CPU",
            [
                ("daemon CPU (% of one core)", lambda r: r["cpu_pct"]),
                ("machine load average x 100", lambda r: r["load1"] * 100),
            ],
        ),
    ]
    fig, axes = plt.subplots(len(panels), 1, figsize=(10, 2.2 * len(panels)), sharex=True)
    for ax, (label, series) in zip(axes, panels):
        top = 0.0
        for name, f in series:
            values = [f(r) for r in rows]
            top = max(top, *values)
            ax.plot(minute, values, label=name, linewidth=1)
        ax.set_ylabel(label, fontsize=8)
        ax.axvline(10, color="grey", linestyle=":", linewidth=1)
        ax.set_ylim(0, top * 1.15 or 1)
        ax.grid(alpha=0.3)
        if len(series) > 1:
            ax.legend(fontsize=7, loc="upper left")
    axes[-1].set_xlabel("minute (dotted: minute 10, where the drift is measured from)")
    fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(out, dpi=90)


if __name__ == "__main__":
    main()
