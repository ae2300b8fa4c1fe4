"""The run report: one dict, written as JSON, as trades.csv and as console tables. Pure.

``build_report`` merges what the analyzers returned into one flat snake_case
dict; ``write_report_json`` and ``write_trades_csv`` write files atomically
(temp file + rename), ``render_console`` turns the report into fixed-width text.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC
from pathlib import Path
from typing import Any

from analyzers.jsonsafe import to_jsonable
from options_scalper.records import TRADE_COLUMNS, ClosedScalp

PERCENT_CRITERIA = {"win_rate", "avg_pnl_pct", "return_2022", "return_2024", "year_return", "oos_degradation"}
SUMMARY_ROWS: tuple[tuple[str, str, str], ...] = (
    ("total_trades", "Trades", "int"),
    ("winning_trades", "Winners", "int"),
    ("losing_trades", "Losers (P&L <= 0)", "int"),
    ("win_rate", "Win rate", "pct"),
    ("profit_factor", "Profit factor", "pf"),
    ("total_pnl", "Total P&L (net)", "usd"),
    ("total_commission", "Commission", "usd"),
    ("avg_pnl", "Avg P&L / trade", "usd"),
    ("avg_pnl_pct", "Avg P&L / trade (% premium)", "pct"),
    ("avg_winner", "Avg winner", "usd"),
    ("avg_loser", "Avg loser", "usd"),
    ("largest_winner", "Largest winner", "usd"),
    ("largest_loser", "Largest loser", "usd"),
    ("avg_hold_minutes", "Avg hold (min)", "num1"),
    ("longest_losing_streak", "Longest losing streak", "int"),
    ("initial_value", "Starting equity", "usd"),
    ("end_value", "Ending equity", "usd"),
    ("total_return_pct", "Return", "pct"),
    ("max_drawdown", "Max drawdown", "usd"),
    ("max_drawdown_pct", "Max drawdown (%)", "pct"),
)


def build_report(
    stats: Mapping[str, Any],
    equity: Mapping[str, Any],
    criteria: Mapping[str, Any] | Sequence[Mapping[str, Any]],
    rejections: Mapping[str, int],
    data_notes: Sequence[str],
    run_info: Mapping[str, Any],
    execution_cost: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """Return the run report as one flat dict.

    ``stats``: ``ScalpStats`` analysis (or ``scalp_stats``); ``equity``: ``EquityCurve``
    analysis; ``criteria``: ``SuccessCriteria`` analysis (``{"overall", "by_year"}``)
    or a list of rows; ``run_info``: ``strategy``, ``start``, ``end``, ``params`` and
    anything else worth keeping (kept under ``run``, e.g. ``run_id``); ``execution_cost``:
    ``analyzers.execution.execution_cost`` of the run's scalps. Per-bar equity is left out.
    """
    if isinstance(criteria, Mapping):
        overall, by_year = list(criteria.get("overall", [])), dict(criteria.get("by_year", {}))
    else:
        overall, by_year = list(criteria), {}
    bars = equity.get("bars", {}).get("datetime", [])
    report: dict[str, Any] = {
        "strategy": run_info.get("strategy"),
        "start": run_info.get("start") or (bars[0] if bars else None),
        "end": run_info.get("end") or (bars[-1] if bars else None),
        "params": dict(run_info.get("params", {})),
        "run": {k: v for k, v in run_info.items() if k not in {"strategy", "start", "end", "params"}},
    }
    report.update({k: v for k, v in stats.items() if k != "rejections"})
    for key in (
        "initial_value",
        "end_value",
        "peak_value",
        "total_return_pct",
        "max_drawdown",
        "max_drawdown_pct",
    ):
        report[key] = equity.get(key)
    report["max_drawdown_time"] = equity.get("max_drawdown_time")
    report["daily"] = list(equity.get("daily", []))
    report["rejections"] = dict(sorted(rejections.items(), key=lambda kv: (-kv[1], kv[0])))
    report["rejected_signals"] = sum(rejections.values())
    report["success_criteria"] = overall
    report["success_criteria_by_year"] = by_year
    if execution_cost is not None:
        report["execution_cost"] = dict(execution_cost)
    report["data_notes"] = list(data_notes)
    return report


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        # mkstemp creates 0600; give the report the mode a plain open() would.
        os.chmod(tmp, 0o666 & ~_current_umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report_json(report: Mapping[str, Any], path: str | os.PathLike[str]) -> Path:
    """Write the report as indented JSON (``inf``/``NaN`` -> ``null``), atomically; return the path."""
    out = Path(path)
    _atomic_write_text(out, json.dumps(to_jsonable(report), indent=2, allow_nan=False) + "\n")
    return out


def trade_row(scalp: ClosedScalp) -> dict[str, Any]:
    """Return the ``TRADE_COLUMNS`` of one scalp with its times as ISO-8601 UTC."""
    row = scalp.as_row()
    row["entry_time"] = scalp.entry_time.astimezone(UTC).isoformat()
    row["exit_time"] = scalp.exit_time.astimezone(UTC).isoformat()
    return row


def write_trades_csv(trades: Iterable[ClosedScalp], path: str | os.PathLike[str]) -> Path:
    """Write one row per closed scalp in ``TRADE_COLUMNS`` order, atomically; return the path."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(TRADE_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for scalp in trades:
        writer.writerow(trade_row(scalp))
    out = Path(path)
    _atomic_write_text(out, buf.getvalue())
    return out


# ------------------------------------------------------------------ console


def _fmt(value: Any, kind: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if kind == "pct":
        return f"{value:.1%}"
    if kind == "usd":
        return f"-${-value:,.2f}" if value < 0 else f"${value:,.2f}"
    if kind in ("pf", "num2"):
        return f"{value:.2f}"
    if kind == "num1":
        return f"{value:.1f}"
    return str(value)


def _pf(value: Any, losing: int, gross_profit: Any) -> str:
    """Profit factor; JSON turns inf into null, so a null with profit and no losses is inf."""
    if value is None and losing == 0 and (gross_profit or 0) > 0:
        return "inf (no losses)"
    return _fmt(value, "pf")


def _group_pf(group: Mapping[str, Any]) -> str:
    """A group's profit factor; a null with only winners (JSON's inf) reads ``inf``."""
    value = group.get("profit_factor")
    if value is None and group.get("win_rate") == 1.0 and (group.get("total_pnl") or 0) > 0:
        return "inf"
    return _fmt(value, "pf")


def _table(headers: Sequence[str], rows: Sequence[Sequence[str]], right: Sequence[bool]) -> list[str]:
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h) for i, h in enumerate(headers)]

    def line(cells: Sequence[str]) -> str:
        parts = [c.rjust(w) if r else c.ljust(w) for c, w, r in zip(cells, widths, right, strict=True)]
        return "  " + "  ".join(parts).rstrip()

    return [line(headers), "  " + "  ".join("-" * w for w in widths), *(line(r) for r in rows)]


def _section(title: str) -> list[str]:
    return ["", title, "=" * len(title)]


def _criteria_value(row: Mapping[str, Any]) -> str:
    key, value = row.get("key"), row.get("value")
    if key == "profit_factor" and value is None and row.get("passed"):
        return "inf"
    if key in PERCENT_CRITERIA:
        return _fmt(value, "pct")
    if key == "winner_vs_loser":
        return _fmt(value, "usd")
    return _fmt(value, "num2" if isinstance(value, float) else "int")


def _verdict(passed: Any) -> str:
    return "n/a" if passed is None else ("PASS" if passed else "FAIL")


def _criteria_table(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    body = [
        [
            str(r.get("name", r.get("key"))),
            str(r.get("target", "")),
            _criteria_value(r),
            _verdict(r.get("passed")),
            str(r.get("detail", "")),
        ]
        for r in rows
    ]
    return _table(
        ["Criterion", "Target", "Value", "Result", "Detail"], body, [False, False, True, False, False]
    )


def _group_table(title: str, label: str, groups: Mapping[str, Mapping[str, Any]]) -> list[str]:
    lines = _section(title)
    if not groups:
        return [*lines, "  (no trades)"]
    body = [
        [
            name,
            str(g.get("trades", 0)),
            _fmt(g.get("win_rate"), "pct"),
            _fmt(g.get("total_pnl"), "usd"),
            _group_pf(g),
        ]
        for name, g in groups.items()
    ]
    return [
        *lines,
        *_table([label, "Trades", "Win rate", "P&L", "PF"], body, [False, True, True, True, True]),
    ]


def _signed(value: Any) -> str:
    return "n/a" if value is None else f"{value:+.1%}"


def _execution_cost(cost: Mapping[str, Any]) -> list[str]:
    lines = _section("Execution cost")
    reasons = cost.get("by_exit_reason", {})
    if reasons:
        body = [
            [
                name,
                str(r.get("trades", 0)),
                _signed(r.get("threshold_pct")),
                _signed(r["pnl_pct"].get("mean")),
                _signed(r["pnl_pct"].get("median")),
                _signed(r["pnl_pct"].get("worst")),
                _signed(r["premium_move_pct"].get("mean")),
            ]
            for name, r in reasons.items()
        ]
        headers = ["Exit reason", "Trades", "Threshold", "P&L mean", "P&L median", "P&L worst", "Move mean"]
        lines += _table(headers, body, [False, *[True] * 6])
        lines.append("  P&L: net of commission (trades.csv pnl_pct); move: exit / entry premium - 1")
    slip = cost.get("entry_slippage", {})
    if slip.get("known"):
        cap = f", cap {slip['cap_pct']:.0%}" if slip.get("cap_pct") is not None else ""
        lines.append(
            f"  Entry vs decision ask ({slip['known']} of {slip['trades']} scalps{cap}): "
            f"mean {_signed(slip.get('mean'))}, median {_signed(slip.get('median'))}, "
            f"p90 {_signed(slip.get('p90'))}, max {_signed(slip.get('max'))}; "
            f"{slip.get('above_alert', 0)} above {slip.get('alert_pct', 0.05):.0%}"
        )
    else:
        lines.append(
            f"  Entry vs decision ask: unknown for all {slip.get('trades', 0)} scalps "
            "(none records its decision-minute ask)"
        )
    depth = cost.get("depth_limited", {})
    if depth.get("known"):
        lines.append(
            f"  Depth-limited fills: {depth['depth_limited']} of {depth['known']} scalps "
            f"({_fmt(depth.get('share'), 'pct')})"
        )
    else:
        lines.append(
            f"  Depth-limited fills: unknown for all {depth.get('trades', 0)} scalps "
            "(none says whether a fill was cut to the displayed size)"
        )
    if slip.get("known") and slip.get("unknown"):
        lines.append(f"  ({slip['unknown']} scalp(s) without a decision ask are left out of the slippage)")
    if cost.get("thresholds", {}).get("source") == "unknown":
        lines.append("  (exit thresholds unknown: the strategy's config has no exit_rules())")
    return lines


def render_console(report: Mapping[str, Any]) -> str:
    """Return the report as fixed-width text tables for a terminal."""
    title = f"BACKTEST REPORT: {report.get('strategy') or 'strategy'}  {report.get('start')} -> {report.get('end')}"
    lines = [title, "#" * len(title)]
    if report.get("params"):
        lines.append("  params: " + ", ".join(f"{k}={v}" for k, v in report["params"].items()))
    if report.get("oos_touches"):
        touched = "oos" in report.get("run", {}).get("splits_touched", [])
        lines.append(
            f"  out-of-sample touched {report['oos_touches']} time(s) by this strategy"
            + (" (this run included)" if touched else "")
            + f"; ledger {report.get('run', {}).get('ledger')}"
        )

    lines += _section("Summary")
    body = []
    for key, label, kind in SUMMARY_ROWS:
        value = report.get(key)
        text = (
            _pf(value, report.get("losing_trades", 0), report.get("gross_profit"))
            if kind == "pf"
            else _fmt(value, kind)
        )
        body.append([label, text])
    lines += _table(["Metric", "Value"], body, [False, True])

    lines += _section("Exit breakdown")
    breakdown = report.get("exit_breakdown", {})
    total = sum(breakdown.values())
    rows = [[r, str(n), _fmt(n / total if total else None, "pct")] for r, n in breakdown.items()]
    lines += _table(["Exit reason", "Trades", "Share"], rows, [False, True, True])

    if report.get("execution_cost"):
        lines += _execution_cost(report["execution_cost"])

    lines += _group_table("By ticker", "Ticker", report.get("by_ticker", {}))
    lines += _group_table("By entry hour (US/Eastern)", "Hour", report.get("by_entry_hour", {}))
    lines += _group_table("By conviction", "Conviction", report.get("by_conviction", {}))
    lines += _group_table("By DTE", "DTE", report.get("by_dte", {}))

    lines += _section("Success criteria (seed 003)")
    lines += _criteria_table(report.get("success_criteria", []))
    for year, rows_of_year in report.get("success_criteria_by_year", {}).items():
        lines += ["", f"  {year}:", *_criteria_table(rows_of_year)]

    lines += _section("Rejected signals")
    rejections = report.get("rejections", {})
    if rejections:
        lines += _table(["Reason", "Signals"], [[k, str(v)] for k, v in rejections.items()], [False, True])
    else:
        lines.append("  (none)")

    lines += _section("Data notes")
    lines += [f"  - {note}" for note in report.get("data_notes", [])] or ["  (none)"]
    return "\n".join(lines) + "\n"
