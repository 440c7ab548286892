"""When things happen in the demo company: days, hours and local timestamps.

Times are ``numpy.datetime64[m]`` arrays in Asia/Taipei local time (no zone attached), the
way a Taiwanese shop exports them; :func:`as_text` writes ``2025-09-14 15:32:00``.
"""

from __future__ import annotations

from datetime import date

import numpy as np
import numpy.typing as npt

from cxloop.demo.company import END, START

Times = npt.NDArray[np.datetime64]

FIRST_DAY = np.datetime64(START.isoformat(), "D")
LAST_MINUTE = np.datetime64(END.isoformat(), "D") + np.timedelta64(1, "D") - 1
N_DAYS = (END - START).days + 1

#: More shopping around 雙11, the year end, 農曆新年 and 618.
MONTH_FACTOR = {1: 1.20, 2: 1.05, 5: 1.10, 6: 1.15, 11: 1.35, 12: 1.25}

#: Relative activity by hour of day for each kind of touchpoint.
HOURS: dict[str, tuple[float, ...]] = {
    "store": (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 7, 6, 6, 7, 8, 9, 10, 11, 10, 8, 0, 0),
    "online": (3, 2, 1, 1, 1, 1, 2, 3, 4, 5, 5, 6, 7, 6, 5, 5, 6, 6, 7, 9, 11, 12, 10, 6),
    "office": (0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 9, 10, 8, 7, 9, 10, 9, 7, 5, 4, 3, 0, 0, 0),
}  # fmt: skip


def day_weights(*, weekend: float = 1.0) -> npt.NDArray[np.float64]:
    """Probability of each day of the two years: slow growth, seasons, weekends."""
    days = np.arange(N_DAYS)
    dates = FIRST_DAY + days
    months = dates.astype("datetime64[M]").astype(np.int64) % 12 + 1
    weekday = (dates.astype(np.int64) + 3) % 7  # 1970-01-01 was a Thursday
    season = np.array([MONTH_FACTOR.get(int(m), 1.0) for m in months])
    weights = (1.0 + 0.35 * days / N_DAYS) * season
    weights = weights * np.where(weekday >= 5, weekend, 1.0)
    return np.asarray(weights / weights.sum(), dtype=np.float64)


def sample_times(
    rng: np.random.Generator, n: int, profile: str, *, weekend: float = 1.0
) -> Times:
    """``n`` local times over the two years, hours drawn from ``HOURS[profile]``."""
    days = rng.choice(N_DAYS, size=n, p=day_weights(weekend=weekend))
    hours = np.asarray(HOURS[profile], dtype=np.float64)
    hour = rng.choice(24, size=n, p=hours / hours.sum())
    minute = rng.integers(0, 60, size=n)
    offsets = days * 1440 + hour * 60 + minute
    return np.asarray(FIRST_DAY.astype("datetime64[m]") + offsets.astype("m8[m]"))


def later(times: Times, minutes: npt.ArrayLike) -> Times:
    """``times`` moved on by ``minutes`` (floats are rounded to whole minutes)."""
    steps = np.rint(np.asarray(minutes, dtype=np.float64)).astype(np.int64)
    return np.asarray(times + steps.astype("m8[m]"))


def months(times: Times) -> npt.NDArray[np.str_]:
    """The ``YYYY-MM`` month of each time."""
    return np.datetime_as_string(times.astype("datetime64[M]"))


def on_or_after(times: Times, day: date) -> npt.NDArray[np.bool_]:
    """True where a time falls on ``day`` or later."""
    return np.asarray(times >= np.datetime64(day.isoformat(), "m"))


def as_text(times: Times) -> npt.NDArray[np.str_]:
    """``YYYY-MM-DD HH:MM:SS`` strings; an empty string where a time is missing."""
    text = np.datetime_as_string(times.astype("datetime64[s]"), unit="s")
    text = np.char.replace(text, "T", " ")
    return np.where(np.isnat(times), "", text)
