"""``GET /api/v1/me``: who the request is signed in as."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel

from cxloop.web.deps import CurrentUser

router = APIRouter(prefix="/api/v1", tags=["accounts"])


class UserPublic(BaseModel):
    """The signed-in person, or the API key acting with a role (``id`` below 0)."""

    id: int
    email: str
    name: str | None
    role: str
    language: str | None


@router.get("/me", response_model=UserPublic, summary="The signed-in user or API key")
def me(user: CurrentUser) -> UserPublic:
    return UserPublic(
        id=user.id,
        email=user.email,
        name=user.name,
        role=user.role,
        language=user.language,
    )
