"""Optional dependencies: report availability without importing (layer 0)."""

from __future__ import annotations

import importlib
import importlib.util
from types import ModuleType

from reworld.errors import MissingDependency


def available(module: str) -> bool:
    """Whether ``module`` can be imported, without importing it."""
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def require(module: str, *, extra: str | None, feature: str, package: str | None = None) -> ModuleType:
    """Import ``module`` or raise :class:`MissingDependency` naming the feature and the extra."""
    if not available(module):
        raise MissingDependency(package or module, extra=extra, feature=feature)
    return importlib.import_module(module)
