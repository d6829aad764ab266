"""The course notebooks: stored clean, built as chapters, and run top to bottom in a real kernel.

Execution uses nbclient with the ``python3`` kernel on a temporary copy of each notebook
(the stored file is never written). The kernel inherits this process's environment, so
``JUPYTER_CONFIG_DIR``, ``IPYTHONDIR`` and ``MPLCONFIGDIR`` point at the temporary
directories set in ``conftest.py``; ``test_kernel_sees_the_temporary_tool_dirs`` checks that
from inside a kernel. Widget state is stored (``store_widget_state=True``), so the slider
widget of chapter 2 can be checked as a real kernel rendered it.
"""

from __future__ import annotations

import ast
import base64
import os
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from IPython.core.inputtransformer2 import TransformerManager
from nbclient import NotebookClient

import diffviz

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
CELL_TIMEOUT_S = 120
BUDGET_S = 60  # what a chapter may take on a 2-core laptop CPU; the test allows twice that
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# Chapters 2 and 3 promise to import nothing else (other chapters may need more libraries;
# every notebook must keep to diffviz's public API).
ALLOWED_IMPORTS = {"diffviz", "numpy", "jax", "matplotlib", "IPython.display"}
CHAPTERS = {  # notebook -> the explorers it builds (cells that need a live kernel)
    "02_forward_process_1d.ipynb": ("forward_1d_explorer",),
    "03_closed_form_and_schedules.ipynb": ("schedule_explorer",),
}


def ids(path: Path) -> str:
    return path.stem


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def code_cells(nb) -> list:
    return [c for c in nb.cells if c.cell_type == "code"]


def python_source(cell) -> str:
    """A code cell as plain Python (IPython magics such as %matplotlib become calls)."""
    return TransformerManager().transform_cell(cell.source)


def test_the_chapters_exist():
    assert set(CHAPTERS) <= {p.name for p in NOTEBOOKS}


# --- stored form ---------------------------------------------------------------------------------


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_stored_without_outputs(path):
    nb = read(path)
    nbformat.validate(nb)
    for i, cell in enumerate(code_cells(nb)):
        assert cell.outputs == [], f"code cell {i} of {path.name} has stored outputs"
        assert cell.execution_count is None, f"code cell {i} of {path.name} has an execution count"
        assert "execution" not in cell.metadata, f"code cell {i} of {path.name} has execution timings"
    assert "widgets" not in nb.metadata, f"{path.name} has stored widget state"


def imported_modules(tree: ast.AST) -> list[tuple[str, list[str]]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(alias.name, []) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            found.append(("." * node.level + (node.module or ""), [alias.name for alias in node.names]))
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_imports_only_the_public_api(path):
    for i, cell in enumerate(code_cells(read(path))):
        tree = ast.parse(python_source(cell))
        for module, names in imported_modules(tree):
            assert not module.startswith("diffviz."), f"cell {i} of {path.name} imports the private {module!r}"
            if path.name in CHAPTERS:
                root = module.split(".")[0]
                allowed = module in ALLOWED_IMPORTS or (root in ALLOWED_IMPORTS and root != "IPython")
                assert allowed, f"cell {i} of {path.name} imports {module!r}"
            if module == "diffviz":
                assert set(names) <= set(diffviz.__all__), f"cell {i} imports non-public names {names}"
        for node in ast.walk(tree):  # dv._something
            if isinstance(node, ast.Attribute) and node.attr.startswith("_") and isinstance(node.value, ast.Name):
                assert node.value.id not in {"dv", "diffviz"}, f"cell {i} of {path.name} uses {node.value.id}.{node.attr}"
            if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in {"dv", "diffviz"}:
                assert node.attr in diffviz.__all__, f"cell {i} of {path.name} uses dv.{node.attr}, not in diffviz.__all__"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if p.name in CHAPTERS], ids=ids)
def test_chapter_structure(path):
    nb = read(path)
    first = nb.cells[0]
    assert first.cell_type == "markdown" and first.source.startswith("# ")
    assert "Learning goals" in first.source
    markdown = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert "## Summary" in markdown and "## Exercises" in markdown
    exercises = markdown.split("## Exercises", 1)[1]
    assert exercises.count("**Exercise ") >= 3
    solutions = [c for c in nb.cells if "solution" in c.metadata.get("tags", [])]
    assert len(solutions) + exercises.count("<details>") >= 3
    for cell in solutions:
        assert cell.metadata.get("jupyter", {}).get("source_hidden") is True
    for cell in code_cells(nb):  # every widget is tagged, with a note for readers of the book
        if any(f"dv.{name}(" in cell.source for name in CHAPTERS[path.name]):
            assert "widget" in cell.metadata.get("tags", [])
            before = nb.cells[nb.cells.index(cell) - 1]
            assert before.cell_type == "markdown" and "live kernel" in before.source.lower()


# --- execution -----------------------------------------------------------------------------------


def execute(nb, workdir: Path) -> float:
    """Run ``nb`` in place in a fresh ``python3`` kernel started in ``workdir``; return seconds."""
    client = NotebookClient(
        nb,
        timeout=CELL_TIMEOUT_S,
        kernel_name="python3",
        store_widget_state=True,
        resources={"metadata": {"path": str(workdir)}},
    )
    start = time.perf_counter()
    client.execute()
    return time.perf_counter() - start


@pytest.fixture(scope="session")
def executed(tmp_path_factory):
    """Execute each notebook at most once per session, on a temporary copy."""
    cache: dict[str, tuple[nbformat.NotebookNode, float]] = {}

    def run(path: Path):
        if path.name not in cache:
            workdir = tmp_path_factory.mktemp(path.stem)
            copy = Path(shutil.copy(path, workdir / path.name))
            nb = read(copy)
            cache[path.name] = (nb, execute(nb, workdir))
        return cache[path.name]

    return run


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_executes_top_to_bottom(path, executed, record_property, capsys):
    nb, seconds = executed(path)
    record_property("wall_seconds", round(seconds, 1))
    with capsys.disabled():
        print(f"\n[notebook wall time] {path.name}: {seconds:.1f} s")
    errors = [o for c in code_cells(nb) for o in c.outputs if o.output_type == "error"]
    assert not errors, errors
    images = sum("image/png" in o.get("data", {}) for c in code_cells(nb) for o in c.outputs)
    assert images >= 3, "figures should render inline (image/png) in a real kernel"
    assert seconds < 2 * BUDGET_S, f"{path.name} took {seconds:.0f} s (budget {BUDGET_S} s)"


@pytest.mark.slow
def test_chapter_2_widget_renders_through_a_real_kernel(executed):
    nb, _ = executed(ROOT / "notebooks" / "02_forward_process_1d.ipynb")
    state = nb.metadata["widgets"][WIDGET_STATE]["state"]
    models = {m["model_name"] for m in state.values()}
    assert {"VBoxModel", "FloatSliderModel", "IntSliderModel", "ToggleButtonsModel", "OutputModel"} <= models
    images = [
        base64.b64decode(out["data"]["image/png"])
        for m in state.values()
        if m["model_name"] == "OutputModel"
        for out in m["state"]["outputs"]
        if "image/png" in out.get("data", {})
    ]
    assert images and all(png.startswith(b"\x89PNG\r\n\x1a\n") for png in images)
    widget_cells = [c for c in code_cells(nb) if "widget" in c.metadata.get("tags", [])]
    views = [o for c in widget_cells for o in c.outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert views and all(v["data"]["application/vnd.jupyter.widget-view+json"]["model_id"] in state for v in views)


@pytest.mark.slow
def test_kernel_sees_the_temporary_tool_dirs(tmp_path):
    nb = nbformat.v4.new_notebook()
    names = ("JUPYTER_CONFIG_DIR", "IPYTHONDIR", "MPLCONFIGDIR")
    nb.cells = [nbformat.v4.new_code_cell(
        "import os, matplotlib, IPython\n"
        f"print(repr([os.environ.get(n) for n in {names!r}]))\n"
        "print(repr(matplotlib.get_configdir()))\n"
        "print(repr(get_ipython().profile_dir.location))"
    )]  # fmt: skip
    execute(nb, tmp_path)
    lines = "".join(o.text for o in nb.cells[0].outputs if o.output_type == "stream").splitlines()
    expected = [os.environ[n] for n in names]
    assert all(expected) and "diffviz-tests-" in expected[0]
    assert ast.literal_eval(lines[0]) == expected
    assert ast.literal_eval(lines[1]) == os.environ["MPLCONFIGDIR"]
    assert ast.literal_eval(lines[2]).startswith(os.environ["IPYTHONDIR"])
