"""identity_block done (the rest as handed out) and a link to a file that does not exist (a clone
of a repository made elsewhere)."""

SCORE = 3
NOT_READ = ["data"]


def build(kit):
    return kit.stubbed(identity_block=kit.solution("identity_block"))


def beside(kit):
    return {"data": kit.link("/home/somebody/datasets/signs")}
