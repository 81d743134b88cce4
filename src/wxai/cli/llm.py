"""``wxai llm``: chat with a configured language model, list the model aliases."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from wxai.assistant.llm.types import ChatChunk, Message

app = typer.Typer(help="Chat with a language model; list the model aliases.", no_args_is_help=True)

_EXIT_WORDS = ("/exit", "/quit")


@app.command("chat")
def chat_command(
    model: str | None = typer.Option(
        None, "--model", "-m", help="Model alias (see `wxai llm models`); default WXAI_LLM_MODEL."
    ),
    prompt: str | None = typer.Option(
        None, "--prompt", "-p", help="Ask once and exit ('-' reads the prompt from stdin)."
    ),
    system: str | None = typer.Option(None, "--system", "-s", help="System message."),
    max_tokens: int = typer.Option(512, "--max-tokens", min=1, help="Answer length limit."),
    temperature: float = typer.Option(
        0.0, "--temperature", min=0.0, help="0 is greedy (reproducible)."
    ),
) -> None:
    """Stream a model's answer to stdout; without --prompt, an interactive chat.

    In the interactive chat the conversation is kept; `/exit`, `/quit` or end of
    input (Ctrl-D) ends it, Ctrl-C stops the current answer or, at the prompt, ends.
    """
    from wxai.assistant.llm.registry import get_provider
    from wxai.assistant.llm.types import Message

    provider = get_provider(model)
    history: list[Message] = [Message.system(system)] if system else []

    def answer() -> str:
        chunks = provider.stream(history, max_tokens=max_tokens, temperature=temperature)
        return _write_stream(chunks)

    if prompt is not None:
        text = sys.stdin.read() if prompt == "-" else prompt
        history.append(Message.user(text))
        answer()
        return
    _repl(history, answer, f"{model or 'default model'} ({provider.name}: {provider.model})")


def _write_stream(chunks: Iterable[ChatChunk]) -> str:
    """Write each delta to stdout as it arrives; return the whole answer."""
    parts: list[str] = []
    try:
        for chunk in chunks:
            if chunk.delta:
                sys.stdout.write(chunk.delta)
                sys.stdout.flush()
                parts.append(chunk.delta)
    finally:
        if parts:  # end the answer's line, also when it was cut short
            sys.stdout.write("\n")
            sys.stdout.flush()
    return "".join(parts)


def _repl(history: list[Message], answer: Callable[[], str], banner: str) -> None:
    from wxai.assistant.llm.types import Message
    from wxai.core.errors import ProviderError

    err = Console(stderr=True, highlight=False, soft_wrap=True)
    err.print(f"[dim]chatting with {banner}; /exit or Ctrl-D to end[/]")
    while True:
        try:
            line = input("> ")
        except (EOFError, KeyboardInterrupt):
            sys.stdout.write("\n")
            return
        if line.strip() in _EXIT_WORDS:
            return
        if not line.strip():
            continue
        history.append(Message.user(line))
        try:
            reply = answer()
        except KeyboardInterrupt:
            err.print("[dim](answer interrupted)[/]")
            history.pop()
            continue
        except ProviderError as exc:
            err.print(f"[bold red]error:[/] {exc}")
            history.pop()
            continue
        history.append(Message.assistant(reply))


@app.command("models")
def models_command(
    json_output: bool = typer.Option(False, "--json", help="Print the aliases as JSON."),
) -> None:
    """List the model aliases: tier, backend, model, capabilities, API key status."""
    import json
    from dataclasses import asdict

    from wxai.assistant.llm.registry import default_alias, list_models

    models = list_models()
    default = default_alias()
    if json_output:
        rows = []
        for entry in models:
            row = asdict(entry)
            row.update(default=entry.alias == default, api_key_set=entry.api_key_set)
            rows.append(row)
        print(json.dumps(rows, indent=2))
        return
    table = Table(title=f"wxai model aliases (* default: {default})")
    for column in ("alias", "tier", "backend", "model", "tools", "vision", "json", "context"):
        table.add_column(column, no_wrap=column != "model")
    table.add_column("API key")
    for entry in models:
        caps = entry.capabilities
        flags = [
            "yes" if on else "-" for on in (caps.native_tools, caps.vision, caps.constrained_output)
        ]
        if entry.api_key_env is None:
            key = "-"
        elif entry.api_key_set:
            key = f"[green]{entry.api_key_env} set[/]"
        elif entry.api_key_required:
            key = f"[red]{entry.api_key_env} unset[/]"
        else:
            key = f"{entry.api_key_env} unset (optional)"
        name = f"{entry.alias} *" if entry.alias == default else entry.alias
        context = (
            f"{caps.context_length / 2**20:.0f}M"
            if caps.context_length >= 10**6
            else f"{round(caps.context_length / 1024)}k"
        )
        table.add_row(name, entry.tier, entry.backend, entry.model, *flags, context, key)
    console = Console()
    if not console.is_terminal:  # piped: do not squeeze the table into 80 columns
        console = Console(width=160)
    console.print(table)
