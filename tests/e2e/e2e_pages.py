"""What the browser tests do on every page: watch for errors, sign in in zh-TW."""

from __future__ import annotations

from e2e_server import EMAIL, PASSWORD, Server
from playwright.sync_api import ConsoleMessage, Page, expect


def watch(page: Page, base_url: str) -> list[str]:
    """Console errors and warnings, page errors and requests outside the server."""
    problems: list[str] = []

    def console(message: ConsoleMessage) -> None:
        if message.type in ("error", "warning"):
            problems.append(f"console {message.type}: {message.text}")

    page.on("console", console)
    page.on("pageerror", lambda error: problems.append(f"page error: {error}"))
    page.on(
        "request",
        lambda r: None if r.url.startswith(base_url)
        else problems.append(f"request outside the server: {r.url}"),
    )  # fmt: skip
    return problems


def sign_in_at(page: Page, server: Server, path: str) -> None:
    """Open ``path``, sign in on the zh-TW login page, land back on ``path``."""
    page.goto(f"{server.url}{path}")
    page.get_by_label("電子郵件").fill(EMAIL)
    page.get_by_label("密碼").fill(PASSWORD)
    page.get_by_role("button", name="登入").click()
    expect(page).to_have_url(f"{server.url}{path}")
