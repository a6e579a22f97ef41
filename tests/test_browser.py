"""The course in a real JupyterLab, in a real browser (Debian's Chromium).

`make lab` (in English, Chinese and Korean) serves the course and opens the assignment's
edition in that language, with JupyterLab's menus in it. Then JupyterLab serves a scratch
folder with the reference assignment and the exploration notebook; Playwright drives
Chromium to run every cell, then checks in the page that the widgets rendered, that an
image is shown, and that moving a slider changes it. Screenshots are kept in test-artifacts/.
"""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from resnets_utils.language import ENGLISH, LANGUAGES

REPO = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARTIFACTS = REPO / "test-artifacts"
# Without these, Chromium keeps calling home, and this machine's closed network refuses it.
CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]

pytestmark = pytest.mark.slow


def _require_chromium():
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing: .ci/run installs it with apt-get install chromium")
    pytest.skip(f"no Chromium at {CHROMIUM}: install it (Debian: apt-get install chromium) or set CHROMIUM")


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def jupyterlab(tmp_path, generated_dir):
    """A JupyterLab on 127.0.0.1 serving the assignment (reference) and the exploration notebook."""
    _require_chromium()
    root = tmp_path / "course"
    root.mkdir()
    shutil.copy(REPO / "solutions" / "residual_networks" / "Residual_Networks.ipynb", root)
    shutil.copy(REPO / "assignments" / "residual_networks" / "Explore_ResNet.ipynb", root)
    port, token = _free_port(), "browser-test"
    command = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
        f"--ServerApp.token={token}", f"--ServerApp.root_dir={root}",
        "--LabApp.expose_app_in_browser=True",  # window.jupyterapp: the test reads the kernel's real state
    ]  # fmt: skip
    if os.geteuid() == 0:
        command.append("--allow-root")
    # The course's settings in English, whatever `make lab LANGUAGE=...` last wrote into the environment.
    settings = tmp_path / "lab-settings"
    subprocess.run(
        [sys.executable, REPO / "scripts" / "lab_settings.py", ENGLISH, settings / "overrides.json"], check=True
    )
    command.append(f"--LabApp.app_settings_dir={settings}")
    environment = {
        **os.environ,
        "RESNETS_DATA_DIR": str(generated_dir),
        "NBGRADER_EXECUTION": "autograde",  # the notebook's short training, as in grading
        "JUPYTER_CONFIG_DIR": str(tmp_path / "jupyter-config"),  # no user settings
    }
    log_path = tmp_path / "jupyterlab.log"
    log = log_path.open("w")
    server = subprocess.Popen(command, env=environment, stdout=log, stderr=log, start_new_session=True)
    try:
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=5):
                    break
            except OSError:
                assert server.poll() is None, log_path.read_text()[-2000:]
                time.sleep(1)
        yield f"http://127.0.0.1:{port}", token, log_path
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)


# True once every code cell has an execution count (none waiting "[ ]" or running "[*]"),
# or as soon as a cell shows a traceback, which stops Run All.
ALL_CELLS_RAN_OR_ERROR = """() => {
    const prompts = [...document.querySelectorAll('.jp-CodeCell .jp-InputPrompt')];
    const outputs = [...document.querySelectorAll('.jp-OutputArea-output')];
    return (prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent)))
        || outputs.some(o => o.textContent.includes('Traceback (most recent call last)'));
}"""


# JupyterLab's own state of the open notebook's kernel (a label can say Idle before the notebook
# holds its kernel; Run All then finds none and asks for one, once per cell).
KERNEL_STATE = """() => {
    const context = window.jupyterapp?.shell.currentWidget?.sessionContext;
    const kernel = context?.session?.kernel;
    return kernel ? `${kernel.id.slice(0, 8)} ${kernel.connectionStatus} ${kernel.status}`
                  : `no kernel (session ${context?.session ? 'open' : 'none'})`;
}"""
KERNEL_READY = f"() => / connected idle$/.test(({KERNEL_STATE})())"

ANY_CELL_STARTED = """() => [...document.querySelectorAll('.jp-InputPrompt')]
    .some(p => /\\[(\\*|\\d+)\\]/.test(p.textContent))"""


def _run_all_cells(page, log):
    """Run > Run All Cells, and wait until every cell has run; fail with what the page shows."""
    for attempt in range(2):
        try:
            page.wait_for_function(KERNEL_READY, timeout=120_000)
            _note(page, f"test: the notebook's kernel is {page.evaluate(KERNEL_STATE)}; Run All Cells")
            page.get_by_role("menuitem", name="Run", exact=True).click(timeout=30_000)
            page.get_by_role("menuitem", name="Run All Cells", exact=True).click(timeout=30_000)
        except Exception as error:
            raise AssertionError(_page_report(page, log)) from error
        try:
            # A click that lands while JupyterLab is still wiring the kernel can run nothing.
            page.wait_for_function(ANY_CELL_STARTED, timeout=30_000)
            break
        except Exception:
            if attempt:
                raise
    try:
        page.wait_for_function(ALL_CELLS_RAN_OR_ERROR, timeout=420_000)
    except Exception as error:
        raise AssertionError(_page_report(page, log)) from error
    if page.locator(".jp-OutputArea-output", has_text="Traceback (most recent call last)").count():
        raise AssertionError(_page_report(page, log))


def _page_report(page, log):
    """What JupyterLab shows (prompts, error outputs, any open dialog), the server's last log
    lines and a screenshot, for a failure message."""
    page.screenshot(path=str(ARTIFACTS / "explore_failure.png"), full_page=True)
    prompts = page.locator(".jp-CodeCell .jp-InputPrompt").all_inner_texts()
    errors = page.locator('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]').all_inner_texts()
    dialogs = page.locator(".jp-Dialog").all_inner_texts()
    return (
        f"the notebook did not run through; prompts: {' '.join(p.strip() for p in prompts)}\n"
        f"stderr and error outputs:\n{chr(10).join(e[-1500:] for e in errors) or '(none)'}\n"
        f"open dialogs: {' | '.join(' '.join(d.split()) for d in dialogs) or '(none)'}\n"
        f"the notebook's kernel: {page.evaluate(KERNEL_STATE)}\n"
        f"the browser's console ends:\n{chr(10).join(getattr(page, 'console_lines', [])[-40:])}\n"
        f"JupyterLab's log ends:\n{log.read_text()[-3000:]}\n"
        f"screenshot: {ARTIFACTS / 'explore_failure.png'}"
    )


def _note(page, line):
    """Keep a timed line of what happened in the page, for a failure report."""
    page.console_lines.append(f"{time.strftime('%H:%M:%S')} {line}")


def _start_kernel_for(url, token, notebook):
    """Start ``notebook``'s kernel through the server's REST API (returns once the process runs)."""
    headers = {"Authorization": f"token {token}", "Content-Type": "application/json"}
    body = {"path": notebook, "name": notebook, "type": "notebook", "kernel": {"name": "python3"}}
    request = urllib.request.Request(f"{url}/api/sessions", json.dumps(body).encode(), headers, method="POST")
    with urllib.request.urlopen(request, timeout=120) as response:
        assert json.load(response)["kernel"]["id"]


def test_exploration_notebook_widgets_render_and_respond_in_chromium(jupyterlab):
    from playwright.sync_api import sync_playwright

    url, token, log = jupyterlab
    ARTIFACTS.mkdir(exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.console_lines = []  # for a failure report
            page.on("console", lambda message: _note(page, f"{message.type}: {message.text[:300]}"))
            # Under load JupyterLab has asked which kernel to use although the notebook's was
            # starting. The kernel now runs before the page opens, so the page only connects to
            # it; should JupyterLab ask all the same, accept what it offers, as a student would.
            _start_kernel_for(url, token, "Explore_ResNet.ipynb")

            def accept(dialog):
                _note(page, f"test: accepting the dialog {' '.join(dialog.inner_text().split())!r}")
                dialog.locator(".jp-Dialog-button.jp-mod-accept").click()

            page.add_locator_handler(page.locator(".jp-Dialog", has_text="Select Kernel"), accept, no_wait_after=True)
            page.goto(f"{url}/lab/tree/Explore_ResNet.ipynb?token={token}")
            page.locator(".jp-Notebook").first.wait_for(timeout=60_000)
            _run_all_cells(page, log)

            # The last widget cell is the feature-map viewer.
            viewer = page.locator(".widget-vbox:has(.widget-hslider)").last
            viewer.wait_for(timeout=60_000)

            # Every widget view rendered: explorer (1 image), results (2), viewer (1).
            assert page.locator(".widget-dropdown select").count() >= 3
            assert page.locator(".widget-image").count() >= 4
            image = viewer.locator(".widget-image").last
            before = image.get_attribute("src")
            assert before and image.evaluate("img => img.naturalWidth > 100 && img.complete")

            # Move the picture slider (its editable readout) and wait for a new image.
            readout = viewer.locator(".widget-hslider").first.locator(".widget-readout")
            readout.click()
            page.keyboard.press("Control+A")
            page.keyboard.type("5")
            page.keyboard.press("Enter")
            page.wait_for_function(
                "([img, old]) => img.getAttribute('src') !== old && img.complete && img.naturalWidth > 100",
                arg=[image.element_handle(), before],
                timeout=60_000,
            )
            viewer.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACTS / "explore_feature_maps.png"), full_page=False)
        finally:
            browser.close()


def _pack_says(language: str, english: str) -> str:
    """JupyterLab's word for ``english`` in ``language``, from the installed language pack."""
    if language == ENGLISH:
        return english
    from importlib.resources import files

    catalogue = files(f"jupyterlab_language_pack_{language}") / "locale" / language / "LC_MESSAGES" / "jupyterlab.json"
    return json.loads(catalogue.read_text(encoding="utf-8"))[english][0]


@pytest.mark.skipif(
    os.path.realpath(sys.prefix) != os.path.realpath(REPO / ".venv") or shutil.which("make") is None,
    reason="drives `make lab`, which uses the project's .venv",
)
@pytest.mark.xdist_group("make-lab")  # one at a time: each writes the environment's JupyterLab settings
@pytest.mark.parametrize("language", [ENGLISH, *LANGUAGES])
def test_make_lab_opens_the_assignment_in_its_language_with_jupyterlab_in_it(tmp_path, language, generated_dir):
    from playwright.sync_api import sync_playwright

    _require_chromium()
    port, token = _free_port(), "course-test"
    data_dir = tmp_path / "data"
    if language != ENGLISH:  # the data step is the same in every language: the English run makes it from nothing
        shutil.copytree(generated_dir, data_dir)
    environment = {**os.environ, "RESNETS_DATA_DIR": str(data_dir), "LANGUAGE": "en_US:en"}  # gettext's, ignored
    # A fresh workspace (not the last run's open notebooks) and checkpoints outside the course's folders.
    private = (
        f"--LabApp.workspaces_dir={tmp_path / 'workspaces'} --FileCheckpoints.checkpoint_dir={tmp_path / 'checkpoints'}"
    )
    arguments = [f"LAB_ARGS=--no-browser --port {port} --ServerApp.token={token} {private}"]
    arguments += [] if language == ENGLISH else [f"LANGUAGE={language}"]
    log_path = tmp_path / "make-lab.log"
    log = log_path.open("w")
    lab = subprocess.Popen(
        ["make", "-s", "lab", *arguments], cwd=REPO, env=environment, stdout=log, stderr=subprocess.STDOUT,
        start_new_session=True,
    )  # fmt: skip
    try:
        listing = None
        deadline = time.monotonic() + 300  # the data, then JupyterLab
        while time.monotonic() < deadline and lab.poll() is None:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/contents?token={token}", timeout=5) as answer:
                    listing = json.load(answer)
                break
            except OSError:
                time.sleep(1)
        state = f"make exited with {lab.returncode}" if lab.poll() is not None else "still starting after 300 s"
        assert listing is not None, f"JupyterLab did not answer ({state}):\n{log_path.read_text()[-3000:]}"
        assert {"course", "assignments", "solutions", "README.md"} <= {item["name"] for item in listing["content"]}
        # The settings the environment holds: the news question is answered ("Never").
        notification = "@jupyterlab/apputils-extension:notification"
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/lab/api/settings/{notification}?token={token}") as answer:
            schema = json.load(answer)["schema"]["properties"]
        assert schema["fetchNews"]["default"] == "false" and schema["checkForUpdates"]["default"] is False
        # `make lab` prepared the data first (or found it there).
        assert (data_dir / "train_signs.h5").exists() and (data_dir / "test_signs.h5").exists()

        edition = "residual_networks" + ("" if language == ENGLISH else f"_{language}")
        release = nbformat.read(REPO / "assignments" / edition / "Residual_Networks.ipynb", as_version=4)
        title = release.cells[0].source.splitlines()[0].lstrip("# ")
        ARTIFACTS.mkdir(exist_ok=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_FLAGS)
            try:
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.goto(f"http://127.0.0.1:{port}/?token={token}")
                page.locator(".jp-Notebook .jp-RenderedMarkdown h1").first.wait_for(timeout=120_000)
                assert page.url.split("?")[0].endswith(f"/lab/tree/assignments/{edition}/Residual_Networks.ipynb")
                menu = page.get_by_role("menuitem", name=_pack_says(language, "Run"), exact=True)
                assert menu.count() == 1, page.locator(".lm-MenuBar-content").inner_text()
                heading = page.locator(".jp-Notebook .jp-RenderedMarkdown h1").first.inner_text()
                assert title in heading, (title, heading)
                page.screenshot(path=str(ARTIFACTS / f"make_lab_{language}.png"))
            finally:
                browser.close()
    finally:
        os.killpg(lab.pid, signal.SIGTERM)
        lab.wait(timeout=30)
        log.close()
