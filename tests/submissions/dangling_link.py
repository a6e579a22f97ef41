"""A correct submission with a link to a file that does not exist (a clone of a repository made elsewhere)."""

SCORE = 10
NOT_READ = ["data"]


def build(kit):
    return kit.notebook()


def beside(kit):
    return {"data": kit.link("/home/somebody/datasets/signs")}
