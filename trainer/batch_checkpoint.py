"""The state of a batch run between epochs (the center network, the parameter bounds, the
epochs' records and the best single batch solution) and its checkpoint file: written
atomically after every epoch, read back to resume, and refused when it belongs to another
run (its fingerprint: the network, variant, batch size, seed and data)."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from mipnn.trainer.errors import MipnnError
from mipnn.trainer.formulation import ParamBounds
from mipnn.trainer.outputs import write_text

Network = list[tuple[np.ndarray, np.ndarray]]
CHECKPOINT_FORMAT = "mipnn.batch-checkpoint"


@dataclass
class EpochRecord:
    """One epoch of batch training: its combined network and that network's validation
    accuracy, the batches that worked and failed, and where the time went."""

    epoch: int
    val_accuracy: float
    network: Network
    ok: int
    failed: list[dict[str, Any]]
    best_batch_val: float | None
    seconds: float
    mean_solve_time: float
    mean_build_time: float
    mean_overhead: float = 0.0  # per MIP, outside the solver's run (build, hand-off, read)


@dataclass
class BatchState:
    """What a resumed run continues from."""

    center: Network
    bounds: ParamBounds
    records: list[EpochRecord]
    best_single: tuple[float, Network] | None


def network_to_json(net: Network) -> list[dict[str, Any]]:
    """A network as JSON data (weights and bias per layer)."""
    return [{"weights": W.tolist(), "bias": b.tolist()} for W, b in net]


def network_from_json(data: list[dict[str, Any]]) -> Network:
    """The network of :func:`network_to_json`'s data."""
    return [(np.array(d["weights"], dtype=np.int64), np.array(d["bias"], dtype=np.int64))
            for d in data]


def _bounds_to_json(bounds: ParamBounds) -> list[list[list[Any]]]:
    return [[a.tolist() for a in layer] for layer in bounds]


def _bounds_from_json(data: list[list[list[Any]]]) -> ParamBounds:
    return [tuple(np.array(a, dtype=np.int64) for a in layer) for layer in data]  # type: ignore[misc]


def save_checkpoint(path: Path, fingerprint: dict[str, Any], state: BatchState) -> None:
    """Write ``state`` to ``path`` atomically: an interruption never leaves half a file."""
    data = {
        "format": CHECKPOINT_FORMAT, "version": 1, "fingerprint": fingerprint,
        "center": network_to_json(state.center), "bounds": _bounds_to_json(state.bounds),
        "epochs": [asdict(r) | {"network": network_to_json(r.network)} for r in state.records],
        "best_single": None if state.best_single is None else {
            "val": state.best_single[0], "network": network_to_json(state.best_single[1])},
    }
    write_text(path, json.dumps(data), "checkpoint")


def _portable(fingerprint: Any) -> Any:
    """A fingerprint as JSON data, its data provenance without the machine-specific paths
    that checkpoints written before provenance stopped recording them hold (an absolute
    ``data_dir``; a CSV file's absolute path, now its name)."""
    out = json.loads(json.dumps(fingerprint))
    data = out.get("data") if isinstance(out, dict) else None
    if isinstance(data, dict):
        data.pop("data_dir", None)
        if isinstance(data.get("csv"), str):
            data["csv"] = Path(data["csv"]).name
    return out


def load_checkpoint(path: Path, fingerprint: dict[str, Any]) -> BatchState:
    """The state saved in ``path``; MipnnError when it is missing, unreadable, not a
    checkpoint, or of a run with another ``fingerprint`` (naming what differs)."""
    path = Path(path)
    if not path.exists():
        raise MipnnError(f"{path}: no checkpoint to resume from")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise MipnnError(f"{path}: unreadable checkpoint ({exc})") from None
    if not isinstance(data, dict) or data.get("format") != CHECKPOINT_FORMAT:
        raise MipnnError(f"{path}: $.format: not a mipnn batch checkpoint")
    saved = _portable(data.get("fingerprint"))
    now = _portable(fingerprint)
    if saved != now:
        keys = sorted(k for k in set(saved or {}) | set(now) if (saved or {}).get(k) != now.get(k))
        raise MipnnError(
            f"{path}: $.fingerprint: the checkpoint is of a different run (differs in "
            f"{', '.join(keys)}); use the same data and options, or another checkpoint")
    best = data.get("best_single")
    return BatchState(
        center=network_from_json(data["center"]),
        bounds=_bounds_from_json(data["bounds"]),
        records=[EpochRecord(**(r | {"network": network_from_json(r["network"])}))
                 for r in data["epochs"]],
        best_single=(best["val"], network_from_json(best["network"])) if best else None,
    )
