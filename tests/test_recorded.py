"""The recorded seeded runs the lessons' claims are checked on: current, and stale whenever an input changes."""

import importlib
import inspect
import json
import random
from importlib import metadata

import numpy as np
import pytest

from resnets_utils.course import recorded
from resnets_utils.experiments import EXPERIMENTS, degradation

RECORDED = [name for name, experiment in EXPERIMENTS.items() if experiment.result]


def test_each_claimed_run_is_recorded_on_the_notebooks_seed_by_this_code():
    assert {"degradation", "deeper_degradation", "no_shortcuts"} <= set(RECORDED)
    runs = json.loads(recorded.RUNS.read_text())
    for name in RECORDED:
        module = importlib.import_module(recorded._result_class(name).__module__)
        run = getattr(module, "run", None) or module.compare  # what the notebooks call, on its default seed
        assert runs[name]["seed"] == inspect.signature(run).parameters["seed"].default, name
        result = recorded.load(name)  # raises when the fingerprint differs
        assert result.losses and all(np.all(np.isfinite(loss)) for loss in result.losses.values())


def test_the_closure_holds_what_a_run_imports_inside_its_functions():
    closure = recorded.import_closure(["resnets_utils.experiments.degradation"])
    # degradation imports these only inside run() and figure()
    assert {"resnets_utils.training", "resnets_utils.views.plotting", "resnets_utils.settings"} <= set(closure)
    assert "resnets_utils.views" in closure and "resnets_utils" in closure  # parents run first
    assert not [module for module in closure if module.startswith("resnets_utils.autograde")]


@pytest.mark.parametrize("seed", range(3))
def test_a_change_to_any_input_changes_the_fingerprint_and_other_files_do_not(seed, tmp_path, monkeypatch):
    rng = random.Random(seed)
    name = rng.choice(RECORDED)
    before = recorded.fingerprint(name, 0)
    modules = recorded.package_modules()
    closure = recorded.import_closure(recorded._experiment_modules(name))
    outside = sorted(set(modules) - set(closure))

    def changed(module):
        """The package's modules, ``module``'s source with a random comment after a random line."""
        lines = modules[module].read_text(encoding="utf-8").split("\n")
        where = rng.choice([n for n, line in enumerate(lines) if not line.endswith("\\")])
        lines.insert(where + 1, f"# {rng.getrandbits(64):x}")
        copy = tmp_path / f"{module}-{rng.getrandbits(32):x}.py"
        copy.write_text("\n".join(lines), encoding="utf-8")
        return {**modules, module: copy}

    for module in rng.sample(closure, 4):
        monkeypatch.setattr(recorded, "package_modules", lambda module=module: changed(module))
        assert recorded.fingerprint(name, 0) != before, module
    for module in rng.sample(outside, 4):
        monkeypatch.setattr(recorded, "package_modules", lambda module=module: changed(module))
        assert recorded.fingerprint(name, 0) == before, module
    monkeypatch.setattr(recorded, "package_modules", lambda: modules)
    assert recorded.fingerprint(name, 1) != before  # another seed
    version = metadata.version
    library = rng.choice(recorded.LIBRARIES)
    monkeypatch.setattr(
        metadata,
        "version",
        lambda distribution: "0.0" if library in distribution.replace("_", "") else version(distribution),
    )
    assert recorded.fingerprint(name, 0) != before, library


def test_a_changed_code_cell_of_a_master_changes_the_fingerprint_and_its_prose_does_not(tmp_path, monkeypatch):
    import nbformat

    from resnets_utils.course import reference

    before = recorded.fingerprint("no_shortcuts", 0)
    real_master = reference.MASTER.read_bytes()
    folder = tmp_path / "residual_networks"
    folder.mkdir()
    for notebook in reference.MASTER.parent.glob("*.ipynb"):
        (folder / notebook.name).write_bytes(notebook.read_bytes())
    monkeypatch.setattr(reference, "MASTER", folder / reference.MASTER.name)
    for kind, changes in (("markdown", False), ("code", True)):
        edited = nbformat.read(reference.MASTER, as_version=4)
        cell = next(cell for cell in edited.cells if cell.cell_type == kind)
        cell.source += "\n# edited" if kind == "code" else "\nedited"
        nbformat.write(edited, reference.MASTER)
        assert (recorded.fingerprint("no_shortcuts", 0) != before) is changes, kind
    assert recorded.fingerprint("no_shortcuts", 0) != before
    monkeypatch.undo()
    assert reference.MASTER.read_bytes() == real_master and recorded.fingerprint("no_shortcuts", 0) == before


def test_a_run_recorded_then_loaded_is_the_run_and_a_stale_one_says_how_to_record_it(generated, tmp_path, monkeypatch):
    X_train, Y_train, *_ = generated
    result = degradation.run(X_train, Y_train, steps=3, depths=(4,))
    path = tmp_path / "runs.json"
    recorded.save("degradation", result, 0, "a CPU", "2026-12-06", path)
    again = recorded.load("degradation", path)
    assert type(again) is degradation.Degradation and again.losses.keys() == result.losses.keys()
    assert all(np.allclose(again.losses[key], result.losses[key], atol=1e-6) for key in result.losses)
    runs = json.loads(path.read_text())
    runs["degradation"]["fingerprint"] = "0" * 16
    path.write_text(json.dumps(runs))
    with pytest.raises(recorded.StaleRunError, match=r"record it again: `python scripts/measure.py degradation`"):
        recorded.load("degradation", path)
    with pytest.raises(recorded.StaleRunError, match=r"no recorded run .* `python scripts/measure.py no_shortcuts`"):
        recorded.load("no_shortcuts", path)
