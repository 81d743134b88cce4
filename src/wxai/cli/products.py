"""``wxai products``: weather products from forecast files (fronts, warning regions)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(help="Weather products: fronts and warning regions.", no_args_is_help=True)


@app.callback()
def _products() -> None:
    """Weather products on forecast fields: fronts, warning regions."""


@app.command("fronts")
def fronts(
    file: Annotated[
        Path,
        typer.Argument(
            help="GRIB or NetCDF with msl, t2m, rh2m (or td2m), "
            "u10, v10 and frland on a lat/lon grid"
        ),
    ],
    out: Annotated[Path, typer.Option("--out", help="Folder for fronts.nc, .geojson, .png")] = Path(
        "fronts"
    ),
    model: Annotated[
        Path | None,
        typer.Option(
            "--model",
            help="Detector file (default: WXAI_FRONT_MODEL or the newest "
            "trained by `wxai lab run front-detection`)",
        ),
    ] = None,
    max_times: Annotated[int, typer.Option("--max-times", help="Charts in the figure")] = 4,
) -> None:
    """Detect warm, cold and occluded fronts in FILE; write masks, lines and a chart."""
    from wxai.products.fronts.service import fronts_for_file

    typer.echo(fronts_for_file(file, out, model=model, max_times=max_times).describe())


@app.command("warnings")
def warnings(
    file: Annotated[Path, typer.Argument(help="GRIB or NetCDF with gust, u10, v10 and msl")],
    out: Annotated[
        Path, typer.Option("--out", help="Folder for GeoJSON, CAP alerts and maps")
    ] = Path("warnings"),
    model: Annotated[
        str | None,
        typer.Option(
            "--model",
            help="Diagnoser: a checkpoint, models:/ URI or 'baseline' "
            "(default: warning-polygons@champion, else the baseline)",
        ),
    ] = None,
    max_times: Annotated[int, typer.Option("--max-times", help="Valid times diagnosed")] = 4,
) -> None:
    """Diagnose wind warnings in FILE: polygons per level as GeoJSON, CAP 1.2 alerts, maps."""
    from wxai.products.warnings.service import warnings_for_file

    typer.echo(warnings_for_file(file, out, model=model, max_times=max_times).describe())
