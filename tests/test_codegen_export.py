"""Rendering and export (codegen/export.py): the contract API, C that compiles under strict
flags on the host and Cortex-M (and the AVR branch), no floating point, the banner, golden
vectors, and models too big to unroll."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
from conftest import require_tools
from helpers_models import make_model
from helpers_raw import raw_model

import mipnn.codegen
from mipnn.codegen.errors import CodegenError
from mipnn.codegen.export import export, render, render_vectors
from mipnn.codegen.ranges import INT32_MAX
from mipnn.codegen.strategy import STRATEGIES
from mipnn.codegen.templating import mipnn_version
from mipnn.trainer.model import Layer, Model, file_sha256, save_model

REPO = Path(__file__).resolve().parents[1]

STRICT = [
    "-std=c99",
    "-Wall",
    "-Wextra",
    "-Wconversion",
    "-Wsign-conversion",
    "-Werror",
    "-pedantic",
]


def big_bias_model() -> Model:
    """Hidden biases near +/-2**31 (int64 accumulator) and output scores near INT32_MAX."""
    m = make_model([20, 6, 3], levels=255, seed=3, w_max=127, b_max=10)
    hidden = m.layers[0]
    bias = np.array([2**31 - 1, -(2**31 - 1), 5, -5, 2**31 - 1, 0])
    out = m.layers[1]
    out_bias = np.array([INT32_MAX - int(np.abs(out.weights[0]).sum()), 0, -(2**30)])
    m.layers = [Layer(hidden.weights, bias, "sign"), Layer(out.weights, out_bias, "linear")]
    return m


MODELS = {
    "30-8-2": lambda: make_model([30, 8, 2]),
    # version 2 (raw entry points): every kind of numeric input and categorical sources
    "raw": lambda: raw_model(3, [(17, 90), 9, (12285, 1484705), 16, (0, 99999),
                                 (-(2**31), 2**31 - 1), (5, 5), 42], [6, 4]),
    "1-2-no-hidden-L1": lambda: make_model([1, 2], levels=1),
    "300-64-64-64-10": lambda: make_model([300, 64, 64, 64, 10], w_max=127, b_max=5000),
    "big-bias": big_bias_model,
}


TOO_BIG_TO_UNROLL = {"300-64-64-64-10"}  # ~20,000 statements: refused by unrolled/xnor/compact
UNROLLING = ("unrolled", "xnor", "compact")


CASES = [(key, strategy) for key in sorted(MODELS) for strategy in STRATEGIES
         if not (key in TOO_BIG_TO_UNROLL and strategy in UNROLLING)]


def render_model(key: str, strategy: str) -> dict[str, str]:
    return render(MODELS[key](), strategy=strategy)


@pytest.mark.parametrize("key", sorted(TOO_BIG_TO_UNROLL))
@pytest.mark.parametrize("strategy", UNROLLING)
def test_models_too_big_to_unroll_are_refused(key, strategy):
    with pytest.raises(CodegenError, match="statements"):
        render(MODELS[key](), strategy=strategy)


def compile_c(files: dict[str, str], directory: Path, cc: str, extra: list[str]) -> Path:
    for fname, text in files.items():
        (directory / fname).write_text(text, encoding="utf-8")
    src = next(directory / f for f in files if f.endswith(".c"))
    obj = directory / (src.stem + f"-{Path(cc).name}.o")
    proc = subprocess.run(
        [cc, *STRICT, *extra, "-c", str(src), "-o", str(obj)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    return obj


def test_packages_resolve_inside_the_repository():
    # PyPI has unrelated packages named codegen/trainer (ARCHITECTURE.md 1).
    assert Path(mipnn.codegen.__file__).resolve().is_relative_to(REPO)


def test_render_gives_header_and_source_with_the_contract_api():
    files = render(make_model([30, 8, 2], name="heart"))
    assert set(files) == {"heart.h", "heart.c"}
    header = files["heart.h"]
    assert (
        "int heart_predict(const uint8_t x[HEART_N_INPUTS], int32_t scores[HEART_N_CLASSES]);"
        in header
    )
    assert "#define HEART_N_INPUTS 30\n" in header
    assert "#define HEART_N_CLASSES 2\n" in header
    assert "#define HEART_INPUT_LEVELS 255\n" in header
    assert "#include <stdint.h>" in header
    assert 'extern "C"' in header  # usable from an Arduino sketch (C++)
    assert '#include "heart.h"' in files["heart.c"]


@pytest.mark.parametrize("key,strategy", CASES)
def test_generated_c_compiles_with_strict_flags(key, strategy, tmp_path):
    files = render_model(key, strategy)
    obj = compile_c(files, tmp_path, "gcc", ["-O2"])
    # No libc calls, nothing writable: re-entrant, tables in read-only data.
    undefined = subprocess.run(["nm", "-u", str(obj)], capture_output=True, text=True)
    assert undefined.stdout.strip() == ""
    sections = subprocess.run(["size", "-A", str(obj)], capture_output=True, text=True).stdout
    for section in (".data", ".bss"):
        match = re.search(rf"^{re.escape(section)}\s+(\d+)", sections, re.M)
        assert match is None or int(match.group(1)) == 0, sections


@pytest.mark.parametrize("key,strategy", CASES)
def test_generated_c_compiles_for_cortex_m_without_libc(key, strategy, tmp_path):
    if shutil.which("arm-none-eabi-gcc") is None:
        pytest.skip("arm-none-eabi-gcc not installed (the firmware tests require it)")
    files = render_model(key, strategy)
    obj = compile_c(
        files,
        tmp_path,
        "arm-none-eabi-gcc",
        ["-mcpu=cortex-m0", "-mthumb", "-Os", "-ffreestanding"],
    )
    undefined = subprocess.run(
        ["arm-none-eabi-nm", "-u", str(obj)], capture_output=True, text=True
    ).stdout.split()
    # Only libgcc helpers (64-bit arithmetic on a 32-bit core; the Thumb-1 switch tables of
    # compact's gather loop), never libc.
    assert all(sym.startswith(("__aeabi_", "__gnu_thumb1_case_")) for sym in undefined[1::2]), \
        undefined


def test_avr_branch_compiles_with_progmem(tmp_path):
    """The ``__AVR__`` branch, checked with a stand-in for <avr/pgmspace.h>."""
    stub = tmp_path / "stub" / "avr"
    stub.mkdir(parents=True)
    (stub / "pgmspace.h").write_text(
        "#include <stdint.h>\n"
        '#define PROGMEM __attribute__((section(".progmem.data")))\n'
        "#define pgm_read_byte(p) (*(const uint8_t *)(p))\n"
        "#define pgm_read_word(p) (*(const uint16_t *)(p))\n"
        "#define pgm_read_dword(p) (*(const uint32_t *)(p))\n"
    )
    model = big_bias_model()
    files = render(model, strategy="int8")
    files["mipnn_fw_vectors.h"] = render_vectors(model, np.zeros((2, 20), dtype=np.uint8))
    files["use_vectors.c"] = (
        '#include "mipnn_fw_vectors.h"\n'
        "int first(void);\n"
        "int first(void) { return MIPNN_FW_RD_U8(&mipnn_fw_vectors[1][3]); }\n"
    )
    for fname, text in files.items():
        (tmp_path / fname).write_text(text)
    for src in ("net.c", "use_vectors.c"):
        proc = subprocess.run(
            ["gcc", *STRICT, "-D__AVR__", f"-I{tmp_path / 'stub'}", "-c", src, "-o", "/dev/null"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
        )
        assert proc.returncode == 0, proc.stderr
    assert "net_w0[6 * 20] NET_ROM" in files["net.c"]


def test_header_compiles_as_cpp(tmp_path):
    cxx = shutil.which("g++") or shutil.which("arm-none-eabi-g++")
    if cxx is None:
        pytest.skip("no C++ compiler installed")
    files = render(make_model([4, 3, 2]))
    for fname, text in files.items():
        (tmp_path / fname).write_text(text)
    (tmp_path / "sketch.cpp").write_text(
        '#include "net.h"\nint use(const uint8_t *x) { return net_predict(x, 0); }\n'
    )
    proc = subprocess.run(
        [cxx, "-Wall", "-Wextra", "-Werror", "-c", "sketch.cpp", "-o", "/dev/null"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 0, proc.stderr


@pytest.mark.parametrize("key,strategy", CASES)
def test_no_floating_point_in_generated_c(key, strategy):
    for text in render_model(key, strategy).values():
        assert not re.search(r"\b(float|double)\b", text)


def test_banner_records_version_and_model_sha256(tmp_path):
    path = save_model(make_model([5, 3, 2], name="demo"), tmp_path / "demo.json")
    written = export(path, tmp_path / "out")
    assert [p.name for p in written] == ["demo.h", "demo.c"]
    sha = file_sha256(path)
    for p in written:
        head = p.read_text().splitlines()[:5]
        banner = "\n".join(head)
        assert f"sha256 {sha}" in banner
        assert f"mipnn {mipnn_version()}" in banner
        assert "Do not edit" in banner
    in_memory = render(make_model([5, 3, 2]))
    assert all("in-memory model" in text[:300] for text in in_memory.values())


def test_export_with_name_and_into_new_directory(tmp_path):
    path = save_model(make_model([5, 3, 2], name="heart-disease"), tmp_path / "m.json")
    written = export(path, tmp_path / "a" / "b", name="heart")
    assert sorted(p.name for p in written) == ["heart.c", "heart.h"]
    assert all(p.exists() for p in written)


def test_render_vectors_validates_shape_and_range():
    model = make_model([3, 2], levels=7)
    text = render_vectors(model, np.array([[0, 7, 1]]))
    assert "#define MIPNN_FW_N_VECTORS 1" in text and "#define MIPNN_FW_PREDICT net_predict" in text
    with pytest.raises(CodegenError, match="shape"):
        render_vectors(model, np.zeros((2, 4), dtype=np.uint8))
    with pytest.raises(CodegenError, match=r"\[0, 7\]"):
        render_vectors(model, np.array([[0, 8, 1]]))


# Comment openers and closers, a trigraph line splice, quotes, line breaks (also Unicode's),
# a backslash at the end: everything that could end, nest or extend a C comment.
HOSTILE_TEXT = 'a/*b */ c/*/ ??/ "q" \\ \r\n// x\u2028y\u0085 \u00e9 *//*\\'
PLACES = ("class label", "model name", "feature name", "category source", "category value")


def hostile_model(place: str) -> Model:
    """A model with HOSTILE_TEXT in one of the strings the generated C quotes in comments."""
    model = make_model([2, 3, 2], name="net")
    feats = [{"name": "f", "kind": "numeric", "min": 0.0, "max": 1.0},
             {"name": "g=v", "kind": "onehot", "source": "g", "value": "v"}]
    if place == "class label":
        model.classes[1] = HOSTILE_TEXT
    elif place == "model name":
        model.name = HOSTILE_TEXT
    elif place == "feature name":
        feats[0]["name"] = HOSTILE_TEXT
    elif place == "category source":
        feats[1]["source"] = HOSTILE_TEXT
    else:
        feats[1]["value"] = HOSTILE_TEXT
    model.features = feats
    model.validate()
    return model


@pytest.mark.parametrize("strategy", ["int8", "unrolled"])
@pytest.mark.parametrize("place", PLACES)
def test_strings_in_comments_cannot_break_the_strict_compile(place, strategy, tmp_path):
    """Issue 21, cause 2: a label, model name, feature name or category value holding
    ``/*`` broke the strict compile ("/*" within comment)."""
    files = render(hostile_model(place), name="net", strategy=strategy)
    compile_c(files, tmp_path, "gcc", ["-O2", "-Wcomment", "-Wtrigraphs"])


def test_scores_that_differ_by_a_constant_compile_with_avr_gcc(tmp_path):
    """Found by the adversarial models (issue 21): two output rows with the same weights
    make one score the other plus a constant; GCC before 8 (avr-gcc 5.4, 7.3) then folds
    their comparison assuming no signed overflow and warns in -Wall (-Wstrict-overflow),
    an error under -Werror. The unrolled C silences that warning, whose assumption the
    range analysis proves."""
    require_tools("avr-gcc")
    model = Model(name="net", classes=["a", "b"], input_size=1, levels=1,
                  layers=[Layer(np.array([[1], [1]]), np.array([32766, 2]), "linear")])
    for strategy in STRATEGIES:
        compile_c(render(model, strategy=strategy), tmp_path, "avr-gcc",
                  ["-Os", "-mmcu=atmega328p"])


def test_a_model_in_memory_exports_as_its_saved_file_does(tmp_path):
    model = make_model([5, 3, 2], name="inmem")
    path = save_model(model, tmp_path / "inmem.json")
    from_file = export(path, tmp_path / "a")
    in_memory = export(model, tmp_path / "b")
    assert [p.name for p in in_memory] == ["inmem.h", "inmem.c"]
    for a, b in zip(from_file, in_memory, strict=True):
        assert a.read_text() == b.read_text()
    assert file_sha256(path) in in_memory[1].read_text()
