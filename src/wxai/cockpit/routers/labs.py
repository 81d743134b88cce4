"""``/api/labs``: the course labs, their last results and figures."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, status
from fastapi.responses import FileResponse

from wxai.cockpit.catalog import all_labs, figure_path, invalid_figure_name, one_lab
from wxai.cockpit.deps import SettingsDep
from wxai.cockpit.schemas import ErrorOut, LabOut

router = APIRouter(prefix="/api/labs", tags=["labs"])


@router.get("", summary="List the labs")
def list_labs(settings: SettingsDep) -> list[LabOut]:
    """Every lab, by course day, with a summary of its last result (or null)."""
    return all_labs(settings)


@router.get("/{name}", summary="Get a lab", responses={404: {"model": ErrorOut}})
def get_lab(name: str, settings: SettingsDep) -> LabOut:
    """One lab with its last result; an unknown name answers 404 listing the valid ones."""
    return one_lab(name, settings)


@router.get(
    "/{name}/figures/{filename}",
    summary="Get a figure of a lab's last result",
    response_class=FileResponse,
    responses={
        200: {"content": {"image/png": {}}, "description": "The figure"},
        400: {"model": ErrorOut},
        404: {"model": ErrorOut},
    },
)
def get_figure(name: str, filename: str) -> FileResponse:
    """A PNG figure of the lab's last run; only files of that run's figures are served."""
    if invalid_figure_name(filename):
        raise HTTPException(
            status.HTTP_400_BAD_REQUEST,
            f"invalid figure name {filename!r}: expected a plain file name ending in .png",
        )
    return FileResponse(figure_path(name, filename), media_type="image/png")
