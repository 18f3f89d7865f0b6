"""How large a training problem may be, checked before anything is allocated: an upper
estimate of the MIP's matrix (its nonzeros, from the layer sizes and the number of
examples) and of the memory the MIP route or the gradient baseline needs, refused when it
cannot work: more nonzeros than HiGHS can index (``HighsInt`` is 32-bit: 2^31 - 1), or more
memory than the machine (or its container) has. So ``--hidden 1000000000`` is one line,
not a NumPy allocation of 224 GiB.

The estimate counts, per example, the rows of the first layer (about three nonzeros per
input and neuron: the pre-activation and the two sign rows), sixteen per product of a later
layer (four exact rows of three nonzeros, the sum and the sign rows), and the objective's
rows per class (``min_hinge``'s secant rows are the most: at most 160). On every objective,
with pruning, symmetry rows and the weight penalty, it is at least the matrix
``build_problem`` makes, and at most about twice that for a network of any size
(tests/test_trainer_limits.py). Building the problem takes
about 100 bytes per nonzero at its peak (NumPy triplets, then SciPy's CSC form: 95 to 102 B
measured from 0.5 to 32 million nonzeros); HiGHS's own copy comes after the triplets are
freed."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from mipnn.trainer.errors import MipnnError

HIGHS_MAX_NONZEROS = 2**31 - 1  # HiGHS indexes its matrix with a 32-bit HighsInt
MIP_BYTES_PER_NONZERO = 100  # peak memory of build_problem, measured (module docstring)
GD_ARRAYS_PER_ACTIVATION = 8  # float64 arrays of (examples x neurons) alive in one Adam step
GD_ARRAYS_PER_PARAMETER = 4  # the parameter, its gradient and Adam's two moments
MIN_EXAMPLES, MIN_INPUTS, MIN_CLASSES = 2, 1, 2  # the smallest problem mipnn train runs


class SizeError(MipnnError):
    """The network and data make a training problem too large to build."""


def mip_nonzeros(n_examples: int, n_inputs: int, hidden: Sequence[int], n_classes: int) -> int:
    """An upper estimate of the nonzeros of the training MIP (module docstring)."""
    sizes = [n_inputs, *hidden, n_classes]
    first = 3 * n_examples * (sizes[0] + 2) * sizes[1]
    later = 16 * n_examples * sum((sizes[k] + 2) * sizes[k + 1] for k in range(1, len(sizes) - 1))
    params = sum((sizes[k] + 1) * sizes[k + 1] for k in range(len(sizes) - 1))
    return first + later + 160 * n_examples * n_classes + 16 * params


def gd_bytes(n_examples: int, n_inputs: int, hidden: Sequence[int], n_classes: int) -> int:
    """An upper estimate of the memory of the gradient baseline (mipnn.trainer.gd): its
    activations for every example and layer, and its parameters with their optimiser
    state, all float64; the integer inputs as int64."""
    sizes = [n_inputs, *hidden, n_classes]
    params = sum((sizes[k] + 1) * sizes[k + 1] for k in range(len(sizes) - 1))
    activations = n_examples * sum(sizes[1:])
    return 8 * (GD_ARRAYS_PER_ACTIVATION * activations + GD_ARRAYS_PER_PARAMETER * params
                + n_examples * n_inputs)


def memory_limit() -> int | None:
    """The bytes of memory this process may use: the machine's physical memory, or the
    container's limit (cgroup v2 ``memory.max``) when that is lower; None when unknown."""
    limits = []
    try:
        limits.append(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        pass
    try:
        text = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        if text.isdigit():
            limits.append(int(text))
    except OSError:
        pass
    return min((v for v in limits if v > 0), default=None)


def _size(value: float) -> str:
    return f"{value:.3g}" if value < 1e6 else f"{value:.2e}"


def _gib(value: float) -> str:
    return f"{value / 2**30:,.1f} GiB" if value < 2**60 else f"{value / 2**30:.2e} GiB"


def check_training_size(n_examples: int, n_inputs: int, hidden: Sequence[int], n_classes: int,
                        mip: bool = True, what: str = "", data: str = "") -> None:
    """SizeError (naming ``what``, e.g. ``--hidden 4096``) when the MIP of this network on
    ``n_examples`` examples (``mip=False``: the gradient baseline alone) cannot be built:
    more nonzeros than HiGHS takes, or more memory than :func:`memory_limit`."""
    shape = "-".join(str(s) for s in [n_inputs, *hidden, n_classes])
    where = f"{what}: " if what else ""
    data = data or f"a {shape} network on {n_examples:,} examples"
    if mip:
        nonzeros = mip_nonzeros(n_examples, n_inputs, hidden, n_classes)
        if nonzeros > HIGHS_MAX_NONZEROS:
            raise SizeError(
                f"{where}{data} makes a training MIP of about {_size(nonzeros)} nonzeros; "
                f"HiGHS takes at most {HIGHS_MAX_NONZEROS:,} (its 32-bit index): use "
                "smaller hidden layers or fewer examples (--train-size, --batch-size)")
        need = nonzeros * MIP_BYTES_PER_NONZERO
    else:
        need = gd_bytes(n_examples, n_inputs, hidden, n_classes)
    have = memory_limit()
    if have is not None and need > have:
        route = "its training MIP" if mip else "the gradient baseline"
        raise SizeError(
            f"{where}{data}: building {route} needs about {_gib(need)}, more than the "
            f"{_gib(have)} of memory here: use smaller hidden layers or fewer examples "
            "(--train-size, --batch-size)")


def check_layer_sizes(hidden: Sequence[int], what: str = "--hidden") -> None:
    """SizeError for layer sizes too large for the smallest problem mipnn trains (2
    examples, 1 input, 2 classes): refused as soon as the option is read, before any data
    are loaded. The gradient baseline's memory is the bound (the MIP's is checked with the
    data: :func:`check_training_size`)."""
    check_training_size(MIN_EXAMPLES, MIN_INPUTS, hidden, MIN_CLASSES, mip=False, what=what,
                        data=f"even on the smallest data ({MIN_EXAMPLES} examples, "
                             f"{MIN_INPUTS} input, {MIN_CLASSES} classes)")
