"""Reading a model file's JSON (trainer/jsonfile.py): text that breaks Python's own JSON
reader (huge integers, deep nesting, lone surrogates) is one ModelFileError with the JSON
path, never a traceback; what mipnn itself writes (NaN) stays readable."""

from __future__ import annotations

import json

import pytest
from helpers_models import make_model

from mipnn.trainer.errors import ModelFileError
from mipnn.trainer.jsonfile import MAX_DEPTH, json_path, loads_checked, read_json_file
from mipnn.trainer.model import load_model


def _model_text(**extra: str) -> str:
    """A valid model file's text with ``extra`` keys whose values are raw JSON text."""
    text = json.dumps(make_model([3, 2]).to_dict())
    for key, raw in extra.items():
        text = text[:-1] + f', "{key}": {raw}}}'
    return text


def _error(tmp_path, text: str) -> str:
    path = tmp_path / "m.json"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ModelFileError) as info:
        load_model(path)
    message = str(info.value)
    assert len(message.splitlines()) == 1 and str(path) in message
    return message


def test_a_5000_digit_integer_names_its_path(tmp_path):
    """Issue 21, cause 4: Python's int-digit limit raised ValueError (a traceback)."""
    text = _model_text().replace('"bias": [', '"bias": [' + "9" * 5000 + ", ", 1)
    message = _error(tmp_path, text)
    assert "$.layers[0].bias[0]: an integer of 5000 digits" in message
    message = _error(tmp_path, _model_text(training='{"seed": -' + "1" * 5000 + "}"))
    assert "$.training.seed: an integer of 5000 digits" in message


def test_arrays_nested_100000_deep_name_their_path(tmp_path):
    """Issue 21, cause 4: deep nesting raised RecursionError in json (and in walkers)."""
    deep = "[" * 100_000 + "]" * 100_000
    message = _error(tmp_path, _model_text(training=f'{{"notes": {deep}}}'))
    assert "$.training.notes[0][0]" in message and f"more than {MAX_DEPTH} levels" in message
    # deep enough to parse, too deep to keep: the same error
    message = _error(tmp_path, _model_text(extra="[" * 150 + "]" * 150))
    assert "$.extra[0][0]" in message and f"more than {MAX_DEPTH} levels" in message
    ok = "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1)
    assert loads_checked(f'{{"a": {ok}}}', "x")["a"]


def test_lone_surrogates_name_their_path(tmp_path):
    message = _error(tmp_path, _model_text(training='{"x": ["ok", "a\\ud800"]}'))
    assert "$.training.x[1]: a lone surrogate (\\ud800)" in message
    message = _error(tmp_path, _model_text(training='{"\\udfff": 1}'))
    assert "$.training: a key with a lone surrogate (\\udfff)" in message
    # a well-formed pair is one character
    assert loads_checked('"\\ud83d\\ude00"', "x") == "\U0001f600"


def test_nan_and_infinity_stay_readable_where_the_model_does_not_use_them(tmp_path):
    path = tmp_path / "m.json"
    path.write_text(_model_text(training='{"accuracy": {"val": NaN, "x": -Infinity}}'))
    assert load_model(path).training["accuracy"]["x"] == float("-inf")
    text = _model_text().replace('"bias": [', '"bias": [NaN, ', 1)
    assert "$.layers[0].bias" in _error(tmp_path, text)


def test_only_a_regular_utf8_file_is_read(tmp_path):
    with pytest.raises(ModelFileError, match="not a regular file"):
        read_json_file("/dev/null")
    with pytest.raises(ModelFileError, match="is a directory"):
        read_json_file(tmp_path)
    (tmp_path / "b.json").write_bytes(b'{"a": "\xff"}')
    with pytest.raises(ModelFileError, match="not UTF-8"):
        read_json_file(tmp_path / "b.json")


def test_json_paths():
    assert json_path([]) == "$"
    assert json_path(["layers", 0, "weights"]) == "$.layers[0].weights"
    assert json_path(["a b", 1]) == '$["a b"][1]'
    assert json_path(["t", *[0] * 20]) == "$.t[0][0][0][0][0][0][0]...[0][0]"
