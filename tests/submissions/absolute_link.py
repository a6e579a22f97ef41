"""A correct submission with an absolute link to a FIFO outside it: a grader that followed it would block."""

SCORE = 10
NOT_READ = ["notes.txt"]


def build(kit):
    return kit.notebook()


def beside(kit):
    return {"notes.txt": kit.link(kit.trap)}
