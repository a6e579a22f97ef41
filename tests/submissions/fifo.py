"""A correct submission with a FIFO (named pipe) beside the notebook."""

SCORE = 10
NOT_READ = ["pipe"]


def build(kit):
    return kit.notebook()


def beside(kit):
    return {"pipe": kit.fifo()}
