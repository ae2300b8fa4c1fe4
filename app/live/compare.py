"""Compare a live run's closed scalps with a backtest's ``trades.csv`` of the same day(s).

Seed 003's "results roughly match backtest", as a report: each live scalp is paired
with the backtest trade of the same contract whose entry is nearest in time (within
``tolerance`` minutes); what is left on either side is "only in live" / "only in the
backtest". Per pair: entry and exit premium differences (live minus backtest) and
the P&L difference. Written as ``compare.csv`` (one row per trade) and
``compare.json`` (summary plus rows) into the live run's output folder.
"""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from options_scalper.calendar import session_date
from options_scalper.records import ClosedScalp

TRADES_FILENAME = "trades.csv"
COMPARE_CSV = "compare.csv"
COMPARE_JSON = "compare.json"
DEFAULT_TOLERANCE_MIN = 3.0
_NEEDED = ("option_symbol", "entry_time", "exit_time", "entry_premium", "exit_premium", "pnl", "contracts")


class CompareError(Exception):
    """The backtest folder or its trades.csv cannot be used (one line)."""


@dataclass(frozen=True)
class Trade:
    option_symbol: str
    entry_time: datetime
    exit_time: datetime
    entry_premium: float
    exit_premium: float
    pnl: float
    contracts: int
    exit_reason: str

    @classmethod
    def of(cls, s: ClosedScalp) -> Trade:
        return cls(s.option_symbol, s.entry_time, s.exit_time, s.entry_premium, s.exit_premium, s.pnl,
                   s.contracts, s.exit_reason)  # fmt: skip


def load_backtest_trades(out_dir: Path) -> list[Trade]:
    """The trades of a backtest output folder (its ``trades.csv``); ``CompareError`` naming what is wrong."""
    path = out_dir / TRADES_FILENAME if out_dir.is_dir() else out_dir
    if not path.is_file():
        raise CompareError(
            f"--compare-with: {path} not found; pass the --out folder of a run_backtest.py run (it holds trades.csv)"
        )
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise CompareError(f"--compare-with: cannot read {path}: {exc}") from exc
    reader = csv.DictReader(io.StringIO(text))
    missing = [c for c in _NEEDED if c not in (reader.fieldnames or [])]
    if missing:
        raise CompareError(
            f"--compare-with: {path} has no column {', '.join(missing)}; is it a backtest's trades.csv?"
        )
    out = []
    for line, row in enumerate(reader, start=2):
        try:
            out.append(
                Trade(row["option_symbol"], datetime.fromisoformat(row["entry_time"]),
                      datetime.fromisoformat(row["exit_time"]), float(row["entry_premium"]),
                      float(row["exit_premium"]), float(row["pnl"]), int(float(row["contracts"])),
                      row.get("exit_reason") or "")
            )  # fmt: skip
        except (TypeError, ValueError) as exc:
            raise CompareError(f"--compare-with: {path} line {line}: {exc}; the file is damaged") from exc
    return out


def _diff(a: float | None, b: float | None) -> float | None:
    if a is None or b is None or math.isnan(a) or math.isnan(b):
        return None
    return round(a - b, 4)


def _row(status: str, live: Trade | None, bt: Trade | None) -> dict[str, Any]:
    any_ = live or bt
    assert any_ is not None
    return {
        "status": status,
        "option_symbol": any_.option_symbol,
        "entry_time_live": live.entry_time.isoformat() if live else None,
        "entry_time_backtest": bt.entry_time.isoformat() if bt else None,
        "contracts_live": live.contracts if live else None,
        "contracts_backtest": bt.contracts if bt else None,
        "entry_premium_live": live.entry_premium if live else None,
        "entry_premium_backtest": bt.entry_premium if bt else None,
        "entry_premium_diff": _diff(live.entry_premium if live else None, bt.entry_premium if bt else None),
        "exit_premium_live": live.exit_premium if live else None,
        "exit_premium_backtest": bt.exit_premium if bt else None,
        "exit_premium_diff": _diff(live.exit_premium if live else None, bt.exit_premium if bt else None),
        "pnl_live": live.pnl if live else None,
        "pnl_backtest": bt.pnl if bt else None,
        "pnl_diff": _diff(live.pnl if live else None, bt.pnl if bt else None),
        "exit_reason_live": live.exit_reason if live else None,
        "exit_reason_backtest": bt.exit_reason if bt else None,
    }


def compare(
    live: Sequence[Trade],
    backtest: Sequence[Trade],
    days: Iterable[date] | None = None,
    tolerance_min: float = DEFAULT_TOLERANCE_MIN,
) -> dict[str, Any]:
    """The comparison report (``summary`` and ``rows``) of ``live`` against ``backtest`` on ``days``."""
    wanted = set(days) if days is not None else {session_date(t.entry_time) for t in live}
    bt_left = [t for t in backtest if session_date(t.entry_time) in wanted]
    tol = timedelta(minutes=tolerance_min)
    rows: list[dict[str, Any]] = []
    for t in sorted(live, key=lambda x: x.entry_time):
        cands = [
            b
            for b in bt_left
            if b.option_symbol == t.option_symbol and abs(b.entry_time - t.entry_time) <= tol
        ]
        best = min(cands, key=lambda b: abs(b.entry_time - t.entry_time), default=None)
        if best is None:
            rows.append(_row("live_only", t, None))
        else:
            bt_left.remove(best)
            rows.append(_row("matched", t, best))
    rows += [_row("backtest_only", None, b) for b in bt_left]
    rows.sort(key=lambda r: r["entry_time_live"] or r["entry_time_backtest"])
    matched = [r for r in rows if r["status"] == "matched"]

    def mean_abs(key: str) -> float | None:
        vals = [abs(r[key]) for r in matched if r[key] is not None]
        return round(sum(vals) / len(vals), 4) if vals else None

    summary = {
        "days": sorted(d.isoformat() for d in wanted),
        "live_trades": len(live),
        "backtest_trades": len([t for t in backtest if session_date(t.entry_time) in wanted]),
        "matched": len(matched),
        "live_only": sum(r["status"] == "live_only" for r in rows),
        "backtest_only": sum(r["status"] == "backtest_only" for r in rows),
        "mean_abs_entry_diff": mean_abs("entry_premium_diff"),
        "mean_abs_exit_diff": mean_abs("exit_premium_diff"),
        "pnl_live": round(sum(t.pnl for t in live if not math.isnan(t.pnl)), 2),
        "pnl_backtest": round(sum(r["pnl_backtest"] or 0.0 for r in rows), 2),
        "tolerance_minutes": tolerance_min,
    }
    return {"summary": summary, "rows": rows}


def render(report: dict[str, Any]) -> str:
    """The console text of a comparison: one summary line, then one line per trade."""
    s = report["summary"]
    lines = [
        f"live vs backtest on {', '.join(s['days']) or 'no day'}: {s['matched']} matched, "
        f"{s['live_only']} only live, {s['backtest_only']} only in the backtest; "
        f"P&L live ${s['pnl_live']:,.2f} vs backtest ${s['pnl_backtest']:,.2f}; "
        f"mean |entry diff| {s['mean_abs_entry_diff']}, mean |exit diff| {s['mean_abs_exit_diff']}"
    ]
    for r in report["rows"]:
        when = (r["entry_time_live"] or r["entry_time_backtest"])[11:16]
        if r["status"] == "matched":
            lines.append(
                f"  {when} {r['option_symbol']} matched: entry {r['entry_premium_live']:.2f} vs "
                f"{r['entry_premium_backtest']:.2f}, exit {r['exit_premium_live']:.2f} vs "
                f"{r['exit_premium_backtest']:.2f}, pnl diff {r['pnl_diff']}"
            )
        else:
            where = "only live" if r["status"] == "live_only" else "only in the backtest"
            lines.append(f"  {when} {r['option_symbol']} {where}")
    return "\n".join(lines)


def write(report: dict[str, Any], out_dir: Path) -> list[Path]:
    """Write ``compare.csv`` and ``compare.json`` into ``out_dir`` (each atomically)."""
    from analyzers.report import write_report_json

    out_dir.mkdir(parents=True, exist_ok=True)
    buf = io.StringIO()
    fields = list(_row("matched", _EMPTY, _EMPTY))
    w = csv.DictWriter(buf, fieldnames=fields, lineterminator="\n")
    w.writeheader()
    w.writerows(report["rows"])
    csv_path = out_dir / COMPARE_CSV
    tmp = csv_path.with_suffix(".csv.tmp")
    tmp.write_text(buf.getvalue(), encoding="utf-8")
    os.replace(tmp, csv_path)
    json_path = write_report_json(report, out_dir / COMPARE_JSON)
    return [csv_path, json_path]


_EMPTY = Trade("", datetime(2000, 1, 1), datetime(2000, 1, 1), 0.0, 0.0, 0.0, 0, "")

__all__ = [
    "COMPARE_CSV",
    "COMPARE_JSON",
    "CompareError",
    "Trade",
    "compare",
    "load_backtest_trades",
    "render",
    "write",
]
