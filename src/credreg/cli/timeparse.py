"""Times on the command line: `now`, a date (`2026-03-01`), a date-time with offset, or Unix seconds."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, date, datetime

import typer


def parse_time(text: str, now: Callable[[], int] | None = None) -> int:
    """Unix seconds for `text`; dates and naive date-times are taken as UTC.

    `now` is the ledger's time (its latest block), which may lag the wall clock: a window starting at the
    wall clock's "now" would not yet be open in the next block.
    """
    value = text.strip()
    if value == "now":
        return now() if now is not None else int(time.time())
    if value in ("", "0", "never", "none"):
        return 0
    if value.isdigit():
        return int(value)
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())
        moment = datetime.fromisoformat(value)
    except ValueError as exc:
        raise typer.BadParameter(
            f"{text!r} is not a time: use now, YYYY-MM-DD, an ISO date-time or Unix seconds"
        ) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def show_time(seconds: int) -> str:
    if seconds == 0:
        return "-"
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
