"""Saving, registering and loading the warning diagnoser with everything it needs.

The registered MLflow model is a pickled module, and unpickling runs code from the
file. So next to it, :func:`log_diagnoser` logs a plain checkpoint
(:data:`CHECKPOINT`, tensors and simple metadata only, loaded with
``weights_only=True``), and :func:`load_diagnoser` rebuilds the diagnoser from the
checkpoint of the run behind a ``models:/name@alias``, ``models:/name/version`` or
``runs:/<run_id>/...`` URI, or from a local file: the cockpit and the CLI never
unpickle a model file.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import torch

from wxai.core.errors import WxaiError
from wxai.data.formats import atomic_path
from wxai.products.stats import ChannelStats
from wxai.products.warnings.levels import WarningLevel
from wxai.products.warnings.model import WarningDiagnoser

if TYPE_CHECKING:
    from wxai.train.tracking import MlflowTracker

__all__ = ["CHECKPOINT", "load_diagnoser", "log_diagnoser", "save_diagnoser"]

#: Artifact path of the checkpoint in the run that registered the model.
CHECKPOINT = "diagnoser/warning_diagnoser.pt"


def save_diagnoser(model: WarningDiagnoser, path: str | Path) -> Path:
    """Write the diagnoser's weights and metadata to ``path`` (atomically)."""
    target = Path(path)
    payload = {
        "channels": list(model.channels),
        "levels": [[lv.level, lv.event, lv.threshold, lv.severity] for lv in model.levels],
        "grid_step": model.grid_step,
        "window_hours": model.window_hours,
        "depth": model.depth,
        "base_channels": int(model.net.head.in_channels),
        "state_dict": model.state_dict(),
    }
    with atomic_path(target) as tmp:
        torch.save(payload, tmp)
    return target


def _from_file(path: Path) -> WarningDiagnoser:
    payload: dict[str, Any] = torch.load(path, map_location="cpu", weights_only=True)
    state = payload["state_dict"]
    stats = ChannelStats(np.asarray(state["mean"]), np.asarray(state["std"]))
    model = WarningDiagnoser(
        payload["channels"], [WarningLevel(*lv) for lv in payload["levels"]], stats,
        grid_step=payload["grid_step"], window_hours=payload["window_hours"],
        base_channels=payload["base_channels"], depth=payload["depth"],
    )  # fmt: skip
    model.load_state_dict(state)
    return model.eval()


def log_diagnoser(
    tracker: MlflowTracker,
    model: WarningDiagnoser,
    input_example: np.ndarray,
    *,
    registered_name: str,
    alias: str = "champion",
) -> str:
    """Log and register ``model`` in the tracker's run, with its checkpoint.

    Returns the ``runs:/`` URI of the logged model.
    """
    uri = tracker.log_torch_model(
        model, input_example=np.ascontiguousarray(input_example, dtype=np.float32),
        registered_name=registered_name, alias=alias,
    )  # fmt: skip
    with tempfile.TemporaryDirectory() as tmp:
        path = save_diagnoser(model, Path(tmp) / Path(CHECKPOINT).name)
        tracker.log_artifact(path, subdir=str(Path(CHECKPOINT).parent))
    return uri


def _run_id(client: Any, uri: str) -> str:
    if match := re.fullmatch(r"runs:/([^/]+)(/.*)?", uri):
        return match.group(1)
    if match := re.fullmatch(r"models:/([^/@]+)@(.+)", uri):
        return client.get_model_version_by_alias(match.group(1), match.group(2)).run_id
    if match := re.fullmatch(r"models:/([^/@]+)/(\d+)", uri):
        return client.get_model_version(match.group(1), match.group(2)).run_id
    raise WxaiError(
        f"cannot resolve {uri!r}; use models:/name@alias, models:/name/version, runs:/<id> "
        "or a local checkpoint file"
    )


def load_diagnoser(uri: str | Path, tracking_uri: str | None = None) -> WarningDiagnoser:
    """The diagnoser behind a model URI (see the module docstring) or a checkpoint file."""
    if Path(uri).is_file():
        return _from_file(Path(uri))
    from wxai.train.tracking import make_client

    client = make_client(tracking_uri)
    try:
        run_id = _run_id(client, str(uri))
        with tempfile.TemporaryDirectory() as tmp:
            local = client.download_artifacts(run_id, CHECKPOINT, tmp)
            return _from_file(Path(local))
    except WxaiError:
        raise
    except Exception as error:
        raise WxaiError(f"could not load the warning diagnoser {uri!r}: {error}") from error
