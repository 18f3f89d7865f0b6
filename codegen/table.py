"""The table loop, the plain and readable reference every other strategy is held to:
``int8_t`` weight tables in flash, one loop per layer, the accumulator started at the bias
and one multiply-add per weight (``templates/model.c.j2``).

``int8``
    The baseline: 32-bit accumulators (64-bit where a partial sum may need it).
``int16``
    The same loop, with ``int_fast16_t`` accumulators wherever range analysis
    (``mipnn.codegen.ranges``) proves every partial sum fits 16 bits. ``int_fast16_t`` is
    16 bits where that is faster (AVR, whose ``int`` is 16 bits and whose 32-bit add takes
    four instructions) and the native word elsewhere, so a 32-bit core pays no sign
    extension for it.
"""

from __future__ import annotations

from mipnn.codegen.ranges import LayerPlan
from mipnn.codegen.templating import wrap_values
from mipnn.trainer.model import Model

# The table reader macro of the template, by the bias table's element type.
BIAS_READERS = {"int8_t": "RD_I8", "int16_t": "RD_I16", "int32_t": "RD_I32"}


def loop_accumulator(plan: LayerPlan, strategy: str) -> str:
    """The accumulator type of a layer's loop under ``strategy`` (``int8`` or ``int16``)."""
    if plan.acc_type == "int64_t":
        return "int64_t"
    if strategy == "int16" and plan.acc_type == "int16_t":
        return "int_fast16_t"
    return "int32_t"


def table_layers(model: Model, plans: list[LayerPlan], strategy: str) -> list[dict[str, object]]:
    """What ``model.c.j2`` needs of every layer: its plan, accumulator type, the weight
    rows and biases as initialiser lines, and the names of its input and output arrays."""
    layers = []
    for plan, layer in zip(plans, model.layers, strict=True):
        rows = [
            {"neuron": j, "lines": wrap_values([int(v) for v in layer.weights[j]], "    ")}
            for j in range(plan.n_out)
        ]
        layers.append(
            {
                "plan": plan,
                "acc_type": loop_accumulator(plan, strategy),
                "rows": rows,
                "bias_lines": wrap_values([int(b) for b in layer.bias], "    "),
                "bias_reader": BIAS_READERS[plan.bias_type],
                "input": "x" if plan.index == 0 else f"h{plan.index}",
                "output": f"h{plan.index + 1}" if plan.activation == "sign" else "s",
                "input_desc": (
                    f"x[i], with x[i] in [0, {model.levels}]"
                    if plan.index == 0
                    else f"h{plan.index}[i], with h{plan.index}[i] in {{-1, +1}}"
                ),
            }
        )
    return layers
