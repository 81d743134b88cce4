"""The front detector as ONNX: export with torch's exporter, run with onnxruntime.

A weather service's forecaster workstation runs models without Python training stacks;
ONNX is the exchange format. :func:`export_onnx` writes the detector (normalisation
included) with dynamic batch, height and width; :func:`onnx_parity` runs both engines
on the same charts and reports the largest logit difference, the share of cells given
the same class, and the time per chart of each.

onnxruntime writes telemetry unless ``ORT_DISABLE_TELEMETRY=1`` is set before it is
imported (see the research notes); :func:`_runtime` sets it for its own import.
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from wxai.core.errors import MissingExtra
from wxai.data.formats import atomic_path
from wxai.products.fronts.model import FrontDetector

__all__ = ["OnnxParity", "export_onnx", "onnx_parity", "onnx_session"]


def _runtime() -> Any:
    os.environ.setdefault("ORT_DISABLE_TELEMETRY", "1")
    try:
        import onnxruntime
    except ImportError as exc:  # pragma: no cover - a core dependency
        raise MissingExtra(
            "onnxruntime is needed to run ONNX models: pip install onnxruntime"
        ) from exc
    return onnxruntime


def export_onnx(detector: FrontDetector, path: str | os.PathLike, example: torch.Tensor) -> Path:
    """Write ``detector`` as ONNX (opset of torch's dynamo exporter) to ``path``.

    ``example`` ``(B, 6, H, W)`` traces the graph; batch, H and W stay dynamic (H and
    W multiples of ``detector.multiple``).
    """
    dim = torch.export.Dim
    detector = detector.eval()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        program = torch.onnx.export(
            detector,
            (example,),
            dynamo=True,
            input_names=["fields"],
            output_names=["logits"],
            dynamic_shapes=({0: dim("batch"), 2: dim.AUTO, 3: dim.AUTO},),
            verbose=False,
        )
    with atomic_path(path) as tmp:
        program.save(str(tmp))
    return Path(path)


def onnx_session(path: str | os.PathLike, threads: int | None = None) -> Any:
    """An onnxruntime CPU session for the model at ``path``."""
    ort = _runtime()
    options = ort.SessionOptions()
    if threads:
        options.intra_op_num_threads = threads
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


@dataclass(frozen=True)
class OnnxParity:
    """PyTorch against onnxruntime on the same charts.

    Attributes
    ----------
    max_abs_logit_difference:
        Largest absolute difference of any logit.
    same_class_fraction:
        Share of cells whose most likely class agrees (1 = identical).
    torch_ms, onnx_ms:
        Median wall time per chart [ms] (whole batch timed, divided by its size).
    """

    max_abs_logit_difference: float
    same_class_fraction: float
    torch_ms: float
    onnx_ms: float
    charts: int

    def describe(self) -> str:
        return (
            f"ONNX parity on {self.charts} charts: max |logit difference| "
            f"{self.max_abs_logit_difference:.2e}, same class in "
            f"{100 * self.same_class_fraction:.3f} % of cells; "
            f"{self.torch_ms:.1f} ms per chart in PyTorch, {self.onnx_ms:.1f} ms in onnxruntime"
        )


def onnx_parity(
    detector: FrontDetector, path: str | os.PathLike, fields: np.ndarray, repeats: int = 5
) -> OnnxParity:
    """Compare ``detector`` with its ONNX export at ``path`` on ``fields`` (B, 6, H, W)."""
    session = onnx_session(path, threads=torch.get_num_threads())
    x = np.ascontiguousarray(fields, dtype=np.float32)
    with torch.no_grad():
        reference = detector(torch.from_numpy(x)).numpy()
    exported = session.run(["logits"], {"fields": x})[0]

    def median_ms(run) -> float:
        run()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            run()
            times.append(time.perf_counter() - start)
        return 1000 * float(np.median(times)) / len(x)

    with torch.no_grad():
        torch_ms = median_ms(lambda: detector(torch.from_numpy(x)))
    onnx_ms = median_ms(lambda: session.run(["logits"], {"fields": x}))
    return OnnxParity(
        max_abs_logit_difference=float(np.abs(reference - exported).max()),
        same_class_fraction=float(np.mean(reference.argmax(1) == exported.argmax(1))),
        torch_ms=torch_ms,
        onnx_ms=onnx_ms,
        charts=len(x),
    )
