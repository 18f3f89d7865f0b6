"""The peers of bench/peers.py: scikit-learn models converted to C by emlearn (decision
trees, random forests, a float MLP), and mipnn's own models, each as C files with the
``NAME_predict`` API of ARCHITECTURE.md 5 so that mipnn's firmware harness runs them
(:mod:`mipnn.device.foreign`), with the make variables their C needs on each target.

Every peer reads the same ``uint8_t`` inputs the harness feeds: emlearn's trees and
forests are generated for ``uint8_t`` features (``method="inline"``, so no input copy;
emlearn writes a threshold ``t`` as ``x < int(t)``, where scikit-learn tests ``x <= t``),
the MLP is emlearn's float network (``eml_net.h``) with the inputs' scaling by ``1/L``
folded into its first layer, fed the inputs as floats (soft float on M0/M3 and AVR,
the FPU on the M4).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np

PEER_NAME = "peer"
MIPNN_NAME = "mipnn_m"


@dataclass
class Peer:
    """A trained model with its C: ``files`` (``NAME.h``, ``NAME.c``, ...) and ``predict``
    (the Python classes of a batch of inputs)."""

    key: str
    family: str  # "mipnn", "tree", "forest", "mlp"
    params: dict[str, Any]
    files: dict[str, str]
    name: str
    predict: Any
    float_code: bool = False
    train_seconds: float = 0.0
    info: dict[str, Any] = field(default_factory=dict)


def header(name: str, n_inputs: int, n_classes: int) -> str:
    """``NAME.h`` for a peer: the sizes and the ``NAME_predict`` declaration."""
    up = name.upper()
    return (f"#ifndef {up}_H\n#define {up}_H\n#include <stdint.h>\n"
            f"#define {up}_N_INPUTS {n_inputs}\n#define {up}_N_CLASSES {n_classes}\n"
            f"int {name}_predict(const uint8_t x[{up}_N_INPUTS], "
            f"int32_t scores[{up}_N_CLASSES]);\n#endif\n")


def wrapper(name: str, call: str, float_inputs: bool) -> str:
    """``NAME.c``: ``NAME_predict`` around emlearn's predict function (``call`` with
    ``f`` the features, ``n`` their count); the scores are 1 for the class, 0 elsewhere."""
    up = name.upper()
    conv = ""
    feats = "x"
    if float_inputs:
        conv = (f"    float f[{up}_N_INPUTS];\n"
                f"    for (i = 0; i < {up}_N_INPUTS; ++i) {{ f[i] = (float)x[i]; }}\n")
        feats = "f"
    return (f'#include "{name}.h"\n#include "{name}_model.h"\n'
            f"int {name}_predict(const uint8_t x[{up}_N_INPUTS], "
            f"int32_t scores[{up}_N_CLASSES])\n{{\n    int i;\n    int32_t c;\n{conv}"
            f"    c = {call.format(f=feats, n=f'{up}_N_INPUTS')};\n"
            f"    if (scores) {{ for (i = 0; i < {up}_N_CLASSES; ++i) "
            f"{{ scores[i] = (i == c); }} }}\n    return (int)c;\n}}\n")


def load_emlearn() -> Any:
    """The emlearn module. Importing it sets ``numpy.seterr(all="raise")`` for the whole
    process (emlearn/bayes.py), which makes scikit-learn's MLP fail on a harmless float
    underflow: numpy's error handling is put back as it was."""
    saved = np.geterr()
    import emlearn

    np.seterr(**saved)
    return emlearn


def emlearn_include() -> str:
    return os.path.dirname(load_emlearn().__file__)


def make_vars(peer: Peer, target: str) -> dict[str, str]:
    """The make variables a peer's C needs on ``target`` (module docstring)."""
    if peer.family == "mipnn":
        return {}
    out = {"WARN_FLAGS": "-std=gnu99", "EXTRA_CFLAGS": f"-I{emlearn_include()}"}
    out["EXTRA_LIBS"] = "-lm -lc" if target.startswith("cortex") else "-lm"
    if peer.float_code and target == "cortex-m4":
        out["FLOAT"] = "hard"
    return out


def tree_peer(X: np.ndarray, y: np.ndarray, n_classes: int, depth: int, *,
              trees: int = 1, seed: int = 0) -> Peer:
    """A decision tree (``trees == 1``) or random forest of the given depth, by emlearn."""
    import time

    from sklearn.ensemble import RandomForestClassifier
    from sklearn.tree import DecisionTreeClassifier

    t0 = time.perf_counter()
    if trees == 1:
        est = DecisionTreeClassifier(max_depth=depth, random_state=seed)
        key, family, params = f"tree-d{depth}", "tree", {"depth": depth}
    else:
        est = RandomForestClassifier(n_estimators=trees, max_depth=depth, random_state=seed,
                                     n_jobs=1)
        key, family = f"forest-{trees}x{depth}", "forest"
        params = {"trees": trees, "depth": depth}
    est.fit(X, y)
    seconds = time.perf_counter() - t0
    code = load_emlearn().convert(est, method="inline", dtype="uint8_t").save(
        name=f"{PEER_NAME}_m", include_proba=False)
    files = {f"{PEER_NAME}.h": header(PEER_NAME, X.shape[1], n_classes),
             f"{PEER_NAME}.c": wrapper(PEER_NAME, f"{PEER_NAME}_m_predict({{f}}, {{n}})", False),
             f"{PEER_NAME}_model.h": code}
    return Peer(key, family, params, files, PEER_NAME, est.predict, train_seconds=seconds)


def mlp_peer(X: np.ndarray, y: np.ndarray, n_classes: int, hidden: int, levels: int, *,
             seed: int = 0) -> Peer:
    """emlearn's float MLP (ReLU, ``hidden`` neurons), trained on the inputs / L."""
    import time

    from sklearn.neural_network import MLPClassifier

    t0 = time.perf_counter()
    est = MLPClassifier(hidden_layer_sizes=(hidden,), max_iter=500, random_state=seed)
    est.fit(X / float(levels), y)
    est.coefs_[0] = est.coefs_[0] / float(levels)  # the C is fed the raw inputs
    seconds = time.perf_counter() - t0
    here = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="mipnn-emlearn-") as tmp:
        os.chdir(tmp)  # emlearn compiles a host copy of the network into ./tmp
        try:
            code = load_emlearn().convert(est, method="loadable").save(
                name=f"{PEER_NAME}_m")
        finally:
            os.chdir(here)
    files = {f"{PEER_NAME}.h": header(PEER_NAME, X.shape[1], n_classes),
             f"{PEER_NAME}.c": wrapper(PEER_NAME, f"eml_net_predict(&{PEER_NAME}_m, {{f}}, {{n}})",
                                       True),
             f"{PEER_NAME}_model.h": code}
    return Peer(f"mlp-{hidden}", "mlp", {"hidden": hidden}, files, PEER_NAME,
                lambda Z: est.predict(np.asarray(Z, dtype=float)), float_code=True,
                train_seconds=seconds)


def mipnn_peer(model: Any, key: str, params: dict[str, Any], target: str) -> Peer:
    """A mipnn model's C for ``target`` (strategy ``auto`` by the target's cost model)."""
    from mipnn.codegen.export import generate
    from mipnn.device import target_info
    from mipnn.trainer.model import forward

    profile = target_info(target)["cost_profile"]
    gen = generate(model, name=MIPNN_NAME, strategy="auto",
                   profile=str(profile) if profile else None)
    return Peer(key, "mipnn", params, dict(gen.files), MIPNN_NAME,
                lambda Z: forward(model, Z)[1], info={"strategy": gen.strategy})
