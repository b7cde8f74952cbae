"""Plain-text output for the benchmarks: one block per run, then ratio tables."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from loadgen import RunResult

BASELINE = "python-socketio"
GENERATOR_SATURATED_PCT = 90.0
# Share of a benchmark core taken by other processes past which results are suspect.
NEIGHBOUR_PCT = 20.0


def _ms(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _counts(counts: dict[str, int]) -> str:
    return "; ".join(f"{n} x {reason}" for reason, n in sorted(counts.items(), key=lambda i: -i[1]))


def format_run(r: RunResult) -> str:
    lat, ack = r.latency_ms, r.ack_latency_ms
    cpu_pct = r.server_cpu_pct
    lines = [
        f"== {r.server} | {r.scenario} | {r.subscribers} {r.transport} subscribers "
        f"(server pid {r.server_pid}, cpus {r.server_affinity}) ==",
        f"  subscribers        {r.connected} connected in {r.connect_seconds:.2f} s; "
        f"{r.pings_answered} server pings answered",
        f"  events published   {r.published} (acked {r.acked}, "
        f"recipients reported {r.recipients_total}) via {r.publish_via}",
        f"  publishes/s        {r.publishes_per_s:,.0f} over {r.publish_seconds:.2f} s "
        "(first publish to last reply)",
        f"  deliveries         {r.deliveries} of {r.expected} expected, "
        f"ratio {r.delivery_ratio:.4f}",
        f"  deliveries/s       {r.deliveries_per_s:,.0f} over {r.window_seconds:.2f} s",
        f"  latency ms         p50 {_ms(lat.get('p50'))}  p95 {_ms(lat.get('p95'))}  "
        f"p99 {_ms(lat.get('p99'))}  max {_ms(lat.get('max'))}",
        f"  publish reply ms   p50 {_ms(ack.get('p50'))}  p99 {_ms(ack.get('p99'))}",
        f"  server CPU         {r.server_cpu_us_per_delivery:.2f} us/delivery, "
        f"{r.server_cpu_us_per_publish:.1f} us/publish "
        f"({r.server_cpu_seconds:.2f} s, {cpu_pct:.0f}% of a core)",
        f"  server RSS         {r.rss_before_kib / 1024:.1f} MiB before, "
        f"{r.rss_idle_kib / 1024:.1f} MiB with {r.connected} idle connections "
        f"({r.rss_per_conn_kib:.1f} KiB/conn), {r.rss_after_kib / 1024:.1f} MiB after run",
        f"  generator CPU      {r.generator_cpu_pct:.0f}% of a core",
    ]
    lines.append(
        f"  core load          server's core {r.server_core_busy_pct:.0f}% busy "
        f"(softirq {r.server_core_softirq_pct:.0f}%), generator's core "
        f"{r.generator_core_busy_pct:.0f}% busy (softirq {r.generator_core_softirq_pct:.0f}%)"
    )
    # Busy time that is neither our process nor network softirq: other processes.
    others = {
        "server": r.server_core_busy_pct - r.server_core_softirq_pct - cpu_pct,
        "generator": r.generator_core_busy_pct - r.generator_core_softirq_pct - r.generator_cpu_pct,
    }
    noisy = [f"{others[k]:.0f}% of the {k}'s" for k in others if others[k] > NEIGHBOUR_PCT]
    if noisy:
        lines.append(
            f"  WARNING            other load took {' and '.join(noisy)} core: latency and "
            "(at max rate) throughput suffer; CPU per delivery is the steadier figure"
        )
    if r.generator_cpu_pct > GENERATOR_SATURATED_PCT:
        lines.append(
            "  WARNING            the load generator is saturated: deliveries/s and latency "
            "are bounded by the client, not the server"
        )
    lines.extend(f"  PROBLEM            {p}" for p in problems(r))
    if r.shutdown:
        lines.append(f"  shutdown           {r.shutdown}")
    lines.extend(f"  note               {n}" for n in r.notes)
    return "\n".join(lines)


def problems(r: RunResult) -> list[str]:
    """Everything that suggests a server bug (or an overloaded machine)."""
    found = []
    if r.connect_failures:
        found.append(f"connect/join failures: {_counts(r.connect_failures)}")
    if r.published and r.deliveries < r.expected:
        found.append(
            f"{r.expected - r.deliveries} deliveries missing; {r.short_subscribers} subscribers "
            f"short, {r.stalled_subscribers} of them stopped before the last publish"
        )
    if r.deliveries > r.expected:
        found.append(f"{r.deliveries - r.expected} more deliveries than expected (duplicates)")
    checks = {
        "publish errors": r.ack_errors,
        "publish reply timeouts": r.ack_timeouts,
        "publish replies with recipients != subscribers": r.recipient_mismatches,
        "out-of-order/duplicate deliveries": r.out_of_order,
        "seq gaps seen on connections": r.gaps,
        "malformed tick events": r.malformed,
        "unexpected packets": r.unexpected_packets,
        "publishes that waited >1 s for full delivery": r.lag_stalls,
    }
    found.extend(f"{name}: {value}" for name, value in checks.items() if value)
    found.extend(f"publish error sample: {s}" for s in r.ack_error_samples)
    if r.disconnects:
        found.append(f"connections dropped during the run: {_counts(r.disconnects)}")
    found.extend(f"server log: {line}" for line in r.server_log_problems)
    return found


# (row label, getter, how to read the ratio)
Row = tuple[str, Callable[[RunResult], float | None], str]


def _percentile_rows(
    label: str, get: Callable[[RunResult], dict[str, float]], *ps: str
) -> list[Row]:
    """One row per percentile ``ps`` of the distribution ``get`` returns, lower is better."""

    def row(p: str) -> Row:
        return (f"{label} {p} ms", lambda r: get(r).get(p), "lower is better")

    return [row(p) for p in ps]


_CPU_PER_DELIVERY: Row = (
    "server CPU us/delivery",
    lambda r: r.server_cpu_us_per_delivery,
    "lower is better",
)
# What the deliveries took: latency, throughput, the server's load.
_DELIVERY_ROWS: Sequence[Row] = (
    *_percentile_rows("latency", lambda r: r.latency_ms, "p50", "p95", "p99"),
    ("deliveries/s", lambda r: r.deliveries_per_s, "higher is better"),
    ("server CPU % of a core", lambda r: r.server_cpu_pct, "load on the server"),
)
# Whether the run itself can be trusted.
_CHECK_ROWS: Sequence[Row] = (
    ("delivery ratio", lambda r: r.delivery_ratio, "1.0 is right"),
    ("generator CPU %", lambda r: r.generator_cpu_pct, "client headroom"),
)
FANOUT_ROWS: Sequence[Row] = (
    _CPU_PER_DELIVERY,
    *_DELIVERY_ROWS,
    ("server RSS KiB/conn", lambda r: r.rss_per_conn_kib, "lower is better"),
    *_CHECK_ROWS,
)
PUBLISH_ROWS: Sequence[Row] = (
    ("publishes/s", lambda r: r.publishes_per_s, "higher is better"),
    ("server CPU us/publish", lambda r: r.server_cpu_us_per_publish, "lower is better"),
    _CPU_PER_DELIVERY,
    *_percentile_rows("publish reply", lambda r: r.ack_latency_ms, "p50", "p99"),
    *_DELIVERY_ROWS,
    *_CHECK_ROWS,
)


def _cell(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    return f"{value:.3f}" if abs(value) < 10 else f"{value:.1f}"


def format_comparison(
    scenario: str, runs: Sequence[RunResult], rows: Sequence[Row] = FANOUT_ROWS
) -> str:
    """One table per scenario: every server's numbers, then hub / baseline ratios."""
    names = [r.server for r in runs]
    by_name = {r.server: r for r in runs}
    ratio_of = "hub" if "hub" in by_name and BASELINE in by_name else None
    header = f"{'metric':<24}" + "".join(f"{n:>17}" for n in names)
    if ratio_of:
        header += f"{'hub/' + BASELINE:>22}   reading"
    lines = [f"-- {scenario}, {runs[0].subscribers} {runs[0].transport} subscribers --", header]
    for label, get, reading in rows:
        row = f"{label:<24}" + "".join(f"{_cell(get(r)):>17}" for r in runs)
        if ratio_of:
            mine, base = get(by_name["hub"]), get(by_name[BASELINE])
            ratio = mine / base if mine is not None and base else None
            row += f"{_cell(ratio):>22}   {reading}"
        lines.append(row)
    return "\n".join(lines)
