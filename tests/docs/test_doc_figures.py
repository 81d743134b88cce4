"""Figures the docs state as facts about the software agree with the code.

Each row names a doc file, a regular expression whose first group captures a figure in
that doc, and where the code keeps that figure (a settings default or bound, a module
constant, a config file). A row fails when the pattern no longer matches (the sentence
changed: update the row) or when doc and code disagree. Measured figures (benchmarks,
timings, recall) are measurements, not constants, and are not listed.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import annotated_types
import pytest
import yaml
from doc_blocks import REPO

MIB = 2**20


@dataclass(frozen=True)
class Figure:
    """A figure in ``doc`` (first group of ``pattern``) that must equal ``code()``."""

    doc: str
    pattern: str
    code: Callable[[], object]
    what: str

    @property
    def id(self) -> str:
        return f"{self.doc}:{self.what}"


def setting_default(name: str) -> object:
    from wxai.core.settings import Settings

    return Settings.model_fields[name].default


def setting_bound(name: str, kind: str) -> object:
    """A settings field's bound: ``kind`` is ``"ge"``, ``"gt"``, ``"le"`` or ``"lt"``."""
    from wxai.core.settings import Settings

    for item in Settings.model_fields[name].metadata:
        if isinstance(item, getattr(annotated_types, kind.capitalize())):
            return getattr(item, kind)
    raise AssertionError(f"settings field {name} has no {kind} bound")


def parameter_default(function: Callable[..., object], name: str) -> object:
    return inspect.signature(function).parameters[name].default


def makefile_docs_address() -> str:
    text = (REPO / "Makefile").read_text(encoding="utf-8")
    match = re.search(r"mkdocs serve --dev-addr (\S+)", text)
    assert match, "Makefile: no `mkdocs serve --dev-addr` in the docs-serve target"
    return match.group(1)


def compose_default(variable: str) -> str:
    text = (REPO / "deploy" / "compose.yaml").read_text(encoding="utf-8")
    match = re.search(rf"\$\{{{variable}:-([^}}]+)\}}", text)
    assert match, f"deploy/compose.yaml: no default for {variable}"
    return match.group(1)


def sandbox(name: str) -> object:
    from wxai.assistant.agents.sandbox import SandboxLimits

    return getattr(SandboxLimits(), name)


def models_yaml_ollama_url() -> str:
    models = yaml.safe_load((REPO / "configs" / "models.yaml").read_text(encoding="utf-8"))
    urls = {
        provider.get("base_url")
        for provider in _walk_dicts(models)
        if str(provider.get("base_url", "")).endswith(":11434") or provider.get("type") == "ollama"
    }
    urls.discard(None)
    assert len(urls) == 1, f"configs/models.yaml: Ollama base URLs {urls}"
    return urls.pop()


def _walk_dicts(node: object) -> list[dict]:
    found: list[dict] = []
    if isinstance(node, dict):
        found.append(node)
        for value in node.values():
            found.extend(_walk_dicts(value))
    elif isinstance(node, list):
        for value in node:
            found.extend(_walk_dicts(value))
    return found


def _ivf_divisor() -> int:
    from wxai.assistant.rag.vector_index import auto_nprobe

    nlist = 128 * 1000
    return nlist // auto_nprobe(nlist)


def _ivf_floor() -> int:
    from wxai.assistant.rag.vector_index import auto_nprobe

    return auto_nprobe(1)


def _image_mib() -> float:
    from wxai.assistant.read_image import MAX_IMAGE_BYTES

    return MAX_IMAGE_BYTES / MIB


def _const(module: str, name: str) -> Callable[[], object]:
    def value() -> object:
        return getattr(__import__(module, fromlist=[name]), name)

    return value


def _default_of(name: str, scale: float = 1.0) -> Callable[[], object]:
    return lambda: setting_default(name) * scale  # type: ignore[operator]


def _bound_of(name: str, kind: str, scale: float = 1.0) -> Callable[[], object]:
    return lambda: setting_bound(name, kind) * scale  # type: ignore[operator]


def _vector_index_exact_max() -> object:
    from wxai.assistant.rag.vector_index import VectorIndex

    return parameter_default(VectorIndex.__init__, "exact_max")


FIGURES = [
    # the cockpit's address and the docs server
    Figure("README.md", r"cockpit on http://127\.0\.0\.1:(\d+)", _default_of("port"), "port"),
    Figure("README.md", r"http://(127\.0\.0\.1):\d+\s", lambda: setting_default("host"), "host"),
    Figure(
        "README.md",
        r"`make docs-serve` serves it on (127\.0\.0\.1:\d+)",
        makefile_docs_address,
        "docs-serve address",
    ),
    Figure(
        "docs/getting-started.md",
        r"cockpit on http://127\.0\.0\.1:(\d+)",
        _default_of("port"),
        "port",
    ),
    # uploads
    Figure(
        "docs/cockpit.md",
        r"`WXAI_UPLOAD_MAX_MB` \| (\d+) MiB per upload",
        _default_of("upload_max_mb"),
        "upload default",
    ),
    Figure(
        "docs/cockpit.md",
        r"`WXAI_UPLOAD_MAX_MB` \| \d+ MiB per upload \| (\d+)",
        _bound_of("upload_max_mb", "le"),
        "upload bound",
    ),
    Figure(
        "docs/dataspaces.md",
        r"`WXAI_UPLOAD_MAX_MB` \(default (\d+)\)",
        _default_of("upload_max_mb"),
        "upload default",
    ),
    Figure(
        "docs/speech.md",
        r"`WXAI_UPLOAD_MAX_MB` \| (\d+) \|",
        _default_of("upload_max_mb"),
        "upload default",
    ),
    Figure(
        "docs/deploy.md",
        r"`WXAI_UPLOAD_MAX_MB`\s+\((\d+)\)",
        _default_of("upload_max_mb"),
        "upload default",
    ),
    Figure(
        "docs/deploy.md",
        r"`WXAI_UPLOAD_MAX_MB`\s+\((\d+)\)",
        lambda: compose_default("WXAI_UPLOAD_MAX_MB"),
        "compose upload default",
    ),
    Figure(
        "docs/deploy.md",
        r"`WXAI_CLIENT_MAX_BODY_SIZE` \((\d+m)",
        lambda: compose_default("WXAI_CLIENT_MAX_BODY_SIZE"),
        "nginx body size",
    ),
    Figure(
        "docs/deploy.md",
        r"`WXAI_CLIENT_MAX_BODY_SIZE` \((\d+)m",
        lambda: setting_default("upload_max_mb") + 1,
        "nginx body = upload + 1 MiB",
    ),
    Figure(
        "docs/dataspaces.md",
        r"at\s+most (\d+) characters",
        _const("wxai.cockpit.uploads", "MAX_NAME_CHARS"),
        "file name length",
    ),
    Figure(
        "docs/cockpit.md",
        r"\| chat message \| (\d+) characters",
        _const("wxai.cockpit.routers.sessions", "MAX_TEXT_CHARS"),
        "chat message",
    ),
    # the 20 MiB image limit
    Figure(
        "docs/dataspaces.md", r"checked by Pillow, at\s+most (\d+) MiB", _image_mib, "image limit"
    ),
    Figure("docs/multimodal.md", r"image over (\d+) MiB", _image_mib, "image limit"),
    Figure(
        "docs/multimodal.md",
        r"at most (\d+) MiB \(the vision route's limit\)",
        _image_mib,
        "vision route limit",
    ),
    # sessions and sign-in links
    Figure(
        "docs/cockpit.md",
        r"`WXAI_SESSION_HOURS` \((\d+) h\)",
        _default_of("session_hours"),
        "session hours",
    ),
    Figure(
        "README.md",
        r"sign-in link on its console \(like Jupyter's token link\), valid\s+(\d+)"
        r" hours",
        _const("wxai.cockpit.accounts", "LOGIN_LINK_HOURS"),
        "sign-in link",
    ),
    # task limits
    Figure(
        "docs/cockpit.md",
        r"(\d+) MiB / \d+ h / \d+ h per task",
        _default_of("task_memory_mb"),
        "task memory",
    ),
    Figure(
        "docs/cockpit.md",
        r"\d+ MiB / (\d+) h / \d+ h per task",
        _default_of("task_cpu_seconds", 1 / 3600),
        "task CPU hours",
    ),
    Figure(
        "docs/cockpit.md",
        r"\d+ MiB / \d+ h / (\d+) h per task",
        _default_of("task_wall_seconds", 1 / 3600),
        "task wall hours",
    ),
    Figure(
        "docs/cockpit.md",
        r"per task \| (\d+) GiB / \d+ days",
        _bound_of("task_memory_mb", "le", 1 / 1024),
        "task memory bound",
    ),
    Figure(
        "docs/cockpit.md",
        r"per task \| \d+ GiB / (\d+) days",
        _bound_of("task_wall_seconds", "le", 1 / 86400),
        "task time bound",
    ),
    Figure(
        "docs/tasks.md",
        r"\| `WXAI_TASK_MEMORY_MB` \| (\d+) MiB",
        _default_of("task_memory_mb"),
        "task memory",
    ),
    Figure(
        "docs/tasks.md",
        r"\| `WXAI_TASK_MEMORY_MB` \| \d+ MiB \| (\d+) \.\.",
        _bound_of("task_memory_mb", "ge"),
        "task memory lower bound",
    ),
    Figure(
        "docs/tasks.md",
        r"\| `WXAI_TASK_MEMORY_MB` \| \d+ MiB \| \d+ \.\. (\d+)",
        _bound_of("task_memory_mb", "le"),
        "task memory upper bound",
    ),
    Figure(
        "docs/tasks.md",
        r"\| `WXAI_TASK_CPU_SECONDS` \| (\d+) s",
        _default_of("task_cpu_seconds"),
        "task CPU",
    ),
    Figure(
        "docs/tasks.md",
        r"\| `WXAI_TASK_CPU_SECONDS` \| \d+ s \| \d+ \.\. (\d+)",
        _bound_of("task_cpu_seconds", "le"),
        "task CPU bound",
    ),
    Figure(
        "docs/tasks.md",
        r"\| `WXAI_TASK_WALL_SECONDS` \| (\d+) s",
        _default_of("task_wall_seconds"),
        "task wall",
    ),
    Figure(
        "docs/tasks.md",
        r"\| `WXAI_TASK_WALL_SECONDS` \| \d+ s \| \d+ \.\. (\d+)",
        _bound_of("task_wall_seconds", "le"),
        "task wall bound",
    ),
    Figure(
        "docs/tasks.md",
        r"`WXAI_WORKER_HEARTBEAT_TIMEOUT` seconds \(default (\d+)\)",
        _default_of("worker_heartbeat_timeout"),
        "heartbeat",
    ),
    Figure(
        "docs/database.md",
        r"`WXAI_WORKER_HEARTBEAT_TIMEOUT` \(default (\d+) s\)",
        _default_of("worker_heartbeat_timeout"),
        "heartbeat",
    ),
    # chat threads, streams, rate limits
    Figure(
        "docs/scaling.md",
        r"`WXAI_CHAT_CONCURRENCY` at once, default (\d+)",
        _default_of("chat_concurrency"),
        "chat threads",
    ),
    Figure(
        "docs/scaling.md",
        r"default \d+, and (\d+) waiting per thread",
        _const("wxai.cockpit.routers.sessions", "QUEUED_PER_THREAD"),
        "queue",
    ),
    Figure(
        "docs/scaling.md",
        r"`WXAI_DB_POOL_SIZE` \((\d+)\)",
        _default_of("db_pool_size"),
        "pool size",
    ),
    Figure(
        "docs/scaling.md",
        r"`WXAI_DB_MAX_OVERFLOW` \((\d+)\)",
        _default_of("db_max_overflow"),
        "pool overflow",
    ),
    Figure(
        "docs/scaling.md",
        r"`WXAI_CHAT_STALE_SECONDS` \((\d+) s\)",
        _default_of("chat_stale_seconds"),
        "stale answer",
    ),
    Figure(
        "docs/assistant.md",
        r"`WXAI_CHAT_STALE_SECONDS` \((\d+)\)",
        _default_of("chat_stale_seconds"),
        "stale answer",
    ),
    Figure(
        "docs/scaling.md",
        r"`WXAI_RATE_LIMIT_PER_MINUTE` \((\d+) = unlimited\)",
        _default_of("rate_limit_per_minute"),
        "rate limit",
    ),
    Figure(
        "docs/scaling.md",
        r"`WXAI_TOKEN_QUOTA_PER_DAY` \((\d+) = unlimited\)",
        _default_of("token_quota_per_day"),
        "token quota",
    ),
    # speech
    Figure(
        "docs/speech.md",
        r"`WXAI_SPEECH_MAX_SECONDS` \| (\d+) \|",
        _default_of("speech_max_seconds"),
        "speech seconds",
    ),
    Figure(
        "docs/speech.md",
        r"`WXAI_SPEECH_THREADS` \| (\d+) \|",
        _default_of("speech_threads"),
        "speech threads",
    ),
    # language models and retrieval
    Figure(
        "docs/llm-providers.md",
        r"`WXAI_OLLAMA_URL` \|[^|]*\(default `([^`]+)`\)",
        _const("wxai.assistant.llm.ollama", "DEFAULT_OLLAMA_URL"),
        "Ollama URL",
    ),
    Figure(
        "docs/llm-providers.md",
        r"`WXAI_OLLAMA_URL` \|[^|]*\(default `([^`]+)`\)",
        models_yaml_ollama_url,
        "Ollama URL in models.yaml",
    ),
    Figure(
        "README.md",
        r"`WXAI_OLLAMA_URL` \(default `([^`]+)`\)",
        _const("wxai.assistant.llm.ollama", "DEFAULT_OLLAMA_URL"),
        "Ollama URL",
    ),
    Figure(
        "docs/tool-calling.md",
        r"Below `floor` \(([\d.]+) by default\)",
        _const("wxai.assistant.llm.tools.router", "DEFAULT_FLOOR"),
        "routing floor",
    ),
    Figure(
        "docs/retrieval.md",
        r"FAISS: exact up to ([\d ]+) chunks",
        _vector_index_exact_max,
        "exact index size",
    ),
    Figure(
        "docs/retrieval.md",
        r"`nprobe` `max\((\d+), ceil\(nlist/\d+\)\)`",
        _ivf_floor,
        "nprobe floor",
    ),
    Figure(
        "docs/retrieval.md",
        r"`nprobe` `max\(\d+, ceil\(nlist/(\d+)\)\)`",
        _ivf_divisor,
        "nprobe divisor",
    ),
    Figure(
        "docs/retrieval.md",
        r"`WXAI_RAG_HNSW_M` \((\d+)\)",
        _default_of("rag_hnsw_m"),
        "HNSW m",
    ),
    Figure(
        "docs/retrieval.md",
        r"`WXAI_RAG_HNSW_EF_CONSTRUCTION`\s+\((\d+)\)",
        _default_of("rag_hnsw_ef_construction"),
        "HNSW ef_construction",
    ),
    Figure(
        "docs/retrieval.md",
        r"wxai's index defaults to\s+pgvector's \(m (\d+),",
        _default_of("rag_hnsw_m"),
        "HNSW m (measurements)",
    ),
    Figure(
        "docs/retrieval.md",
        r"wxai's index defaults to\s+pgvector's \(m \d+, ef_construction (\d+)\)",
        _default_of("rag_hnsw_ef_construction"),
        "HNSW ef_construction (measurements)",
    ),
    Figure(
        "docs/retrieval.md",
        r"ef_search = clip\(2 x depth, (\d+), \d+\)",
        _const("wxai.assistant.rag.pg_store", "_EF_MIN"),
        "ef_search floor",
    ),
    Figure(
        "docs/retrieval.md",
        r"ef_search = clip\(2 x depth, \d+, (\d+)\)",
        _const("wxai.assistant.rag.pg_store", "_EF_MAX"),
        "ef_search ceiling",
    ),
    # GRIB
    Figure(
        "docs/grib.md",
        r"the default for files over (\d+) MiB",
        lambda: __import__("wxai.data.formats.grib", fromlist=["x"]).LAZY_BYTES / MIB,
        "lazy GRIB threshold",
    ),
    # the coding agent's sandbox (SandboxLimits defaults)
    Figure(
        "docs/coding-agent.md",
        r"\| `cpu_seconds` \| (\d+) \|",
        lambda: sandbox("cpu_seconds"),
        "sandbox CPU",
    ),
    Figure(
        "docs/coding-agent.md",
        r"\| `wall_seconds` \| (\d+) \|",
        lambda: sandbox("wall_seconds"),
        "sandbox wall",
    ),
    Figure(
        "docs/coding-agent.md",
        r"\| `memory_bytes` \| (\d+) GiB \|",
        lambda: sandbox("memory_bytes") / 2**30,
        "sandbox memory",
    ),
    Figure(
        "docs/coding-agent.md",
        r"\| `file_size_bytes` \| (\d+) MiB \|",
        lambda: sandbox("file_size_bytes") / MIB,
        "sandbox file size",
    ),
    Figure(
        "docs/coding-agent.md",
        r"\| `max_processes` \| (\d+) \|",
        lambda: sandbox("max_processes"),
        "sandbox processes",
    ),
    Figure(
        "docs/coding-agent.md",
        r"\| `max_open_files` \| (\d+) \|",
        lambda: sandbox("max_open_files"),
        "sandbox open files",
    ),
    Figure(
        "docs/coding-agent.md",
        r"\| `max_output_bytes` \| (\d+) KiB \|",
        lambda: sandbox("max_output_bytes") / 1024,
        "sandbox output",
    ),
    Figure(
        "docs/coding-agent.md",
        r"\| `max_files_bytes` \| (\d+) MiB \|",
        lambda: sandbox("max_files_bytes") / MIB,
        "sandbox copied files",
    ),
    Figure(
        "docs/coding-agent.md",
        r"\| `disk_bytes` \| (\d+) MiB \|",
        lambda: sandbox("disk_bytes") / MIB,
        "sandbox disk",
    ),
]


def _same(doc_value: str, code_value: object) -> bool:
    """Equal as numbers when both read as numbers (``20 000`` = 20000), else as text."""
    text = doc_value.replace(" ", "").replace(",", "")
    try:
        return float(text) == float(code_value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return doc_value.strip() == str(code_value).strip()


@pytest.mark.parametrize("figure", [pytest.param(f, id=f.id) for f in FIGURES])
def test_doc_figure_matches_code(figure: Figure) -> None:
    text = (REPO / figure.doc).read_text(encoding="utf-8")
    found = re.findall(figure.pattern, text)
    assert found, (
        f"{figure.doc}: the sentence with the {figure.what} ({figure.pattern!r}) is gone; "
        "update the row in tests/docs/test_doc_figures.py"
    )
    expected = figure.code()
    wrong = [value for value in found if not _same(value, expected)]
    assert not wrong, f"{figure.doc}: {figure.what} says {wrong[0]}, the code has {expected}"


def test_figure_rows_are_unique() -> None:
    ids = [figure.id for figure in FIGURES]
    assert len(ids) == len(set(ids)), "two rows share a doc and a name"


def test_a_disagreeing_figure_is_reported(tmp_path: Path) -> None:
    """The comparison itself: a wrong number fails, a spaced thousands figure passes."""
    assert _same("20 000", 20_000) and _same("0.35", 0.35) and _same("51m", "51m")
    assert not _same("40", 50.0) and not _same("http://a:1", "http://a:2")
