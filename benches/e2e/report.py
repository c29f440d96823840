#!/usr/bin/python3
"""The end-to-end benchmark's report: reads the runs benches/e2e/run.sh recorded (one JSON
object a line in RESULTS) and writes a Markdown table (results.md) and a plot of throughput
and CPU per byte (throughput.svg) into OUT_DIR: `report.py RESULTS OUT_DIR`.

Each run has: key (what it is compared by), label, proto, stack ("netstack", "smoltcp",
"veth-on", "veth-off"), dir ("send" or "recv": the userspace stack's side of the data, or for
veth the client's), bytes (received by the receiving end), seconds, cpu_proc (CPU seconds of
the processes involved) and cpu_machine (busy CPU seconds of the whole machine, /proc/stat).
"""

import html
import json
import sys


def gbps(run):
    return run["bytes"] * 8 / run["seconds"] / 1e9 if run["seconds"] > 0 else 0.0


def per_gb(cpu, run):
    return cpu / (run["bytes"] / 1e9) if run["bytes"] > 0 else float("nan")


def find(runs, stack, proto, direction):
    for run in runs:
        if (run["stack"], run["proto"], run["dir"]) == (stack, proto, direction):
            return run
    return None


def ratio(a, b):
    if a is None or b is None or gbps(b) == 0:
        return ""
    return f"{gbps(a) / gbps(b):.2f}x"


def table(runs):
    lines = [
        "| run | Gbit/s | CPU s/GB (processes) | CPU s/GB (machine) | vs smoltcp | vs veth, offloads off |",
        "|---|---|---|---|---|---|",
    ]
    for run in runs:
        vs_smol = vs_veth = ""
        if run["stack"] == "netstack" and run["proto"] == "TCP":
            vs_smol = ratio(run, find(runs, "smoltcp", "TCP", run["dir"]))
            vs_veth = ratio(run, find(runs, "veth-off", "TCP", run["dir"]))
        elif run["stack"] in ("smoltcp", "veth-on"):
            vs_veth = ratio(run, find(runs, "veth-off", run["proto"], run["dir"]))
        elif run["stack"] == "netstack":
            vs_veth = ratio(run, find(runs, "veth-off", run["proto"], run["dir"]))
        lines.append(
            f"| {run['label']} | {gbps(run):.2f} | {per_gb(run['cpu_proc'], run):.2f} | "
            f"{per_gb(run['cpu_machine'], run):.2f} | {vs_smol} | {vs_veth} |"
        )
    return "\n".join(lines) + "\n"


def svg(runs):
    """Two bar charts side by side: Gbit/s, and CPU seconds per GB (processes)."""
    row, top, label_w, chart_w, gap = 22, 40, 330, 260, 60
    height = top + row * len(runs) + 30
    width = label_w + 2 * chart_w + gap + 40
    colors = {"netstack": "#1f77b4", "smoltcp": "#ff7f0e", "veth-on": "#2ca02c", "veth-off": "#7f7f7f"}
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'font-family="sans-serif" font-size="12">',
        f'<rect width="{width}" height="{height}" fill="white"/>',
    ]
    panels = [
        ("Throughput (Gbit/s)", [gbps(r) for r in runs], label_w),
        ("CPU seconds per GB (processes)", [per_gb(r["cpu_proc"], r) for r in runs], label_w + chart_w + gap),
    ]
    for title, values, x0 in panels:
        finite = [v for v in values if v == v]
        top_value = max(finite) if finite and max(finite) > 0 else 1.0
        out.append(f'<text x="{x0}" y="{top - 18}" font-weight="bold">{html.escape(title)}</text>')
        out.append(f'<line x1="{x0}" y1="{top - 4}" x2="{x0}" y2="{top + row * len(runs)}" stroke="black"/>')
        for i, (run, value) in enumerate(zip(runs, values)):
            y = top + i * row
            w = 0 if value != value else value / top_value * (chart_w - 50)
            color = colors.get(run["stack"], "#999999")
            out.append(f'<rect x="{x0}" y="{y}" width="{w:.1f}" height="{row - 6}" fill="{color}"/>')
            text = "n/a" if value != value else f"{value:.2f}"
            out.append(f'<text x="{x0 + w + 4:.1f}" y="{y + row - 10}">{text}</text>')
    for i, run in enumerate(runs):
        y = top + i * row + row - 10
        out.append(f'<text x="{label_w - 8}" y="{y}" text-anchor="end">{html.escape(run["label"])}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    results, out_dir = sys.argv[1], sys.argv[2]
    with open(results) as f:
        runs = [json.loads(line) for line in f if line.strip()]
    with open(f"{out_dir}/results.md", "w") as f:
        f.write(table(runs))
    with open(f"{out_dir}/throughput.svg", "w") as f:
        f.write(svg(runs))
    sys.stdout.write(table(runs))


if __name__ == "__main__":
    main()
