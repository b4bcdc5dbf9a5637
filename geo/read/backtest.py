"""Keep the forecast honest: forecast from the history as it stood on A, compare with what
the history says happened by C.

Both sides come from the same replay (``geo/read/forecast.py``), so the forecast on A sees
nothing recorded after A. The deadline asked about is C itself: "will the unit clear the
tasks due by C, by C?".

- **Predicted class**: the forecast's class on A against deadline C.
- **Actual class**: the same rule fed with what happened instead of the pace: the share of
  A's ``open_due`` cleared by C — all of it → ``on_track`` (``done`` if nothing was open on
  A either), at least ``AT_RISK_SHARE`` of it → ``at_risk``, less → ``will_miss``. Units with
  no history on A are left out (nothing was forecast).
- **Completion %** on C: forecast = (done on A + pace × weeks from A to C) / tasks on A,
  capped at 100; the naive baseline carries A's completion % forward; the truth is C's
  completion % from the history. Mean absolute error in percentage points.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import Connection

from geo.read.forecast import AT_RISK_SHARE, CLASSES, DEFAULT_PROGRAMME, LEVELS, Forecast, forecasts

JUDGED = tuple(c for c in CLASSES if c != "no_history")


def actual_class(before: Forecast, after: Forecast) -> str:
    """What happened, in the forecast's classes (the module docstring)."""
    if after.open_due == 0:
        return "done" if before.open_due == 0 else "on_track"
    if before.open_due == 0:
        return "will_miss"  # new tasks due by C appeared and stayed open
    cleared = (before.open_due - after.open_due) / before.open_due
    return "at_risk" if cleared >= AT_RISK_SHARE else "will_miss"


def _pct(done: float, total: int) -> float:
    return 100.0 * done / total if total else 0.0


def forecast_pct(before: Forecast, at: dt.date, check: dt.date) -> float:
    weeks = (check - at).days / 7
    expected = before.tasks_done + (before.pace_per_week or 0.0) * weeks
    return min(100.0, _pct(round(expected, 6), before.tasks_total)) if before.tasks_total else 0.0


@dataclass
class LevelResult:
    """One level's comparison: pairs (predicted, actual) and the completion % errors."""

    level: str
    programme: str
    pairs: list[tuple[str, str]] = field(default_factory=list)
    skipped: int = 0
    errors_forecast: list[float] = field(default_factory=list)
    errors_naive: list[float] = field(default_factory=list)

    def precision_recall(self, cls: str) -> tuple[float | None, float | None, int, int]:
        """(precision, recall, predicted count, actual count) of one class."""
        predicted = sum(1 for p, _ in self.pairs if p == cls)
        actual = sum(1 for _, a in self.pairs if a == cls)
        hit = sum(1 for p, a in self.pairs if p == a == cls)
        return (
            hit / predicted if predicted else None,
            hit / actual if actual else None,
            predicted,
            actual,
        )

    @property
    def mae_forecast(self) -> float:
        return sum(self.errors_forecast) / len(self.errors_forecast) if self.errors_forecast else 0

    @property
    def mae_naive(self) -> float:
        return sum(self.errors_naive) / len(self.errors_naive) if self.errors_naive else 0.0


def backtest_level(
    conn: Connection, level: str, at: dt.date, check: dt.date, programme: str | None = None
) -> LevelResult:
    prog = programme or DEFAULT_PROGRAMME[level]
    before = {f.code: f for f in forecasts(conn, level, prog, at, check)}
    after = {f.code: f for f in forecasts(conn, level, prog, check, check)}
    out = LevelResult(level, prog)
    for code, b in before.items():
        a = after[code]
        if b.cls == "no_history" or not b.tasks_total or not a.tasks_total:
            out.skipped += 1
            continue
        out.pairs.append((b.cls, actual_class(b, a)))
        truth = _pct(a.tasks_done, a.tasks_total)
        out.errors_forecast.append(abs(forecast_pct(b, at, check) - truth))
        out.errors_naive.append(abs(_pct(b.tasks_done, b.tasks_total) - truth))
    return out


def backtest(conn: Connection, at: dt.date, check: dt.date) -> list[LevelResult]:
    """Every level with its default programme."""
    if check <= at:
        raise ValueError("--check must be after --at")
    return [backtest_level(conn, level, at, check) for level in LEVELS]


def _f(x: float | None) -> str:
    return "–" if x is None else f"{x:.2f}"


def table(results: list[LevelResult], at: dt.date, check: dt.date) -> str:
    """The results as a Markdown table (printed by the command, pasted in the docs)."""
    lines = [
        f"Backtest: forecast on {at}, deadline and check on {check}",
        "",
        "| level | programme | class | predicted | actual | precision | recall |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for r in results:
        for cls in JUDGED:
            p, rc, n_pred, n_act = r.precision_recall(cls)
            lines.append(
                f"| {r.level} | {r.programme} | {cls} | {n_pred} | {n_act} | {_f(p)} | {_f(rc)} |"
            )
    lines += [
        "",
        "| level | programme | units judged | no history | MAE forecast (pp) | MAE naive (pp) |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for r in results:
        lines.append(
            f"| {r.level} | {r.programme} | {len(r.pairs)} | {r.skipped} |"
            f" {r.mae_forecast:.2f} | {r.mae_naive:.2f} |"
        )
    return "\n".join(lines)
