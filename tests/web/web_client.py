"""Signing in through the login form, as a browser does, for the in-process tests."""

from __future__ import annotations

import re

import httpx2
from fastapi.testclient import TestClient

PASSWORD = "correct horse battery"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    match = _CSRF.search(html)
    assert match is not None, "no CSRF token in the page"
    return match.group(1)


def sign_in(
    client: TestClient, email: str, password: str, next_url: str = "/"
) -> httpx2.Response:
    """Fill in the login form as a browser would (the token comes from the page)."""
    token = csrf_from(client.get("/login").text)
    return client.post(
        "/login",
        data={"email": email, "password": password, "next": next_url,
              "csrf_token": token},
        follow_redirects=False,
    )  # fmt: skip
