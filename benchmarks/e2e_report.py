"""Markdown tables for the e2e benchmark's figures (what BENCHMARKS.md shows)."""

import statistics


def _fmt(value, spec=".0f"):
    return "n/a" if value is None else format(value, spec)


def _layouts(report) -> list[str]:
    return list(dict.fromkeys(mix.get("layout", "sqlite") for mix in report["mixes"]))


def _layout_cell(report, mix) -> str:
    """A first column naming the layout, only when the run measured more than one."""
    return f"| {mix.get('layout', 'sqlite')} " if len(_layouts(report)) > 1 else ""


def _layout_head(report, sep=False) -> str:
    if len(_layouts(report)) <= 1:
        return ""
    return "|---" if sep else "| layout "


def render_markdown(report, targets) -> str:
    out = []
    m = report["machine"]
    out.append(
        f"Machine: {m['nproc']} CPUs ({m['cpu']}), {m['memory_gib']} GiB, Python {m['python']}, "
        f"Django {m['django']}; load average at start {_load(m['loadavg_at_start'])}, "
        f"at end {_load(m.get('loadavg_at_end'))}."
    )
    out.append(f"Command: `{report['command'].strip()}`\n")

    out.append(
        _layout_head(report)
        + "| mix | conc. | events | accepted/s | stored end-to-end/s | p50 ms | p95 ms | p99 ms "
        "| max backlog | answers | stored/acked | disk B/event | peak PSS MiB | load1 before |"
    )
    out.append(_layout_head(report, sep=True) + "|---" * 14 + "|")
    for mix in report["mixes"]:
        for r in mix["runs"]:
            lat = r["latency_ms"]
            out.append(
                _layout_cell(report, mix)
                + f"| {mix['mix']}{_variant(r)} ({r['raw_bytes'] / 1024:.1f} KB raw) "
                f"| {r['concurrency']} "
                f"| {r['sent']} | {r['accepted_per_s']:.0f} | {r['e2e_per_s']:.0f} "
                f"| {lat[50]:.1f} | {lat[95]:.1f} | {lat[99]:.1f} | {r['max_backlog']} "
                f"| {_statuses(r['statuses'])} | {r['stored']}/{r['accepted']}{_evicted(r)} "
                f"| {_fmt(r['disk_bytes_per_event'])} | {r['peak_pss_mib']:.0f} "
                f"| {r['load1_before']:.2f} |"
            )
    for c, b in (report.get("baseline") or {}).items():
        lat = b["latency_ms"]
        out.append(
            ("| - " if len(_layouts(report)) > 1 else "")
            + f"| baseline: same Gunicorn, trivial WSGI app | {c} | - | {b['accepted_per_s']:.0f} "
            f"| - | {lat[50]:.1f} | {lat[95]:.1f} | {lat[99]:.1f} | - | {_statuses(b['statuses'])} "
            f"| - | - | - | - |"
        )
    out.append("")

    out.append(
        _layout_head(report)
        + "| mix | cold start to first 200 s | idle PSS MiB (RSS) before load | after load |"
    )
    out.append(_layout_head(report, sep=True) + "|---|---|---|---|")
    for mix in report["mixes"]:
        b, a = mix["idle_before"], mix["idle_after"]
        out.append(
            _layout_cell(report, mix) + f"| {mix['mix']} | {mix['cold_start_to_first_200_s']:.2f} "
            f"| {b['pss_mib']:.1f} ({b['rss_mib']:.1f}) | {a['pss_mib']:.1f} ({a['rss_mib']:.1f}) |"
        )
    out.append(f"\nWarm restart to first 200: {_warm(report['warm_start_to_first_200_s'])}.")
    first = report["mixes"][0]["idle_before"]["processes"]
    out.append("Idle PSS per process (MiB): " + ", ".join(f"{r} {p}" for r, p in first) + "\n")

    if any(mix["runs"] for mix in report["mixes"]):
        out.extend(_cpu_table(report))
    if any("sessions_sent" in r for mix in report["mixes"] for r in mix["runs"]):
        out.extend(health_table(report))

    if "soak" in report:
        s = report["soak"]
        out.append(
            f"Soak: {s['seconds']:.0f} s at {s['rate']:.0f} events/s (1,000-issue mix): "
            f"answers {_statuses(s['statuses'])}, stored {s['stored']}/{s['accepted']}, "
            f"p99 {s['latency_ms'][99]:.1f} ms."
        )
        out.append(
            "\n| t s | PSS MiB | RSS MiB | digested | database MiB | data directory MiB |"
            "\n|---|---|---|---|---|---|"
        )
        samples = s["memory_samples"]
        step = max(1, len(samples) // 12)
        shown = samples[::step] + ([samples[-1]] if (len(samples) - 1) % step else [])
        for t, pss, rss, n, *disk in shown:
            database, data_dir = disk or ("-", "-")  # reports of before the disk figures
            out.append(
                f"| {t} | {pss:.1f} | {rss:.1f} | {n} | {_mib(database)} | {_mib(data_dir)} |"
            )
        out.append("")

    out.append(render_targets(report, targets))
    return "\n".join(out)


def _cpu_table(report) -> list[str]:
    out = []
    out.append("CPU used per process role during each run (cores = CPU seconds / wall seconds):\n")
    roles = sorted({role for mix in report["mixes"] for r in mix["runs"] for role in r["cpu"]})
    out.append(
        _layout_head(report) + "| mix | conc. | " + " | ".join(roles) + " | load generator |"
    )
    out.append(_layout_head(report, sep=True) + "|---" * (len(roles) + 3) + "|")
    for mix in report["mixes"]:
        for r in mix["runs"]:
            cells = []
            for role in roles:
                c = r["cpu"].get(role)
                cells.append(f"{c['cores']:.2f} ({c['processes']})" if c else "-")
            wall = r["e2e_wall_s"]
            out.append(
                _layout_cell(report, mix)
                + f"| {mix['mix']}{_variant(r)} | {r['concurrency']} | "
                + " | ".join(cells)
                + f" | {r['client_cpu_s'] / wall:.2f} |"
            )
    out.append("")
    return out


def health_pairs(runs) -> list[tuple[dict, dict]]:
    """(error-only, mixed) runs of one level, in the order they ran: each round is one of each."""
    pairs = []
    for first, second in zip(runs[::2], runs[1::2], strict=False):
        if "sessions_sent" in first:
            first, second = second, first
        if "sessions_sent" in second and "sessions_sent" not in first:
            pairs.append((first, second))
    return pairs


def _mib(value):
    return value if isinstance(value, str) else f"{value:.1f}"


def health_table(report) -> list[str]:
    """The error rate end to end with and without release-health items, round by round."""
    out = [
        "Error events end to end, alone and with a session item in every envelope (and a check-in "
        "in some), alternating on one deployment:\n",
        _layout_head(report)
        + "| mix | conc. | round | errors only: stored/s | with health: stored/s | ratio "
        "| sessions counted/sent | check-ins stored/sent | load1 before (alone, mixed) |",
        _layout_head(report, sep=True) + "|---" * 9 + "|",
    ]
    ratios = []
    for mix in report["mixes"]:
        for c in sorted({r["concurrency"] for r in mix["runs"]}):
            level = [r for r in mix["runs"] if r["concurrency"] == c]
            for n, (alone, mixed) in enumerate(health_pairs(level), start=1):
                ratio = mixed["e2e_per_s"] / alone["e2e_per_s"] if alone["e2e_per_s"] else 0.0
                ratios.append(ratio)
                out.append(
                    _layout_cell(report, mix)
                    + f"| {mix['mix']} | {c} | {n} | {alone['e2e_per_s']:.0f} "
                    f"| {mixed['e2e_per_s']:.0f}{'' if mixed['all_stored'] else ' (not all counted)'} "
                    f"| {ratio:.2f} "
                    f"| {mixed['sessions_counted']}/{mixed['sessions_sent']} "
                    f"| {mixed['check_ins_stored']}/{mixed['check_ins_sent']} "
                    f"| {alone['load1_before']:.2f}, {mixed['load1_before']:.2f} |"
                )
    if ratios:
        median = statistics.median(ratios)  # of an even count: the mean of the middle two
        out.append(
            f"\nMedian ratio (with health / errors only) {median:.2f} over {len(ratios)} rounds "
            f"(range {min(ratios):.2f}-{max(ratios):.2f}); target: within 10 % "
            f"({_verdict(median >= 0.9)}).\n"
        )
    return out


def _variant(run) -> str:
    return " + health" if "sessions_sent" in run else ""


def render_targets(report, targets) -> str:
    layouts = _layouts(report)
    if len(layouts) == 1:
        return _targets(report, report["mixes"], targets)
    # one table per layout: a target met on one layout says nothing of the other
    return "\n".join(
        f"Targets, {layout} layout:\n\n"
        + _targets(report, [m for m in report["mixes"] if m.get("layout") == layout], targets)
        for layout in layouts
    )


def _warm(value) -> str:
    if isinstance(value, dict):  # by layout
        return ", ".join(f"{layout} {s:.2f} s" for layout, s in value.items())
    return f"{value:.2f} s"


def _targets(report, mixes, targets) -> str:
    small = [  # the error-only runs (the mixed ones have a table of their own)
        r
        for mix in mixes
        if mix["mix"] != "large"
        for r in mix["runs"]
        if r["stored"] and "sessions_sent" not in r
    ]
    rows = ["| target (issue 7) | measured | verdict |", "|---|---|---|"]
    if small:
        worst = min(r["e2e_per_s"] for r in small)
        best = max(r["e2e_per_s"] for r in small)
        rows.append(
            f"| >= {targets['e2e_rate']:.0f} events/s end to end, 4 KB events "
            f"| {worst:.0f}-{best:.0f}/s | {_verdict(worst >= targets['e2e_rate'])} |"
        )
        c32 = [r for r in small if r["concurrency"] == 32]
        if c32:
            p99 = max(r["latency_ms"][99] for r in c32)
            rows.append(
                f"| p99 <= {targets['p99_c32_ms']:.0f} ms at concurrency 32 | {p99:.1f} ms "
                f"| {_verdict(p99 <= targets['p99_c32_ms'])} |"
            )
        # growth from an empty database; runs where retention evicted reuse freed pages instead
        disks = [
            r["disk_bytes_per_event"]
            for r in small
            if r["disk_bytes_per_event"] is not None
            and (r.get("evicted_by_retention") or 0) <= r["stored"] // 100
        ]
        if disks:
            rows.append(
                f"| <= 4 KB on disk per 4 KB event (growth from empty) "
                f"| {min(disks):.0f}-{max(disks):.0f} B "
                f"| {_verdict(max(disks) <= targets['disk_per_event'])} |"
            )
    idle = max(m["idle_before"]["pss_mib"] for m in mixes)
    rows.append(
        f"| idle PSS of the whole deployment <= {targets['idle_pss_mib']:.0f} MiB "
        f"| {idle:.1f} MiB | {_verdict(idle <= targets['idle_pss_mib'])} |"
    )
    if "soak" in report and report["soak"]["memory_samples"]:
        samples = report["soak"]["memory_samples"]
        # flat: over the second half of the run (after warm-up), PSS stays within 5 %
        half = [sample[1] for sample in samples[len(samples) // 2 :]]
        flat = max(half) - min(half) <= 0.05 * min(half)
        rows.append(
            f"| memory flat during a {report['soak']['seconds']:.0f} s run "
            f"| PSS {samples[0][1]:.1f} idle, peak {max(x[1] for x in samples):.1f}, "
            f"second half {min(half):.1f}-{max(half):.1f} MiB | {_verdict(flat)} |"
        )
        sizes = [sample[4] for sample in samples if len(sample) > 4]
        if len(sizes) >= 4:
            # Retention at its cap makes a sawtooth (rows added, then evicted in batches whose
            # pages are reused): flat means no trend, the last quarter's peak within 5 % of the
            # second quarter's (the first is the climb to the cap).
            n = len(sizes)
            early, late = max(sizes[n // 4 : n // 2]), max(sizes[3 * n // 4 :])
            flat = late <= 1.05 * early
            rows.append(
                f"| database size flat during the run (retention at its cap) "
                f"| peak {early:.1f} MiB in the second quarter, {late:.1f} in the last "
                f"(range {min(sizes[n // 4 :]):.1f}-{max(sizes[n // 4 :]):.1f}), "
                f"at the end {sizes[-1]:.1f} | {_verdict(flat)} |"
            )
    else:
        rows.append(
            "| memory flat during a 10-minute run | not run (use --soak=600) | not measured |"
        )
    return "\n".join(rows) + "\n"


def _verdict(ok: bool) -> str:
    return "met" if ok else "**missed**"


def _statuses(statuses) -> str:
    return " ".join(f"{k}:{v}" for k, v in sorted(statuses.items(), key=lambda kv: int(kv[0])))


def _load(values) -> str:
    return "n/a" if not values else " ".join(f"{v:.2f}" for v in values)


def _evicted(run) -> str:
    n = run.get("evicted_by_retention") or 0
    return f" ({n} evicted by retention)" if n > 0 else ""
