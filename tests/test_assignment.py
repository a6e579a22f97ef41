"""The assignment notebook: the master runs, the release is clean and in sync."""

import json
import os
import re

import nbformat
import pytest
from conftest import load_script
from nbclient import NotebookClient

from resnets_utils import assignments
from resnets_utils.course import notebooks
from resnets_utils.course.reference import MASTER, RELEASE, REPO
from resnets_utils.views.diagrams import GRAPHVIZ_MISSING


def _nbgrader(cell):
    return cell.metadata.get("nbgrader", {})


@pytest.fixture(scope="module")
def executed_master(tmp_path_factory, generated_dir):
    """The master notebook executed top to bottom, in grading mode (short training)."""
    notebook = nbformat.read(MASTER, as_version=4)
    directory = tmp_path_factory.mktemp("master")
    os.environ["NBGRADER_EXECUTION"] = "autograde"
    os.environ["RESNETS_DATA_DIR"] = str(generated_dir)
    try:
        NotebookClient(
            notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(directory)}}
        ).execute()
    finally:
        del os.environ["NBGRADER_EXECUTION"], os.environ["RESNETS_DATA_DIR"]
    return notebook


def _stdout(cell):
    return "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream" and o.name == "stdout")


@pytest.mark.slow
def test_master_runs_and_every_check_passes_quietly(executed_master):
    for cell in executed_master.cells:
        if cell.cell_type != "code":
            continue
        assert not [o for o in cell.outputs if o.output_type == "error"], cell.source
        if _nbgrader(cell).get("grade"):
            assert "pass" in _stdout(cell)
            assert not [o for o in cell.outputs if o.output_type == "stream" and o.name == "stderr"]
            # nbgrader reads a test cell's result as its partial credit: a passing test shows none.
            assert not [o for o in cell.outputs if o.output_type in ("execute_result", "display_data")], cell.source


@pytest.mark.slow
def test_every_expected_output_block_equals_what_the_reference_prints(executed_master):
    blocks = 0
    last_code = None
    for cell in executed_master.cells:
        if cell.cell_type == "code":
            last_code = cell
            continue
        for expected in re.findall(r"\*\*Expected output\*\*.*?```\n(.*?)```", cell.source, re.S):
            printed = _stdout(last_code).splitlines()
            lines = expected.strip("\n").splitlines()
            assert printed[: len(lines)] == lines
            blocks += 1
    assert blocks >= 1


@pytest.mark.parametrize("assignment", assignments.ASSIGNMENTS.values(), ids=lambda assignment: assignment.name)
def test_the_master_grades_exactly_the_assignment_modules_tests_and_points(assignment):
    cells = notebooks.code_cells(notebooks.load(REPO / "course" / "source" / assignment.name / assignment.notebook))
    assert {cell.grade_id: float(cell.points) for cell in cells if cell.kind == notebooks.TEST} == assignment.points
    assert {cell.grade_id for cell in cells if cell.kind == notebooks.SOLUTION} == set(assignment.cells)
    for test in assignment.tests:  # the test cell calls the checks on its own function and cases
        source = next(cell.source for cell in cells if cell.grade_id == test.grade_id)
        assert f"({test.function}" in source and ('cases="hidden"' in source) == (test.cases == assignments.HIDDEN)


@pytest.mark.parametrize("assignment", assignments.ASSIGNMENTS.values(), ids=lambda assignment: assignment.name)
def test_points_add_up_to_the_total_stated_in_the_notebook(assignment):
    master = nbformat.read(REPO / "course" / "source" / assignment.name / assignment.notebook, as_version=4)
    introduction = master.cells[0].source.replace("\n", " ")
    total = sum(assignment.points.values())
    assert f"**{total:g} points in total**" in introduction
    for function in assignment.functions:
        points = sum(test.points for test in assignment.tests if test.function == function.name)
        assert f"`{function.name}` ({points:g} points)" in introduction


def test_release_has_no_solution_and_no_hidden_test():
    release = RELEASE.read_text()
    for marker in ("BEGIN SOLUTION", "END SOLUTION", "BEGIN HIDDEN TESTS", "HIDDEN TESTS", 'cases="hidden"'):
        assert marker not in release
    master = "\n".join(c.source for c in nbformat.read(MASTER, as_version=4).cells)
    pattern = r"### BEGIN SOLUTION\n(.*?)### END SOLUTION"
    given = set(re.sub(pattern, "", master, flags=re.S).splitlines())  # lines students are given anyway
    solution_lines = {line for region in re.findall(pattern, master, re.S) for line in region.splitlines()}
    released = set(_release_lines())
    leaked = {line for line in solution_lines - given if line.strip() and line in released}
    assert not leaked


def _release_lines():
    return "\n".join(c.source for c in nbformat.read(RELEASE, as_version=4).cells).splitlines()


def test_release_and_solutions_are_in_sync_with_the_master(capsys):
    assert load_script("release").main(["--check"]) == 0, capsys.readouterr().err[-2000:]


@pytest.mark.parametrize(
    "solution", sorted((REPO / "solutions").glob("*/*.ipynb")), ids=lambda path: f"{path.parent.name}/{path.name}"
)
def test_reference_solutions_show_diagrams_not_the_graphviz_fallback(solution):
    # Executed where `dot` was missing, they would show students a text summary instead.
    outputs = [o for c in nbformat.read(solution, as_version=4).cells if c.cell_type == "code" for o in c.outputs]
    assert outputs, "the reference solutions are committed executed (make release)"
    assert not [o for o in outputs if GRAPHVIZ_MISSING in o.get("text", "")]


def test_master_is_committed_without_outputs():
    for cell in nbformat.read(MASTER, as_version=4).cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None


@pytest.mark.parametrize("master", sorted(MASTER.parent.glob("*.ipynb")), ids=lambda path: path.name)
def test_every_master_cell_has_an_id(master):
    # Without one, nbformat invents a random id at each release and the copies never match.
    cells = json.loads(master.read_text())["cells"]
    assert [index for index, cell in enumerate(cells) if not cell.get("id")] == []
