"""Version-2 models and raw inputs for the tests of the raw entry points: random raw
features and models, a host runner of the generated raw C, the Adult model made version 2,
int32 edge rows, and a hypothesis strategy of raw column specifications."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from conftest import ADULT, INT32_MAX, require_tools
from helpers_models import random_network
from hypothesis import strategies as st

from mipnn.trainer.model import Model
from mipnn.trainer.raw import INT32_MIN, raw_columns


def raw_features(seed: int, spec: list, scale_max: int = 10**6) -> list[dict]:
    """Version-2 input features from ``spec``: an int ``n`` is a categorical source of ``n``
    values; ``(lo, hi)`` a numeric feature with that raw range; ``(lo, hi, source)`` one
    reading the raw column ``source`` (shared scale). Scales are random powers of ten."""
    rng = np.random.default_rng(seed)
    features: list[dict] = []
    scales: dict[str, int] = {}
    for k, item in enumerate(spec):
        if isinstance(item, int):
            features += [{"name": f"c{k}={v}", "kind": "onehot", "source": f"c{k}",
                          "value": f"v{v}"} for v in range(item)]
            continue
        lo, hi = int(item[0]), int(item[1])
        source = item[2] if len(item) > 2 else f"n{k}"
        scale = scales.setdefault(source, int(10 ** rng.integers(0, 7)) if scale_max > 1
                                  else 1)
        feat = {"name": f"n{k}", "kind": "numeric", "min": lo / scale, "max": hi / scale,
                "scale": scale, "raw_min": lo, "raw_max": hi}
        if len(item) > 2:
            feat["source"] = source
        features.append(feat)
    return features


def raw_model(seed: int, spec: list, hidden: list[int], levels: int = 255, w_max: int = 3,
              n_classes: int = 3, name: str = "rawnet") -> Model:
    """A random version-2 model whose inputs are the features of ``raw_features``."""
    features = raw_features(seed, spec)
    net = random_network(seed, [len(features), *hidden, n_classes], levels, w_max,
                         sparsity=0.3, bias_kind="scaled", tie=False, name=name)
    net.features = features
    return net


RAW_MAIN = r"""
#include <stdio.h>
#include "{name}.h"
int main(void)
{{
    int32_t raw[{NAME}_N_RAW];
    uint8_t x[{NAME}_N_INPUTS];
    int32_t s[{NAME}_N_CLASSES];
    long long v;
    int i, c;
    for (;;) {{
        for (i = 0; i < {NAME}_N_RAW; ++i) {{
            if (scanf("%lld", &v) != 1) return 0;
            raw[i] = (int32_t)v;
        }}
        {name}_encode(raw, x);
        c = {name}_predict_raw(raw, s);
        if ({name}_predict_raw(raw, 0) != c) return 3;
        for (i = 0; i < {NAME}_N_INPUTS; ++i) printf("%d ", x[i]);
        printf("| %d |", c);
        for (i = 0; i < {NAME}_N_CLASSES; ++i) printf(" %ld", (long)s[i]);
        printf("\n");
    }}
}}
"""


PGMSPACE_STUB = (  # <avr/pgmspace.h> for compiling the __AVR__ branches on the host
    "#include <stdint.h>\n"
    "#define PROGMEM\n"
    "#define pgm_read_byte(p) (*(const uint8_t *)(p))\n"
    "#define pgm_read_word(p) (*(const uint16_t *)(p))\n"
    "#define pgm_read_dword(p) (*(const uint32_t *)(p))\n"
)


def raw_host_runner(files: dict[str, str], tmp_path: Path, avr_branch: bool = False):
    """Compile generated C with strict flags and the undefined-behaviour sanitiser on the
    host, with a main that reads raw rows; returns ``run(raw) -> (X, classes, scores)``
    (``NAME_encode`` and ``NAME_predict_raw`` of every row). ``avr_branch``: compile the
    code's ``__AVR__`` branches (with a stand-in for <avr/pgmspace.h>)."""
    import subprocess

    require_tools("gcc")
    name = next(f[:-2] for f in files if f.endswith(".c"))
    for fname, text in files.items():
        (tmp_path / fname).write_text(text, encoding="utf-8")
    (tmp_path / "raw_main.c").write_text(RAW_MAIN.format(name=name, NAME=name.upper()))
    extra = []
    if avr_branch:
        (tmp_path / "stub" / "avr").mkdir(parents=True, exist_ok=True)
        (tmp_path / "stub" / "avr" / "pgmspace.h").write_text(PGMSPACE_STUB)
        extra = ["-D__AVR__", f"-I{tmp_path / 'stub'}"]
    strict = ["-std=c99", "-Wall", "-Wextra", "-Wconversion", "-Wsign-conversion", "-Werror",
              "-pedantic"]
    exe = tmp_path / "raw_main"
    proc = subprocess.run(
        ["gcc", *strict, *extra, "-O1", "-fsanitize=undefined", "-fno-sanitize-recover=all",
         f"{name}.c", "raw_main.c", "-o", str(exe)],
        cwd=tmp_path, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr

    def run(raw: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        text = "\n".join(" ".join(str(int(v)) for v in row) for row in np.asarray(raw))
        out = subprocess.run([str(exe)], input=text + "\n", capture_output=True, text=True,
                             check=False)
        assert out.returncode == 0, out.stderr
        X, classes, scores = [], [], []
        for line in out.stdout.splitlines():
            xs, c, ss = line.split("|")
            X.append([int(v) for v in xs.split()])
            classes.append(int(c))
            scores.append([int(v) for v in ss.split()])
        return np.array(X), np.array(classes), np.array(scores)

    return run


def adult_version_2() -> Model:
    """The Adult bench model as version 2: its numeric columns are integers (scale 1), so
    raw_min and raw_max are its min and max."""
    from mipnn.trainer.model import load_model, model_from_dict

    data = json.loads(load_model(ADULT).to_json())
    data["version"] = 2
    for f in data["input"]["features"]:
        if f["kind"] == "numeric":
            f.update(scale=1, raw_min=int(f["min"]), raw_max=int(f["max"]))
    return model_from_dict(data)


EDGE = (INT32_MIN, INT32_MIN + 1, -1, 0, 1, INT32_MAX - 1, INT32_MAX)


def edge_rows(features: list[dict], n_random: int = 40, seed: int = 0) -> np.ndarray:
    """Raw rows that visit, per column, every int32 edge, raw_min - 1, raw_min, raw_max,
    raw_max + 1, the middle, and unknown codes (-1, n, the int32 limits), then random ones."""
    rng = np.random.default_rng(seed)
    per_col = []
    for col in raw_columns(features):
        vals = set(EDGE)
        if col.kind == "numeric":
            for i in col.features:
                lo, hi = features[i]["raw_min"], features[i]["raw_max"]
                vals |= {lo, hi, (lo + hi) // 2, lo - 1, hi + 1, lo + 1, hi - 1}
            vals = {v for v in vals if INT32_MIN <= v <= INT32_MAX}
            lo = min(features[i]["raw_min"] for i in col.features)
            hi = max(features[i]["raw_max"] for i in col.features)
            rand = rng.integers(lo, hi, size=n_random, endpoint=True)
        else:
            n = len(col.values)
            vals |= set(range(n)) | {n, n + 1}
            rand = rng.integers(-1, n, size=n_random, endpoint=True)
        per_col.append((sorted(vals), rand))
    n_edge = max(len(v) for v, _ in per_col)
    rows = [[vals[(k + c) % len(vals)] for c, (vals, _) in enumerate(per_col)]
            for k in range(n_edge)]
    rows += [[int(r[k]) for _, r in per_col] for k in range(n_random)]
    return np.array(rows, dtype=np.int64)



@st.composite
def raw_specs(draw: st.DrawFn) -> list:
    """Columns: numeric ranges (random, near the int32 limits, constant, shared sources)
    and categorical sources of 1 to 6 values."""
    spec: list = []
    for _ in range(draw(st.integers(1, 5))):
        kind = draw(st.sampled_from(["num", "num", "edge", "const", "cat", "shared"]))
        if kind == "cat":
            spec.append(draw(st.integers(1, 6)))
            continue
        if kind == "edge":
            lo = draw(st.sampled_from([INT32_MIN, INT32_MIN + 1, -(2**30), 0, 2**30]))
            hi = draw(st.sampled_from([INT32_MAX, INT32_MAX - 1, 2**30, lo + 1]))
            lo, hi = min(lo, hi), max(lo, hi)
        elif kind == "const":
            lo = hi = draw(st.integers(INT32_MIN, INT32_MAX))
        else:
            lo = draw(st.integers(-(10**6), 10**6))
            hi = lo + draw(st.one_of(st.integers(0, 300), st.integers(0, 10**7)))
        item = (lo, min(hi, INT32_MAX))
        numeric = [s for s in spec if not isinstance(s, int)]
        if kind == "shared" and numeric:
            item = (*item, numeric[0][2] if len(numeric[0]) > 2 else f"n{spec.index(numeric[0])}")
        spec.append(item)
    return spec
