"""A correct submission with more files than a submission may bring: the rest is skipped, the marks kept."""

SCORE = 10


def build(kit):
    return kit.notebook()


def beside(kit):
    return {f"images/{index:03d}.png": b"not a picture" for index in range(kit.max_files + 10)}
