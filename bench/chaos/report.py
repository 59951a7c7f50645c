"""The chaos benchmark's tables: answers by fault window and by kind, then the checks with their verdicts."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable

from bench.support.report import print_table_head
from bench.support.stats import percentile

from .faults import Schedule
from .load import Answer

COLUMNS = ["2xx", "302", "4xx", "500", "503", "5xx other", "timeout", "conn.", "computing"]


def status_class(answer: Answer) -> str:
    """What came back, as a column of the tables (`COLUMNS` but "computing")."""
    if answer.error:
        return {"timeout": "timeout"}.get(answer.error, "conn.")
    s = answer.status
    if 200 <= s < 300:
        return "2xx"
    if s == 302:  # a page sending its reader to the log-in page: the session was lost
        return "302"
    if 400 <= s < 500:
        return "4xx"
    if s in (500, 503):
        return str(s)
    return "5xx other" if s >= 500 else f"{s}"


def _row(label: str, answers: list[Answer], width: int) -> str:
    counts = Counter(status_class(a) for a in answers)
    counts["computing"] = sum(a.outcome == "computing" for a in answers)
    cells = "".join(f"{counts.get(c, 0):>10}" for c in COLUMNS)
    return f"{label:<{width}}{len(answers):>9}{cells}"


def by_window(answers: list[Answer], schedule: Schedule) -> None:
    """Answers counted by the fault window their request started in."""
    groups: dict[str, list[Answer]] = defaultdict(list)
    for answer in answers:
        groups[schedule.window_of(answer.started)].append(answer)
    labels = ["no fault"] + [f.label for f in schedule.faults]
    title = "window (fault -> back + tail)"
    width = max(len(x) for x in [*labels, title]) + 2
    head = f"{title:<{width}}{'requests':>9}" + "".join(f"{c:>10}" for c in COLUMNS)
    print_table_head(
        f"Answers by fault window (a window runs from the fault until the service answers again, "
        f"plus {schedule.tail:g} s; 'computing': reads answered so, counted among the 2xx)",
        head,
    )
    for label in labels:
        print(_row(label, groups.get(label, []), width))
    print(_row("all", answers, width))
    print("Failed answers by window and kind:")
    for label in labels:
        failed = Counter((a.kind, status_class(a)) for a in groups.get(label, []) if status_class(a) != "2xx")
        listed = ", ".join(f"{kind} {n} x {what}" for (kind, what), n in sorted(failed.items()))
        print(f"  {label}: {listed or 'none'}")


def by_kind(answers: list[Answer]) -> None:
    groups: dict[str, list[Answer]] = defaultdict(list)
    for answer in answers:
        groups[answer.kind].append(answer)
    width = max(len(k) for k in groups) + 2 if groups else 10
    head = f"{'kind':<{width}}{'requests':>9}" + "".join(f"{c:>10}" for c in COLUMNS)
    head += f"{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
    print_table_head("Answers by kind (the whole run)", head)
    for kind in sorted(groups):
        group = groups[kind]
        ms = [a.elapsed * 1000 for a in group]
        print(f"{_row(kind, group, width)}{percentile(ms, 50):>9.0f}{percentile(ms, 99):>9.0f}{max(ms):>9.0f}")


def checks(rows: Iterable[tuple[str, str, bool | None]]) -> bool:
    """The checks table; each row (what, measured, verdict: True PASS, False FAIL, None informative).
    Returns whether every verdict passed."""
    rows = list(rows)
    width = max(len(r[0]) for r in rows) + 2
    print_table_head("Checks", f"{'check':<{width}}{'verdict':<9}measured")
    ok = True
    for what, measured, verdict in rows:
        mark = "" if verdict is None else ("PASS" if verdict else "FAIL")
        ok &= verdict is not False
        print(f"{what:<{width}}{mark:<9}{measured}")
    return ok


def examples(title: str, lines: Iterable[str], limit: int = 5) -> None:
    lines = list(lines)
    if lines:
        print(f"  {title} ({len(lines)}): " + "; ".join(lines[:limit]) + (" ..." if len(lines) > limit else ""))
