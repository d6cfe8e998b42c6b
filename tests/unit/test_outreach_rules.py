"""The outreach rules of salesboost.outreach: saturation, per-touch response, uplift, cost, cadence, config errors."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from salesboost.errors import ConfigError
from salesboost.outreach import (
    ChannelConfig,
    OutreachConfig,
    cumulative_response,
    personalisation_uplift,
    saturation,
    touch_cost,
    touch_response,
)

# -- saturation g(n) ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "kappa", "expected"),
    [
        (0, 0.7, 0.0),
        (-3, 0.7, 0.0),
        (1, 0.7, 1.0),
        (2, 0.7, (1 - math.exp(-1.4)) / (1 - math.exp(-0.7))),
        (3, 0.7, (1 - math.exp(-2.1)) / (1 - math.exp(-0.7))),
        (2, 0.7, 1 + math.exp(-0.7)),  # g(2) = 1 + e^-kappa: the second touch adds e^-kappa of the first
        (4, 1.5, 1 + math.exp(-1.5) + math.exp(-3.0) + math.exp(-4.5)),
        (1, 0.0, 1.0),
        (5, 0.0, 5.0),
        (0, 0.0, 0.0),
    ],
)
def test_saturation_matches_hand_computed_values(n, kappa, expected):
    """g(n) = (1 - e^(-kappa n)) / (1 - e^(-kappa)), 0 for n <= 0, n for kappa = 0 (rel 1e-12)."""
    assert saturation(n, kappa) == pytest.approx(expected, rel=1e-12, abs=0.0)


def test_saturation_with_tiny_kappa_tends_to_n():
    """As kappa -> 0 the saturation tends to n (no cancellation in the closed form): rel 1e-6 at kappa = 1e-9."""
    assert saturation(7, 1e-9) == pytest.approx(7.0, rel=1e-6)


def test_saturation_is_increasing_and_bounded():
    """g is strictly increasing in n and below its limit 1 / (1 - e^-kappa)."""
    kappa = 0.7
    values = [saturation(n, kappa) for n in range(1, 30)]
    assert all(b > a for a, b in itertools.pairwise(values))
    assert values[-1] < 1 / (1 - math.exp(-kappa))


# -- cumulative and per-touch response -----------------------------------------------------------------------


@pytest.mark.parametrize("p", [0.01, 0.2, 0.5, 0.9])
@pytest.mark.parametrize("kappa", [0.0, 0.5, 0.7, 1.5])
@pytest.mark.parametrize("uplift", [1.0, 1.1, 1.3])
@pytest.mark.parametrize("n", [1, 2, 3, 5, 8])
def test_touch_responses_multiply_to_the_cumulative_response(p, kappa, uplift, n):
    """prod_k (1 - touch_response(k)) = 1 - cumulative_response(n), including the cap at 1 (abs 1e-12)."""
    no_response = math.prod(1.0 - touch_response(p, k, kappa, uplift) for k in range(1, n + 1))
    assert no_response == pytest.approx(1.0 - cumulative_response(p, n, kappa, uplift), abs=1e-12)


@pytest.mark.parametrize(("p", "kappa", "uplift"), [(0.2, 0.7, 1.0), (0.9, 0.0, 1.2), (0.5, 1.0, 1.1)])
def test_touch_response_is_a_probability(p, kappa, uplift):
    """Every per-touch response probability lies in [0, 1]; the first touch's is min(1, p x uplift)."""
    values = [touch_response(p, k, kappa, uplift) for k in range(1, 12)]
    assert all(0.0 <= v <= 1.0 for v in values)
    assert values[0] == pytest.approx(min(1.0, p * uplift), rel=1e-12)


def test_cumulative_response_is_capped_at_one():
    """p x g(n) x u above 1 is capped: p = 0.9, kappa = 0 gives 1 from n = 2 on, and the next touch then is 1."""
    assert cumulative_response(0.9, 1, 0.0) == pytest.approx(0.9)
    assert cumulative_response(0.9, 2, 0.0) == 1.0
    assert cumulative_response(0.9, 5, 0.0, 1.3) == 1.0
    assert touch_response(0.9, 2, 0.0) == pytest.approx(1.0, abs=1e-12)  # (1 - 0.9) / (1 - 0.9)
    assert touch_response(0.9, 3, 0.0) == 1.0  # already certain before touch 3


def test_cumulative_response_hand_computed():
    """p = 0.2, kappa = 0.7, n = 2, u = 1.1: 0.2 x (1 + e^-0.7) x 1.1 (rel 1e-12)."""
    expected = 0.2 * (1 + math.exp(-0.7)) * 1.1
    assert cumulative_response(0.2, 2, 0.7, 1.1) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(
    ("p", "kappa", "uplift", "n"),
    [(0.2, 0.7, 1.0, 3), (0.05, 0.5, 1.1, 4), (0.3, 1.0, 1.2, 2), (0.12, 0.0, 1.0, 5)],
)
def test_sequential_touches_reach_the_cumulative_response(seed, p, kappa, uplift, n):
    """Drawing touches in turn with touch_response gives P(responded within n) = p g(n) u within 4 SE (Monte Carlo)."""
    rng = np.random.default_rng(seed)
    accounts = 200_000
    responded = np.zeros(accounts, dtype=bool)
    for k in range(1, n + 1):
        hit = rng.random(accounts) < touch_response(p, k, kappa, uplift)
        responded |= hit  # a pair responds once; later draws of a responder do not matter
    expected = p * saturation(n, kappa) * uplift
    assert expected < 1.0  # the case is not capped, so the formula applies as written
    se = math.sqrt(expected * (1 - expected) / accounts)
    assert abs(responded.mean() - expected) < 4 * se


# -- personalisation and cost -----------------------------------------------------------------------------------


@pytest.mark.parametrize("earlier", [0, 1, 2, 5, 20])
def test_personalisation_uplift_wears_out_geometrically(earlier):
    """personalisation_uplift(1.1, 0.8, k) = 1 + 0.1 x 0.8^k (rel 1e-12)."""
    assert personalisation_uplift(1.1, 0.8, earlier) == pytest.approx(1 + 0.1 * 0.8**earlier, rel=1e-12)


def test_personalisation_uplift_without_wear_out_keeps_nothing_after_the_first():
    """wear_out = 0 leaves the full uplift on the first personalised touch and none on later ones."""
    assert personalisation_uplift(1.3, 0.0, 0) == pytest.approx(1.3)
    assert personalisation_uplift(1.3, 0.0, 1) == 1.0


def test_touch_cost_of_a_phone_call():
    """A phone call: no fee, 15 minutes at 62.5 an hour = 15.625 (exact in binary)."""
    phone = ChannelConfig(cost=0.0, rep_minutes=15, response={"default": 0.2})
    assert touch_cost(phone, 62.5) == 15.625


def test_touch_cost_of_a_visit():
    """A visit: fee 250 plus 120 minutes at 62.5 an hour = 375."""
    visit = ChannelConfig(cost=250.0, rep_minutes=120, response={"default": 0.3})
    assert touch_cost(visit, 62.5) == 375.0


def test_touch_cost_of_a_digital_channel_is_its_fee():
    """A channel without rep time costs its fee whatever the hourly cost."""
    email = ChannelConfig(cost=0.01, response={"default": 0.027})
    assert touch_cost(email, 1000.0) == 0.01


@pytest.mark.parametrize(
    ("cadence", "period_days", "expected"),
    [(7, 30, 4), (45, 30, 1), (30, 30, 1), (14, 30, 2), (14, 31, 2), (7, 28, 4), (7, 27.9, 3), (7, 7, 1)],
)
def test_touches_per_period_follows_the_cadence(cadence, period_days, expected):
    """floor(period_days / cadence_days), at least 1 (cadence 7 -> 4, cadence 45 -> 1 in a 30-day period)."""
    channel = ChannelConfig(cost=0.0, response={"default": 0.1}, cadence_days=cadence)
    assert channel.touches_per_period(period_days) == expected


def test_response_of_falls_back_to_default():
    """A tier without its own probability takes the channel's 'default'; without one it is a KeyError."""
    channel = ChannelConfig(cost=0.0, response={"high_value": 0.3, "default": 0.1})
    assert channel.response_of("high_value") == 0.3
    assert channel.response_of("dormant") == 0.1
    bare = ChannelConfig(cost=0.0, response={"high_value": 0.3})
    with pytest.raises(KeyError):
        bare.response_of("dormant")


# -- OutreachConfig validation ---------------------------------------------------------------------------------


def _channels() -> dict[str, ChannelConfig]:
    return {
        "phone": ChannelConfig(cost=0.0, rep_minutes=15, response={"high_value": 0.3, "default": 0.2}),
        "email": ChannelConfig(cost=0.01, response={"default": 0.027}),
    }


def test_a_valid_tiered_config_builds():
    """The baseline the error cases below edit is itself valid (so each error comes from the one edit)."""
    config = OutreachConfig(strategy="tiered", channels=_channels(), plan={"high_value": {"phone": 0.0}})
    assert config.tier_config.tiers == ("high_value", "potential", "low_value", "dormant", "maintain")


def test_unknown_strategy_is_a_config_error():
    """strategy must be one of off, uniform, tiered, uplift; the error names 'strategy' and the bad value."""
    with pytest.raises(ConfigError) as info:
        OutreachConfig(strategy="spray", channels=_channels())
    assert info.value.key == "strategy"
    assert str(info.value).startswith("strategy:")
    assert "spray" in str(info.value)


def test_plan_naming_an_unknown_channel_is_a_config_error():
    """A plan entry for a channel that is not configured names plan.<tier>.<channel>."""
    with pytest.raises(ConfigError) as info:
        OutreachConfig(strategy="tiered", channels=_channels(), plan={"high_value": {"fax": 0.0}})
    assert info.value.key == "plan.high_value.fax"
    assert "plan.high_value.fax" in str(info.value)


def test_plan_naming_an_unknown_tier_is_a_config_error():
    """A plan entry for a tier the tier rules do not define names plan.<tier>."""
    with pytest.raises(ConfigError) as info:
        OutreachConfig(strategy="tiered", channels=_channels(), plan={"vip": {"phone": 0.0}})
    assert info.value.key == "plan.vip"
    assert "plan.vip" in str(info.value)


def test_channel_missing_a_tier_without_default_is_a_config_error():
    """A channel whose response lacks a tier and has no 'default' names channels.<name>.response and a tier."""
    channels = {**_channels(), "visit": ChannelConfig(cost=250.0, response={"high_value": 0.5})}
    with pytest.raises(ConfigError) as info:
        OutreachConfig(strategy="off", channels=channels)
    assert info.value.key == "channels.visit.response"
    assert "channels.visit.response" in str(info.value)
    assert any(repr(t) in str(info.value) for t in ("potential", "low_value", "dormant", "maintain"))


def test_tiered_without_plan_is_a_config_error():
    """strategy tiered with an empty plan names 'plan'."""
    with pytest.raises(ConfigError) as info:
        OutreachConfig(strategy="tiered", channels=_channels())
    assert info.value.key == "plan"
    assert str(info.value).startswith("plan:")


def test_uniform_naming_an_unknown_channel_is_a_config_error():
    """The uniform treatment's channels must be configured too; the error names uniform.<channel>."""
    with pytest.raises(ConfigError) as info:
        OutreachConfig(strategy="uniform", channels=_channels(), uniform={"fax": 0.0})
    assert info.value.key == "uniform.fax"


def test_plan_rank_outside_zero_one_is_a_config_error():
    """A plan's minimum monetary rank is a probability; 1.5 names plan.<tier>.<channel>."""
    with pytest.raises(ConfigError) as info:
        OutreachConfig(strategy="tiered", channels=_channels(), plan={"high_value": {"phone": 1.5}})
    assert info.value.key == "plan.high_value.phone"


def test_response_scale_multiplies_and_caps():
    """OutreachConfig.response scales the channel's tier probability by response_scale, capped at 1."""
    channels = _channels()
    config = OutreachConfig(channels=channels, response_scale=2.0)
    assert config.response(channels["phone"], "high_value") == pytest.approx(0.6)
    assert config.response(channels["phone"], "dormant") == pytest.approx(0.4)
    assert OutreachConfig(channels=channels, response_scale=5.0).response(channels["phone"], "high_value") == 1.0


def test_saturation_scale_multiplies_every_kappa():
    """OutreachConfig.kappa scales the channel's saturation; a larger kappa makes repeat touches add less."""
    channels = _channels()
    config = OutreachConfig(channels=channels, saturation_scale=2.0)
    assert config.kappa(channels["phone"]) == pytest.approx(2.0 * channels["phone"].saturation)
    p = config.response(channels["phone"], "high_value")
    flat = cumulative_response(p, 3, OutreachConfig(channels=channels).kappa(channels["phone"]))
    assert cumulative_response(p, 3, config.kappa(channels["phone"])) < flat
    with pytest.raises(ConfigError) as info:
        OutreachConfig(channels=channels, saturation_scale=-1.0)
    assert info.value.key == "saturation_scale"


def test_sensitivity_does_not_move_an_outreach_key_of_a_variant_without_outreach():
    """A baseline with strategy off keeps its own variant for outreach keys; the variant with outreach is moved."""
    from experiments.compose import compose_config, compose_variants, experiment_of
    from experiments.sensitivity import probes

    cfg = compose_config(["experiment=channel_mix"])
    variants = {v.name: v for v in compose_variants(experiment_of(cfg), [])}
    target, baseline = variants["tiered_high"], variants["no_outreach"]
    ranges = {"outreach.response_scale": [0.25, 2.0], "behaviour.contact_prob": [0.1, 0.5]}
    found = probes(target, baseline, ranges, [])
    moved = {(p.parameter, p.role): p.variant.name for p in found if p.level == "low"}
    assert moved[("outreach.response_scale", "baseline")] == "no_outreach"
    assert moved[("outreach.response_scale", "variant")] != "tiered_high"
    assert moved[("behaviour.contact_prob", "baseline")] != "no_outreach"


def test_ops_minutes_are_paid_from_the_budget_at_the_ops_rate():
    """WeCom: fee 0.1 + 3 ops-min at 37.5/h = 1.975 per touch; the full cost adds rep time (none here)."""
    from salesboost.outreach import ChannelConfig, OutreachConfig, touch_cost

    wecom = ChannelConfig(cost=0.1, ops_minutes=3.0, response={"default": 0.05})
    config = OutreachConfig(channels={"wecom": wecom}, ops_cost_per_hour=37.5)
    assert config.money_per_touch(wecom) == pytest.approx(1.975, rel=1e-12)
    assert touch_cost(wecom, 62.5, 37.5) == pytest.approx(1.975, rel=1e-12)
    phone = ChannelConfig(cost=0.0, rep_minutes=15.0, ops_minutes=1.0, response={"default": 0.2})
    assert touch_cost(phone, 62.5, 37.5) == pytest.approx(15.625 + 0.625, rel=1e-12)


def test_content_is_personalised_only_by_tag_on_a_personalised_channel():
    """No tag, or a channel that does not personalise: uplift 1; else 1 + (u - 1) x wear_out^k."""
    from salesboost.outreach import ChannelConfig, OutreachEffects, content_uplift

    effects = OutreachEffects(personalisation=1.2, wear_out=0.5)
    email = ChannelConfig(cost=0.01, response={"default": 0.03}, personalised=True)
    sms = ChannelConfig(cost=0.04, response={"default": 0.02})
    tagged = frozenset({"price_sensitive"})
    assert content_uplift(email, effects, frozenset(), 0) == 1.0
    assert content_uplift(sms, effects, tagged, 0) == 1.0
    assert content_uplift(email, effects, tagged, 0) == pytest.approx(1.2)
    assert content_uplift(email, effects, tagged, 2) == pytest.approx(1.05)
