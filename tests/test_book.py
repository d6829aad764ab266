"""The rendered book (Jupyter Book 1.x, `make book`): its configuration, and the built site.

Two kinds of test:

* configuration (no build needed, part of every `make test`): book.yml and toc.yml parse,
  the table of contents lists exactly the chapter notebooks present, every browser library
  the pages load is vendored from the npm packages pinned in package.json / the lock file;
* the built site (marked ``browser``): ``_build/html`` is served on 127.0.0.1 (a free port,
  http.server in a thread) and Debian's Chromium, driven by Playwright, opens every chapter.
  Each page must load with no console error and no request to any host but 127.0.0.1; its
  equations must be typeset (no raw TeX left) and numbered; every image must load. On every
  chapter page, every static scrubber (a matplotlib ``to_jshtml()`` player: one per code cell
  that shows ``HTML(dv.*_html(...))``) must change the frame shown when its slider moves, the
  exercise solutions must open and close behind "Show the solution" and show their code
  without Otter-Grader's markers, the download button
  must serve the chapter as a valid ``.ipynb``, and the launch buttons must open this chapter
  in the repository that book.yml names (whatever owner it has; it is a placeholder until the
  repository is public). On chapters 1-5, 12 and 13 every live explorer (an output computed in the browser,
  found on the page as an iframe whose page defines ``window.diffvizLive``) must answer every
  slider, menu and toggle with a redraw and a new picture, show no NaN, and compute the numbers
  diffviz computes (tests/test_live*.py's checks). On the forward-process chapter a screenshot is
  saved to ``_build/artefacts/chapter02.png``.

The browser tests are skipped, with the reason, when /usr/bin/chromium, the Python
``playwright`` package (the ``book`` extra) or the built site is missing. CI installs
Chromium and runs `make book` before `make test`, so they run there. Playwright never
downloads a browser here: it starts /usr/bin/chromium (do not run `playwright install`).
"""

from __future__ import annotations

import contextlib
import fnmatch
import functools
import http.server
import json
import math
import re
import shutil
import tempfile
import threading
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
import yaml
from figtools import ALT_MIN, alt_text_problem  # tests/figtools.py

import diffviz

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
SITE = ROOT / "_build" / "html"
ARTEFACTS = ROOT / "_build" / "artefacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
FORWARD_CHAPTER = "02_forward_process_1d"
TIMEOUT_MS = 60_000  # generous: a first run on a loaded 2-core machine can be slow


def load_yaml(name: str) -> dict:
    return yaml.safe_load((ROOT / name).read_text(encoding="utf-8"))


# --- configuration (no build needed) -----------------------------------------------------------


def toc_entries(toc: dict) -> tuple[list[str], list[str]]:
    """The ``file`` and ``glob`` entries of a jb-book table of contents (parts or not)."""
    files, globs = [], []

    def walk(items):
        for item in items or []:
            if "file" in item:
                files.append(item["file"])
            if "glob" in item:
                globs.append(item["glob"])
            walk(item.get("sections"))

    walk(toc.get("chapters"))
    for part in toc.get("parts") or []:
        walk(part.get("chapters"))
    return files, globs


def source_of(docname: str) -> Path | None:
    for suffix in (".ipynb", ".md"):
        if (ROOT / f"{docname}{suffix}").is_file():
            return ROOT / f"{docname}{suffix}"
    return None


def chapters_in_toc(toc: dict, notebooks: list[Path]) -> list[str]:
    """Docnames of the notebooks the toc includes, in the order of the book."""
    files, globs = toc_entries(toc)
    present = [f"notebooks/{p.stem}" for p in notebooks]
    listed = [f.removesuffix(".ipynb").removesuffix(".md") for f in files]
    for pattern in globs:  # sphinx-external-toc: a glob expands to sorted matching docnames
        listed += sorted(d for d in present if fnmatch.fnmatch(d, pattern) and d not in listed)
    return [d for d in listed if d.startswith("notebooks/")]


def test_book_config_parses_and_is_offline_and_strict():
    config = load_yaml("book.yml")
    assert config["title"]
    execute = config["execute"]
    assert execute["execute_notebooks"] in {"cache", "force"}  # `make book` turns cache into force in CI
    assert execute["allow_errors"] is False and execute["timeout"] > 0
    sphinx = config["sphinx"]["config"]
    assert sphinx["nb_execution_raise_on_error"] is True
    assert sphinx["mathjax3_config"]["tex"]["tags"] in {"all", "ams"}
    # Every script the pages load comes from the site's own folder, none from a URL.
    local = [sphinx["mathjax_path"], *sphinx["nb_ipywidgets_js"]]
    assert not [u for u in local if "//" in u], local
    assert "_static" not in [Path(p).name for p in sphinx["html_static_path"]]
    launch = config["launch_buttons"]
    assert launch["colab_url"].startswith("https://") and launch["binderhub_url"].startswith("https://")
    assert sphinx["html_theme_options"]["use_download_button"] is True


def test_toc_lists_exactly_the_chapter_notebooks():
    toc = load_yaml("toc.yml")
    assert toc["format"] == "jb-book"
    assert source_of(toc["root"]) is not None, f"toc root {toc['root']} does not exist"
    files, _ = toc_entries(toc)
    assert [f for f in files if source_of(f.removesuffix(".ipynb").removesuffix(".md")) is None] == []
    chapters = chapters_in_toc(toc, NOTEBOOKS)
    assert chapters == [f"notebooks/{p.stem}" for p in NOTEBOOKS]  # each once, in file-name order


DV_NAME = re.compile(r"`dv\.(\w+)")


def test_formulas_page_is_in_the_book_and_names_only_public_functions():
    """book/formulas.md sends readers to `dv.<name>` for each formula: every name must exist in
    the public API (a renamed function would leave the page pointing at nothing)."""
    files, _ = toc_entries(load_yaml("toc.yml"))
    assert "book/formulas" in [f.removesuffix(".md") for f in files]
    text = (ROOT / "book" / "formulas.md").read_text(encoding="utf-8")
    named = set(DV_NAME.findall(text))
    assert len(named) >= 30, sorted(named)
    assert sorted(named - set(diffviz.__all__)) == []
    assert DV_NAME.findall("see `dv.posterior_params` and `dv.no_such_thing`") == ["posterior_params", "no_such_thing"]


# Citations as the course writes them: "Ho et al. (2020)", "Burda et al. 2016", "Kingma et al.'s",
# "Nichol and Dhariwal (2021)", "Dhariwal and Nichol's *Title* (2021)", "Nichol & Dhariwal".
CITE_ET_AL = re.compile(r"\b([A-Z][a-zäöüé\-]+) et al\.(?:'s)?(?: \(?(\d{4})\b)?")
CITE_PAIR = re.compile(r"\b([A-Z][a-zäöüé\-]+) (?:and|&) ([A-Z][a-zäöüé\-]+)(?:'s)?(?: \*[^*\n]+\*)? \(?(\d{4})\b")
CITE_AMPERSAND = re.compile(r"\b([A-Z][a-zäöüé\-]+) & ([A-Z][a-zäöüé\-]+)\b")
# An entry on book/references.md: "- **Surname, Surname and Surname (YEAR).** *Title.* ..."
REFERENCE_ENTRY = re.compile(r"^- \*\*([^*]+?) \((\d{4})\)\.\*\*", re.MULTILINE)
ARXIV_ID = re.compile(r"arXiv:(\d{2})(\d{2})\.(\d{4,5})\]\(https://arxiv\.org/abs/(\S+?)\)")


def chapters_cited(text: str) -> set[int]:
    """The chapter numbers in "chapter 3", "chapters 3 and 4", "chapters 5, 6 and 7", "chapters 2 to 8"."""
    groups = re.findall(r"chapters? ((?:\d+(?:,? and |, | to )?)+)", text)
    return {int(n) for group in groups for n in re.findall(r"\d+", group)}


def reference_entries(text: str) -> list[tuple[list[str], int, str]]:
    """(surnames in order, year, the entry's whole text) of every entry of a references page."""
    starts = [m.start() for m in REFERENCE_ENTRY.finditer(text)] + [len(text)]
    entries = []
    for m, end in zip(REFERENCE_ENTRY.finditer(text), starts[1:]):
        names = re.split(r",\s+|\s+and\s+", " ".join(m.group(1).split()))
        entries.append((names, int(m.group(2)), text[m.start():end].split("\n## ")[0]))
    return entries


def unmatched_citations(sources: dict[str, str], entries) -> list[str]:
    """Citations in `sources` (name -> text) that no entry matches: "X et al." needs an entry whose
    first author is X (and of that year, when a year is given); "X and Y (year)" an entry of that
    year with both among its authors; "X & Y" one with both."""
    missing = []
    for where, text in sources.items():
        for m in CITE_ET_AL.finditer(text):
            name, year = m.group(1), m.group(2)
            if not any(names[0] == name and (year is None or y == int(year)) for names, y, _ in entries):
                missing.append(f"{where}: {m.group(0)}")
        for m in CITE_PAIR.finditer(text):
            a, b, year = m.groups()
            if not any(a in names and b in names and y == int(year) for names, y, _ in entries):
                missing.append(f"{where}: {m.group(0)}")
        for m in CITE_AMPERSAND.finditer(text):
            if not any(m.group(1) in names and m.group(2) in names for names, _, _ in entries):
                missing.append(f"{where}: {m.group(0)}")
    return missing


def course_texts() -> dict[str, str]:
    texts = {p.name: "\n".join("".join(c["source"]) for c in json.loads(p.read_text(encoding="utf-8"))["cells"])
             for p in NOTEBOOKS}
    for page in sorted((ROOT / "book").glob("*.md")):
        if page.name != "references.md":
            texts[f"book/{page.name}"] = page.read_text(encoding="utf-8")
    return texts


def test_every_citation_in_the_course_is_on_the_references_page():
    """book/references.md lists the papers the chapters cite: each "Ho et al. (2020)" or "Nichol and
    Dhariwal (2021)" in a chapter or a book page must find its entry there (first author and year),
    and the page must be in the book, after the chapters, and reachable from the intro and chapter 10."""
    files, _ = toc_entries(load_yaml("toc.yml"))
    docs = [f.removesuffix(".md").removesuffix(".ipynb") for f in files]
    assert "book/references" in docs
    text = (ROOT / "book" / "references.md").read_text(encoding="utf-8")
    entries = reference_entries(text)
    assert len(entries) >= 25, [e[:2] for e in entries]
    texts = course_texts()
    cited = sum(len(CITE_ET_AL.findall(t)) + len(CITE_PAIR.findall(t)) for t in texts.values())
    assert cited >= 20  # the patterns still find the course's citations
    assert unmatched_citations(texts, entries) == []
    assert "references.md" in (ROOT / "book" / "intro.md").read_text(encoding="utf-8")
    assert "book/references.md" in texts["10_common_mistakes.ipynb"]


def test_reference_entries_are_well_formed():
    """Each paper once; every arXiv link goes to the identifier its label shows, and an arXiv
    identifier (YYMM.NNNNN) is at most two years older than the entry's year and never newer: a
    typo in either shows up as a mismatch. Every chapter an entry names exists."""
    text = (ROOT / "book" / "references.md").read_text(encoding="utf-8")
    entries = reference_entries(text)
    keys = [(names[0], year, " ".join(re.search(r"\.\*\*\s+\*([^*]+)\*", body).group(1).split())) for names, year, body in entries]
    assert len(set(keys)) == len(keys)
    chapters = {int(p.name[:2]) for p in NOTEBOOKS}
    arxiv_seen = []
    for names, year, body in entries:
        for yy, mm, num, target in ARXIV_ID.findall(body):
            assert target == f"{yy}{mm}.{num}", (names[0], year, target)
            assert 1 <= int(mm) <= 12 and 0 <= year - (2000 + int(yy)) <= 2, (names[0], year, target)
            arxiv_seen.append(target)
        assert chapters_cited(body) <= chapters, (names[0], sorted(chapters_cited(body) - chapters))
    assert len(arxiv_seen) == len(set(arxiv_seen)) >= 20


GLOSSARY_ENTRY = re.compile(r"^- \*\*([^*]+)\*\*: (.*?)(?=^- \*\*|\Z)", re.MULTILINE | re.DOTALL)


def glossary_problems(text: str, chapters: dict[int, str]) -> list[str]:
    """Entries out of alphabetical order, citing a chapter that does not exist, or whose term
    (any comma-separated form of it, without the dollar signs) none of its cited chapters uses."""
    entries = GLOSSARY_ENTRY.findall(text)
    problems = []
    names = [term.lower() for term, _ in entries]
    if names != sorted(names):
        problems.append(f"not in alphabetical order: {names}")
    for term, body in entries:
        cited = chapters_cited(body)
        if not cited <= set(chapters):
            problems.append(f"{term}: cites chapters {sorted(cited - set(chapters))}, which do not exist")
        forms = [f.strip().strip("$").lower() for f in term.split(",")]
        known = cited & set(chapters)
        if known and not any(form in chapters[n].lower() for form in forms for n in known):
            problems.append(f"{term}: none of chapters {sorted(cited)} uses it")
    return problems


def test_glossary_is_in_the_book_sorted_and_true_to_its_chapters():
    docs = [f.removesuffix(".md") for f in toc_entries(load_yaml("toc.yml"))[0]]
    assert "book/glossary" in docs and "glossary.md" in (ROOT / "book" / "intro.md").read_text(encoding="utf-8")
    text = (ROOT / "book" / "glossary.md").read_text(encoding="utf-8")
    texts = course_texts()
    chapters = {int(p.name[:2]): texts[p.name] for p in NOTEBOOKS}
    assert len(GLOSSARY_ENTRY.findall(text)) >= 30
    assert glossary_problems(text, chapters) == []
    bad = "- **zeta**: a letter (chapter 3).\n- **alpha**: a letter (chapter 42).\n- **beta, $b_t$**: noise (chapter 2).\n"
    assert glossary_problems(bad, {2: "the $b_t$ of step t", 3: "no greek here"}) == [
        "not in alphabetical order: ['zeta', 'alpha', 'beta, $b_t$']",
        "zeta: none of chapters [3] uses it",
        "alpha: cites chapters [42], which do not exist",
    ]


def test_citation_checks_can_fail():
    entries = reference_entries(
        "## A\n\n- **Ho, Jain and Abbeel (2020).** *DDPM.* [arXiv:2006.11239](https://arxiv.org/abs/2006.11239).\n"
        "- **Nichol and\n  Dhariwal (2021).** *Improved DDPM.*\n"
    )
    assert [(n, y) for n, y, _ in entries] == [(["Ho", "Jain", "Abbeel"], 2020), (["Nichol", "Dhariwal"], 2021)]
    ok = {"a": "Ho et al. (2020); Ho et al.'s loss; Ho, Jain and Abbeel (2020); Nichol & Dhariwal: cosine"}
    assert unmatched_citations(ok, entries) == []
    bad = {"b": "Ho et al. 2019, Song et al. (2021), Dhariwal and Nichol's *Beat GANs* (2020), Karras & Laine"}
    assert unmatched_citations(bad, entries) == [
        "b: Ho et al. 2019", "b: Song et al. (2021", "b: Dhariwal and Nichol's *Beat GANs* (2020", "b: Karras & Laine"]
    assert ARXIV_ID.findall("[arXiv:2006.11239](https://arxiv.org/abs/2006.11293)") == [("20", "06", "11239", "2006.11293")]
    assert chapters_cited("chapter 3; chapters 5, 6 and 7; chapters 2 to 8, chapter 10's") == {2, 3, 5, 6, 7, 8, 10}


# The labels of the book's fold buttons a chapter may tell a reader to press: the exercise
# solutions' fold (book.yml's togglebutton_hint) and MyST-NB's fold of hidden code. The browser
# test reads both on a built page.
SOLUTION_HINT, CODE_FOLD_LABEL = "Show the solution", "Show code cell source"
BUTTON_NAMED = re.compile(r"""["*](Show [^"*]+)["*]""")


def buttons_named(texts: dict[str, str]) -> set[str]:
    return {m.group(1) for text in texts.values() for m in BUTTON_NAMED.finditer(text)}


def test_course_names_only_buttons_the_book_has():
    assert load_yaml("book.yml")["sphinx"]["config"]["togglebutton_hint"] == SOLUTION_HINT
    assert buttons_named(course_texts()) <= {SOLUTION_HINT, CODE_FOLD_LABEL}
    assert buttons_named({"a": 'press "Show code" in the book'}) == {"Show code"}  # the check can fail


def test_toc_check_can_fail():
    toc = {"format": "jb-book", "root": "book/intro", "chapters": [{"file": "notebooks/02_a"}]}
    present = [Path("02_a.ipynb"), Path("03_b.ipynb")]
    assert chapters_in_toc(toc, present) == ["notebooks/02_a"]
    globbed = {"chapters": [{"glob": "notebooks/*"}]}
    assert chapters_in_toc(globbed, present) == ["notebooks/02_a", "notebooks/03_b"]


def solution_markers():
    """book/_ext/solution_markers.py, the book's extension that hides Otter's markers."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("solution_markers", ROOT / "book" / "_ext" / "solution_markers.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_unseen_widget_state_is_dropped_and_visible_widgets_keep_theirs():
    """book/_ext/widget_state.py: models shown only by hidden (tag_widget) cells leave the page;
    a visible view keeps its model and every model that one refers to."""
    import importlib.util

    spec = importlib.util.spec_from_file_location("widget_state", ROOT / "book" / "_ext" / "widget_state.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    def view(model: str) -> str:
        return f'<script type="application/vnd.jupyter.widget-view+json">{{"version_major": 2, "model_id": "{model}"}}</script>'

    state = {"version_major": 2, "version_minor": 0, "state": {
        "aa": {"state": {"children": ["IPY_MODEL_bb"], "outputs": [{"data": {"image/png": "PNG" * 100}}]}},
        "bb": {"state": {}},
        "cc": {"state": {"layout": "IPY_MODEL_dd"}},
        "dd": {"state": {"style": "IPY_MODEL_ee"}},
        "ee": {"state": {}},
    }}  # fmt: skip
    page = (
        '<html><head><script type="application/vnd.jupyter.widget-state+json">' + json.dumps(state) + "</script></head><body>"
        f'<div class="cell tag_widget docutils container"><div class="cell_output">{view("aa")}</div></div>'
        f'<div class="cell docutils container"><div class="cell_output">{view("cc")}</div></div></body></html>'
    )
    out = module.drop_unseen_widget_state(page)
    kept = json.loads(module.STATE.search(out).group(1))["state"]
    assert set(kept) == {"cc", "dd", "ee"}  # the visible view's model and what it refers to, transitively
    assert view("aa") not in out and view("cc") in out and "PNG" not in out
    alone = page.replace(view("cc"), "")  # nothing visible: no state at all
    assert "widget-state" not in module.drop_unseen_widget_state(alone)
    assert module.drop_unseen_widget_state("<html>no widgets</html>") == "<html>no widgets</html>"


OTTER_MARKER = re.compile(r"#\s*(?:BEGIN|END)\s+SOLUTION|#\s*SOLUTION\b")


def test_solution_markers_are_stripped_from_the_displayed_code():
    strip = solution_markers().strip_markers
    code = (
        "a = 1\n"
        "t_star = int(2.5)  # SOLUTION\n"
        "    # BEGIN SOLUTION NO PROMPT\n"
        "exact = 2 * a  # SOLUTION NO PROMPT\n"
        "# END SOLUTION\n"
        "# BEGIN SOLUTION\n"
        "for t in range(3):\n"
        "    a += t  # keep this comment\n"
        "# END SOLUTION\n"
        'print("# SOLUTION")  # a string is code, not a marker\n'
        "# SOLUTIONS: a comment that is no marker\n"
    )
    assert strip(code) == (
        "a = 1\n"
        "t_star = int(2.5)\n"
        "exact = 2 * a\n"
        "for t in range(3):\n"
        "    a += t  # keep this comment\n"
        'print("# SOLUTION")  # a string is code, not a marker\n'
        "# SOLUTIONS: a comment that is no marker\n"
    )
    # every solution cell of the course: no marker left, every line of code kept, still Python
    cells = 0
    for path in NOTEBOOKS:
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            if "solution" not in cell.get("metadata", {}).get("tags", []):
                continue
            cells += 1
            source = "".join(cell["source"])
            shown = strip(source)
            assert not OTTER_MARKER.search(shown), f"{path.stem}: a marker is left in\n{shown}"
            code_lines = [line for line in source.splitlines() if not re.fullmatch(r"\s*# (BEGIN|END) SOLUTION.*", line)]
            assert len(shown.splitlines()) == len(code_lines)
            compile(shown, f"{path.stem} solution", "exec")
    assert cells >= 20


def test_vendored_libraries_are_pinned_npm_packages():
    package = json.loads((ROOT / "package.json").read_text(encoding="utf-8"))
    lock = json.loads((ROOT / "package-lock.json").read_text(encoding="utf-8"))
    for name, version in package["dependencies"].items():
        assert re.fullmatch(r"\d+\.\d+\.\d+", version), f"{name}: pin an exact version, not {version!r}"
        assert lock["packages"][f"node_modules/{name}"]["version"] == version
    import importlib.util

    spec = importlib.util.spec_from_file_location("vendor", ROOT / "scripts" / "vendor_book_assets.py")
    vendor = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(vendor)
    # Every pinned package is copied somewhere: into the book (vendor_book_assets.py) or into
    # the Python package (vendor_package_assets.py: the live explorers' plotting library).
    spec = importlib.util.spec_from_file_location("package_assets", ROOT / "scripts" / "vendor_package_assets.py")
    package_assets = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(package_assets)
    assert set(vendor.COPIES) | set(package_assets.COPIES) == set(package["dependencies"])
    copied = {"vendor/" + dst for items in vendor.COPIES.values() for _, dst in items}
    sphinx = load_yaml("book.yml")["sphinx"]["config"]
    for url in [sphinx["mathjax_path"], *sphinx["nb_ipywidgets_js"]]:
        assert url in copied, f"book.yml loads {url}, which scripts/vendor_book_assets.py does not copy"


# --- the built site, in a browser ----------------------------------------------------------------


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):  # keep pytest's output clean
        pass


@pytest.fixture(scope="module")
def site_url():
    if not CHROMIUM.is_file():
        pytest.skip(f"{CHROMIUM} not found (Debian: apt-get install chromium)")
    pytest.importorskip("playwright.sync_api", reason="the Python playwright package (pip install -e '.[book]')")
    if not (SITE / "index.html").is_file():
        pytest.skip(f"no built book in {SITE.relative_to(ROOT)} (run `make book` first)")
    handler = functools.partial(QuietHandler, directory=str(SITE))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def chromium_context(timeout_ms: int):
    """Debian's Chromium, headless, driven by Playwright, with a fresh temporary profile
    (removed afterwards); every wait times out after ``timeout_ms``. Also used by
    test_lab_browser.py."""
    from playwright.sync_api import sync_playwright

    profile = tempfile.mkdtemp(prefix="diffviz-chromium-")
    try:
        with sync_playwright() as p:
            context = p.chromium.launch_persistent_context(
                profile,  # Chromium's --user-data-dir
                executable_path=str(CHROMIUM),
                args=CHROMIUM_ARGS,
                headless=True,
                viewport={"width": 1280, "height": 900},
            )
            context.set_default_timeout(timeout_ms)
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(profile, ignore_errors=True)


@pytest.fixture(scope="module")
def browser(site_url):
    with chromium_context(TIMEOUT_MS) as context:
        yield context


def open_page(context, url: str):
    """Open ``url``; return the page, its console errors and every URL it requested."""
    page = context.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: errors.append(f"uncaught: {exc}"))
    page.on("requestfailed", lambda req: errors.append(f"request failed: {req.url} ({req.failure})"))
    page.on("response", lambda resp: errors.append(f"HTTP {resp.status}: {resp.url}") if resp.status >= 400 else None)
    page.on("request", lambda req: requests.append(req.url))
    page.goto(url, wait_until="load")
    # Load every image now (lazy ones included), then wait for them and for MathJax.
    page.evaluate("() => document.querySelectorAll('img[loading=lazy]').forEach(i => i.loading = 'eager')")
    page.wait_for_function("() => [...document.images].every(i => i.complete)")
    page.wait_for_function(
        "() => !document.querySelector('.math') || (window.MathJax && MathJax.startup && MathJax.startup.promise"
        " && (MathJax.startup.promise.then(() => window.__mathjaxDone = true), window.__mathjaxDone))"
    )
    page.wait_for_timeout(500)  # let late scripts (the widget renderer) report errors
    return page, errors, requests


def foreign_requests(requests: list[str]) -> list[str]:
    """Requests to anything but 127.0.0.1 (data: and blob: URLs are not requests to a host)."""
    return [u for u in requests if urlsplit(u).scheme not in {"data", "blob"} and urlsplit(u).hostname != "127.0.0.1"]


RAW_TEX_JS = """() => {
  const skip = 'mjx-container, script, style, pre, code, .cell_input, .highlight, .MathJax_Preview';
  const root = document.querySelector('main') || document.body;
  const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
  const out = [];
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    if (!n.parentElement.closest(skip)) out.push(n.textContent);
  }
  return out.join(' ');
}"""
RAW_TEX = re.compile(r"\$\$|\\\(|\\\)|\\\[|\\\]|\\begin\{|\$[^$\n]*\\[A-Za-z]+[^$\n]*\$")


def raw_tex(text: str) -> list[str]:
    return [text[max(m.start() - 40, 0) : m.end() + 40] for m in RAW_TEX.finditer(text)]


def test_raw_tex_detector_can_fail():
    assert raw_tex(r"the step $x_t = \sqrt{1-\beta} x$ and more")
    assert raw_tex(r"see $$ a $$") and raw_tex(r"inline \(a\)") and raw_tex(r"\begin{aligned} x")
    assert not raw_tex("costs $5 and $6 each; x_t = 1")


def chapter_ids():
    return [p.stem for p in NOTEBOOKS]


PLAYER_CELL = re.compile(r"HTML\(dv\.\w+_html\(")


def players_in_notebook(path: Path) -> int:
    """Code cells of a chapter that show a precomputed player (``HTML(dv.snapshot_scrubber_html(...))`` etc.)."""
    nb = json.loads(path.read_text(encoding="utf-8"))
    return sum(
        1 for c in nb["cells"] if c["cell_type"] == "code" and PLAYER_CELL.search("".join(c["source"]))
    )


def solutions_in_notebook(path: Path) -> int:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return sum(1 for c in nb["cells"] if "solution" in c.get("metadata", {}).get("tags", []))


def test_player_and_solution_counts_can_fail(tmp_path):
    nb = {"cells": [
        {"cell_type": "code", "metadata": {}, "source": ["HTML(dv.eps_scrubber_html(x, a, b, ts))"]},
        {"cell_type": "code", "metadata": {"tags": ["solution", "hide-input"]}, "source": "assert True"},
        {"cell_type": "markdown", "metadata": {}, "source": "HTML(dv.eps_scrubber_html(...)) in prose is no player"},
    ]}  # fmt: skip
    path = tmp_path / "x.ipynb"
    path.write_text(json.dumps(nb), encoding="utf-8")
    assert players_in_notebook(path) == 1 and solutions_in_notebook(path) == 1
    assert players_in_notebook(ROOT / "notebooks" / f"{FORWARD_CHAPTER}.ipynb") >= 1  # the issue asks for it there


@pytest.mark.browser
@pytest.mark.parametrize("stem", ["book/intro", "book/formulas", "book/glossary", "book/references", "book/teachers_guide", *(f"notebooks/{s}" for s in chapter_ids())], ids=lambda s: s.split("/")[-1])
def test_page_is_complete_offline(browser, site_url, stem):
    html = SITE / f"{stem}.html"
    assert html.is_file(), f"{html.relative_to(ROOT)} missing: the built book is older than notebooks/ (run `make book`)"
    page, errors, requests = open_page(browser, f"{site_url}/{stem}.html")
    try:
        assert errors == [], f"console errors on {stem}: {errors}"
        assert foreign_requests(requests) == [], f"{stem} requested other hosts"
        assert raw_tex(page.evaluate(RAW_TEX_JS)) == [], "raw TeX left in the page (MathJax did not typeset it)"
        has_math = page.locator(".math").count() > 0
        typeset = page.locator("mjx-container").count()
        if has_math:
            assert typeset > 0, "the page has maths but no MathJax container"
        if page.locator("div.math").count():  # display equations are numbered
            assert page.locator("mjx-container[display=true] mjx-labels").count() > 0, "display equations are not numbered"
        broken = page.evaluate("() => [...document.images].filter(i => !(i.naturalWidth > 0)).map(i => i.src.slice(0, 80))")
        assert broken == [], f"images that did not load: {broken}"
        # A table wider than the text column scrolls sideways and hides its last column
        # (the formulas page's tables did, before they went from three columns to two).
        wide = page.evaluate(
            "() => [...document.querySelectorAll('main table')]"
            ".map(t => [t.scrollWidth, t.parentElement.clientWidth]).filter(([w, room]) => w > room + 1)"
        )
        assert wide == [], f"tables wider than the text column ([width, room] in px): {wide}"
        if stem.startswith("notebooks/"):
            assert page.locator("img").count() >= 1
            # Figures carry a description for screen readers (cell metadata mystnb.image.alt,
            # tests/test_notebooks.py); without it MyST-NB's alt is the image's file name.
            # (Left out: the players' frame image, whose alt the player sets, and the outputs of
            # live-widget cells, which the book hides.)
            unnamed = page.evaluate(
                "() => [...document.querySelectorAll('main .cell:not(.tag_widget) .cell_output img:not([id^=\"_anim_img\"])')]"
                f".map(i => i.getAttribute('alt') || '').filter(a => a.length < {ALT_MIN} || a.includes('_images/'))"
            )
            assert unnamed == [], f"figures without alt text: {unnamed}"
            # Exercise solutions are folded away; live-kernel widgets are hidden with a note.
            for cell in page.locator("div.cell.tag_solution").all():
                assert not cell.is_visible() or cell.locator("xpath=ancestor::details[not(@open)]").count() > 0
            for output in page.locator("div.cell.tag_widget .cell_output").all():
                assert not output.is_visible()
    finally:
        page.close()


@pytest.mark.browser
def test_forward_chapter_scrubber_changes_the_frame_and_screenshot(browser, site_url):
    page, errors, _ = open_page(browser, f"{site_url}/notebooks/{FORWARD_CHAPTER}.html")
    try:
        ARTEFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTEFACTS / "chapter02.png"))
        # matplotlib's to_jshtml() player: <img id="_anim_img..."> and <input type=range class="anim-slider">.
        player = page.locator("div.animation").first
        slider = player.locator("input.anim-slider")
        frame = player.locator("img[id^=_anim_img]")
        player.scroll_into_view_if_needed()
        assert slider.count() == 1 and frame.count() == 1, "no jshtml player on the forward-process page"
        before = frame.get_attribute("src")
        assert before and slider.input_value() == "0"
        slider.focus()
        for _ in range(5):
            page.keyboard.press("ArrowRight")
        page.wait_for_function(
            "([img, src]) => img.src !== src && img.complete && img.naturalWidth > 0", arg=[frame.element_handle(), before]
        )
        assert slider.input_value() == "5"
        assert frame.get_attribute("src") != before
        page.screenshot(path=str(ARTEFACTS / "chapter02-scrubber.png"))
        assert errors == []
    finally:
        page.close()


def move_player(page, player) -> None:
    """Scrub one to_jshtml() player with the keyboard; assert its frame changes and loads, and
    that it describes its frames for screen readers (an alt text on the frame image)."""
    slider = player.locator("input.anim-slider")
    frame = player.locator("img[id^=_anim_img]")
    assert slider.count() == 1 and frame.count() == 1, "not a to_jshtml() player"
    assert alt_text_problem(frame.get_attribute("alt") or "") is None, "the player's frame image has no usable description (alt)"
    player.scroll_into_view_if_needed()
    last = int(slider.get_attribute("max"))
    assert last >= 1 and slider.input_value() == "0", "a player should start on its first frame"
    before = frame.get_attribute("src")
    steps = min(3, last)
    slider.focus()
    for _ in range(steps):
        page.keyboard.press("ArrowRight")
    page.wait_for_function(
        "([img, src]) => img.src !== src && img.complete && img.naturalWidth > 0", arg=[frame.element_handle(), before]
    )
    assert slider.input_value() == str(steps)
    assert frame.get_attribute("src") != before


@pytest.mark.browser
@pytest.mark.parametrize("stem", chapter_ids())
def test_chapter_players_solutions_download_and_launch_work(browser, site_url, stem):
    """Everything a reader clicks on a chapter page works offline, without a kernel."""
    source = ROOT / "notebooks" / f"{stem}.ipynb"
    expected_players, expected_solutions = players_in_notebook(source), solutions_in_notebook(source)
    page, errors, _ = open_page(browser, f"{site_url}/notebooks/{stem}.html")
    try:
        # every static scrubber on the page moves (a page with n player cells shows n players)
        players = page.locator("div.animation").all()
        assert len(players) >= expected_players, f"{stem}: {len(players)} players on the page, {expected_players} in the notebook"
        for player in players:
            move_player(page, player)

        # the exercise solutions: folded behind "Show the solution", and they open and close
        folds = page.locator("details.toggle-details:has(div.cell.tag_solution)")
        assert folds.count() == expected_solutions
        if expected_solutions:
            fold = folds.first
            cell = fold.locator("div.cell.tag_solution")
            summary = fold.locator("summary.toggle-details__summary")  # (the cell has its own code fold inside)
            hint = summary.locator(".toggle-details__summary-text")
            fold.scroll_into_view_if_needed()
            assert not cell.is_visible() and hint.inner_text().strip() == SOLUTION_HINT
            summary.click()
            page.wait_for_function("(d) => d.open", arg=fold.element_handle())
            assert cell.is_visible() and hint.inner_text().strip() == "Hide the solution"
            # inside, the code is folded again, under the label the chapters tell readers to press
            assert cell.locator("summary .collapsed").first.inner_text().strip() == CODE_FOLD_LABEL
            summary.click()
            page.wait_for_function("(d) => !d.open", arg=fold.element_handle())
            assert not cell.is_visible()
            # the solutions show their code without Otter-Grader's markers (book/_ext/solution_markers.py)
            shown = page.locator("div.cell.tag_solution .cell_input pre").all_text_contents()
            assert len(shown) == expected_solutions and all(text.strip() for text in shown)
            left = [text for text in shown if OTTER_MARKER.search(text)]
            assert left == [], f"{stem}: solution code with Otter markers: {left[:1]}"

        # the download button serves this chapter as a notebook
        href = page.locator("a.btn-download-source-button").get_attribute("href")
        assert href and href.endswith(f"{stem}.ipynb")
        response = page.request.get(urljoin(page.url, href))
        assert response.status == 200
        import nbformat

        downloaded = nbformat.reads(response.text(), as_version=4)
        nbformat.validate(downloaded)
        title = downloaded.cells[0].source.splitlines()[0].lstrip("# ").strip()
        assert page.locator("main h1").first.inner_text().startswith(title)

        # the launch buttons open this chapter in the repository book.yml names (any owner)
        config = load_yaml("book.yml")
        repo = urlsplit(config["repository"]["url"]).path.strip("/")
        branch = config["repository"].get("branch", "main")
        launch = config["launch_buttons"]
        links = {a.get_attribute("href") for a in page.locator(".dropdown-launch-buttons a").all()}
        assert f"{launch['colab_url']}/github/{repo}/blob/{branch}/notebooks/{stem}.ipynb" in links
        assert any(u.startswith(f"{launch['binderhub_url']}/v2/gh/{repo}/{branch}?") and f"notebooks/{stem}.ipynb" in u
                   for u in links)  # fmt: skip
        assert errors == [], f"console errors on {stem}: {errors}"
    finally:
        page.close()


# --- the live explorers (issue 18): computed in the browser, on the built pages ------------------

LIVE_CHAPTERS = [s for s in chapter_ids() if 1 <= int(s[:2]) <= 5 or int(s[:2]) in (12, 13)]  # each has a live explorer
LIVE_FRAME = "iframe[srcdoc*='window.diffvizLive']"  # a self-contained output whose page defines window.diffvizLive
LIVE_CALL = re.compile(r"^dv\.\w+_live\(", re.MULTILINE)  # a cell whose output is a live explorer
LIVE_CONTROLS = "input[type=range], select, input[type=checkbox]"
PICTURES_JS = "() => [...document.querySelectorAll('canvas')].map(c => c.toDataURL())"
PAYLOAD_JS = "() => JSON.parse(document.getElementById('diffviz-data').textContent)"
SHOWN_JS = "() => document.body.innerText"


def test_the_live_chapters_each_build_a_live_explorer():
    """The browser test below runs on LIVE_CHAPTERS and fails a page without a live explorer; here a
    chapter that drops its ``dv.*_live(...)`` cell, or leaves the list, fails without a build."""
    assert [int(s[:2]) for s in LIVE_CHAPTERS] == [1, 2, 3, 4, 5, 12, 13]
    for stem in LIVE_CHAPTERS:
        cells = json.loads((ROOT / "notebooks" / f"{stem}.ipynb").read_text(encoding="utf-8"))["cells"]
        shown = [c for c in cells if c["cell_type"] == "code" and LIVE_CALL.search("".join(c["source"]))
                 and "widget" not in c.get("metadata", {}).get("tags", [])]  # fmt: skip
        assert shown, f"{stem}: no cell shows a live explorer (dv.*_live(...))"


def finite_numbers(value) -> bool:
    """Every number in a (nested) snapshot is finite (Playwright hands NaN and Infinity over as floats)."""
    if isinstance(value, dict):
        return all(finite_numbers(v) for v in value.values())
    if isinstance(value, list):
        return all(finite_numbers(v) for v in value)
    return not isinstance(value, float) or math.isfinite(value)


def live_agreement(frame) -> str:
    """Compare the numbers a live explorer on a built page computes now with diffviz's, through
    the checks of tests/test_live*.py; return what was compared. The kind of explorer is read from
    its data (the JSON payload the Python side hands over)."""
    import numpy as np
    import test_live
    import test_live_2d
    import test_live_schedules

    p = frame.evaluate(PAYLOAD_JS)
    if "z1" in p:  # chapter 1: conditioning (the slice's points depend on the chapter's key: formula only)
        from diffviz.viz.plots_gaussian import _conditional_gaussian

        snap = frame.evaluate("xs => window.diffvizLive.snapshot(xs)", [])
        mean, variance = _conditional_gaussian(np.zeros(2), np.array([[1.0, snap["rho"]], [snap["rho"], 1.0]]), snap["a"])
        assert snap["mean"] == pytest.approx(mean, rel=1e-5, abs=1e-12) and snap["variance"] == pytest.approx(variance, rel=1e-5)
        return "conditional mean and variance"
    if "names" in p:  # chapter 3: schedules
        T = frame.evaluate("() => window.diffvizLive.snapshot([]).T")
        ts = test_live_schedules.times(T)
        snap = frame.evaluate("ts => window.diffvizLive.snapshot(ts)", ts)
        py = test_live_schedules.python_numbers(snap["schedule"], T, ts)  # (its KL is for that file's x0)
        for key in ("abar", "rest", "snr"):
            assert snap[key] == pytest.approx(py[key], rel=test_live_schedules.RTOL), (snap["schedule"], T, key)
        make = {"linear": diffviz.linear_schedule, "cosine": diffviz.cosine_schedule,
                "constant": lambda T: diffviz.constant_schedule(p["beta"], T)}
        x0 = np.full(p["x0_size"], math.sqrt(p["x0_sum_sq"] / p["x0_size"]), np.float32)  # the KL sees only these two
        assert snap["kl"] == pytest.approx(float(diffviz.prior_kl(make[snap["schedule"]](T), x0)), rel=1e-5)
        return "alpha-bar, 1 - alpha-bar, SNR, prior KL"
    if "datasets" in p:  # chapter 4: 2-D forward process
        snap = test_live_2d.snap(frame)
        s = test_live_2d.schedule(snap["schedule"], p["T"])
        assert snap["abar"] == pytest.approx(float(s.alpha_bars[snap["t"]]), rel=test_live_2d.RTOL)
        assert snap["rest"] == pytest.approx(float(s.one_minus_alpha_bars[snap["t"]]), rel=test_live_2d.RTOL)
        if "mean" in snap and p["T"] == 1000:  # the eight Gaussians or the checkerboard: an exact q_t
            test_live_2d.assert_agrees(snap, snap["schedule"])  # (the checkerboard's by its own check)
            return f"alpha-bar, 1 - alpha-bar, the exact q_t's moments and density ({snap['dataset']})"
        return "alpha-bar, 1 - alpha-bar"
    if "x_T" in p and "labels" in p:  # chapter 13: guidance with the exact guided field
        import test_live_guidance as g

        snap = frame.evaluate("() => window.diffvizLive.snapshot()")
        for t in (1000, 500, 40):
            got = frame.evaluate("([x, t, c, w]) => window.diffvizLive.guidedEps(x, t, c, w)", [g.POINTS, t, snap["c"], snap["w"]])
            want = diffviz.guided_eps(g.SCHEDULE, g.TOY, np.asarray(g.POINTS, np.float32), t, snap["c"], snap["w"])
            np.testing.assert_allclose(got, np.asarray(want, np.float64), rtol=g.RTOL, atol=1e-6, err_msg=f"t = {t}, {snap}")
        return "the exact guided eps at the shown class and scale"
    if "interpolants" in p:  # chapter 12: interpolants
        import test_live_flow

        test_live_flow.assert_coefficients_agree(test_live_flow.snap(frame))
        return "a(t), s(t) of the three interpolants"
    if "x_T" in p:  # chapter 5: the exact reverse process
        test_live_2d.assert_agrees(test_live_2d.snap(frame), p["schedule"])
        return "alpha-bar, beta, the exact mixture's moments, density and eps*"
    if "eps" in p and "beta" in p:  # chapter 2: 1-D forward process
        test_live.assert_agrees(test_live.snapshot(frame))
        return "alpha-bar, the marginal mean and variance, the density"
    raise AssertionError(f"a live explorer of an unknown kind (payload keys {sorted(p)})")


def move_live_control(page, frame, control) -> str:
    """Move one control of a live explorer as a reader would: a slider by the keyboard (left at
    its right end), a menu to another option, a toggle with Space. Returns its name."""
    tag, kind, name = control.evaluate("e => [e.tagName.toLowerCase(), e.type, e.id || e.getAttribute('aria-label')]")
    control.scroll_into_view_if_needed()
    if tag == "select":
        current = control.input_value()
        other = next(v for v in control.evaluate("e => [...e.options].map(o => o.value)") if v != current)
        control.select_option(other)
        return f"{name} ({current} -> {other})"
    control.focus()
    if kind == "checkbox":
        before = control.is_checked()
        page.keyboard.press("Space")
        return f"{name} (checked: {before} -> {control.is_checked()})"
    before = control.input_value()
    page.keyboard.press("ArrowRight")
    if control.input_value() == before:  # at its right end
        page.keyboard.press("ArrowLeft")
    return f"{name} ({before} -> {control.input_value()})"


def move_every_live_control(page, frame, where: str) -> list[str]:
    """Move every slider, menu and toggle of one live explorer (found in its frame, not listed);
    after each: a redraw, a different picture and state, nothing NaN shown, and the numbers it
    computes agree with diffviz's (``live_agreement``). Returns what was moved and compared.
    Also used by tests/test_lab_browser.py (the same explorer in JupyterLab)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout
    from test_live import draws, wait_redrawn

    live_agreement(frame)
    controls = frame.locator(LIVE_CONTROLS).all()
    assert controls, f"{where}: a live explorer without a control"
    # Toggles first: one that means something only for some data sets (chapter 4's density, for the eight
    # Gaussians and the checkerboard) is moved on the data set the page opens with, before a menu leaves it.
    controls.sort(key=lambda c: c.get_attribute("type") != "checkbox")
    moved = []
    for control in controls:
        if control.is_disabled():  # a toggle may be off where it means nothing (no density for a data set)
            assert control.get_attribute("type") == "checkbox", f"{where}: a disabled slider or menu"
            continue
        pictures, n = frame.evaluate(PICTURES_JS), draws(frame)
        state = frame.evaluate("() => JSON.stringify(window.diffvizLive.snapshot())")
        what = move_live_control(page, frame, control)
        try:
            wait_redrawn(frame, n)
        except PlaywrightTimeout:
            pytest.fail(f"{where}: {what}: the explorer did not redraw")
        frame.wait_for_function("() => window.diffvizLive.ready !== false", timeout=120_000)
        assert frame.evaluate(PICTURES_JS) != pictures, f"{where}: {what}: the picture did not change"
        after = frame.evaluate("() => window.diffvizLive.snapshot()")
        assert json.dumps(after) != state, f"{where}: {what}: the explorer's state did not change"
        assert finite_numbers(after), f"{where}: {what}: {after}"
        shown = frame.evaluate(SHOWN_JS)
        assert "NaN" not in shown and "Infinity" not in shown, f"{where}: {what}: {shown}"
        moved.append(f"{what}: {live_agreement(frame)}")
    return moved


@pytest.mark.browser
@pytest.mark.parametrize("stem", LIVE_CHAPTERS)
def test_every_live_control_redraws_and_agrees_with_python(browser, site_url, stem):
    """Every live explorer on the page (found on the page, not listed here) answers every one of its
    sliders, menus and toggles: a redraw, a different picture and state, nothing NaN shown, and the
    numbers it computes agree with diffviz's. No console error, no request to another host."""
    page, errors, requests = open_page(browser, f"{site_url}/notebooks/{stem}.html")
    try:
        frames = page.locator(LIVE_FRAME).element_handles()
        assert frames, f"{stem}: no live explorer on the page (issue 18: chapters 1-5, 12 and 13 have one)"
        moved = []
        for handle in frames:
            handle.scroll_into_view_if_needed()
            frame = handle.content_frame()
            frame.wait_for_function("() => window.diffvizLive && window.diffvizLive.draws > 0 && window.diffvizLive.ready !== false",
                                    timeout=120_000)  # fmt: skip
            moved += move_every_live_control(page, frame, stem)
        assert errors == [], f"console errors on {stem}: {errors}"
        assert foreign_requests(requests) == [], f"{stem} requested other hosts"
        print(f"{stem}: {len(frames)} live explorer(s); moved and checked: {moved}")
    finally:
        page.close()
