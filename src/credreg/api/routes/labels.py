"""For the web page and any client: every word shown about certificates, in Chinese and English."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from credreg.api.deps import SettingsDep
from credreg.labels import labels_document

router = APIRouter(prefix="/v1", tags=["registry"])


@router.get(
    "/labels",
    summary="Levels, reason codes, field names, verdicts, steps and events as words, in Chinese and English",
    description="Also the package version and the time zone this service shows times in.",
)
def labels(settings: SettingsDep) -> dict[str, Any]:
    return labels_document(settings.timezone)
