"""The deployment half of the Python API (mipnn/api.py): export and verify take a fitted
estimator, a Model in memory or a model file; verify returns the fields of one run of
``mipnn firmware --report``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from conftest import REPO, require_tools, run_cli
from sklearn.exceptions import NotFittedError

from mipnn import MIPNetClassifier, export, verify
from mipnn.device.vectors import golden_vectors
from mipnn.trainer.model import load_model, model_sha256


@pytest.fixture(scope="module")
def fitted() -> tuple[MIPNetClassifier, np.ndarray]:
    rng = np.random.default_rng(0)
    y = np.arange(60) % 2
    X = np.array([[0.0, 0.0], [4.0, 1.0]])[y] + rng.normal(0, 0.6, (60, 2))
    return MIPNetClassifier(hidden=(2,), time_limit=2.0, random_state=0).fit(X, y), X


def test_export_writes_the_c_of_a_fitted_estimator(fitted, tmp_path):
    clf, _ = fitted
    paths = export(clf, tmp_path / "c", target="cortex-m3", name="blobs")
    assert [p.name for p in paths] == ["blobs.h", "blobs.c"]
    source = paths[1].read_text()
    assert model_sha256(clf.model_) in source  # the banner: the file save_model would write
    library = export(clf.model_, tmp_path / "lib", arduino=True)
    assert (tmp_path / "lib" / "library.properties") in library
    with pytest.raises(NotFittedError):
        export(MIPNetClassifier(), tmp_path / "x")
    with pytest.raises(TypeError, match="expected a fitted MIPNetClassifier"):
        export(42, tmp_path / "x")


def test_verify_runs_on_the_host_bit_exact(fitted, tmp_path):
    require_tools("gcc", "make")
    clf, X = fitted
    result = verify(clf, "host", X=X[:10], build_dir=tmp_path / "build", measure=False)
    assert result["bit_exact"] is True and result["mismatches"] == 0
    assert result["target"] == "host" and result["model"] == "model"
    edges_and_random = len(golden_vectors(clf.model_, None))
    assert result["vectors"] == 10 + edges_and_random
    # a model in memory without test data: edge and random vectors only, said in a note
    result = verify(clf.model_, "host", measure=False)
    assert result["vectors"] == edges_and_random and result["bit_exact"]
    assert any("records no training data set" in n for n in result["notes"])


def test_verify_gives_the_fields_of_mipnn_firmware_report(tmp_path):
    require_tools("gcc", "make")
    model = REPO / "bench" / "models" / "breast_cancer-30-8-2-p3.json"
    report = tmp_path / "r.json"
    assert run_cli("firmware", str(model), "--target", "host", "--report", str(report),
                   "--no-measure").exit_code == 0
    (run,) = json.loads(report.read_text())["runs"]
    result = verify(model, "host", measure=False)
    assert set(result) == set(run)
    for key in ("target", "model", "strategy", "vectors", "bit_exact", "mismatches"):
        assert result[key] == run[key], key
    assert result["vectors"] > 100  # the test split the model file records
    assert load_model(model).training["data"]
