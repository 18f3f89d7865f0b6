"""The cost model (codegen/cost.py): its estimates rank the strategies as measured."""

from __future__ import annotations

from conftest import ADULT

from mipnn.codegen.cost import PROFILES
from mipnn.codegen.export import generate
from mipnn.codegen.strategy import STRATEGIES, choose_strategy
from mipnn.trainer.model import load_model


def test_cost_model_choices():
    adult = load_model(ADULT)
    for profile in ("cortex-m0", "cortex-m3", "cortex-m4", "rv32", "avr", "generic32"):
        chosen, estimates = choose_strategy(adult, PROFILES[profile])
        assert chosen in ("unrolled", "xnor"), profile
        by = {e.strategy: e for e in estimates}
        assert by[chosen].time < by["int8"].time / 5
    # int16 accumulators pay off only where int is 16 bits.
    by_avr = {e.strategy: e for e in choose_strategy(adult, PROFILES["avr"])[1]}
    by_m3 = {e.strategy: e for e in choose_strategy(adult, PROFILES["cortex-m3"])[1]}
    assert by_avr["int16"].time < by_avr["int8"].time
    assert by_m3["int16"].time == by_m3["int8"].time
    gen = generate(adult, strategy="auto", profile="avr")
    assert gen.strategy == chosen or gen.strategy in ("unrolled", "xnor")
    assert gen.requested == "auto" and len(gen.estimates) == len(STRATEGIES)
