"""Lab ``radar-sat-reading``: radar and cloud-top height as measured descriptors and images.

The synthetic radar composite (with convective cells of known size added) and the
synthetic cloud-top height are reduced to measured descriptors
(:mod:`wxai.products.descriptors.remote_sensing`), drawn as fixed-extent, fixed-scale
maps (:mod:`wxai.viz.ai_readable`) and handed with the image to the configured model
alias (:mod:`wxai.assistant.read_image`); an alias without vision gets no request and
the reading is the descriptors' text. Acceptance: the measured cells are exactly the
inserted ones (count and pixel sizes).
"""

from __future__ import annotations

import numpy as np
from pydantic import Field

from wxai.labs.framework import Acceptance, LabOutcome, lab
from wxai.labs.framework.context import LabContext
from wxai.labs.weather_data import SampleFilesConfig, sample_paths

U6 = "U6 Multimodal"
DAY = 2


class RadarSatReadingConfig(SampleFilesConfig):
    """Settings of ``radar-sat-reading``."""

    n_cells: int = Field(ge=1, le=40, description="convective discs added to the composite")
    cell_radius_px: float = Field(gt=0, le=20, description="disc radius [pixels]")
    cell_dbz: float = Field(ge=40, le=75, description="reflectivity inside a disc [dBZ]")
    alias: str = Field(description="model alias; one without vision gives descriptors only")
    task: str = Field(min_length=1, description="what the model is asked to do")


@lab(
    "radar-sat-reading",
    title="Radar and cloud-top height: measured descriptors, AI-readable maps, vision route",
    topic=U6,
    day=DAY,
    config=RadarSatReadingConfig,
)
def radar_sat_reading(cfg: RadarSatReadingConfig, ctx: LabContext) -> LabOutcome:
    """Descriptors of known cells checked exactly; both maps rendered and read."""
    from wxai.assistant.read_image import read_image
    from wxai.data.formats.odim import read_odim
    from wxai.data.sources.dwd_cth import open_cth
    from wxai.products.descriptors.remote_sensing import (
        NO_ECHO_DBZ,
        cloud_top_descriptors,
        radar_descriptors,
        with_convective_cells,
    )
    from wxai.viz.ai_readable import ai_readable_figure, render_ai_readable_png

    paths, _ = sample_paths(cfg, ctx)
    rng = np.random.default_rng(cfg.seed)
    composite = read_odim(paths["radar"], undetect_value=NO_ECHO_DBZ)
    before = radar_descriptors(composite)
    dbz, inserted = with_convective_cells(
        composite, cfg.n_cells, cfg.cell_radius_px, cfg.cell_dbz, rng
    )
    radar = radar_descriptors(dbz)
    expected = tuple(sorted(before.cell_pixels + inserted, reverse=True))
    measured = radar.cell_pixels
    mismatch = abs(len(measured) - len(expected)) + sum(
        abs(a - b) for a, b in zip(measured, expected, strict=False)
    )
    pixel_km2 = radar.cell_areas_km2[0] / measured[0] if measured else float("nan")
    cth_field = open_cth(paths["cth"])["CTH"]
    cth = cloud_top_descriptors(cth_field)
    ctx.progress(0.5, "descriptors measured")

    ctx.save_figure(ai_readable_figure(dbz, "radar"), "radar_ai_readable.png")
    ctx.save_figure(ai_readable_figure(cth_field, "cth"), "cth_ai_readable.png")
    readings = {
        "radar": read_image(render_ai_readable_png(dbz, "radar"), radar, cfg.task, alias=cfg.alias),
        "cth": read_image(render_ai_readable_png(cth_field, "cth"), cth, cfg.task, alias=cfg.alias),
    }
    for name, reading in readings.items():
        (ctx.run_dir / f"reading_{name}.md").write_text(reading.labelled() + "\n")

    return LabOutcome(
        metrics={
            "cell_size_mismatch_px": float(mismatch),
            "n_cells_inserted": float(len(inserted)),
            "n_cells_measured": float(radar.n_cells),
            "cell_pixel_area_km2": float(pixel_km2),
            "precip_coverage": radar.coverage,
            "convective_fraction": radar.convective_fraction,
            "max_dbz": float(radar.max_dbz or float("nan")),
            "cth_deep_fraction": cth.deep_fraction,
            "cth_cover_above_6km": cth.coverage_above[1],
            "vision_used": float(all(r.used_vision for r in readings.values())),
        },
        acceptance=Acceptance(
            metric="cell_size_mismatch_px",
            value=float(mismatch),
            comparison="==",
            threshold=0.0,
            baseline="the inserted discs' pixel counts (and any cells the composite had); "
            "cells are 8-connected areas >= 40 dBZ",
        ),
        summary=f"{radar.n_cells} cells measured for {len(inserted)} inserted "
        f"(mismatch {mismatch} px); precipitation covers {radar.coverage:.0%}; "
        f"readings by {readings['radar'].source}.",
    )
