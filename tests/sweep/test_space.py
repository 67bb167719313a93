"""Search-space expressions users of the old Optuna sweeper know, mapped to Optuna distributions."""

from __future__ import annotations

import optuna
import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from gogooku3.errors import ConfigError
from gogooku3.sweep.space import parse_search_space, trial_overrides


def test_expressions_map_to_distributions():
    space = parse_search_space(
        {
            "model.lr": "tag(log, interval(0.0001, 0.1))",
            "model.dropout": "interval(0, 0.5)",
            "model.num_leaves": "int(interval(8, 128))",
            "model.kind": "choice(gbdt, dart)",
            "model.depth": "range(2, 9, 2)",
            "seed": "7",
        }
    )
    d = space.distributions
    assert d["model.lr"] == FloatDistribution(0.0001, 0.1, log=True)
    assert d["model.dropout"] == FloatDistribution(0.0, 0.5)
    assert d["model.num_leaves"] == IntDistribution(8, 128)
    assert d["model.kind"] == CategoricalDistribution(["gbdt", "dart"])
    assert d["model.depth"] == IntDistribution(2, 8, step=2)
    assert space.fixed == {"seed": "7"}


def test_command_line_sweeps_override_config_params():
    space = parse_search_space({"a": "interval(0, 1)", "b": "choice(1, 2)"}, ["a=0.5", "b=3,4", "c=x"])
    assert space.fixed == {"a": "0.5", "c": "x"}
    assert space.distributions == {"b": CategoricalDistribution([3, 4])}


def test_trial_overrides_are_valid_hydra_overrides():
    from hydra.core.override_parser.overrides_parser import OverridesParser

    space = parse_search_space(
        {"x": "interval(0, 1)", "n": "int(interval(1, 3))", "s": "choice('a b', c)", "l": "choice([1,2],[3])"}
    )
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    overrides = trial_overrides(space, study.ask())
    parsed = {o.key_or_group: o.value() for o in OverridesParser.create().parse_overrides(overrides)}
    trial = study.trials[0]
    assert parsed["x"] == trial.params["x"] and parsed["n"] == trial.params["n"]
    assert parsed["s"] == trial.params["s"]
    assert parsed["l"] in ([1, 2], [3])


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"x": "interval(1, 0)"}, "hydra.sweeper.params.x: interval(1.0, 0.0) is empty"),
        ({"x": "tag(log, choice(1, 2))"}, "hydra.sweeper.params.x: tag(log) applies to intervals, not choice()"),
        ({"x": "interval(0,"}, "hydra.sweeper.params.x: cannot parse 'x=interval(0,'"),
    ],
)
def test_bad_spaces_are_one_line_config_errors(params, message):
    with pytest.raises(ConfigError) as info:
        parse_search_space(params)
    assert str(info.value).startswith(message)
    assert "\n" not in str(info.value)
