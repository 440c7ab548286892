"""Edit a journey's definition (stages, touchpoints, rules, personas) in the dashboard.

The page shows the definition as YAML in a text area; saving checks it with the same
rules as ``cxloop journey import`` and keeps the text with the error when it fails.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import RedirectResponse, Response

from cxloop.domain.errors import InvalidInput
from cxloop.journeys import catalog
from cxloop.web.deps import CSRFChecked, CurrentUser, SettingsDep, current_user
from cxloop.web.templating import render
from cxloop.web.ui.journeys import EDIT_ROLES

router = APIRouter(include_in_schema=False)

#: The longest definition the form takes (characters).
MAX_DEFINITION = 200_000


def _editor(
    request: Request,
    user: CurrentUser,
    name: str,
    text: str,
    error: str | None = None,
    status_code: int = 200,
) -> Response:
    return render(
        request,
        "pages/journey_edit.html",
        {"name": name, "text": text, "error": error},
        user=user,
        status_code=status_code,
    )


@router.get("/journeys/{name}/edit", name="edit_journey")
def edit_page(
    request: Request, user: CurrentUser, settings: SettingsDep, name: str
) -> Response:
    """The journey's definition as YAML, in a form (admins and analysts)."""
    if user.role not in EDIT_ROLES:
        return Response("Only admins and analysts can edit journeys.", 403)
    return _editor(
        request, user, name, catalog.journey_text(settings=settings, name=name)
    )


@router.post(
    "/journeys/{name}/edit",
    name="save_journey",
    dependencies=[Depends(current_user), CSRFChecked],
)
async def save_definition(
    request: Request, user: CurrentUser, settings: SettingsDep, name: str
) -> Response:
    """Check and store the edited definition, then show the journey."""
    if user.role not in EDIT_ROLES:
        return Response("Only admins and analysts can edit journeys.", 403)
    catalog.get_journey(settings=settings, name=name)  # 404 for an unknown journey
    form = await request.form()
    text = form.get("definition")
    text = text if isinstance(text, str) else ""
    try:
        if len(text) > MAX_DEFINITION:
            raise InvalidInput(
                f"the definition is longer than {MAX_DEFINITION:,} characters"
            )
        catalog.save_journey_text(settings=settings, name=name, text=text)
    except InvalidInput as exc:
        return _editor(request, user, name, text[:MAX_DEFINITION], str(exc), 400)
    return RedirectResponse(f"/journeys/{name}?saved=1", status_code=303)
