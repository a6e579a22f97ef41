"""The degradation experiment shows what the notebook says, on a seeded run."""

import random

import numpy as np
import pytest
from conftest import in_every_language, raised, spoken_problems

from resnets_utils.experiments import degradation, no_shortcuts
from resnets_utils.experiments.no_shortcuts import start_branches_at_zero
from resnets_utils.language import LANGUAGES
from resnets_utils.views import plotting


@pytest.fixture(scope="module")
def seeded_runs():
    """The Explore notebook's run and the optional notebook's deeper one, on the course's seed, as
    ``scripts/measure.py`` recorded them (``course.recorded`` refuses a run made by other code)."""
    from resnets_utils.course import recorded

    return recorded.load("degradation"), recorded.load("deeper_degradation")


def test_the_deeper_plain_network_trains_worse_and_the_deeper_residual_one_does_not(seeded_runs):
    result, _ = seeded_runs
    shallow, deep = degradation.DEPTHS
    assert all(len(loss) == degradation.STEPS and np.all(np.isfinite(loss)) for loss in result.losses.values())
    # Both claims of the notebook, on the mean training loss over the last 10% of steps.
    assert result.final("plain", deep) >= 1.10 * result.final("plain", shallow)
    assert result.final("residual", deep) <= result.final("residual", shallow)
    # The others learn: their loss falls from the start (the deep plain one may hardly move).
    for network, loss in result.losses.items():
        if network != ("plain", deep):
            assert np.mean(loss[-30:]) < 0.8 * np.mean(loss[:30]), network
    # The deep plain network stays near chance level, which the chart draws, far above the other three
    # (the text says so): nearer to chance than to the highest of them, with 1, 2 or 4 threads.
    chance, stuck = np.log(6), result.final("plain", deep)
    highest_other = max(result.final(*network) for network in result.losses if network != ("plain", deep))
    assert abs(stuck - chance) < stuck - highest_other
    figure = result.figure()
    for axis in figure.axes:
        assert any(np.allclose(line.get_ydata(), chance) for line in axis.lines), "no chance line"
    assert plotting.figure_png(figure).startswith(b"\x89PNG")


def test_at_greater_depth_the_original_block_degrades_and_the_preactivation_block_does_not(seeded_runs):
    explore, deeper = seeded_runs
    shallow, deep = degradation.DEEPER
    original_shallow, original_deep = deeper.final("residual", shallow), deeper.final("residual", deep)
    assert np.allclose(original_shallow, explore.final("residual", shallow), atol=0.02)  # one network, one run
    preactivation_deep = deeper.final("pre-activation", deep)
    # The optional notebook's two claims: the original block's deeper network ends clearly higher...
    assert original_deep >= 1.5 * original_shallow
    # ... and the pre-activation network of the same depth far lower.
    assert preactivation_deep <= 0.7 * original_deep
    # It learns: its loss falls well below where it started.
    loss = deeper.losses["pre-activation", deep]
    assert np.mean(loss[-30:]) < 0.6 * np.mean(loss[:30])
    figure = deeper.figure()
    assert [axis.get_title() for axis in figure.axes] == [f"{kind} networks" for kind in degradation.DEEPER_KINDS]


def test_a_network_has_the_depth_it_is_named_after():
    import keras

    for depth in degradation.DEPTHS + degradation.DEEPER:
        for residual, preactivation in ((False, False), (True, False), (True, True)):
            model = degradation.build_network(residual, depth, preactivation=preactivation)
            weighted = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D | keras.layers.Dense)]
            assert len(weighted) == depth
            adds = [layer for layer in model.layers if isinstance(layer, keras.layers.Add)]
            assert len(adds) == (depth - 2) // 2 * residual
            # Each original branch ends with a BatchNormalization (the recipes start its scale at zero);
            # each pre-activation branch with its convolution.
            assert start_branches_at_zero(model) == len(adds) * (not preactivation)
    with pytest.raises(ValueError, match="even number"):
        degradation.build_network(False, 7)
    with pytest.raises(ValueError, match="residual=True"):
        degradation.build_network(False, 8, preactivation=True)
    with pytest.raises(ValueError, match="kinds are"):
        degradation.run(np.zeros((2, 64, 64, 3), "uint8"), [0, 1], kinds=("preactivation",))


@pytest.mark.parametrize("seed", range(3))
def test_the_experiments_errors_are_said_in_every_language(fallbacks, seed):
    import keras

    rng = random.Random(seed)
    depth = rng.choice([rng.randint(-4, 3), 2 * rng.randint(2, 40) + 1])
    unknown = sorted(rng.sample(["deep", "wide", "dense", "vgg", "inception", "preactivation"], rng.randint(1, 3)))
    name, add = f"net_{rng.randint(0, 99)}", f"add_{rng.randint(0, 99)}"
    inputs = keras.Input((rng.randint(2, 9),))
    plain = keras.Model(inputs, keras.layers.Dense(3)(inputs), name=name)
    twice = {"layers": [{"name": add, "class_name": "Add", "inbound_nodes": [{}, {}]}]}  # one Add called twice
    pictures, labels = np.zeros((4, 16, 16, 3), np.uint8), np.zeros(4, int)
    errors = {
        f"depth must be an even number of at least 4, not {depth}": lambda: degradation.build_network(True, depth),
        "a pre-activation network is a residual network: pass residual=True": lambda: degradation.build_network(
            False, 8, preactivation=True
        ),
        f"kinds are plain, residual, pre-activation, not {', '.join(unknown)}": lambda: degradation.run(
            pictures, labels, steps=1, kinds=("plain", *unknown)
        ),
        f"{name} has no Add layer: there is no shortcut to remove": lambda: no_shortcuts.without_shortcuts(plain),
        f"the Add layer {add!r} is used more than once: rewire it by hand": lambda: no_shortcuts._main_inputs(twice),
    }
    for english, call in errors.items():
        told = in_every_language(lambda: raised(call), fallbacks)  # noqa: B023 (said at once)
        assert told["en"] == english
        for code in LANGUAGES:
            assert not spoken_problems(code, english, told[code], unknown), (english, told[code])


@pytest.mark.parametrize("seed", range(3))
def test_the_summaries_name_each_network_and_run_by_its_label_in_every_language(fallbacks, seed):
    from resnets_utils.course import editions

    rng = np.random.default_rng(seed)
    kinds = [str(kind) for kind in rng.permutation(degradation.KINDS)[: rng.integers(1, 4)]]
    depths = sorted(int(depth) for depth in rng.choice(range(4, 80, 2), size=2, replace=False))
    steps = int(rng.integers(8, 400))
    degraded = degradation.Degradation({(k, d): rng.uniform(0.1, 2, steps) for k in kinds for d in depths})
    shortcuts = no_shortcuts.ShortcutRun({name: rng.uniform(0.1, 2, steps) for name in no_shortcuts.RUNS})
    for result, names in ((degraded, kinds), (shortcuts, no_shortcuts.RUNS)):
        told = in_every_language(result.summary, fallbacks)
        lines = {code: said.splitlines() for code, said in told.items()}
        assert len(lines["en"]) == len(names)
        for code in LANGUAGES:
            for english, translated in zip(lines["en"], lines[code], strict=True):
                assert not spoken_problems(code, english, translated), (english, translated)
                assert not editions.english_words(translated), translated  # no code name left: "plain"
    for line, kind in zip(degraded.summary().splitlines(), kinds, strict=True):
        assert line.startswith(f"{kind} networks: mean training loss over the last {max(1, steps // 10)} steps: ")
        assert line.endswith(", ".join(f"{degraded.final(kind, depth):.2f} with {depth} layers" for depth in depths))
    for line, name in zip(shortcuts.summary().splitlines(), no_shortcuts.RUNS, strict=True):
        last = max(1, steps // 4)
        assert line == f"{name}: mean training loss over the last {last} steps: {shortcuts.final(name):.2f}"
