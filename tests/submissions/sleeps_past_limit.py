"""ResNet50's cell defines the function, then sleeps for a day: the cell never finishes."""

SCORE = 6


def build(kit):
    return kit.notebook(resnet50=kit.solution("resnet50") + "\n\nimport time\n\ntime.sleep(86400)\n")
