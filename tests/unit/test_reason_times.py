"""A verification step names its times in UTC and again as seconds, so every reader shows them in its zone."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from hypothesis import example, given
from hypothesis import strategies as st

from credreg.cli.timeparse import show_time
from credreg.verify import StepStatus, _step, _when, reason_in_zone, reason_times

SHANGHAI = ZoneInfo("Asia/Shanghai")


LAST_SECOND = 253_402_300_799  # 9999-12-31 23:59:59 UTC, the last one a date can hold


@given(st.integers(min_value=1, max_value=LAST_SECOND), st.integers(min_value=1, max_value=LAST_SECOND))
@example(1, LAST_SECOND)
@example(1_893_456_000, 1_893_455_999)  # a midnight in Beijing and the second before it
def test_times_in_a_reason_come_back_as_the_same_seconds(first: int, second: int) -> None:
    reason = f"valid until {_when(first)} in the document, {_when(second)} on the ledger"
    assert reason_times(reason) == [first, second]
    assert _step("record-match", StepStatus.INVALID, reason).times == [first, second]


def test_a_reason_is_shown_in_the_readers_zone_and_never_stays_in_utc() -> None:
    since = int(datetime(2026, 11, 29, 5, 0, 0, tzinfo=UTC).timestamp())
    reason = f"this document was revoked at {_when(since)} (reason code 1)"
    shown = reason_in_zone(reason, lambda s: show_time(s, SHANGHAI))
    assert shown == "this document was revoked at 2026-11-29 13:00:00 Asia/Shanghai (+08:00) (reason code 1)"
    assert reason_in_zone("neither revoked nor suspended", str) == "neither revoked nor suspended"
    assert _step("issued", StepStatus.VALID, "no expiry").times == []
