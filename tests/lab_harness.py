"""A JupyterLab server and the page actions that drive it, shared by tests/test_lab_browser.py
and benchmarks/lab_slider_latency.py (not a test module: pytest collects only test_*.py).

``jupyter_lab(notebooks)`` starts ``.venv/bin/jupyter lab`` (the one next to the running
Python) on 127.0.0.1, on a free port, with a random token and no browser, over temporary
copies of the given notebooks (Lab autosaves outputs into the files it has open). The server
inherits this process's environment plus ``env``; its settings, workspaces and runtime files
live in the same temporary folder, which is removed afterwards. The server is always shut
down (its kernels with it).
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

JUPYTER = Path(sys.executable).with_name("jupyter")  # the venv's, next to the Python running
START_TIMEOUT_S = 120
# JupyterLab user settings for the server: no news or update pop-ups over the page, and every
# cell attached to the DOM (the default windowing skips rendering of off-screen cells).
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification": {"fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker": {"windowingMode": "none"},
}
PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook on show (others may be open in hidden tabs)
PROMPTS_JS = f"() => [...document.querySelectorAll('{PANEL} .jp-CodeCell .jp-InputArea-prompt')].map(p => p.textContent.trim())"


@dataclass(frozen=True)
class Lab:
    url: str
    token: str
    folder: Path  # the server's root: the notebooks' copies
    log: Path

    def tree(self, name: str) -> str:
        return f"{self.url}/lab/tree/{name}?token={self.token}&reset"


class LabError(RuntimeError):
    pass


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def api(url: str, path: str, token: str, method: str = "GET", timeout: float = 10):
    request = urllib.request.Request(f"{url}{path}", method=method, headers={"Authorization": f"token {token}"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read() or b"null")


def _stop(server: subprocess.Popen, url: str, token: str) -> None:
    """Shut the server down cleanly (its kernels with it); kill it if it does not exit."""
    if server.poll() is None:
        try:
            api(url, "/api/shutdown", token, method="POST")
        except (OSError, urllib.error.URLError):
            pass
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGTERM)
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(server.pid, signal.SIGKILL)
                server.wait()


@contextlib.contextmanager
def jupyter_lab(notebooks: list[Path], env: dict[str, str] | None = None) -> Iterator[Lab]:
    """A running JupyterLab over temporary copies of ``notebooks``. Raises LabError if it does not start."""
    if not JUPYTER.is_file():
        raise LabError(f"{JUPYTER} not found (make test installs JupyterLab into .venv)")
    tmp = Path(tempfile.mkdtemp(prefix="diffviz-lab-"))
    folder = tmp / "notebooks"
    folder.mkdir()
    for notebook in notebooks:
        shutil.copy(notebook, folder / notebook.name)
    for name, values in LAB_SETTINGS.items():
        path = tmp / "settings" / f"{name}.jupyterlab-settings"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values), encoding="utf-8")
    port, token = free_port(), secrets.token_hex(24)
    url = f"http://127.0.0.1:{port}"
    log_path = tmp / "server.log"
    log = open(log_path, "wb")
    server = subprocess.Popen(
        [
            str(JUPYTER), "lab", "--no-browser",
            "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
            f"--IdentityProvider.token={token}", "--ServerApp.allow_root=True",
            f"--ServerApp.root_dir={folder}",
            f"--LabApp.user_settings_dir={tmp / 'settings'}", f"--LabApp.workspaces_dir={tmp / 'workspaces'}",
        ],
        env={**os.environ, "JUPYTER_RUNTIME_DIR": str(tmp / "runtime"), **(env or {})},
        cwd=folder, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if server.poll() is not None:
                raise LabError(f"jupyter lab exited ({server.returncode}):\n{log_path.read_text()[-3000:]}")
            try:
                api(url, "/api/status", token, timeout=5)
                break
            except (OSError, urllib.error.URLError):
                if time.monotonic() > deadline:
                    raise LabError(f"jupyter lab did not answer in {START_TIMEOUT_S} s:\n{log_path.read_text()[-3000:]}") from None
                time.sleep(0.5)
        yield Lab(url, token, folder, log_path)
    finally:
        _stop(server, url, token)
        log.close()
        shutil.rmtree(tmp, ignore_errors=True)


def wait_for_idle_kernel(page) -> None:
    page.locator(".jp-StatusBar-TextItem", has_text="| Idle").first.wait_for()


def menu(page, top: str, item: str) -> None:
    page.locator(".lm-MenuBar-itemLabel").filter(has_text=re.compile(f"^{re.escape(top)}$")).first.click()
    page.locator(".lm-Menu-itemLabel").filter(has_text=re.compile(f"^{re.escape(item)}$")).first.click()


def open_notebook(page, lab: Lab, name: str, n_code: int) -> None:
    """Open ``name`` in Lab with a fresh workspace; return once its kernel is idle and all its code cells are in the page."""
    page.goto(lab.tree(name), wait_until="load")
    page.locator(f"{PANEL} .jp-Cell").first.wait_for()
    wait_for_idle_kernel(page)
    page.wait_for_function(f"() => document.querySelectorAll('{PANEL} .jp-CodeCell').length === {n_code}")


def run_all(page, timeout_ms: float) -> list[str]:
    """Run > Run All Cells; return the prompts once no cell is queued or running and the last one has a number."""
    menu(page, "Run", "Run All Cells")
    page.wait_for_function(
        f"() => {{ const p = ({PROMPTS_JS})(); return p.length > 0 && !p.some(s => s.includes('*'))"
        " && /\\[\\d+\\]/.test(p[p.length - 1]); }",
        timeout=timeout_ms,
    )
    wait_for_idle_kernel(page)
    return page.evaluate(PROMPTS_JS)
