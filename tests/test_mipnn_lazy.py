"""mipnn/lazy.py: names imported from their modules on first use, kept, listed by dir(), and
an AttributeError for any other name."""

from __future__ import annotations

import sys
import types

import pytest

from mipnn.lazy import lazy_names


def test_a_name_is_imported_on_first_use_and_kept(monkeypatch):
    package = types.ModuleType("lazy_pkg")
    monkeypatch.setitem(sys.modules, "lazy_pkg", package)
    package.__getattr__, package.__dir__ = lazy_names("lazy_pkg", {"sqrt": "math"})
    assert "sqrt" in dir(package)
    import math

    assert package.sqrt is math.sqrt and vars(package)["sqrt"] is math.sqrt
    with pytest.raises(AttributeError, match="'lazy_pkg' has no attribute 'cos'"):
        package.cos  # noqa: B018
