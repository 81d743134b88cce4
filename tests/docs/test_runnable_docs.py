"""The docs' examples run as written.

Every shell block of README.md and docs/*.md marked ``<!-- test: run -->`` is run with
bash, and every Python block not marked ``<!-- test: skip REASON -->`` is run in a fresh
interpreter; both in a temporary wxai home, from a scratch directory that links the
repository's top-level entries (so ``configs/...``, ``README.md`` and ``.venv`` resolve
while whatever a block writes stays in the scratch directory), with ``.venv/bin`` first
on ``PATH``. A failure names the file, the line and the output. See
``tests/docs/doc_blocks.py`` for the marker rules.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from doc_blocks import REPO, DocBlock, collect, parse_markdown

BLOCKS, PROBLEMS = collect()
SHELL_BLOCKS = [block for block in BLOCKS if block.is_shell and block.marker == "run"]
PYTHON_BLOCKS = [block for block in BLOCKS if block.is_python]

# A marked block is meant to take seconds; past this it is a hang or belongs in no lane.
BLOCK_TIMEOUT_S = 180
OUTPUT_TAIL = 6000
_CLOSED_PROXY = "http://127.0.0.1:9"
_NOT_LINKED = {".git", "site", ".pytest_cache", ".ruff_cache", ".hypothesis"}


def _params(blocks: list[DocBlock]) -> list[object]:
    params = []
    for block in blocks:
        marks = [pytest.mark.skip(reason=block.reason)] if block.marker == "skip" else []
        params.append(pytest.param(block, id=block.where, marks=marks))
    return params


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    """A scratch directory holding links to the repository's top-level entries."""
    work = tmp_path / "work"
    work.mkdir()
    for entry in REPO.iterdir():
        if entry.name not in _NOT_LINKED:
            (work / entry.name).symlink_to(entry)
    return work


@pytest.fixture
def doc_env(tmp_path: Path) -> dict[str, str]:
    """The environment of a block: defaults only, a temporary home, the venv first."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("WXAI_")}
    home = Path(os.environ.get("WXAI_HOME", tmp_path / "wxai-home"))
    home.mkdir(parents=True, exist_ok=True)
    env["WXAI_HOME"] = str(home)
    env["MPLBACKEND"] = "Agg"
    env["PYTHONUNBUFFERED"] = "1"
    env["PATH"] = os.pathsep.join([str(REPO / ".venv" / "bin"), env.get("PATH", "")])
    env.pop("VIRTUAL_ENV", None)
    # Offline: clients that honour the proxy variables (httpx, requests, urllib) are sent
    # to a closed local port; loopback stays reachable. wxai's data sources ignore them
    # (trust_env=False), so a block that fetches data must say --offline / offline=True.
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"):
        env[name] = env[name.lower()] = _CLOSED_PROXY
    env["NO_PROXY"] = env["no_proxy"] = "localhost,127.0.0.1,::1"
    return env


def _tail(text: str) -> str:
    return text if len(text) <= OUTPUT_TAIL else "...\n" + text[-OUTPUT_TAIL:]


def run_block(block: DocBlock, cwd: Path, env: dict[str, str], script_dir: Path) -> str | None:
    """Run one block; ``None`` when it succeeded, else a message naming file, line, output."""
    if block.is_shell:
        name = block.where.rsplit(":", 1)[0]
        prelude = [
            "set -eo pipefail",
            # LINENO counts the prelude too; the offset turns it into the doc's line.
            f"trap 'echo \"doc-test: failed at {name}:$((LINENO + "
            f"{block.line - 2})) (exit $?): $BASH_COMMAND\" >&2' ERR",
        ]
        script = script_dir / "block.sh"
        script.write_text("\n".join(prelude) + "\n" + block.shell_script(), encoding="utf-8")
        command = ["bash", str(script)]
    else:
        script = script_dir / "block.py"
        script.write_text(block.code, encoding="utf-8")
        command = [sys.executable, str(script)]
    start = time.monotonic()
    try:
        done = subprocess.run(
            command,
            cwd=cwd,
            env=env,
            capture_output=True,
            text=True,
            timeout=BLOCK_TIMEOUT_S,
            check=False,
        )
    except subprocess.TimeoutExpired as timeout:
        output = (timeout.stdout or b"").decode(errors="replace") if timeout.stdout else ""
        return f"{block.where}: still running after {BLOCK_TIMEOUT_S} s\n{_tail(output)}"
    seconds = time.monotonic() - start
    if done.returncode == 0:
        return None
    failed_at = [line for line in done.stderr.splitlines() if line.startswith("doc-test:")]
    where = failed_at[-1] if failed_at else f"doc-test: {block.where} failed"
    return (
        f"{where} [block at {block.where}, exit {done.returncode}, {seconds:.1f} s]\n"
        f"--- stdout ---\n{_tail(done.stdout)}\n--- stderr ---\n{_tail(done.stderr)}"
    )


def test_doc_markers_are_well_formed() -> None:
    """Skip markers carry a reason; every marker sits on the line above a fitting fence."""
    assert not PROBLEMS, "\n".join(PROBLEMS)


def test_the_quick_start_is_marked_runnable() -> None:
    """The commands a new user copies first are among the blocks that run."""
    readme = "\n".join(block.code for block in SHELL_BLOCKS if block.path.name == "README.md")
    for command in ("wxai doctor", "wxai lab run sine-regression preset=smoke", "wxai lab report"):
        assert command in readme, f"README: {command!r} is in no block marked runnable"


@pytest.mark.parametrize("block", _params(SHELL_BLOCKS))
def test_shell_block_runs(
    block: DocBlock, workdir: Path, doc_env: dict[str, str], tmp_path: Path
) -> None:
    failure = run_block(block, workdir, doc_env, tmp_path)
    if failure:
        pytest.fail(failure, pytrace=False)


@pytest.mark.parametrize("block", _params(PYTHON_BLOCKS))
def test_python_block_runs(
    block: DocBlock, workdir: Path, doc_env: dict[str, str], tmp_path: Path
) -> None:
    failure = run_block(block, workdir, doc_env, tmp_path)
    if failure:
        pytest.fail(failure, pytrace=False)


# -- the parser and the runner themselves -----------------------------------------------

SAMPLE = """\
# Title

<!-- test: run -->
```bash
echo one
false   # line 6
echo never
```

<!-- test: skip needs a server -->
```python
print("skipped")
```

- item

  ```python
  x = 1
  ```

```console
$ echo hi
hi
```
"""


def test_parser_reads_blocks_markers_and_lines(tmp_path: Path) -> None:
    blocks, problems = parse_markdown(tmp_path / "guide.md", SAMPLE)
    assert problems == []
    assert [(b.line, b.language, b.marker) for b in blocks] == [
        (4, "bash", "run"),
        (11, "python", "skip"),
        (17, "python", None),
        (21, "console", None),
    ]
    assert blocks[1].reason == "needs a server"
    assert blocks[2].code == "x = 1\n"
    assert blocks[3].shell_script() == "echo hi\n\n"


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ("<!-- test: skip -->\n```python\nx\n```\n", "needs a reason"),
        ("<!-- test: run -->\n```python\nx\n```\n", "not a shell one"),
        ("<!-- test: skip why -->\n```bash\nx\n```\n", "not Python"),
        ("<!-- test: maybe -->\n```bash\nx\n```\n", "unknown test marker"),
        ("<!-- test: run -->\n\n```bash\nx\n```\n", "not directly above"),
        ("<!-- test: run -->\nSome text.\n", "not directly above"),
        ("Text <!-- test: run -->\n```bash\nx\n```\n", "alone on its line"),
        ("Quoted `<!-- test: run -->` then <!-- test: run -->\n", "alone on its line"),
        ("```bash\nx\n", "never closed"),
    ],
)
def test_parser_reports_bad_markers(tmp_path: Path, text: str, complaint: str) -> None:
    _, problems = parse_markdown(tmp_path / "bad.md", text)
    assert len(problems) == 1 and complaint in problems[0], problems
    assert problems[0].startswith(f"{tmp_path / 'bad.md'}:")


def test_a_failing_command_is_reported_with_its_doc_line(
    tmp_path: Path, doc_env: dict[str, str]
) -> None:
    blocks, _ = parse_markdown(tmp_path / "guide.md", SAMPLE)
    failure = run_block(blocks[0], tmp_path, doc_env, tmp_path)
    assert failure is not None
    assert "guide.md:6 (exit 1): false" in failure
    assert "one" in failure and "never" not in failure
