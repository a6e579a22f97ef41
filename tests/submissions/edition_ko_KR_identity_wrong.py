"""identity_wrong's code handed in in the Korean edition: the same score, its feedback in Korean."""

SCORE = 3
LANGUAGE = "ko_KR"
SAME_CODE_AS = "identity_wrong"


def build(kit):
    return kit.in_language(kit.entry(SAME_CODE_AS).build(kit), LANGUAGE)
