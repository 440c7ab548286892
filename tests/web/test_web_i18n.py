"""Languages: zh-TW and English catalogs, the switch, and how the choice is remembered."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po
from fastapi import FastAPI
from fastapi.testclient import TestClient
from web_client import PASSWORD, sign_in

from cxloop.accounts import service as accounts
from cxloop.accounts.service import UserInfo
from cxloop.config import Settings
from cxloop.web import i18n

WEB = Path(i18n.__file__).parent
ZH_TITLE = "顧客體驗總覽"
EN_TITLE = "Customer experience overview"


def _catalog(path: Path) -> dict[str, str]:
    with path.open("rb") as handle:
        return {str(m.id): str(m.string) for m in read_po(handle) if m.id}


def _extracted() -> set[str]:
    method_map = [("**.py", "python"), ("templates/**.html", "jinja2")]
    options = {"templates/**.html": {"extensions": "jinja2.ext.i18n"}}
    keywords = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}
    return {
        message[2] if isinstance(message[2], str) else message[2][0]
        for message in extract_from_dir(
            str(WEB), method_map, options, keywords=keywords
        )
    }


def test_message_template_lists_every_string_in_the_code() -> None:
    pot = set(_catalog(WEB / "locales" / "messages.pot"))
    assert _extracted() == pot, "run the pybabel extract command in locales/README.md"


@pytest.mark.parametrize("locale", ["zh_TW", "en"])
def test_catalog_has_every_message_of_the_template(locale: str) -> None:
    pot = set(_catalog(WEB / "locales" / "messages.pot"))
    catalog = _catalog(WEB / "locales" / locale / "LC_MESSAGES" / "messages.po")
    assert set(catalog) == pot


def test_zh_tw_catalog_is_complete_and_traditional() -> None:
    catalog = _catalog(WEB / "locales" / "zh_TW" / "LC_MESSAGES" / "messages.po")
    assert [msgid for msgid, text in catalog.items() if not text] == []
    assert catalog["Net Promoter Score"] == "淨推薦值"
    assert catalog["Channel"] == "通路"
    simplified = set("户设这个们为时对说关见页数据报过选项")
    offenders = {m: t for m, t in catalog.items() if simplified & set(t)}
    assert offenders == {}


def test_translations_compile_in_memory() -> None:
    translations = i18n.load_translations()
    assert translations["zh-TW"].gettext("Touchpoint") == "接觸點"
    assert translations["en"].gettext("Touchpoint") == "Touchpoint"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-US,en;q=0.9", "en"),
        ("zh-TW,zh;q=0.9,en;q=0.8", "zh-TW"),
        ("fr-FR,en;q=0.5,zh;q=0.9", "zh-TW"),
        ("ja-JP", None),
        ("", None),
        ("en;q=abc, zh-HK", "zh-TW"),
    ],
)
def test_accept_language_picks_first_supported(
    header: str, expected: str | None
) -> None:
    assert i18n.from_accept_language(header) == expected


def test_formatter_writes_numbers_and_dates_per_locale() -> None:
    zh, en = i18n.Formatter("zh-TW"), i18n.Formatter("en")
    assert en.number(1234.567) == "1,234.6"
    assert en.signed(3.25, 2) == "+3.25"
    assert zh.number(None) == "—"
    assert zh.month(date(2025, 3, 1)) == "2025年3月"
    assert en.month(date(2025, 3, 1)) == "Mar 2025"
    assert zh.day(date(2025, 3, 9)) == "2025年3月9日"


def test_default_language_is_traditional_chinese(signed_in: TestClient) -> None:
    response = signed_in.get("/")
    assert response.context["lang"] == "zh-TW"  # type: ignore[attr-defined]
    assert ZH_TITLE in response.text
    assert '<html lang="zh-TW">' in response.text


def test_browser_language_is_used_when_nothing_chosen(signed_in: TestClient) -> None:
    response = signed_in.get("/", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert EN_TITLE in response.text


def test_language_switch_is_remembered_in_cookie_and_user(
    signed_in: TestClient, user: UserInfo, web_settings: Settings
) -> None:
    switched = signed_in.get("/", params={"lang": "en"})
    assert EN_TITLE in switched.text
    assert signed_in.cookies.get(i18n.LANGUAGE_COOKIE) == "en"
    stored = accounts.get_user(settings=web_settings, user_id=user.id)
    assert stored is not None
    assert stored.language == "en"
    assert EN_TITLE in signed_in.get("/").text


def test_user_language_follows_to_a_new_browser(
    app: FastAPI, user: UserInfo, web_settings: Settings
) -> None:
    accounts.set_language(settings=web_settings, user_id=user.id, language="en")
    with TestClient(app) as fresh:
        sign_in(fresh, user.email, PASSWORD)
        assert EN_TITLE in fresh.get("/").text


def test_login_page_switches_language_without_session(client: TestClient) -> None:
    response = client.get("/login", params={"lang": "en", "next": "/docs"})
    assert "Sign in to cxloop" in response.text
    assert client.cookies.get(i18n.LANGUAGE_COOKIE) == "en"
    links = response.context["language_links"]  # type: ignore[attr-defined]
    assert links["zh-TW"] == "/login?next=%2Fdocs&lang=zh-TW"


def test_unknown_language_falls_back_to_default(client: TestClient) -> None:
    response = client.get("/login", params={"lang": "xx"})
    assert "登入 cxloop" in response.text
    assert client.cookies.get(i18n.LANGUAGE_COOKIE) is None
