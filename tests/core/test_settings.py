from pathlib import Path

import numpy as np
import pytest
import torch

from wxai.core.device import available_devices, select_device
from wxai.core.errors import ConfigError
from wxai.core.paths import configs_dir, home_dir, lab_runs_dir
from wxai.core.seeding import seed_everything
from wxai.core.settings import reload_settings


def test_settings_come_from_wxai_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("WXAI_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("WXAI_PORT", "8123")
    settings = reload_settings()
    assert settings.port == 8123
    assert settings.resolved_tracking_uri == f"sqlite:///{tmp_path / 'home' / 'mlflow.db'}"
    assert settings.resolved_database_url.endswith("cockpit.db")
    assert not (tmp_path / "home").exists()  # reading settings creates nothing
    assert home_dir() == tmp_path / "home"
    assert lab_runs_dir().is_dir()


def test_invalid_setting_is_rejected(monkeypatch):
    monkeypatch.setenv("WXAI_PORT", "99999")
    with pytest.raises(ValueError, match="port"):
        reload_settings()


def test_explicit_tracking_uri_wins(monkeypatch):
    monkeypatch.setenv("WXAI_TRACKING_URI", "http://127.0.0.1:5000")
    assert reload_settings().resolved_tracking_uri == "http://127.0.0.1:5000"


def test_configs_dir_is_the_repository_tree():
    assert (configs_dir() / "labs" / "sine-regression" / "config.yaml").is_file()


def test_configs_dir_override_must_hold_labs(monkeypatch, tmp_path):
    (tmp_path / "labs").mkdir()
    monkeypatch.setenv("WXAI_CONFIGS_DIR", str(tmp_path))
    reload_settings()
    assert configs_dir() == tmp_path


def test_device_selection_falls_back_to_cpu():
    assert available_devices()[-1] == "cpu"
    assert select_device("cpu") == torch.device("cpu")
    assert select_device("auto").type in {"cuda", "mps", "cpu"}


def test_unavailable_device_is_a_clear_error():
    if torch.cuda.is_available():
        pytest.skip("a CUDA device is present")
    with pytest.raises(ConfigError, match=r"available: .*cpu"):
        select_device("cuda")


def test_seeding_makes_numpy_and_torch_repeatable():
    rng_a = seed_everything(7)
    a = (rng_a.normal(size=3), torch.rand(3), np.random.rand(2))
    rng_b = seed_everything(7)
    b = (rng_b.normal(size=3), torch.rand(3), np.random.rand(2))
    np.testing.assert_array_equal(a[0], b[0])
    assert torch.equal(a[1], b[1])
    np.testing.assert_array_equal(a[2], b[2])
    with pytest.raises(ValueError):
        seed_everything(-1)


def test_home_is_created_on_first_use_only(monkeypatch, tmp_path):
    target: Path = tmp_path / "fresh"
    monkeypatch.setenv("WXAI_HOME", str(target))
    reload_settings()
    assert not target.exists()
    home_dir()
    assert target.is_dir()
