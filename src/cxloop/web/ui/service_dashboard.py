"""Routes filled in by their owner."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
