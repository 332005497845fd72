"""Business days of the ledger: calendar days in China Standard Time (UTC+8), "YYYY-MM-DD".

Value dates, settlement days and statement days are all such days. China has had no daylight
saving time since 1991, so a fixed +08:00 offset is exact and needs no time-zone database.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta, timezone

from paymesh.services.common.errors import InvalidArgument

CHINA = timezone(timedelta(hours=8), "CST")
_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def parse_day(field: str, value: str) -> date:
    """The day a "YYYY-MM-DD" string names, or InvalidArgument naming ``field``."""
    if _DAY.fullmatch(value):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidArgument(field, f"{field} must be a calendar day YYYY-MM-DD, got {value!r}")


def day_of(moment: datetime) -> date:
    """The China Standard Time calendar day of an aware instant."""
    return moment.astimezone(CHINA).date()


def today_in_china(now: datetime | None = None) -> date:
    """The current day in China Standard Time."""
    return day_of(now or datetime.now(UTC))


def day_window(day: date) -> tuple[datetime, datetime]:
    """The instants (aware UTC) where ``day`` starts and where the next day starts, in UTC+8."""
    start = datetime(day.year, day.month, day.day, tzinfo=CHINA).astimezone(UTC)
    return start, start + timedelta(days=1)
