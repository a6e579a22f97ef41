"""HTML a submission controls, aimed at the feedback the instructor opens: a link whose name and target
hold a line break and HTML, and an identity_block that raises with HTML in its message. The feedback
shows them as text. identity_block fails (its tests and ResNet50's)."""

SCORE = 3
MARKUP = '<b data-corpus-xss="1">bold</b>'


def beside(kit):
    return {f"notes\n- {MARKUP} `x` [a](b).txt": kit.link(f"/tmp/{MARKUP}")}


def build(kit):
    source = kit.edit(
        kit.solution("identity_block"), '"""\n', f'"""\n    raise RuntimeError({MARKUP!r} + "\\x1b[31m")\n', 1
    )
    return kit.notebook(identity_block=source)
