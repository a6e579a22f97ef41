"""identity_block done (the rest as handed out) and an absolute link to a FIFO outside the
submission: a grader that followed it would block."""

SCORE = 3
NOT_READ = ["notes.txt"]


def build(kit):
    return kit.stubbed(identity_block=kit.solution("identity_block"))


def beside(kit):
    return {"notes.txt": kit.link(kit.trap)}
