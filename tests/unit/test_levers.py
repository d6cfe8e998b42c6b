"""Levers: step multipliers from their instant on, scoped to regions, and the additive ``shift``."""

from __future__ import annotations

import pytest

from sim.levers import LEVERS, Levers


def test_the_catalogue_names_every_lever_the_simulation_reads_once() -> None:
    """Each lever the world reads is listed, and none twice (a duplicate would hide a typo)."""
    assert len(set(LEVERS)) == len(LEVERS)
    assert {"demand", "qualify", "accept", "loss_hazard", "dropout", "core_dropout", "product_b"} <= set(LEVERS)


def test_an_untouched_lever_does_not_move_and_its_factor_is_exactly_one() -> None:
    """No step: ``moves`` is False, ``factor`` is exactly 1.0 and ``shift`` 0 at any time and region."""
    levers = Levers()
    levers.add("accept", 10.0, 2.0)
    for name in LEVERS:
        if name == "accept":
            continue
        assert not levers.moves(name)
        assert levers.factor(name, 0.0) == 1.0
        assert levers.factor(name, 1e9, "north") == 1.0
        assert levers.shift(name, 1e9) == 0.0
    assert levers.moves("accept")


def test_a_step_applies_from_its_instant_on_and_not_before() -> None:
    """x0.8 from hour 100: 1 just before, 0.8 at 100 exactly and after."""
    levers = Levers()
    levers.add("qualify", 100.0, 0.8)
    assert levers.factor("qualify", 99.999) == 1.0
    assert levers.factor("qualify", 100.0) == 0.8
    assert levers.factor("qualify", 5000.0) == 0.8


def test_a_step_everywhere_applies_in_every_region_and_without_one() -> None:
    """``regions=None`` is everywhere: any region, and a read that names no region."""
    levers = Levers()
    levers.add("demand", 0.0, 0.5)
    assert levers.factor("demand", 1.0) == 0.5
    assert levers.factor("demand", 1.0, "north") == 0.5
    assert levers.factor("demand", 1.0, "south") == 0.5


def test_a_regional_step_applies_only_in_its_regions() -> None:
    """A frozenset restricts the step: inside it x1.5, elsewhere (and with no region named) 1."""
    levers = Levers()
    levers.add("loss_hazard", 10.0, 1.5, frozenset({"north", "east"}))
    assert levers.factor("loss_hazard", 20.0, "north") == 1.5
    assert levers.factor("loss_hazard", 20.0, "east") == 1.5
    assert levers.factor("loss_hazard", 20.0, "south") == 1.0
    assert levers.factor("loss_hazard", 20.0) == 1.0
    assert levers.factor("loss_hazard", 5.0, "north") == 1.0  # in the region, before its instant


def test_several_steps_multiply_once_each_is_in_force() -> None:
    """x2 from 10 everywhere, x0.5 from 20 in north, x3 from 30 everywhere: products by time and region."""
    levers = Levers()
    levers.add("dropout", 10.0, 2.0)
    levers.add("dropout", 20.0, 0.5, frozenset({"north"}))
    levers.add("dropout", 30.0, 3.0)
    assert levers.factor("dropout", 5.0, "north") == 1.0
    assert levers.factor("dropout", 15.0, "north") == 2.0
    assert levers.factor("dropout", 25.0, "north") == pytest.approx(1.0)
    assert levers.factor("dropout", 25.0, "south") == 2.0
    assert levers.factor("dropout", 35.0, "north") == pytest.approx(3.0)
    assert levers.factor("dropout", 35.0, "south") == pytest.approx(6.0)


def test_steps_added_out_of_time_order_give_the_same_factor() -> None:
    """The order of ``add`` calls does not matter: a step counts only by its own instant."""
    late_first, early_first = Levers(), Levers()
    late_first.add("accept", 50.0, 1.2)
    late_first.add("accept", 10.0, 0.9)
    early_first.add("accept", 10.0, 0.9)
    early_first.add("accept", 50.0, 1.2)
    for t in (0.0, 10.0, 30.0, 50.0, 80.0):
        assert late_first.factor("accept", t) == pytest.approx(early_first.factor("accept", t))
    assert late_first.factor("accept", 30.0) == 0.9
    assert late_first.factor("accept", 80.0) == pytest.approx(1.08)


def test_shift_sums_the_additive_steps_in_force() -> None:
    """``product_b`` +0.1 from 10 and +0.05 from 20: 0, 0.1, 0.15 (a sum, not a product)."""
    levers = Levers()
    levers.add("product_b", 10.0, 0.1)
    levers.add("product_b", 20.0, 0.05)
    assert levers.shift("product_b", 9.0) == 0.0
    assert levers.shift("product_b", 10.0) == pytest.approx(0.1)
    assert levers.shift("product_b", 25.0) == pytest.approx(0.15)
    assert levers.factor("product_b", 25.0) == pytest.approx(0.005)  # the multiplicative reading differs


def test_an_unknown_lever_name_raises_and_records_nothing() -> None:
    """A typo fails at ``add`` with the name in the message, and leaves no step behind."""
    levers = Levers()
    with pytest.raises(ValueError, match="'acept'"):
        levers.add("acept", 0.0, 2.0)
    assert not levers.moves("acept")
    assert levers.factor("accept", 1.0) == 1.0
