"""Downloads (trainer/download.py): a checksum mismatch removes the file, a network failure
is a clear error pointing to --data-dir and MIPNN_DATA_DIR."""

from __future__ import annotations

import pytest
from conftest import serve

from mipnn.trainer.data import load_dataset
from mipnn.trainer.errors import DataError


def test_download_checksum_mismatch_removes_the_file(shared_data, no_env, monkeypatch):
    good = (shared_data / "adult.data").read_bytes()
    serve(monkeypatch, {"adult.data": good.replace(b"State-gov", b"State-gox", 1)})
    with pytest.raises(DataError, match=r"adult\.data: downloaded from .*sha256 .* removed"):
        load_dataset("adult")
    assert not any(no_env.iterdir())


def test_download_network_failure(no_env):
    with pytest.raises(DataError, match="could not download .*--data-dir.*MIPNN_DATA_DIR"):
        load_dataset("heart")
