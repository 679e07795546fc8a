"""The Markdown tables bench/scale.py prints: builds, searches in process, over HTTP, the issue's
targets, and the figures of a baseline checkout measured in the same run."""

from __future__ import annotations

from pathlib import Path
from typing import Any

MODES = ("keyword", "dense", "hybrid")


def triple(p: dict[str, float]) -> str:
    return f"{p['p50']:.1f} / {p['p95']:.1f} / {p['p99']:.1f}"


def keyword_build(b: dict[str, Any]) -> str:
    """The keyword index's build time and size; stores built before it had none."""
    if "keyword_index_s" not in b:
        return "built on first open"
    return f"{b['keyword_index_s']:.0f} / {b['keyword_mb']:.0f}"


def tables(rows: list[dict[str, Any]]) -> str:
    lines = [
        "| passages | documents | real texts | vectors: real / synthesised | build s | passages/s "
        "| index wait s | index | SQLite MiB | index MiB | build peak RSS MiB "
        "| keyword index s / MiB |",
        "|---:|---:|---:|---|---:|---:|---:|---|---:|---:|---:|---|",
    ]
    for r in rows:
        b = r["build"]
        how = "model in build" if b["real_vectors_in_build"] else "cached model vectors"
        texts = min(b.get("pool", b["passages"]), b["passages"])  # real texts (not variants)
        lines.append(
            f"| {b['passages']:,} | {b['documents']:,} | {texts:,} "
            f"| {b['real']:,} ({how}) / "
            f"{b['synthesised']:,} | {b['build_s']:.0f} | {b['passages'] / b['write_s']:.0f} "
            f"| {b['index_wait_s']:.1f} | {b['index']} | {b['sqlite_mb']:.0f} "
            f"| {b['index_mb']:.0f} | {b['build_peak_mb']:.0f} | {keyword_build(b)} |"
        )
    base = rows[0]["search"]
    lines += [
        "",
        "| passages | mode | in process p50 / p95 / p99 ms | p50 vs smallest | open s "
        "| keyword index s | RSS MiB (peak) | recall@10 |",
        "|---:|---|---|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        s = r["search"]
        for mode in MODES:
            lines.append(
                f"| {r['build']['passages']:,} | {mode} | {triple(s[mode])} "
                f"| {s[mode]['p50'] / base[mode]['p50']:.1f}x | {s['open_s']:.1f} "
                f"| {s.get('keyword_prepare_s', 0.0):.1f} | {s['rss_mb']:.0f} ({s['peak_mb']:.0f}) "
                f"| {s['recall']:.3f} ({s['recall_kind']}) |"
            )
    lines += [
        "",
        "| passages | ready s | server RSS MiB idle / after / peak | clients | hybrid searches/s "
        "| p50 / p95 / p99 ms | server CPU ms a search | errors |",
        "|---:|---:|---|---:|---:|---|---:|---:|",
    ]
    for r in rows:
        h = r["http"]
        if h.get("ready_s") is None:
            lines.append(f"| {r['build']['passages']:,} | not ready | | | | | | |")
            continue
        lines.append(
            f"| {r['build']['passages']:,} | {h['ready_s']:.1f} | {h['rss_mb']:.0f} / "
            f"{h['rss_after_mb']:.0f} / {h['peak_mb']:.0f} | {h['clients']} "
            f"| {h['per_second']:.1f} | {triple(h)} | {h.get('cpu_ms', float('nan')):.1f} "
            f"| {h['errors']} {h['error_kinds'] or ''} |"
        )
    return "\n".join(lines) + "\n\n" + targets(rows[-1])


def against_baseline(rows: list[dict[str, Any]], code: Path) -> str:
    """This code's figures beside the baseline checkout's, measured in the same run."""
    lines = [
        f"Against the baseline in the same run ({code}, measured right after this code):",
        "",
        "| passages | metric | baseline | this code | this ÷ baseline |",
        "|---:|---|---:|---:|---:|",
    ]
    for r in rows:
        base = r["baseline"]
        figures = [
            ("hybrid in process p50 ms", r["search"]["hybrid"]["p50"],
             base["search"]["hybrid"]["p50"]),
            ("hybrid in process p95 ms", r["search"]["hybrid"]["p95"],
             base["search"]["hybrid"]["p95"]),
            ("keyword in process p50 ms", r["search"]["keyword"]["p50"],
             base["search"]["keyword"]["p50"]),
            ("HTTP hybrid searches/s", r["http"].get("per_second", float("nan")),
             base["http"].get("per_second", float("nan"))),
            ("HTTP hybrid p95 ms", r["http"].get("p95", float("nan")),
             base["http"].get("p95", float("nan"))),
            ("server CPU ms a search", r["http"].get("cpu_ms", float("nan")),
             base["http"].get("cpu_ms", float("nan"))),
        ]  # fmt: skip
        for name, ours, theirs in figures:
            lines.append(
                f"| {r['build']['passages']:,} | {name} | {theirs:.1f} | {ours:.1f} "
                f"| {ours / theirs:.2f} |"
            )
    return "\n".join(lines)


def targets(row: dict[str, Any]) -> str:
    s, h = row["search"], row["http"]
    ready = h.get("ready_s")
    checks = [
        ("hybrid in process p50 ms", "<= 20", s["hybrid"]["p50"], s["hybrid"]["p50"] <= 20),
        ("hybrid in process p95 ms", "<= 50", s["hybrid"]["p95"], s["hybrid"]["p95"] <= 50),
        ("HTTP hybrid searches/s", ">= 50", h.get("per_second", 0.0),
         h.get("per_second", 0.0) >= 50),
        ("HTTP hybrid p95 ms", "<= 150", h.get("p95", float("nan")), h.get("p95", 1e9) <= 150),
        ("server peak RSS MiB", "<= 2048", h.get("peak_mb", float("nan")),
         h.get("peak_mb", 1e9) <= 2048),
        ("server ready s", "<= 10", ready if ready is not None else float("nan"),
         ready is not None and ready <= 10),
    ]  # fmt: skip
    lines = [
        f"Targets (issue 7, stated for 1M passages) at {row['build']['passages']:,}:",
        "",
        "| metric | target | measured | met |",
        "|---|---|---:|---|",
    ]
    lines += [f"| {m} | {t} | {v:.1f} | {'yes' if ok else 'NO'} |" for m, t, v, ok in checks]
    return "\n".join(lines)
