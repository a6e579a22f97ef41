"""What the notebooks say about the student's own objects: self-check answers and the reading of a training.

Every number here is computed from what the student built or trained, when the cell runs:
an answer never states a figure the student's code did not produce. The questions
themselves are in the notebooks' text; ``Answers`` shows each answer folded
(``<details>``), so the student thinks first and unfolds after.
"""

from __future__ import annotations

import html
from collections.abc import Callable

import numpy as np

from resnets_utils.language import N_, say
from resnets_utils.models import naming

GAP_POINTS = 5  # training accuracy this many points above test accuracy: overfitting worth naming


class Answers:
    """Answers shown folded, each computed when the cell runs; a failing one says what to finish first."""

    def __init__(self, *answers: tuple[str, Callable[[], str]]):
        self.answers = []
        for title, compute in answers:
            try:
                text = compute()
            except Exception as error:  # the student's code is not ready: say so, never stop the notebook
                text = say(
                    "Not computed: your code does not run yet ({error_type}: {error}). Finish it first.",
                    error_type=type(error).__name__,
                    error=error,
                )
            self.answers.append((title, text))

    def _repr_html_(self) -> str:
        unfold = html.escape(say("(click to unfold)"))
        return "".join(
            f"<details><summary><b>{html.escape(title)}</b> {unfold}</summary><p>{html.escape(text)}</p></details>"
            for title, text in self.answers
        )

    def __repr__(self) -> str:
        return "\n".join(f"{title}: {text}" for title, text in self.answers)


def _kernel_weights(model) -> int:
    import keras

    return sum(int(np.prod(layer.kernel.shape)) for layer in model.layers if isinstance(layer, keras.layers.Conv2D))


def _block_model(block, shape, filters, **arguments):
    import keras

    inputs = keras.Input(shape)
    return keras.Model(inputs, block(inputs, 3, filters, stage=9, block="q", **arguments))


def bottleneck_weights(identity_block, channels: int = 256, filters=(64, 64, 256)) -> str:
    """How many kernel weights the student's bottleneck holds, against two 3x3 convolutions on ``channels``."""
    yours = _kernel_weights(_block_model(identity_block, (15, 15, channels), list(filters)))
    basic = 2 * 3 * 3 * channels * channels  # the basic block of ResNet-18/34, on the same channels
    return say(
        "Your block's three convolutions hold {yours:,} weights in their kernels (each 1x1 or 3x3 window "
        "times input channels times filters). Two 3x3 convolutions on {channels} channels would hold "
        "2 x 9 x {channels} x {channels} = {basic:,}, {times:.0f} times as many: the 1x1 convolutions "
        "let the 3x3 one work on {fewer} times fewer channels. He et al. use this bottleneck "
        "in ResNet-50 and deeper to keep their training time affordable (2015, section 4.1).",
        yours=yours,
        channels=channels,
        basic=basic,
        times=basic / yours,
        fewer=channels // filters[1],
    )


def zero_branch(identity_block, channels: int = 8, seed: int = 0) -> str:
    """What the student's identity block does when its last convolution's weights are zero."""
    import keras

    model = _block_model(identity_block, (5, 5, channels), [4, 4, channels], training=False)
    last = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)][-1]
    last.kernel.assign(np.zeros(last.kernel.shape))
    if last.use_bias:
        last.bias.assign(np.zeros(last.bias.shape))
    inputs = np.maximum(np.random.default_rng(seed).normal(size=(2, 5, 5, channels)), 0).astype("float32")
    difference = float(np.abs(np.asarray(model(inputs)) - inputs).max())
    return say(
        "Tried on your block, with moving averages as at the start: the largest difference between its output "
        "and its input was {difference:.2g}. The branch then gives zeros (BatchNormalization of zeros is zero "
        "before training), the addition gives the input back, and a ReLU leaves an input that came out of a "
        "ReLU unchanged: the block is the identity. A residual block reaches the identity by setting weights to "
        "zero; a plain block would have to learn it.",
        difference=difference,
    )


def strided_shape(convolutional_block, shape=(15, 15, 256), filters=(128, 128, 512), s: int = 2) -> str:
    """The output shape of the student's convolutional block on ``shape`` with stride ``s``."""
    model = _block_model(convolutional_block, shape, list(filters), s=s)
    out = tuple(model.output.shape[1:])
    return say(
        "Your block turns {height}x{width}x{channels} into {out_height}x{out_width}x{out_channels}: the stride "
        "{stride} keeps every other row and column (ceil({height} / {stride}) = {rows}) and the last convolution "
        "has {filters} filters. The input, {height}x{width}x{channels}, cannot be added to that: the shortcut's "
        "1x1 convolution with stride {stride} brings it to the same shape.",
        height=shape[0],
        width=shape[1],
        channels=shape[2],
        out_height=out[0],
        out_width=out[1],
        out_channels=out[2],
        stride=s,
        rows=-(-shape[0] // s),
        filters=filters[2],
    )


def stage_output(model, stage: int = 3) -> str:
    """The output shape of ``stage`` in the student's model, read from its last BatchNormalization's name."""
    import keras

    names = [layer.name for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]

    def output(number):  # a stage's output has the shape of its last block's last BatchNormalization
        last = [name for name in names if name.startswith(f"bn{number}") and name.endswith("branch2c")][-1]
        return last, tuple(model.get_layer(last).output.shape[1:])

    last, out = output(stage)
    _, before = output(stage - 1)
    return say(
        "{height} x {width} x {channels} in your model (its layer {layer}, the last of stage {stage}). Stage "
        "{previous_stage} leaves {previous_height} x {previous_width} x {previous_channels}; stage {stage}'s "
        "convolutional block has stride 2, so {previous_height} becomes ceil({previous_height} / 2) = {height}, "
        "and {channels} filters in its last convolution; its identity blocks keep the shape.",
        height=out[0],
        width=out[1],
        channels=out[2],
        layer=last,
        stage=stage,
        previous_stage=stage - 1,
        previous_height=before[0],
        previous_width=before[1],
        previous_channels=before[2],
    )


def shortcut_parameters(model) -> str:
    """How many of the student's model's parameters are on shortcuts (projection convolutions and their BN)."""
    import keras

    shortcut = [layer for layer in model.layers if naming.is_shortcut(layer.name)]
    count = sum(layer.count_params() for layer in shortcut)
    projections = sum(1 for layer in shortcut if isinstance(layer, keras.layers.Conv2D))
    additions = sum(1 for layer in model.layers if isinstance(layer, keras.layers.Add))
    return say(
        "Only the {projections} projection shortcuts of the convolutional blocks have weights: {count:,} "
        "parameters with their BatchNormalizations, {share:.1%} of your model's {total:,}. The other {others} "
        "shortcuts have none: a skip connection costs an addition.",
        projections=projections,
        count=count,
        share=count / model.count_params(),
        total=model.count_params(),
        others=additions - projections,
    )


def read_training(
    history: dict, test_accuracy: float, training_pictures: int, epochs: int, camera_changes: bool = False
) -> str:
    """A paragraph reading the student's learning curves, and how ``make pretrain``'s training differs, in numbers.

    ``history``: the training's metrics by epoch (``LiveProgress().history`` or ``History.history``),
    on the mirrored training pictures, as the assignment trains; ``camera_changes``: whether each
    picture was changed at random every time it was shown (``training.camera_changes``).
    """
    from resnets_utils.training.pretrain import RECIPE

    trained = history.get("accuracy") or [float("nan")]
    train_accuracy = float(trained[-1])
    gap = 100 * (train_accuracy - test_accuracy)
    lines = [
        say(
            "After the last epoch your network read {train_accuracy:.1%} of its training pictures correctly "
            "and {test_accuracy:.1%} of the test pictures.",
            train_accuracy=train_accuracy,
            test_accuracy=test_accuracy,
        )
    ]
    if not np.isfinite(gap):
        lines.append(
            say("There is no training accuracy to compare (was the model compiled with metrics=['accuracy']?).")
        )
    elif gap >= GAP_POINTS:
        lines.append(
            say(
                "The gap, {gap:.0f} points, is overfitting: the network has learned the {training_pictures:,} "
                "pictures it saw again and again better than what makes a hand show a count.",
                gap=gap,
                training_pictures=training_pictures,
            )
        )
    elif train_accuracy < 0.9:
        lines.append(
            say("Both are still low and close together: the network has not finished learning (underfitting).")
        )
    else:
        lines.append(say("The two are within {points} points: no sign of overfitting.", points=GAP_POINTS))
    yours = epochs * 2 * training_pictures  # each picture and its mirror image, every epoch
    fresh = RECIPE["fresh_pictures_per_epoch"]
    theirs = RECIPE["epochs"] * (training_pictures + fresh)  # mirrored at random, plus fresh ones
    distinct = training_pictures + RECIPE["epochs"] * fresh
    shown = YOUR_TRAINING["changed" if camera_changes else "unchanged"]
    if camera_changes == bool(RECIPE.get("camera_changes")):
        pretrain = PRETRAIN["same"]
    else:
        pretrain = PRETRAIN["changed" if RECIPE.get("camera_changes") else "unchanged"]
    lines.append(
        say(shown, yours=yours, epochs=epochs, training_pictures=training_pictures)
        + " "
        + say(
            pretrain,
            theirs=theirs,
            pretrain_epochs=RECIPE["epochs"],
            times=theirs / yours,
            distinct=distinct,
            fresh=fresh,
            distinct_times=distinct / training_pictures,
        )
    )
    return "\n".join(lines)


# The pictures of the student's training, by whether each was changed at random every time it was shown.
YOUR_TRAINING = {
    "unchanged": N_(
        "Your training showed {yours:,} pictures: {epochs} times the same {training_pictures:,} and their mirror "
        "images."
    ),
    "changed": N_(
        "Your training showed {yours:,} pictures: {epochs} times the same {training_pictures:,} and their mirror "
        "images, each time shifted, turned, zoomed and re-exposed at random."
    ),
}
# What `make pretrain` shows, by how its pictures compare with the student's: changed at random as the
# student's were or were not ("same"), or else changed at random ("changed") or not ("unchanged").
PRETRAIN = {
    "same": N_(
        "`make pretrain`, with the same recipe otherwise, shows {theirs:,} in {pretrain_epochs} epochs, "
        "{times:.1f} times as many, made from {distinct:,} different pictures ({fresh:,} fresh ones every epoch), "
        "{distinct_times:.0f} times as many as yours: a network that keeps seeing new pictures cannot learn them "
        "by heart."
    ),
    "changed": N_(
        "`make pretrain` (its pictures changed at random too) shows {theirs:,} in {pretrain_epochs} epochs, "
        "{times:.1f} times as many, made from {distinct:,} different pictures ({fresh:,} fresh ones every epoch), "
        "{distinct_times:.0f} times as many as yours: a network that keeps seeing new pictures cannot learn them "
        "by heart."
    ),
    "unchanged": N_(
        "`make pretrain` (unchanged pictures) shows {theirs:,} in {pretrain_epochs} epochs, "
        "{times:.1f} times as many, made from {distinct:,} different pictures ({fresh:,} fresh ones every epoch), "
        "{distinct_times:.0f} times as many as yours: a network that keeps seeing new pictures cannot learn them "
        "by heart."
    ),
}


def multiply_adds(model) -> int:
    """Multiply-adds for one picture in the model's convolutions and dense layers (the usual measure of
    FLOPs in He et al., 2015): for each output value, window height x width x input channels."""
    import keras

    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.layers.Conv2D):
            height, width, filters = layer.output.shape[1:]
            total += height * width * filters * int(np.prod(layer.kernel.shape[:3]))
        elif isinstance(layer, keras.layers.Dense):
            total += int(np.prod(layer.kernel.shape))
    return int(total)


def basic_or_bottleneck(basic_block, ResNet18, ResNet34, channels: int = 256) -> str:
    """Parameters and multiply-adds of the student's ResNet-18 and ResNet-34, and of one basic block
    of theirs on ``channels`` channels against a bottleneck on the same channels."""
    import keras

    inputs = keras.Input((8, 8, channels))
    block = keras.Model(inputs, basic_block(inputs, channels, stage=9, block="q"))
    basic = _kernel_weights(block)
    bottleneck = channels * (channels // 4) * 2 + 9 * (channels // 4) ** 2  # 1x1 down, 3x3, 1x1 up
    figures = []  # each model's name, millions of parameters and billions of multiply-adds
    for build in (ResNet18, ResNet34):
        model = build(input_shape=(224, 224, 3), classes=1000)
        figures.append((model.name, model.count_params() / 1e6, multiply_adds(model) / 1e9))
    (shallower, shallower_parameters, shallower_multiply_adds), (deeper, deeper_parameters, deeper_multiply_adds) = (
        figures
    )
    return say(
        "{shallower}: {shallower_parameters:.1f} million parameters and {shallower_multiply_adds:.1f} billion "
        "multiply-adds per 224x224 picture; {deeper}: {deeper_parameters:.1f} million parameters and "
        "{deeper_multiply_adds:.1f} billion multiply-adds per 224x224 picture. One of your basic blocks on "
        "{channels} channels holds {basic:,} kernel weights; a bottleneck on the same {channels} channels (1x1 "
        "down to {narrowed}, 3x3, 1x1 back up) holds {bottleneck:,}, {times:.0f} times fewer. He et al. adopt the "
        'bottleneck for ResNet-50 and deeper "because of concerns on the training time that we can afford" '
        "(2015, section 4.1): replacing each basic block of ResNet-34 by a bottleneck gives 50 layers for about "
        "the same multiply-adds (Table 1). A shallow network can afford basic blocks, and two 3x3 convolutions "
        "see a wider neighbourhood than one.",
        shallower=shallower,
        shallower_parameters=shallower_parameters,
        shallower_multiply_adds=shallower_multiply_adds,
        deeper=deeper,
        deeper_parameters=deeper_parameters,
        deeper_multiply_adds=deeper_multiply_adds,
        channels=channels,
        basic=basic,
        narrowed=channels // 4,
        bottleneck=bottleneck,
        times=basic / bottleneck,
    )


def clean_identity_path(preactivation_block, basic_block, channels: int = 8, blocks: int = 4, seed: int = 0) -> str:
    """What ``blocks`` of the student's pre-activation and basic blocks do to an input when every branch
    gives zeros (its last convolution's weights set to zero): the first passes it on exactly, the other not."""
    import keras

    inputs = np.random.default_rng(seed).normal(size=(2, 5, 5, channels)).astype("float32")
    differences = {}
    for name, block in (("pre-activation", preactivation_block), ("basic", basic_block)):
        given = keras.Input((5, 5, channels))
        X = given
        for index in range(blocks):
            X = block(X, channels, stage=9, block="abcdefgh"[index], training=False)
        model = keras.Model(given, X)
        for layer in model.layers:  # each block's last convolution: the one whose name ends its branch
            if isinstance(layer, keras.layers.Conv2D) and layer.name.endswith("_branch2b"):
                layer.kernel.assign(np.zeros(layer.kernel.shape))
                if layer.use_bias:
                    layer.bias.assign(np.zeros(layer.bias.shape))
        differences[name] = float(np.abs(np.asarray(model(inputs)) - inputs).max())
    return say(
        "Tried on {blocks} of your blocks in a row, each branch giving zeros, on an input with negative values: "
        "the largest difference between output and input is {preactivation_difference:.2g} with "
        "pre-activation blocks and {basic_difference:.2g} with basic blocks. Each basic block ends with a ReLU "
        "after the addition, which sets negative values to zero, so even an idle block changes the signal; a "
        "pre-activation block adds its branch and nothing else. Across the network, the input of any block is then "
        "the input of an earlier one plus the branches in between, and part of the gradient reaches early blocks "
        "directly, through the additions alone (He et al., 2016, section 3).",
        blocks=blocks,
        preactivation_difference=differences["pre-activation"],
        basic_difference=differences["basic"],
    )


def batchnorm_difference(ResNet18, PreActResNet18, input_shape=(64, 64, 3), classes: int = 6) -> str:
    """Where the student's ResNet-18 and pre-activation ResNet-18 differ in parameters: only in their
    BatchNormalization layers (their convolutions and dense layer hold the same weights)."""
    import keras

    counts = {}
    for build in (ResNet18, PreActResNet18):
        model = build(input_shape=input_shape, classes=classes)
        normalising = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
        counts[model.name] = (
            model.count_params(),
            len(normalising),
            sum(layer.count_params() for layer in normalising),
        )
    (basic, (all_basic, bn_basic, bn_basic_params)), (preact, (all_preact, bn_preact, bn_preact_params)) = (
        counts.items()
    )
    same = all_basic - bn_basic_params == all_preact - bn_preact_params
    counted = say(
        "{basic}: {all_basic:,} parameters, {bn_basic} BatchNormalization layers holding {bn_basic_params:,} of "
        "them; {preact}: {all_preact:,} parameters, {bn_preact} BatchNormalization layers holding "
        "{bn_preact_params:,}.",
        basic=basic,
        all_basic=all_basic,
        bn_basic=bn_basic,
        bn_basic_params=bn_basic_params,
        preact=preact,
        all_preact=all_preact,
        bn_preact=bn_preact,
        bn_preact_params=bn_preact_params,
    )
    if same:
        rest = say(
            "The rest, in the convolutions and the dense layer, are as many in both: the same layers in another order."
        )
    else:
        rest = say("The convolutions and the dense layer differ too: compare your two builders stage by stage.")
    why = say(
        "A basic block normalises what each convolution outputs, the projection's too; a pre-activation block "
        "normalises what each convolution takes in, and its projection reads the input after the first "
        "BatchNormalization, so it needs none of its own. One more, bn_final, follows the last stage. A "
        "BatchNormalization holds 4 numbers per channel (scale, offset, and the two moving statistics), so "
        "the difference is small either way."
    )
    return f"{counted} {rest} {why}"
