"""The package's layout by job: old import paths still work, and the import graph runs one way."""

import subprocess
import sys
from pathlib import Path

import resnets_utils
from resnets_utils.course.recorded import imported_modules, package_modules

PACKAGE = Path(resnets_utils.__file__).resolve().parent
# Folders a student's notebook imports: none of them may need the grader (nor the grader's cluster extra).
LIBRARY = ("data", "models", "training", "views", "experiments", "course")


def test_every_old_import_path_is_the_module_at_its_new_place():
    program = "\n".join(
        [
            "import importlib, resnets_utils",
            "for old, new in resnets_utils.MOVED.items():",
            "    module = importlib.import_module(f'resnets_utils.{old}')",
            "    assert module is importlib.import_module(f'resnets_utils.{new}'), old",
            "    assert module.__spec__.name == f'resnets_utils.{new}', module.__spec__",
            "    assert getattr(resnets_utils, old) is module, old",
            "exec('from resnets_utils.lessons import Answers\\nfrom resnets_utils import measured, widgets')",
            "print(len(resnets_utils.MOVED))",
        ]
    )
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=300, check=False)
    assert result.returncode == 0, result.stderr[-3000:]
    assert int(result.stdout.split()[-1]) == len(resnets_utils.MOVED) > 0


def test_every_old_name_points_at_a_module_file():
    for old, new in resnets_utils.MOVED.items():
        assert not (PACKAGE / f"{old}.py").exists(), f"{old}.py is back beside its alias"
        assert (PACKAGE / (new.replace(".", "/") + ".py")).exists(), new


def test_no_library_module_imports_the_grader():
    for folder in LIBRARY:
        for path in (PACKAGE / folder).rglob("*.py"):
            graded = [module for module, _ in imported_modules(path) if module.startswith("resnets_utils.autograde")]
            assert not graded, f"{path.relative_to(PACKAGE)} imports {graded}"


def test_the_import_time_graph_has_no_cycles():
    paths = package_modules()
    edges = {
        name: {
            module for module, at_import in imported_modules(path) if at_import and module in paths and module != name
        }
        for name, path in paths.items()
    }
    for name in edges:  # a package's __init__ runs before any module inside it: not a cycle through its children
        edges[name] = {module for module in edges[name] if not name.startswith(module + ".")}
    state: dict[str, str] = {}

    def visit(name, trail):
        state[name] = "open"
        for module in sorted(edges[name]):
            assert state.get(module) != "open", "import cycle: " + " -> ".join([*trail, name, module])
            if module not in state:
                visit(module, [*trail, name])
        state[name] = "done"

    for name in sorted(edges):
        if name not in state:
            visit(name, [])
