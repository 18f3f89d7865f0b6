"""C names (codegen/names.py): identifiers, keywords and reserved names are refused, and a
model's own name is never sanitised silently."""

from __future__ import annotations

import pytest
from conftest import make_model
from mipnn.codegen.errors import CodegenError
from mipnn.codegen.export import render
from mipnn.codegen.names import check_c_name


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
