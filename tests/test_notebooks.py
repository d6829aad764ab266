"""The course notebooks: stored clean, built as chapters, and run top to bottom in a real kernel.

Execution uses nbclient with the ``python3`` kernel on a temporary copy of each notebook
(the stored file is never written). The kernel inherits this process's environment, so
``JUPYTER_CONFIG_DIR``, ``IPYTHONDIR`` and ``MPLCONFIGDIR`` point at the temporary
directories set in ``conftest.py``, and ``JAX_COMPILATION_CACHE_DIR`` at the session's XLA
cache (a jitted function several chapters use is compiled once per session);
``test_kernel_sees_the_temporary_tool_dirs`` checks that from inside a kernel. Widget state
is stored (``store_widget_state=True``), so the kernel-side explorer of chapter 5 can be checked
as a real kernel rendered it; chapter 2's explorer computes in the browser, and its output is
checked as the kernel displayed it.
"""

from __future__ import annotations

import ast
import base64
import os
import re
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from figtools import alt_text_problem  # tests/figtools.py
from IPython.core.inputtransformer2 import TransformerManager
from nbclient import NotebookClient

import diffviz

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
# A hang guard, not a speed test: no cell may run longer than this. (Tests never assert
# wall-clock times; each chapter's execution time is recorded as a property and printed, and
# benchmarks/notebook_times.py checks the series against its time targets.)
CELL_TIMEOUT_S = 300
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
# Chapters 2 and 3 promise to import nothing else (other chapters may need more libraries;
# every notebook must keep to diffviz's public API). importlib.util: the set-up cell's check
# whether diffviz is installed (scripts/set_repository.py).
ALLOWED_IMPORTS = {"diffviz", "numpy", "jax", "matplotlib", "IPython.display", "importlib.util"}
# Notebook -> the kernel-side explorers it builds (cells that need a live kernel). () for the
# chapters whose explorers compute in the browser (dv.*_live: the same in JupyterLab and in the
# book): they build no kernel-side explorer at all. (Chapter 6 keeps its kernel explorer but is
# not listed: it imports optax, which ALLOWED_IMPORTS refuses.)
CHAPTERS = {
    "01_generative_modelling.ipynb": (),
    "02_forward_process_1d.ipynb": (),
    "03_closed_form_and_schedules.ipynb": (),
    "04_diffusing_2d_data.ipynb": (),
    "05_reversing_the_process.ipynb": ("score_field_explorer",),
    "11_continuous_time.ipynb": ("solver_explorer",),
    "12_flow_matching.ipynb": ("interpolant_explorer",),
    "13_guidance.ipynb": ("guidance_explorer",),
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


# Control characters (tab and carriage return included) in a cell's text. They come from a
# script that wrote LaTeX into a notebook through an ordinary Python string: "\bar" becomes a
# backspace and "ar", "\alpha" a bell and "lpha", "\tilde" a tab and "ilde", "\frac" a form
# feed and "rac", and the page then shows garbage where the formula was.
CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f]")


def control_characters(text: str) -> list[str]:
    return [repr(text[max(m.start() - 20, 0) : m.end() + 20]) for m in CONTROL.finditer(text)]


def test_control_character_check_can_fail():
    assert control_characters("near $t = 0$, $\bar\alpha_t$ and $\tilde\beta_t$")
    assert control_characters("a $\frac{1}{2}$ and a carriage\rreturn")
    assert control_characters(r"$\bar\alpha_t$, $\tilde\beta_t$, $\frac{1}{2}$") == []


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_cells_hold_no_control_characters(path):
    for i, cell in enumerate(read(path).cells):
        found = control_characters(cell.source)
        assert found == [], f"cell {i} ({cell.cell_type}) of {path.name} holds control characters: {found[:3]}"


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


# Every live explorer and the kernel-free player that stands in for it in the rendered book (the
# book hides the output of cells tagged `widget`: book/static/diffviz-book.css).
PLAYER_FOR = {
    "forward_1d_explorer": "snapshot_scrubber_html",
    "schedule_explorer": "schedule_scrubber_html",
    "diffusion_2d_explorer": "diffusion_2d_animation_html",
    "gaussian_conditioning_explorer": "gaussian_conditioning_scrubber_html",
    "score_field_explorer": "score_field_scrubber_html",
    "eps_explorer": "eps_scrubber_html",
    "solver_explorer": "solver_scrubber_html",
    "interpolant_explorer": "interpolant_scrubber_html",
    "guidance_explorer": "guidance_scrubber_html",
}
EXPLORER_CALL = re.compile(r"\bdv\.(\w+_explorer)\(")
HIDING_TAGS = {"widget", "remove-cell", "remove-output", "hide-output", "remove-input"}


def widget_problems(nb) -> list[str]:
    """What keeps a notebook's live explorers from having a usable stand-in in the rendered book."""
    problems = []
    cells = nb.cells
    for i, cell in enumerate(cells):
        if cell.cell_type != "code":
            continue
        tags = set(cell.metadata.get("tags", []))
        explorers = EXPLORER_CALL.findall(cell.source)
        if "widget" in tags and not explorers:
            problems.append(f"cell {i} is tagged widget but builds no dv.*_explorer")
        for name in explorers:
            if "widget" not in tags:
                problems.append(f"cell {i} builds dv.{name} but is not tagged widget (the book would show a dead widget)")
            before = cells[i - 1] if i else None
            if before is None or before.cell_type != "markdown" or "live kernel" not in before.source.lower():
                problems.append(f"cell {i}: no 'live kernel' note in the markdown cell before dv.{name}")
            player = PLAYER_FOR.get(name)
            if player is None:
                problems.append(f"cell {i}: dv.{name} has no kernel-free player in PLAYER_FOR")
                continue
            shown = [
                c for c in cells[i + 1 :]
                if c.cell_type == "code" and f"HTML(dv.{player}(" in c.source
                and not set(c.metadata.get("tags", [])) & HIDING_TAGS
            ]  # fmt: skip
            if not shown:
                problems.append(f"cell {i}: dv.{name} is not followed by a visible cell showing HTML(dv.{player}(...))")
    return problems


LIVE_CALL = re.compile(r"^dv\.(\w+_live)\(", re.MULTILINE)  # a cell whose output is an explorer computed in the browser


def browser_explorer_problems(nb) -> list[str]:
    """What keeps a chapter from having its explorer computed in the browser, and only that one:
    a visible cell that shows a ``dv.*_live(...)``, and no kernel-side ``dv.*_explorer`` anywhere."""
    problems = []
    live = 0
    for i, cell in enumerate(code_cells(nb)):
        if EXPLORER_CALL.search(cell.source):
            problems.append(f"code cell {i} builds a kernel-side dv.{EXPLORER_CALL.search(cell.source).group(1)}")
        if LIVE_CALL.search(cell.source) and not set(cell.metadata.get("tags", [])) & HIDING_TAGS:
            live += 1
    if live == 0:
        problems.append("no visible cell shows an explorer computed in the browser (dv.*_live(...))")
    return problems


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if CHAPTERS.get(p.name) == ()], ids=ids)
def test_browser_explorer_chapters_build_no_kernel_explorer(path):
    text = "\n".join(c.source for c in read(path).cells if c.cell_type == "markdown")
    assert browser_explorer_problems(read(path)) == []
    assert "live kernel" not in text.lower(), f"{path.name} still tells readers about a live-kernel cell"


def test_browser_explorer_check_can_fail():
    new = nbformat.v4
    live = new.new_code_cell("# a comment first\ndv.forward_1d_live(key, data, n=100)")
    nb = new.new_notebook(cells=[live])
    assert browser_explorer_problems(nb) == []
    live.metadata["tags"] = ["remove-cell"]  # hidden: the reader has no explorer
    assert len(browser_explorer_problems(nb)) == 1
    live.metadata["tags"] = []
    widget = new.new_code_cell("e = dv.forward_1d_explorer(key, data)\ne.widget")
    nb.cells = [live, widget]
    assert len(browser_explorer_problems(nb)) == 1
    nb.cells = [widget]
    assert len(browser_explorer_problems(nb)) == 2


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_every_live_widget_has_a_kernel_free_player_after_it(path):
    assert widget_problems(read(path)) == []


def test_widget_check_can_fail():
    new = nbformat.v4
    note = new.new_markdown_cell("Try it (*live kernel*)")
    widget = new.new_code_cell("e = dv.eps_explorer(x, a, b, ts)\ne.widget")
    widget.metadata["tags"] = ["widget"]
    player = new.new_code_cell("HTML(dv.eps_scrubber_html(x, a, b, ts))")
    nb = new.new_notebook(cells=[note, widget, player])
    assert widget_problems(nb) == []
    player.metadata["tags"] = ["remove-output"]  # hidden in the book
    assert len(widget_problems(nb)) == 1
    player.metadata["tags"] = []
    nb.cells = [player, note, widget]  # the player must come after the widget
    assert len(widget_problems(nb)) == 1
    nb.cells = [widget, player]  # no note
    assert len(widget_problems(nb)) == 1
    untagged = new.new_code_cell("dv.schedule_explorer()")
    nb.cells = [note, untagged]
    assert len(widget_problems(nb)) == 2  # not tagged, and no player


# --- alt text ------------------------------------------------------------------------------------
# Every figure a chapter draws carries a description for screen readers in the rendered book:
# cell metadata {"mystnb": {"image": {"alt": "..."}}}, which MyST-NB puts in the figure's alt
# attribute (without it the alt is the image's file name). Plain text, read aloud: no TeX
# (figtools.alt_text_problem, the rule the players' descriptions follow too).


def alt_text(cell) -> str | None:
    return cell.metadata.get("mystnb", {}).get("image", {}).get("alt")


def alt_text_format_problems(nb) -> list[str]:
    problems = []
    for i, cell in enumerate(nb.cells):
        alt = alt_text(cell)
        if alt is None:
            continue
        if cell.cell_type != "code":
            problems.append(f"cell {i}: alt text on a {cell.cell_type} cell")
        elif (problem := alt_text_problem(alt)) is not None:
            problems.append(f"cell {i}: {problem}")
    return problems


def alt_text_problems(executed_nb) -> list[str]:
    """Figures without alt text, alt text on cells that draw no figure, and badly formed alt text."""
    problems = alt_text_format_problems(executed_nb)
    for i, cell in enumerate(executed_nb.cells):
        if cell.cell_type != "code":
            continue
        draws = any("image/png" in o.get("data", {}) for o in cell.outputs)
        if draws and alt_text(cell) is None:
            problems.append(f"cell {i} draws a figure but has no alt text (metadata mystnb.image.alt)")
        if not draws and alt_text(cell) is not None:
            problems.append(f"cell {i} has alt text but draws no figure")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=ids)
def test_alt_texts_are_plain_text(path):
    assert alt_text_format_problems(read(path)) == []


def test_alt_text_check_can_fail():
    new = nbformat.v4
    figure = new.new_code_cell("dv.plot_schedules(schedule)")
    figure.outputs = [new.new_output("display_data", data={"image/png": "iVBORw0KGgo=", "text/plain": "<Figure>"})]
    text = new.new_code_cell("print(1)")
    text.outputs = [new.new_output("stream", text="1\n")]
    nb = new.new_notebook(cells=[figure, text])
    assert alt_text_problems(nb) == ["cell 0 draws a figure but has no alt text (metadata mystnb.image.alt)"]
    good = "Line plot of alpha-bar against t for three schedules; the cosine curve falls last."
    figure.metadata["mystnb"] = {"image": {"alt": good}}
    assert alt_text_problems(nb) == []
    text.metadata["mystnb"] = {"image": {"alt": good}}
    assert alt_text_problems(nb) == ["cell 1 has alt text but draws no figure"]
    del text.metadata["mystnb"]
    for bad in ("too short", good.replace("alpha-bar", "$\\bar\\alpha_t$"), good + " **bold**"):
        figure.metadata["mystnb"]["image"]["alt"] = bad
        assert len(alt_text_problems(nb)) == 1, bad


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
    assert alt_text_problems(nb) == []


@pytest.mark.slow
def test_chapter_2_explorer_is_computed_in_the_page(executed):
    """Chapter 2's explorer is a self-contained HTML output (the browser computes it), not a kernel widget."""
    nb, _ = executed(ROOT / "notebooks" / "02_forward_process_1d.ipynb")
    (cell,) = [c for c in code_cells(nb) if LIVE_CALL.search(c.source)]
    pages = [o["data"]["text/html"] for o in cell.outputs if "text/html" in o.get("data", {})]
    assert len(pages) == 1 and "srcdoc" in pages[0] and "window.diffvizLive" in pages[0]
    assert not any("application/vnd.jupyter.widget-view+json" in o.get("data", {}) for c in code_cells(nb) for o in c.outputs)
    assert not nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state")


@pytest.mark.slow
def test_chapter_5_widget_renders_through_a_real_kernel(executed):
    nb, _ = executed(ROOT / "notebooks" / "05_reversing_the_process.ipynb")
    state = nb.metadata["widgets"][WIDGET_STATE]["state"]
    models = {m["model_name"] for m in state.values()}
    assert {"OutputModel"} <= models and models & {"IntSliderModel", "SelectionSliderModel", "FloatSliderModel"}
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
    names = ("JUPYTER_CONFIG_DIR", "IPYTHONDIR", "MPLCONFIGDIR", "JAX_COMPILATION_CACHE_DIR")
    nb.cells = [nbformat.v4.new_code_cell(
        "import os, matplotlib, IPython, jax\n"
        f"print(repr([os.environ.get(n) for n in {names!r}]))\n"
        "print(repr(matplotlib.get_configdir()))\n"
        "print(repr(get_ipython().profile_dir.location))\n"
        "def kernel_writes_the_xla_cache(x):\n"
        "    return 3 * x + 1\n"
        "print(repr((jax.config.jax_compilation_cache_dir, float(jax.jit(kernel_writes_the_xla_cache)(1.0)))))"
    )]  # fmt: skip
    execute(nb, tmp_path)
    lines = "".join(o.text for o in nb.cells[0].outputs if o.output_type == "stream").splitlines()
    expected = [os.environ.get(n) for n in names]
    assert all(expected[:3]) and "diffviz-tests-" in expected[0]
    assert ast.literal_eval(lines[0]) == expected
    assert ast.literal_eval(lines[1]) == os.environ["MPLCONFIGDIR"]
    assert ast.literal_eval(lines[2]).startswith(os.environ["IPYTHONDIR"])
    # The session's XLA cache (conftest.py; DIFFVIZ_TEST_XLA_CACHE=0 turns it off): the kernel's
    # JAX reads it and writes the program it compiles there.
    cache_dir, value = ast.literal_eval(lines[3])
    assert value == 4.0 and cache_dir == expected[3]
    setting = os.environ.get("DIFFVIZ_TEST_XLA_CACHE", "1")
    if setting != "0":
        assert cache_dir == (setting if setting != "1" else os.path.join(os.path.dirname(expected[0]), "jax-cache"))
        written = list(Path(cache_dir).glob("jit_kernel_writes_the_xla_cache-*"))
        assert written, f"no compiled program in {cache_dir}"
