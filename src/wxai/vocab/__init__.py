"""Canonical variable names with units, mapped to IFS, ICON, ODIM and CF names."""

from wxai.vocab.variables import (
    SourceName,
    Variable,
    from_source,
    get_variable,
    list_variables,
    rename_to_canonical,
    to_source,
)

__all__ = [
    "SourceName",
    "Variable",
    "from_source",
    "get_variable",
    "list_variables",
    "rename_to_canonical",
    "to_source",
]
