#!/usr/bin/env python3
"""Render an rbsm figure spec (JSON written by rbsm::io::Figure) to PNG with matplotlib.

usage: plot_figure.py SPEC.json OUT.png
"""
import json
import math
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def main(spec_path, out_path):
    with open(spec_path) as f:
        spec = json.load(f)
    panels = spec["panels"]
    n = max(1, len(panels))
    cols = spec.get("cols") or n
    rows = math.ceil(n / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(4.6 * cols, 3.6 * rows), squeeze=False)
    for k, p in enumerate(panels):
        ax = axes[k // cols][k % cols]
        for s in p["series"]:
            kw = {"label": s["label"] or None}
            if s.get("color"):
                kw["color"] = s["color"]
            x, y, style = s["x"], s["y"], s["style"]
            if style == "heatmap":
                z = s["z"]
                grid = [z[j * len(x):(j + 1) * len(x)] for j in range(len(y))]
                finite = sorted(v for v in z if v == v and abs(v) != float("inf"))
                vmin = finite[int(0.02 * (len(finite) - 1))] if finite else None  # clip the empty oceans
                mesh = ax.pcolormesh(x, y, grid, shading="auto", cmap="viridis", vmin=vmin)
                fig.colorbar(mesh, ax=ax, label=s["label"] or None)
                continue
            if style == "points":
                ax.plot(x, y, "o", ms=3 if len(x) < 2000 else 1, **kw)
            elif style == "dashed":
                ax.plot(x, y, "--", **kw)
            elif style == "errorbar":
                ax.errorbar(x, y, yerr=s["yerr"] or None, fmt="o-", ms=3, capsize=3, **kw)
            elif style == "step":
                ax.step(x, y, where="mid", **kw)
            elif style == "hline":
                ax.axhline(y[0], ls=":", **kw)
            elif style == "bar":
                width = (x[1] - x[0]) * 0.9 if len(x) > 1 else 0.8
                ax.bar(x, y, width=width, alpha=0.6, **kw)
            else:
                ax.plot(x, y, "-", **kw)
        if p["logx"]:
            ax.set_xscale("log")
        if p["logy"]:
            ax.set_yscale("log")
        ax.set_title(p["title"], fontsize=10)
        ax.set_xlabel(p["xlabel"])
        ax.set_ylabel(p["ylabel"])
        ax.grid(True, alpha=0.3)
        if any(s["label"] and s["style"] != "heatmap" for s in p["series"]):
            ax.legend(fontsize=7)
    for k in range(n, rows * cols):
        axes[k // cols][k % cols].axis("off")
    if spec.get("title"):
        fig.suptitle(spec["title"])
    fig.tight_layout()
    fig.savefig(out_path, dpi=110, format="png")


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
