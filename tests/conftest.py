"""Shared test helpers: tool requirements (skip locally, fail under CI) and data paths."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = (REPO.parent / "shared" / "data").resolve()
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require_tools(*tools: str) -> None:
    """Skip the calling test when a tool is missing, with the reason; under CI=true fail
    instead, since CI installs every tool and an emulator test must run there."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        message = f"missing tools: {', '.join(missing)} (make demo installs them)"
        if IN_CI:
            pytest.fail(f"CI=true but {message}")
        pytest.skip(message)


@pytest.fixture
def shared_data() -> Path:
    """The reference data sets (../shared/data); skip locally when absent, fail in CI."""
    if not (SHARED_DATA / "heart.csv").exists():
        if IN_CI:
            pytest.fail(f"CI=true but the reference data are missing at {SHARED_DATA}")
        pytest.skip(f"reference data not found at {SHARED_DATA}")
    return SHARED_DATA
