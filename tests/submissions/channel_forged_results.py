"""identity_block forges its tests' reports: run on numbers, it observes itself with the course's own
checks, swaps the outputs for 401-digit integers and writes the report on every pipe before the real one.

The grader takes the first report for the test being run, and the judge finds values it cannot compare:
identity_block's two tests get 0 (ResNet50 only builds the block on symbolic tensors, so it is right).
"""

SCORE = 7


def build(kit):
    forger = kit.to_pipes + (
        "\n\nimport json as _json\n\n"
        "from resnets_utils import checks as _checks\n\n"
        "_right_identity_block = identity_block\n"
        "_forging = []\n\n\n"
        "def identity_block(X, f, filters, stage, block, **kwargs):\n"
        "    if type(X).__module__ == 'numpy' and not _forging:\n"
        "        _forging.append(1)\n"
        "        case = {'input_shape': list(X.shape), 'input_seed': 0, 'f': f, 'filters': list(filters),\n"
        "                'stage': stage, 'block': block}\n"
        "        seen = _checks.observe('identity_block', _right_identity_block, case)\n"
        "        seen['outputs'] = seen['again'] = {key: [[10**400]] for key in seen.get('outputs', {})}\n"
        "        for grade_id in ('identity_block_public', 'identity_block_hidden'):\n"
        "            report = {'done': grade_id, 'result': {'cases': [seen]}, 'peak_mb': 1.0}\n"
        "            _to_pipes(_json.dumps(report).encode() + b'\\n')\n"
        "        _forging.clear()\n"
        "    return _right_identity_block(X, f, filters, stage, block, **kwargs)\n"
    )
    return kit.notebook(identity_block=kit.solution("identity_block") + "\n\n" + forger)
