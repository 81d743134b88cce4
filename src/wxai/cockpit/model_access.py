"""Which model aliases a user may use: every one for admins, ``WXAI_USER_MODELS`` for others.

One rule for the browser chat (``/api/sessions``) and the OpenAI-compatible API
(``/v1/``): an ordinary user's sessions and requests reach only the listed aliases;
an empty list opens every configured alias.
"""

from __future__ import annotations

from typing import Any

from wxai.assistant.llm.registry import ModelAlias, default_alias, list_models
from wxai.cockpit.accounts import Principal
from wxai.core.errors import WxaiError

__all__ = ["ModelNotAllowed", "allowed_aliases", "check_allowed", "default_for", "open_aliases"]


class ModelNotAllowed(WxaiError):
    """A configured alias that this user may not use (``WXAI_USER_MODELS``)."""


def open_aliases(settings: Any) -> set[str]:
    """The aliases of ``WXAI_USER_MODELS`` (empty: no restriction)."""
    listed = str(getattr(settings, "user_models", "") or "")
    return {name.strip() for name in listed.split(",") if name.strip()}


def allowed_aliases(settings: Any, user: Principal) -> list[ModelAlias]:
    """The configured aliases ``user`` may use, in the models file's order."""
    entries = list_models()
    wanted = open_aliases(settings)
    if user.is_admin or not wanted:
        return entries
    return [entry for entry in entries if entry.alias in wanted]


def default_for(settings: Any, user: Principal) -> str:
    """The alias a new session of ``user`` gets: the server's default if open to them."""
    default = default_alias()
    allowed = [entry.alias for entry in allowed_aliases(settings, user)]
    if default in allowed or not allowed:
        return default
    return allowed[0]


def check_allowed(settings: Any, user: Principal, alias: str) -> None:
    """Raise :class:`ModelNotAllowed` naming the user's aliases when ``alias`` is closed."""
    allowed = [entry.alias for entry in allowed_aliases(settings, user)]
    if alias not in allowed:
        raise ModelNotAllowed(
            f"the model {alias!r} is not open to your account; yours: "
            f"{', '.join(allowed) or 'none'} (an administrator sets WXAI_USER_MODELS)"
        )
