"""identity_block done (the rest as handed out) and more files than a submission may bring:
the rest is skipped, the marks kept."""

SCORE = 3


def build(kit):
    return kit.stubbed(identity_block=kit.solution("identity_block"))


def beside(kit):
    return {f"images/{index:03d}.png": b"not a picture" for index in range(kit.max_files + 10)}
