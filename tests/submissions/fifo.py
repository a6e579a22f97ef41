"""identity_block done (the rest as handed out) and a FIFO (named pipe) beside the notebook."""

SCORE = 3
NOT_READ = ["pipe"]


def build(kit):
    return kit.stubbed(identity_block=kit.solution("identity_block"))


def beside(kit):
    return {"pipe": kit.fifo()}
