"""UI languages: Babel message catalogs compiled in memory, choice and formatting.

The ``.po`` files under ``locales/`` are the source of truth; they are compiled to
``GNUTranslations`` when the app starts, so no compiled ``.mo`` file is kept in the
repository. Numbers and dates are formatted with Babel for the chosen locale.
"""

from __future__ import annotations

import gettext
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from io import BytesIO
from pathlib import Path

from babel.dates import format_date, format_skeleton
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal

LOCALES_DIR = Path(__file__).parent / "locales"
#: UI language tag -> Babel locale name and catalog folder.
LANGUAGES: dict[str, str] = {"zh-TW": "zh_TW", "en": "en"}
LANGUAGE_COOKIE = "cxloop_lang"


def N_(message: str) -> str:
    """Mark ``message`` for extraction; it is translated where it is shown."""
    return message


def load_translations(
    locales_dir: Path = LOCALES_DIR,
) -> dict[str, gettext.NullTranslations]:
    """Compile every catalog in ``locales_dir`` into memory, keyed by UI language."""
    catalogs: dict[str, gettext.NullTranslations] = {}
    for language, folder in LANGUAGES.items():
        path = locales_dir / folder / "LC_MESSAGES" / "messages.po"
        with path.open("rb") as handle:
            catalog = read_po(handle, locale=folder)
        buffer = BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        catalogs[language] = gettext.GNUTranslations(buffer)
    return catalogs


def from_accept_language(header: str | None) -> str | None:
    """The first UI language the browser's ``Accept-Language`` header asks for."""
    if not header:
        return None
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate(header.split(",")):
        tag, _, params = part.strip().partition(";")
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                continue
        ranked.append((-quality, index, tag.strip().lower()))
    for _, _, tag in sorted(ranked):
        if tag.startswith("zh"):
            return "zh-TW"
        if tag.startswith("en"):
            return "en"
    return None


def choose_language(
    *,
    asked: str | None,
    user_language: str | None,
    cookie: str | None,
    accept_language: str | None,
    default: str,
) -> str:
    """The UI language: asked now, else the user's, the cookie, the browser, the default."""
    for candidate in (asked, user_language, cookie):
        if candidate in LANGUAGES:
            return candidate
    browser = from_accept_language(accept_language)
    if browser is not None:
        return browser
    return default if default in LANGUAGES else "zh-TW"


@dataclass(frozen=True)
class Formatter:
    """Numbers and dates written the way the chosen locale writes them."""

    language: str

    @property
    def locale(self) -> str:
        return LANGUAGES[self.language]

    def number(self, value: float | None, digits: int = 1) -> str:
        """``value`` with ``digits`` decimals and grouping; an em dash for no value."""
        if value is None:
            return "—"
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return format_decimal(value, format=pattern, locale=self.locale)

    def signed(self, value: float | None, digits: int = 1) -> str:
        """Like :meth:`number` with an explicit ``+`` for positive values."""
        text = self.number(value, digits)
        return "+" + text if value is not None and value > 0 else text

    def count(self, value: int) -> str:
        return format_decimal(value, format="#,##0", locale=self.locale)

    def day(self, value: date) -> str:
        return format_date(value, format="medium", locale=self.locale)

    def month(self, value: date) -> str:
        return format_skeleton("yMMM", value, locale=self.locale)

    def months(self, values: Iterable[date]) -> list[str]:
        return [self.month(value) for value in values]
