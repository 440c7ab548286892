"""Sign-in, sessions, CSRF and API keys: nothing but /login, /health and /static is open."""

from __future__ import annotations

import re

import pytest
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from starlette.routing import Mount
from web_client import PASSWORD, csrf_from, sign_in

from cxloop.accounts import service as accounts
from cxloop.accounts.service import UserInfo
from cxloop.config import Settings
from cxloop.web.app import create_app

PUBLIC = {("GET", "/login"), ("POST", "/login"), ("GET", "/health")}
PUBLIC |= {("GET", "/s/{public_token}"), ("POST", "/s/{public_token}"),
           ("GET", "/r/{token}"), ("POST", "/r/{token}"),
           ("GET", "/embed/{public_token}.js")}  # fmt: skip
PATH_VALUES = {"name": "nps", "ref": "M1", "initiative_id": "1", "action_id": "1"}
PATH_VALUES["key"] = "relational-nps"
PATH_VALUES |= {"public_token": "abc", "token": "abc"}
PUBLIC |= {("POST", "/api/v1/webhooks/{endpoint_key}")}  # HMAC-signed instead
PATH_VALUES["endpoint_key"] = "wh_unknown"
PUBLIC |= {("GET", "/unsubscribe/{token}"), ("POST", "/unsubscribe/{token}")}
PATH_VALUES["case_id"] = "1"
PATH_VALUES |= {"team_key": "billing", "user_id": "1"}  # /setup/teams pages
PATH_VALUES |= {"source": "helpdesk", "external_id": "T-1"}


def _route_table() -> list[tuple[str, str]]:
    """Every (method, path) the app serves, read from its own route table."""
    app = create_app(Settings(database_url="sqlite:///unused.db", secret_key="k" * 40))
    pairs = []
    for context in iter_route_contexts(app.routes):
        route = context.original_route
        if isinstance(route, APIRoute):
            pairs += [(method, str(context.path)) for method in sorted(route.methods)]
        else:
            assert isinstance(route, Mount), route
            assert route.path == "/static", route
    return sorted(pairs)


ROUTES = _route_table()
PROTECTED = [pair for pair in ROUTES if pair not in PUBLIC]


def test_route_table_has_the_public_routes_and_the_pages() -> None:
    assert set(ROUTES) >= PUBLIC
    assert {("GET", "/"), ("GET", "/docs"), ("GET", "/api/v1/metrics/{name}")} <= set(
        ROUTES
    )


@pytest.mark.parametrize(("method", "path"), PROTECTED)
def test_route_requires_login_when_signed_out(
    client: TestClient, method: str, path: str
) -> None:
    url = re.sub(r":\w+}", "}", path).format(**PATH_VALUES)  # {x:path} -> {x}
    response = client.request(method, url, follow_redirects=False)
    if url.startswith("/api/") or url == "/openapi.json":
        assert response.status_code == 401
        assert response.json()["detail"].startswith("authentication required")
    else:
        assert response.status_code == 303
        assert response.headers["location"].startswith("/login?next=")


def test_login_page_and_health_are_open_when_signed_out(client: TestClient) -> None:
    assert client.get("/login").status_code == 200
    health = client.get("/health")
    assert health.status_code == 200
    assert health.json() == {"status": "ok"}


def test_health_reports_error_when_database_is_unreachable(tmp_path) -> None:
    missing = tmp_path / "no" / "such"
    missing.parent.mkdir()
    missing.mkdir()  # a folder where the database file should be
    settings = Settings(database_url=f"sqlite:///{missing}", secret_key="k" * 40)
    with TestClient(create_app(settings)) as client:
        response = client.get("/health")
    assert response.status_code == 503
    assert response.json()["status"] == "error"


def test_login_with_csrf_token_signs_in_and_goes_to_next(
    client: TestClient, user: UserInfo
) -> None:
    response = sign_in(client, user.email, PASSWORD, next_url="/?channel=web")
    assert response.status_code == 303
    assert response.headers["location"] == "/?channel=web"
    assert client.get("/", follow_redirects=False).status_code == 200
    assert client.get("/api/v1/me").json()["email"] == user.email


def test_login_cookie_is_http_only_and_same_site_lax(
    client: TestClient, user: UserInfo
) -> None:
    response = sign_in(client, user.email, PASSWORD)
    cookie = response.headers["set-cookie"].lower()
    assert "cxloop_session=" in cookie
    assert "httponly" in cookie
    assert "samesite=lax" in cookie


def test_login_without_csrf_token_is_refused(
    client: TestClient, user: UserInfo
) -> None:
    client.get("/login")
    response = client.post(
        "/login",
        data={"email": user.email, "password": PASSWORD},
        follow_redirects=False,
    )
    assert response.status_code == 400
    assert response.context["error"] == "expired"  # type: ignore[attr-defined]
    assert client.get("/", follow_redirects=False).status_code == 303


def test_login_with_wrong_password_shows_error_and_keeps_email(
    client: TestClient, user: UserInfo
) -> None:
    response = sign_in(client, user.email, "wrong password")
    assert response.status_code == 400
    assert response.template.name == "pages/login.html"  # type: ignore[attr-defined]
    assert response.context["error"] == "invalid"  # type: ignore[attr-defined]
    assert "電子郵件或密碼不正確" in response.text
    assert f'value="{user.email}"' in response.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_login_with_unknown_email_gives_same_answer_as_wrong_password(
    client: TestClient, user: UserInfo
) -> None:
    unknown = sign_in(client, "nobody@example.com", PASSWORD)
    wrong = sign_in(client, user.email, "wrong password")
    assert unknown.status_code == wrong.status_code == 400
    assert unknown.context["error"] == wrong.context["error"]  # type: ignore[attr-defined]


def test_login_is_locked_after_five_failures_even_with_the_right_password(
    client: TestClient, user: UserInfo
) -> None:
    for _ in range(5):
        assert sign_in(client, user.email, "wrong password").status_code == 400
    locked = sign_in(client, user.email.upper(), PASSWORD)
    assert locked.status_code == 429
    assert locked.context["error"] == "locked"  # type: ignore[attr-defined]
    assert "登入失敗次數過多" in locked.text
    assert client.get("/", follow_redirects=False).status_code == 303


def test_login_success_clears_earlier_failures(
    client: TestClient, user: UserInfo
) -> None:
    for _ in range(4):
        sign_in(client, user.email, "wrong password")
    assert sign_in(client, user.email, PASSWORD).status_code == 303
    client.post("/logout", data={"csrf_token": csrf_from(client.get("/").text)})
    for _ in range(4):
        sign_in(client, user.email, "wrong password")
    assert sign_in(client, user.email, PASSWORD).status_code == 303


@pytest.mark.parametrize(
    "target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "x"]
)
def test_login_next_to_another_site_goes_to_overview(
    client: TestClient, user: UserInfo, target: str
) -> None:
    response = sign_in(client, user.email, PASSWORD, next_url=target)
    assert response.headers["location"] == "/"


def test_redirect_to_login_keeps_the_page_asked_for(client: TestClient) -> None:
    response = client.get("/?channel=web&from=2025-01-01", follow_redirects=False)
    assert response.headers["location"] == (
        "/login?next=%2F%3Fchannel%3Dweb%26from%3D2025-01-01"
    )


def test_htmx_request_when_signed_out_gets_hx_redirect(client: TestClient) -> None:
    response = client.get("/", headers={"HX-Request": "true"}, follow_redirects=False)
    assert response.status_code == 401
    assert response.headers["hx-redirect"].startswith("/login?next=")


def test_logout_with_token_ends_the_session(signed_in: TestClient) -> None:
    token = csrf_from(signed_in.get("/").text)
    response = signed_in.post(
        "/logout", data={"csrf_token": token}, follow_redirects=False
    )
    assert response.status_code == 303
    assert signed_in.get("/", follow_redirects=False).status_code == 303


def test_logout_without_token_is_refused(signed_in: TestClient) -> None:
    response = signed_in.post("/logout", data={}, follow_redirects=False)
    assert response.status_code == 403
    assert signed_in.get("/", follow_redirects=False).status_code == 200


def test_api_accepts_bearer_key_and_x_api_key(
    client: TestClient, web_settings: Settings
) -> None:
    key = accounts.create_api_key(
        settings=web_settings, name="notebook", role="analyst"
    )
    bearer = client.get("/api/v1/me", headers={"Authorization": f"Bearer {key}"})
    header = client.get("/api/v1/me", headers={"X-API-Key": key})
    assert bearer.status_code == header.status_code == 200
    assert bearer.json()["role"] == "analyst"
    assert bearer.json()["email"] == "api-key:notebook"


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer cxl_000000000000_wrong"}, {"X-API-Key": "nonsense"}],
)
def test_api_without_valid_key_is_401(
    client: TestClient, headers: dict[str, str]
) -> None:
    response = client.get("/api/v1/metrics/nps", headers=headers)
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_api_key_does_not_open_html_pages(
    client: TestClient, web_settings: Settings
) -> None:
    key = accounts.create_api_key(settings=web_settings, name="bot")
    response = client.get(
        "/", headers={"Authorization": f"Bearer {key}"}, follow_redirects=False
    )
    assert response.status_code == 303


def test_openapi_documents_metric_parameters_with_api_key(
    client: TestClient, web_settings: Settings
) -> None:
    key = accounts.create_api_key(settings=web_settings, name="docs")
    schema = client.get("/openapi.json", headers={"X-API-Key": key}).json()
    operation = schema["paths"]["/api/v1/metrics/{name}"]["get"]
    names = {p["name"] for p in operation["parameters"]}
    assert names == {"name", "by", "period", "from", "to", "where", "format"}
    assert "/login" not in schema["paths"]


def test_docs_page_uses_vendored_swagger_ui(signed_in: TestClient) -> None:
    response = signed_in.get("/docs")
    assert response.status_code == 200
    assert "/static/vendor/swagger-ui-5.35.0-bundle.js" in response.text
    assert "cdn" not in response.text.lower()
    vendored = signed_in.get("/static/vendor/swagger-ui-5.35.0-bundle.js")
    assert vendored.status_code == 200


def test_pages_send_a_strict_content_security_policy(signed_in: TestClient) -> None:
    policy = signed_in.get("/").headers["content-security-policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
