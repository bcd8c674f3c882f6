"""Times on the command line, read and shown under one rule.

Accepted: `now` (the ledger's time), an ISO 8601 date (`2026-01-01`, the start of that day) or date-time
(`2026-01-01T09:00`, `2026-01-01T09:00:00+08:00`, `...Z`). A date or date-time without an offset is local
time in the configured zone (`CREDREG_TIMEZONE` or `--tz`, Asia/Shanghai by default). Anything else, Unix
seconds and `20260101` included, is refused with an example: a number that looks like a date must never be
read as a moment in 1970. Times are shown in the same zone, with the zone named.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from datetime import date, datetime, tzinfo
from zoneinfo import ZoneInfo

import typer

DEFAULT_TIMEZONE = "Asia/Shanghai"
NEVER_WORDS = ("never",)

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_DATETIME = re.compile(
    r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})?", flags=re.IGNORECASE
)


def _refuse(field: str, text: str, zone: tzinfo, allow_never: bool) -> typer.BadParameter:
    never_zh = "；无截止时间请写 never" if allow_never else ""
    never_en = "; never for no end" if allow_never else ""
    return typer.BadParameter(
        f"无法识别的时间 {text!r}。请使用 ISO 8601 日期或日期时间，例如 2026-01-01、2026-01-01T09:00 或 "
        f"2026-01-01T09:00+08:00（不写时区即为 {zone}），或 now{never_zh}。 / "
        f"{text!r} is not a time. Use an ISO 8601 date or date-time, e.g. 2026-01-01, 2026-01-01T09:00 or "
        f"2026-01-01T09:00+08:00 (without an offset it is {zone} time), or now{never_en}.",
        param_hint=field,
    )


def parse_time(
    text: str,
    now: Callable[[], int] | None = None,
    *,
    zone: tzinfo | None = None,
    field: str = "time",
    allow_never: bool = False,
) -> int:
    """Unix seconds for `text`; 0 for `never` where `allow_never`. `field` names the option in errors.

    `now` is the ledger's time (its latest block), which may lag the wall clock: a window starting at the
    wall clock's "now" would not yet be open in the next block.
    """
    local = zone or ZoneInfo(DEFAULT_TIMEZONE)
    value = text.strip()
    if value.lower() == "now":
        return now() if now is not None else int(time.time())
    if allow_never and value.lower() in NEVER_WORDS:
        return 0
    try:
        if _DATE.fullmatch(value):
            day = date.fromisoformat(value)
            return int(datetime(day.year, day.month, day.day, tzinfo=local).timestamp())
        if _DATETIME.fullmatch(value):
            moment = datetime.fromisoformat(value.upper().replace(" ", "T"))
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=local)
            return int(moment.timestamp())
    except ValueError:  # the right shape but no such day or hour, e.g. 2026-02-30
        pass
    raise _refuse(field, text, local, allow_never)


def show_time(seconds: int, zone: tzinfo | None = None, *, never: str = "-") -> str:
    """`seconds` as local time with the zone named, e.g. `2026-01-01 09:00:00 Asia/Shanghai (+08:00)`."""
    if seconds == 0:
        return never
    local = zone or ZoneInfo(DEFAULT_TIMEZONE)
    moment = datetime.fromtimestamp(seconds, local)
    offset = moment.strftime("%z")
    return f"{moment:%Y-%m-%d %H:%M:%S} {local} ({offset[:3]}:{offset[3:]})"


def show_window(valid_from: int, valid_until: int, zone: tzinfo | None = None) -> str:
    """A stored window, both ends in local time: `从/from … 至/until …（不含/exclusive）`."""
    start = show_time(valid_from, zone, never="起始不限 / any time")
    end = show_time(valid_until, zone, never="无截止 / no end")
    return f"从 / from {start}  至 / until {end}"
