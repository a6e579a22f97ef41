"""identity_block's cell writes a line of JSON nested 200,000 deep on every pipe it holds (the grader's
channel among them), then defines the right function: the grader ignores the line, the run goes on
(convolutional_block done too, ResNet50 as handed out)."""

SCORE = 6


def build(kit):
    flood = kit.to_pipes + "_to_pipes(b'[' * 200_000 + b']' * 200_000 + b'\\n')\n\n\n"
    return kit.stubbed(
        identity_block=flood + kit.solution("identity_block"), convolutional_block=kit.solution("convolutional_block")
    )
