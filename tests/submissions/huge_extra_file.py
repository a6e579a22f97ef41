"""identity_block done (the rest as handed out) and a file over the per-file limit beside it:
the file is skipped, the marks kept."""

SCORE = 3
NOT_READ = ["weights.h5"]


def build(kit):
    return kit.stubbed(identity_block=kit.solution("identity_block"))


def beside(kit):
    return {"weights.h5": kit.sparse(int(kit.max_file_mb * (1 << 20)) + 1)}
