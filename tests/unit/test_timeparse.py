"""One rule for times on the command line: ISO 8601 or `now`, read and shown in one named zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
import typer

from credreg.cli.timeparse import parse_time, show_time, show_window

SHANGHAI = ZoneInfo("Asia/Shanghai")


def seconds(text: str) -> int:
    return int(datetime.fromisoformat(text).timestamp())


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-01-01", seconds("2025-12-31T16:00:00+00:00")),  # midnight in Shanghai
        ("2026-01-01T09:00", seconds("2026-01-01T01:00:00+00:00")),
        ("2026-01-01T09:00:30", seconds("2026-01-01T01:00:30+00:00")),
        ("2026-01-01 09:00", seconds("2026-01-01T01:00:00+00:00")),
        ("2026-01-01T09:00+08:00", seconds("2026-01-01T01:00:00+00:00")),
        ("2026-01-01T09:00:00Z", seconds("2026-01-01T09:00:00+00:00")),
        ("2026-01-01t09:00:00z", seconds("2026-01-01T09:00:00+00:00")),
        ("2026-01-01T09:00-05:00", seconds("2026-01-01T14:00:00+00:00")),
    ],
)
def test_iso_dates_and_times_are_read_in_shanghai_unless_an_offset_is_given(text: str, expected: int) -> None:
    assert parse_time(text) == expected


def test_another_zone_is_used_for_times_without_an_offset() -> None:
    assert parse_time("2026-01-01", zone=ZoneInfo("UTC")) == seconds("2026-01-01T00:00:00+00:00")
    assert parse_time("2026-01-01T09:00+08:00", zone=ZoneInfo("UTC")) == seconds("2026-01-01T01:00:00+00:00")


def test_now_is_the_ledgers_time() -> None:
    assert parse_time("now", lambda: 1_800_000_000) == 1_800_000_000
    assert parse_time(" NOW ", lambda: 5) == 5


def test_never_is_accepted_only_where_a_window_may_be_open_ended() -> None:
    assert parse_time("never", allow_never=True) == 0
    with pytest.raises(typer.BadParameter):
        parse_time("never")


@pytest.mark.parametrize(
    "text",
    ["20260101", "1767225600", "0", "", "2026-1-1", "2026/01/01", "01/02/2026", "2026-13-01", "2026-02-30",
     "2026-01-01T25:00", "yesterday", "2026-01-01T09", "2026-W01"],
)  # fmt: skip
def test_anything_else_is_refused_with_the_field_and_an_example(text: str) -> None:
    with pytest.raises(typer.BadParameter) as caught:
        parse_time(text, field="--from")
    message = caught.value.format_message()
    assert caught.value.param_hint == "--from"
    assert "2026-01-01T09:00" in message
    assert "请使用 ISO 8601" in message  # Chinese first
    assert message.index("请使用") < message.index("Use an ISO 8601")


def test_times_are_shown_in_the_zone_with_its_name() -> None:
    moment = seconds("2026-01-01T01:00:00+00:00")
    assert show_time(moment) == "2026-01-01 09:00:00 Asia/Shanghai (+08:00)"
    assert show_time(moment, ZoneInfo("Europe/London")) == "2026-01-01 01:00:00 Europe/London (+00:00)"
    assert show_time(0) == "-"
    assert parse_time(show_time(moment)[:19]) == moment  # what is shown reads back as the same moment


def test_a_window_names_both_ends_and_an_open_end() -> None:
    shown = show_window(seconds("2025-12-31T16:00:00+00:00"), 0)
    assert "2026-01-01 00:00:00 Asia/Shanghai" in shown
    assert "无截止 / no end" in shown
    assert datetime.fromtimestamp(0, UTC).year == 1970  # sanity: 0 is never shown as 1970
    assert "1970" not in shown
