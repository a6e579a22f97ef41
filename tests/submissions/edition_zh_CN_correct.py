"""A complete solution handed in in the Chinese edition: full marks, as in English."""

SCORE = 10
LANGUAGE = "zh_CN"


def build(kit):
    return kit.in_language(kit.notebook(), LANGUAGE)
