"""A correct submission with a file over the per-file limit beside it: the file is skipped, the marks kept."""

SCORE = 10
NOT_READ = ["weights.h5"]


def build(kit):
    return kit.notebook()


def beside(kit):
    return {"weights.h5": kit.sparse(int(kit.max_file_mb * (1 << 20)) + 1)}
