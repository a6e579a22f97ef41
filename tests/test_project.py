"""The project's set-up promises: two commands, pins in sync, CI runs the README's command."""

import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import pytest
import yaml
from conftest import SCRIPTS, load_script
from PIL import Image

REPO = Path(__file__).resolve().parent.parent


def _readme_commands():
    first_block = re.search(r"```bash\n(.*?)```", (REPO / "README.md").read_text(), re.S).group(1)
    return [line.split("#")[0].strip() for line in first_block.splitlines() if line.strip()]


def test_readme_opens_with_the_two_commands():
    assert _readme_commands() == ["make lab", "make test"]


def test_ci_runs_exactly_the_readme_test_command():
    commands = [
        line.strip()
        for line in (REPO / ".ci" / "run").read_text().splitlines()
        if line.strip() and not line.strip().startswith("#")
    ]
    assert commands[-1] == _readme_commands()[1]


# "name==2.4.*" (a minor version), "name==2.13.0" (an exact release) or "name==4.5.post3" (a post-release).
PIN = r"([A-Za-z0-9_-]+)==(\d+\.\d+(?:\.\d+)?(?:\.post\d+)?)(?:\.\*)?(?:$|\s|;)"


def _pins_from_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    pins = {}
    extras = project["optional-dependencies"]
    for requirement in project["dependencies"] + [pin for extra in extras.values() for pin in extra]:
        name, version = re.match(PIN, requirement).groups()
        pins[name.lower()] = version
    return pins


def _pins_from_environment_yml(name="environment.yml"):
    environment = yaml.safe_load((REPO / name).read_text())
    pins = {}
    for entry in environment["dependencies"]:
        if isinstance(entry, dict):  # the pip section
            for requirement in entry["pip"]:
                match = re.match(PIN, requirement)
                if match:
                    pins[match.group(1).lower()] = match.group(2)
        elif "=" in entry:
            name, version = entry.split("=")
            pins[name.lower()] = version
    return environment, pins


def test_environment_yml_pins_the_same_versions_as_pyproject():
    environment, conda = _pins_from_environment_yml()
    cluster_environment, cluster = _pins_from_environment_yml("environment-cluster.yml")
    assert cluster_environment["name"] == environment["name"] and not conda.keys() & cluster.keys()
    conda |= cluster
    pip = _pins_from_pyproject()
    assert "conda-forge" in environment["channels"]
    assert conda.pop("python") == "3.11"
    # The TensorFlow wheel differs by platform in pyproject; both markers pin one version.
    assert pip.pop("tensorflow") == pip.pop("tensorflow-cpu") == conda.pop("tensorflow-cpu")
    assert conda == pip
    assert "graphviz" in environment["dependencies"]
    assert "-e ." in next(e for e in environment["dependencies"] if isinstance(e, dict))["pip"]


def test_students_install_no_cluster_software():
    dependencies = " ".join(tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"])
    _, conda = _pins_from_environment_yml()
    for package in ("dask", "distributed"):
        assert package not in dependencies and package not in conda, f"{package} is for the cluster extra only"


@pytest.mark.parametrize("name", ["environment.yml", "environment-cluster.yml"])
def test_environment_yml_says_why_each_package_is_there(name):
    text = (REPO / name).read_text()
    for line in text.split("dependencies:", 1)[1].splitlines():
        if re.match(r"\s+- [a-z-]", line) and line.strip() not in ("- pip", "- pip:"):
            assert "#" in line, f"no comment on: {line.strip()}"


def test_installed_versions_match_the_pins():
    from importlib.metadata import version

    for name, pin in _pins_from_pyproject().items():
        if name == "tensorflow" and sys.platform == "linux":
            continue  # the CPU wheel is installed under its own name
        if name == "tensorflow-cpu" and sys.platform != "linux":
            continue
        installed = version(name).split("+")[0]  # a local build says e.g. 2.21.0+cpu
        assert installed == pin or installed.startswith(pin + "."), f"{name} {version(name)} is not {pin}"


def test_readme_figure_is_up_to_date(tmp_path, drawn_once):
    fresh = tmp_path / "samples.png"
    load_script("make_figures").main(fresh)  # the session's drawing of the course's data
    committed = np.asarray(Image.open(REPO / "docs" / "signs_samples.png"))
    assert np.array_equal(np.asarray(Image.open(fresh)), committed), "run `make figures` and commit"


def test_a_module_fixture_shared_with_a_slow_test_is_built_in_one_process_only(tmp_path):
    # The suite's own conftest and options on a made-up module: a pytest or pytest-xdist upgrade that
    # drops the groups would grade the corpus once per process, which no other test would notice.
    shutil.copy(REPO / "tests" / "conftest.py", tmp_path / "conftest.py")
    options = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["pytest"]["ini_options"]
    (tmp_path / "pytest.ini").write_text(
        f"[pytest]\naddopts = {options['addopts']}\nmarkers =\n    slow: slow\n", encoding="utf-8"
    )
    quick = "".join(f"def test_quick_{n}(built):\n    time.sleep(0.2)\n\n\n" for n in range(6))
    (tmp_path / "test_made_up.py").write_text(
        "import os\nimport time\n\nimport pytest\n\n\n"
        "@pytest.fixture(scope='module')\n"
        "def built():\n"
        "    with open('builds.txt', 'a') as log:\n"
        "        log.write(os.environ['PYTEST_XDIST_WORKER'] + '\\n')\n\n\n"
        "@pytest.mark.slow\ndef test_slow(built):\n    time.sleep(1)\n\n\n" + quick,
        encoding="utf-8",
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-n", "2", "-p", "no:cacheprovider", "-q"],
        cwd=tmp_path, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-2000:]
    assert len((tmp_path / "builds.txt").read_text().split()) == 1, result.stdout[-2000:]


def test_the_readme_says_in_each_language_how_to_open_the_course_in_it():
    from resnets_utils.language import LANGUAGES

    paragraphs = (REPO / "README.md").read_text().split("\n\n")
    for language in LANGUAGES:
        command = f"make lab LANGUAGE={language}"
        said = [p for p in paragraphs if command in p and len(SCRIPTS[language].findall(p)) > 40]
        assert len(said) == 1, f"no paragraph in {language} with `{command}`"
        assert f"assignments/residual_networks_{language}/" in said[0]
