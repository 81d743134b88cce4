"""Front detection on model fields (course unit U9).

* :mod:`.cases`: labelled charts from the synthetic atmosphere, channel statistics;
* :mod:`.baseline`: the thermal front parameter on theta_e, tuned on training cases;
* :mod:`.model` / :mod:`.training`: the U-Net detector, its loss, training and file;
* :mod:`.detect`: charts from any GRIB/NetCDF file -> front labels and probabilities;
* :mod:`.lines`: skeletons of the masks as polylines, GeoJSON;
* :mod:`.onnx`: export, onnxruntime parity and speed.
"""

from wxai.products.fronts.baseline import ThermalFrontParameter, tune_tfp
from wxai.products.fronts.cases import CHANNELS, FRONT_CLASSES, ChartGrid, synthetic_cases
from wxai.products.fronts.detect import chart_fields, detect_fronts, write_front_masks
from wxai.products.fronts.lines import FrontLine, front_lines, lines_geojson, write_geojson
from wxai.products.fronts.model import FrontDetector, find_front_model, load_detector, save_detector
from wxai.products.fronts.training import TrainingConfig, predict_labels, train_detector

__all__ = [
    "CHANNELS",
    "FRONT_CLASSES",
    "ChartGrid",
    "FrontDetector",
    "FrontLine",
    "ThermalFrontParameter",
    "TrainingConfig",
    "chart_fields",
    "detect_fronts",
    "find_front_model",
    "front_lines",
    "lines_geojson",
    "load_detector",
    "predict_labels",
    "save_detector",
    "synthetic_cases",
    "train_detector",
    "tune_tfp",
    "write_front_masks",
    "write_geojson",
]
