#!/usr/bin/env python3
"""The table and the chart of `make bench-persister-tuning` from its CSV.

Writes TABLE (Markdown: one row per rate × batch size × batch delay) and CHART (PNG: for
each rate, the lag p99 and MariaDB's commits/s against the batch delay, one line per batch
size). NOTE goes under the chart's title (machine, versions).

usage: tuning_report.py CSV TABLE CHART NOTE
"""
import csv
import sys

import matplotlib

matplotlib.use("Agg")  # no display: a file only
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.ticker import LogLocator, NullFormatter, ScalarFormatter  # noqa: E402

source, table_path, chart_path, note = sys.argv[1:5]
with open(source, newline="") as handle:
    cells = list(csv.DictReader(handle))
if not cells:
    sys.exit("no cells in " + source)


def number(cell, key):
    try:
        return float(cell[key])
    except ValueError:
        return float("nan")


def whole(value):
    return "–" if value != value else f"{value:,.0f}"


rates = sorted({int(cell["rate"]) for cell in cells})
sizes = sorted({int(cell["batch_size"]) for cell in cells})
delays = sorted({int(cell["delay_ms"]) for cell in cells})

lines = [
    "| msgs/s offered | taken by the bridge | batch size | delay ms | rows/s | lag p50 ms | p99 ms | max ms "
    "| commits/s | rows/commit | persister CPU | mariadbd CPU |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|",
]
for cell in cells:
    rows, commits = number(cell, "rows_per_s"), number(cell, "commits_per_s")
    per_commit = rows / commits if commits > 0 else float("nan")
    took = number(cell, "bridge_per_s")
    # Writing slower than the bridge takes messages, the lag past a second: it grows for as
    # long as the load lasts. (Rows/s alone move by a few % with the window's edges.)
    behind = " **behind**" if rows < 0.9 * took and number(cell, "lag_max_ms") >= 1000 else ""
    lines.append(
        f"| {int(cell['rate']):,} | {whole(took)} | {int(cell['batch_size']):,} | {cell['delay_ms']} "
        f"| {whole(rows)}{behind} | {whole(number(cell, 'lag_p50_ms'))} | {whole(number(cell, 'lag_p99_ms'))} "
        f"| {whole(number(cell, 'lag_max_ms'))} | {commits:,.1f} | {whole(per_commit)} "
        f"| {number(cell, 'persister_cpu'):.2f} | {number(cell, 'mariadbd_cpu'):.2f} |"
    )
with open(table_path, "w") as handle:
    handle.write("\n".join(lines) + "\n")

figure, axes = plt.subplots(len(rates), 2, figsize=(10, 3.6 * len(rates)), squeeze=False)
positions = range(len(delays))  # the delays evenly spaced: 0 has no place on a log axis
for row, rate in enumerate(rates):
    lag_axis, commit_axis = axes[row]
    for size in sizes:
        mine = {int(c["delay_ms"]): c for c in cells if int(c["rate"]) == rate and int(c["batch_size"]) == size}
        xs = [i for i, delay in enumerate(delays) if delay in mine]
        # A log axis has no 0: an up-to-date sample is drawn at 1 ms.
        lag_axis.plot(xs, [max(1, number(mine[delays[i]], "lag_p99_ms")) for i in xs], marker="o", label=f"batch size {size:,}")
        commit_axis.plot(xs, [number(mine[delays[i]], "commits_per_s") for i in xs], marker="o", label=f"batch size {size:,}")
    lag_axis.set_title(f"{rate:,} messages/s: lag p99")
    lag_axis.set_ylabel("ms (log)")
    commit_axis.set_title(f"{rate:,} messages/s: MariaDB commits/s")
    commit_axis.set_ylabel("commits/s (log)")
    for axis in (lag_axis, commit_axis):
        axis.set_yscale("log")
        axis.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
        axis.yaxis.set_major_formatter(ScalarFormatter())
        axis.yaxis.set_minor_formatter(NullFormatter())
        axis.set_xticks(list(positions), [str(delay) for delay in delays])
        axis.set_xlabel("--batch-delay-ms")
        axis.grid(True, which="both", alpha=0.3)
    commit_axis.legend(fontsize="small")
note = note.replace("-MariaDB", "")  # `mariadb --version` says it twice
figure.suptitle(f"persister: --batch-size × --batch-delay-ms at a steady load ({note})", fontsize="medium")
figure.tight_layout()
figure.savefig(chart_path, dpi=100)
