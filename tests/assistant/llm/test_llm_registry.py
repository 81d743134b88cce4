"""Model aliases and tiers from configs/models.yaml."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from wxai.assistant.llm.local import LocalProvider
from wxai.assistant.llm.ollama import OllamaProvider
from wxai.assistant.llm.openai_compat import OpenAICompatibleProvider
from wxai.assistant.llm.registry import (
    TIERS,
    default_alias,
    get_model,
    get_provider,
    list_models,
    load_models,
    models_file,
)
from wxai.assistant.llm.types import Message
from wxai.core.errors import ConfigError, UnknownNameError

ENV_NAME = re.compile(r"^[A-Z][A-Z0-9_]*$")


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch):
    for name in ("WXAI_LLM_MODEL", "WXAI_OLLAMA_URL", "WXAI_OPENAI_BASE_URL", "WXAI_VLLM_URL"):
        monkeypatch.delenv(name, raising=False)


def test_packaged_aliases():
    models = load_models()
    assert default_alias() == "local-fast"
    assert models["local-fast"].backend == "local"
    for supplier in ("ollama", "openai"):
        assert {f"{supplier}-{tier}" for tier in TIERS} <= set(models)
    assert {"mistral-core", "ionos-core", "vllm-core", "lmstudio-core"} <= set(models)
    for entry in models.values():
        assert entry.tier in TIERS
        assert entry.backend in ("local", "ollama", "openai-compatible")
        assert entry.backend == "local" or entry.base_url.startswith(("http://", "https://"))
        # only the NAME of a key variable, never a key
        assert entry.api_key_env is None or ENV_NAME.match(entry.api_key_env)
    assert models["openai-core"].api_key_env == "OPENAI_API_KEY"
    assert [m.alias for m in list_models()] == list(models)


def test_default_alias_makes_the_local_provider(monkeypatch):
    assert isinstance(get_provider(), LocalProvider)
    monkeypatch.setenv("WXAI_LLM_MODEL", "ollama-core")
    llm = get_provider()
    assert isinstance(llm, OllamaProvider) and llm.model == get_model("ollama-core").model
    assert llm.capabilities.native_tools


def test_unknown_alias_lists_and_suggests():
    with pytest.raises(UnknownNameError) as err:
        get_provider("openai-cor")
    message = str(err.value)
    assert "unknown model alias 'openai-cor'; did you mean 'openai-core'?" in message
    assert "local-fast" in message and "vllm-core" in message


def test_base_url_from_the_environment(monkeypatch, openai_server):
    monkeypatch.setenv("WXAI_OLLAMA_URL", "http://ollama.internal:11434")
    assert get_model("ollama-fast").base_url == "http://ollama.internal:11434"
    assert get_provider("ollama-fast").base_url == "http://ollama.internal:11434"
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    monkeypatch.setenv("WXAI_OPENAI_BASE_URL", "https://proxy.example/openai/v1")
    llm = get_provider("openai-core")
    assert isinstance(llm, OpenAICompatibleProvider)
    assert llm.url == "https://proxy.example/openai/v1/chat/completions"
    assert llm.max_tokens_field == "max_completion_tokens"
    # an alias pointed at a (local) server by its environment variable, end to end
    monkeypatch.setenv("WXAI_VLLM_URL", openai_server.url)
    monkeypatch.setenv("VLLM_API_KEY", "sk-vllm")
    answer = get_provider("vllm-core").chat([Message.user("hi")], max_tokens=5)
    assert answer.content == "You said: hi"
    assert openai_server.last["model"] == get_model("vllm-core").model
    assert openai_server.headers[-1]["authorization"] == "Bearer sk-vllm"


def test_missing_required_key(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert get_model("openai-core").api_key_set is False
    with pytest.raises(ConfigError, match="set the environment variable OPENAI_API_KEY"):
        get_provider("openai-core")


def _write(tmp_path: Path, edit) -> Path:
    config = yaml.safe_load(models_file().read_text())
    edit(config)
    path = tmp_path / "models.yaml"
    path.write_text(yaml.safe_dump(config))
    return path


@pytest.mark.parametrize(
    ("edit", "needle"),
    [
        (lambda c: c["models"]["openai-core"].update(tier="mega"), "models.openai-core.tier"),
        (lambda c: c["models"]["ollama-pro"].update(supplier="acme"), "unknown supplier 'acme'"),
        (lambda c: c["models"]["vllm-core"].update(colour="red"), "models.vllm-core.colour"),
        (
            lambda c: c["models"]["local-fast"]["capabilities"].update(context_length="big"),
            "models.local-fast.capabilities.context_length",
        ),
        (lambda c: c["suppliers"]["ollama"].pop("base_url"), "suppliers.ollama: "),
        (lambda c: c.update(default="nope"), "default: 'nope' is not one of the aliases"),
    ],
)
def test_invalid_models_file(tmp_path, edit, needle):
    path = _write(tmp_path, edit)
    with pytest.raises(ConfigError, match="invalid models file") as err:
        load_models(path)
    assert needle in str(err.value)


def test_broken_yaml_and_missing_file(tmp_path, monkeypatch):
    path = tmp_path / "models.yaml"
    path.write_text("models: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_models(path)
    with pytest.raises(ConfigError, match="not found"):
        load_models(tmp_path / "absent.yaml")
    # the config tree of WXAI_CONFIGS_DIR is used
    (tmp_path / "labs").mkdir()
    _write(tmp_path, lambda c: c.update(default="ollama-core"))
    monkeypatch.setenv("WXAI_CONFIGS_DIR", str(tmp_path))
    from wxai.core.settings import reload_settings

    reload_settings()
    assert models_file() == tmp_path / "models.yaml"
    assert default_alias() == "ollama-core"


def test_an_edited_models_file_is_read_again(tmp_path):
    path = _write(tmp_path, lambda c: c.update(default="ollama-core"))
    assert default_alias(path) == "ollama-core"
    assert default_alias(path) == "ollama-core"  # parsed once, then cached
    _write(tmp_path, lambda c: c.update(default="local-fast"))  # new size and time
    assert default_alias(path) == "local-fast"
    path.write_text("models: [unclosed\n")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_models(path)
