"""C names (codegen/names.py): identifiers, keywords and reserved names are refused, and a
model's own name is never sanitised silently."""

from __future__ import annotations

import pytest
from helpers_models import make_model
from hypothesis import given
from hypothesis import strategies as st

from mipnn.codegen.errors import CodegenError
from mipnn.codegen.export import export, render
from mipnn.codegen.names import check_c_name, name_problem, suggest_c_name
from mipnn.trainer.model import save_model


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("int", "C keyword"),
        ("while", "C keyword"),
        ("bool", "C keyword"),
        ("3net", "not a C identifier"),
        ("my-net", "not a C identifier"),
        ("", "not a C identifier"),
        ("na\u00efve", "not a C identifier"),
        ("__x", "reserved"),
        ("_Net", "reserved"),
        # issue 21, cause 3
        ("_x", "reserved"),
        ("_", "reserved"),
        ("a__b", "'__'"),
        ("net_", "'__'"),
        ("a" * 64, "more than 63"),
        ("a" * 300, "more than 63"),
        ("stdint", "shadows the system header <stdint.h>"),
        ("STDIO", "<stdio.h>"),
        ("arduino", "<Arduino.h>"),
        ("con", "device name on Windows"),
    ],
)
def test_bad_c_names_are_refused(name, message):
    with pytest.raises(CodegenError, match=message):
        render(make_model([3, 2]), name=name)


def test_model_name_is_not_sanitised_silently():
    model = make_model([3, 2], name="heart-disease")
    with pytest.raises(CodegenError, match="--name") as info:
        render(model)
    assert "heart_disease" in str(info.value)  # a suggestion, not a silent rename
    assert set(render(model, name="heart_disease")) == {"heart_disease.h", "heart_disease.c"}
    assert check_c_name("net_2") == "net_2"


def test_a_long_name_is_a_clear_error_not_an_os_error(tmp_path):
    """Issue 21, cause 3: a 300-character name ended in an OSError (file name too long)."""
    path = save_model(make_model([3, 2], name="a" * 300), tmp_path / "m.json")
    with pytest.raises(CodegenError, match="more than 63") as info:
        export(path, tmp_path / "out")
    assert len(str(info.value).splitlines()) == 1 and len(str(info.value)) < 400
    assert check_c_name("a" * 63) == "a" * 63


@given(st.text(max_size=300))
def test_the_suggested_name_is_always_usable(name):
    suggestion = suggest_c_name(name)
    assert name_problem(suggestion) is None, suggestion
