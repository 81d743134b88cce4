"""Where wxai keeps its files: the home directory and the config tree."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path

from wxai.core.errors import WxaiError
from wxai.core.settings import get_settings


def ensure_dir(path: Path) -> Path:
    """Create ``path`` (and parents) if needed and return it."""
    path.mkdir(parents=True, exist_ok=True)
    return path


def home_dir() -> Path:
    """The wxai home directory (``WXAI_HOME``), created on first use."""
    return ensure_dir(get_settings().home.expanduser())


def lab_runs_dir() -> Path:
    """Directory holding one sub-directory per lab run (results and figures)."""
    return ensure_dir(home_dir() / "labs")


def artifacts_dir() -> Path:
    """Default MLflow artifact root for the local tracking store."""
    return ensure_dir(home_dir() / "mlartifacts")


def configs_dir() -> Path:
    """The Hydra config tree.

    Looks in ``WXAI_CONFIGS_DIR``, then in the source checkout (``configs/``
    beside ``src/``), then in the copy packaged into the wheel.
    """
    explicit = get_settings().configs_dir
    candidates = [explicit] if explicit else []
    candidates.append(Path(__file__).resolve().parents[3] / "configs")
    candidates.append(Path(str(files("wxai"))) / "_configs")
    for candidate in candidates:
        if candidate is not None and (candidate / "labs").is_dir():
            return candidate
    raise WxaiError(
        "wxai's config tree was not found; set WXAI_CONFIGS_DIR to a directory "
        "that contains labs/ (the configs/ folder of the repository)"
    )
