"""identity_block ignores its `initializer` argument: the block's checks fail, ResNet50's pass.

ResNet50 is judged by the model it builds, and ResNet-50 never passes another initializer,
so this mistake costs only the block's 3 points (the notebook's check says the same in a note).
"""

SCORE = 7


def build(kit):
    source = kit.solution("identity_block").replace("initializer(seed=0)", "glorot_uniform(seed=0)")
    assert source != kit.solution("identity_block")
    return kit.notebook(identity_block=source)
