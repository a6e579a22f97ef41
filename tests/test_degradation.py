"""The degradation experiment shows what the notebook says, on a seeded run."""

import numpy as np
import pytest

from resnets_utils.experiments import degradation
from resnets_utils.views import plotting


@pytest.mark.slow
def test_the_deeper_plain_network_trains_worse_and_the_deeper_residual_one_does_not(generated):
    X_train, Y_train, *_ = generated
    result = degradation.run(X_train, Y_train, seed=0)
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


def test_a_network_has_the_depth_it_is_named_after():
    import keras

    for depth in degradation.DEPTHS:
        for residual in (False, True):
            model = degradation.build_network(residual, depth)
            weighted = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D | keras.layers.Dense)]
            assert len(weighted) == depth
            assert any(isinstance(layer, keras.layers.Add) for layer in model.layers) == residual
    with pytest.raises(ValueError, match="even number"):
        degradation.build_network(False, 7)
