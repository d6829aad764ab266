"""The classroom edition: graded exercises written for Otter-Grader, editions, and grading.

The chapters in notebooks/ are the single source of the exercises (Otter Assign's notebook
format; see scripts/classroom.py and book/teachers_guide.md). Three kinds of test:

* the markup (no Otter run, fast): every chapter in CLASSROOM_CHAPTERS has at least three
  questions, each with a prompt, a folded answer and a worked solution inside a solution block,
  and checks; every Otter marker (raw cell) and every check cell is hidden from the book
  (``remove-cell``), the worked solutions stay folded (``solution`` + ``hide-input``);
* the editions: ``scripts/classroom.py generate --no-run-tests`` (the command behind
  ``make classroom``) is run once per session for every chapter; the student editions must have
  no solution left (no folded answer, no solution line) but one ``grader.check`` per exercise,
  the instructor editions the solutions; a student edition holds no check but the visible
  "filled in" one per exercise, and no success message or answer value of the hidden checks;
* one chapter end to end (GRADED, marked ``slow``): its student edition executes top to bottom
  in a fresh kernel without an error, and every check reports its exercise as not done; a
  folder with the instructor edition (all right) and a copy with some answers broken is graded
  by ``scripts/classroom.py grade`` (``otter run``), and the score table holds exactly the
  expected points.

That the instructor edition passes every check is tested for every chapter elsewhere: the
chapter notebooks contain the check cells, which raise on a failed check, and
tests/test_notebooks.py executes every chapter top to bottom (``make classroom`` runs the checks
through Otter on each instructor edition too). Here the instructor edition of GRADED gets full
marks from the autograder.

To add a chapter (once its exercises are in Otter's format): add it to CLASSROOM_CHAPTERS.
"""

from __future__ import annotations

import ast
import csv
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "scripts" / "classroom.py"
CLASSROOM_CHAPTERS = ["02", "03", "04", "05", "06", "07", "08", "09", "10", "11", "12", "13"]
GRADED = "03"  # one of the quicker chapters (about 20 s to execute)
BEGIN = re.compile(r"#\s+BEGIN\s+(QUESTION|SOLUTION|TESTS)\b", re.I)
END = re.compile(r"#\s+END\s+(QUESTION|SOLUTION|TESTS)\b", re.I)

# The broken submission of chapter GRADED: (exercise, right text, wrong text, points it costs).
BREAKS = [
    ("ex1", "same_for_both_orders = 3  # SOLUTION", "same_for_both_orders = 1", 1),
    ("ex2", "T_exact = int(T_grid[np.argmax(abar_end < 1e-3)])  # SOLUTION", "T_exact = 684", 2),
    ("ex4", "return 0.5 * abar * x0**2 + 0.25 * abar**2  # SOLUTION", "return 0.5 * abar + 0.25 * abar**2", 1),
]


def chapter_path(number: str) -> Path:
    (path,) = (ROOT / "notebooks").glob(f"{number}_*.ipynb")
    return path


def read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def questions(nb) -> list[dict]:
    """The Otter questions of a chapter: name, and the cells of each block inside it."""
    found, stack, current = [], [], None
    for cell in nb.cells:
        first = cell.source.lstrip().splitlines()[0] if cell.source.strip() else ""
        if cell.cell_type == "raw" and BEGIN.match(first):
            kind = BEGIN.match(first).group(1).upper()
            stack.append(kind)
            if kind == "QUESTION":
                name = re.search(r"name:\s*(\S+)", cell.source)
                current = {"name": name.group(1) if name else None, "QUESTION": [], "SOLUTION": [], "TESTS": []}
                found.append(current)
            continue
        if cell.cell_type == "raw" and END.match(first):
            kind = END.match(first).group(1).upper()
            assert stack and stack[-1] == kind, f"unbalanced '# END {kind}' in {nb.cells.index(cell)}"
            stack.pop()
            continue
        if stack:
            current[stack[-1]].append(cell)
    assert not stack, f"unclosed blocks: {stack}"
    return found


def tags(cell) -> set[str]:
    return set(cell.metadata.get("tags", []))


def question_points(question: dict) -> int:
    """The points of one Otter question: the sum over its check cells' ``points:``."""
    return sum(int(re.search(r"^points:\s*(\d+)", c.source, re.M).group(1)) for c in question["TESTS"])


# A row of the teacher's guide's exercise table: | chapter | number title | kind | points | suits | checks |
GUIDE_ROW = re.compile(r"^\| (\d+) \| (\d+) [^|]+ \| [^|]+ \| (\d+) \| [^|]+ \| [^|]+ \|$", re.M)


def guide_exercises(text: str) -> dict[tuple[str, int], int]:
    """``{(chapter, exercise number): points}`` as the teacher's guide lists them."""
    return {(f"{int(ch):02d}", int(k)): int(points) for ch, k, points in GUIDE_ROW.findall(text)}


# --- the markup in the chapters ------------------------------------------------------------------


def test_every_classroom_chapter_exists():
    for number in CLASSROOM_CHAPTERS:
        assert chapter_path(number).is_file()
    # and every chapter with Otter questions is one of them, so none escapes these tests
    with_questions = [p.name.split("_", 1)[0] for p in sorted((ROOT / "notebooks").glob("*.ipynb")) if questions(read(p))]
    assert with_questions == CLASSROOM_CHAPTERS


def test_teachers_guide_lists_every_graded_exercise_with_its_points():
    actual = {
        (number, i): question_points(q)
        for number in CLASSROOM_CHAPTERS
        for i, q in enumerate(questions(read(chapter_path(number))), 1)
    }
    guide = (ROOT / "book" / "teachers_guide.md").read_text(encoding="utf-8")
    assert guide_exercises(guide) == actual
    first, last = int(CLASSROOM_CHAPTERS[0]), int(CLASSROOM_CHAPTERS[-1])
    assert f"Chapters {first} to {last} end with" in guide.replace("\n", " ")
    assert f"Chapters {first} to {last} end with graded exercises" in (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"all {len(actual)} graded exercises" in (ROOT / "book" / "intro.md").read_text(encoding="utf-8")


def test_guide_table_check_can_fail():
    rows = "| 3 | 1 Order | derive | 3 | lab | a; b |\n| 10 | 2 Key | derive | 3 | homework | c |\n"
    assert guide_exercises(rows) == {("03", 1): 3, ("10", 2): 3}
    assert guide_exercises(rows.replace("| 3 | lab", "| 2 | lab")) != guide_exercises(rows)  # a wrong point count shows


@pytest.mark.parametrize("number", CLASSROOM_CHAPTERS)
def test_chapter_exercises_are_otter_questions(number):
    nb = read(chapter_path(number))
    found = questions(nb)
    assert len(found) >= 3, f"chapter {number} has {len(found)} graded exercises, at least 3 are needed"
    names = [q["name"] for q in found]
    assert names == [f"ch{number}_ex{i}" for i in range(1, len(found) + 1)], names
    for q in found:
        prompt = "\n".join(c.source for c in q["QUESTION"] if c.cell_type == "markdown")
        assert "**Exercise " in prompt and "*In code:*" in prompt, f"{q['name']}: prompt or its 'In code' line is missing"
        answers = [c for c in q["SOLUTION"] if c.cell_type == "markdown"]
        assert len(answers) == 1 and answers[0].source.startswith("<details><summary>Answer</summary>"), q["name"]
        solutions = [c for c in q["SOLUTION"] if c.cell_type == "code"]
        assert len(solutions) == 1, f"{q['name']}: one worked-solution cell"
        (solution,) = solutions
        assert {"solution", "hide-input"} <= tags(solution), f"{q['name']}: the worked solution must stay folded in the book"
        assert solution.metadata.get("jupyter", {}).get("source_hidden") is True
        assert re.search(r"#\s*(BEGIN )?SOLUTION", solution.source), f"{q['name']}: nothing is marked as the student's part"
        ast.parse(solution.source)
        assert q["TESTS"], f"{q['name']}: no checks"
        for check in q["TESTS"]:
            assert check.cell_type == "code" and "remove-cell" in tags(check), f"{q['name']}: checks are hidden from the book"
            ast.parse(check.source)  # Otter refuses a check that is not valid Python
            assert re.search(r"^points:\s*\d", check.source, re.M), f"{q['name']}: every check has points"
            assert "assert " in check.source or "raise AssertionError" in check.source


@pytest.mark.parametrize("number", CLASSROOM_CHAPTERS)
def test_otter_markers_are_hidden_in_the_book(number):
    nb = read(chapter_path(number))
    raw = [c for c in nb.cells if c.cell_type == "raw"]
    assert raw, "no Otter markers"
    for cell in raw:
        assert "remove-cell" in tags(cell), f"raw cell {cell.source[:40]!r} would show in the book"


def test_question_parser_can_fail():
    bad = nbformat.v4.new_notebook(cells=[nbformat.v4.new_raw_cell("# BEGIN QUESTION\nname: x"), nbformat.v4.new_raw_cell("# END TESTS")])
    with pytest.raises(AssertionError):
        questions(bad)
    assert questions(nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell("**Exercise 1**")])) == []


# --- the editions ----------------------------------------------------------------------------------


def run_script(*args: str, timeout: float) -> subprocess.CompletedProcess:
    result = subprocess.run([sys.executable, str(SCRIPT), *args], cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result


@pytest.fixture(scope="session")
def editions(tmp_path_factory) -> Path:
    """`scripts/classroom.py generate --no-run-tests` for every chapter, once per session."""
    out = tmp_path_factory.mktemp("classroom")
    run_script("generate", "--no-run-tests", "--out", str(out), *CLASSROOM_CHAPTERS, timeout=900)
    return out


@pytest.mark.parametrize("number", CLASSROOM_CHAPTERS)
def test_student_and_instructor_editions(editions, number):
    master = read(chapter_path(number))
    found = questions(master)
    student = read(editions / "student" / chapter_path(number).name)
    instructor = read(editions / "instructor" / chapter_path(number).name)
    assert (editions / "autograder" / f"{chapter_path(number).stem}.zip").is_file()
    for nb in (student, instructor):
        assert not [c for c in nb.cells if c.cell_type == "raw"], "Otter's markers must not reach the editions"
        checks = re.findall(r'grader\.check\("([^"]+)"\)', "\n".join(c.source for c in nb.cells if c.cell_type == "code"))
        assert checks == [q["name"] for q in found], "one check per exercise, in order"
        assert "grader = otter.Notebook(" in nb.cells[0].source
        for cell in nb.cells:
            if {"otter_answer_cell", "otter_assign_solution_cell"} & tags(cell):
                assert not cell.metadata.get("jupyter", {}).get("source_hidden"), "exercise cells are shown in the editions"
                assert not {"hide-input", "solution"} & tags(cell)
    student_text = "\n".join(c.source for c in student.cells)
    instructor_text = "\n".join(c.source for c in instructor.cells)
    assert "<details><summary>Answer</summary>" not in student_text, "the folded answers are removed for students"
    assert "Hidden check cells" in "\n".join(c.source for c in master.cells), "the chapter explains its exercises"
    assert "Hidden check cells" not in student_text + instructor_text, "the editions explain theirs instead"
    assert "in place of each `...`" in student_text and "Instructor edition:" in instructor_text
    assert not re.search(r"#\s*(BEGIN |END )?SOLUTION", student_text)
    assert student_text.count("...") >= len(found)
    for q in found:
        (solution,) = [c for c in q["SOLUTION"] if c.cell_type == "code"]
        for line in solution.source.splitlines():
            if line.rstrip().endswith("# SOLUTION"):
                code = line.split("# SOLUTION")[0].strip()
                assert code not in student_text, f"{q['name']}: the solution line {code!r} reached the student edition"
                assert code in instructor_text
        for answer in (c for c in q["SOLUTION"] if c.cell_type == "markdown"):
            assert answer.source in instructor_text


# Numbers in a check's success message ("t_star is right: 152.") are answers.
NUMBER = re.compile(r"(?<![\w.])\d+(?:\.\d+)?(?![\w])")


def leaks(master, student) -> list[str]:
    """What of the chapter's checks reached the student edition: a check function, a success
    message, or (in the notebook's metadata, where Otter keeps the tests) a number one names."""
    sources = "\n".join(c.source for c in student.cells)
    tests = json.dumps(student.metadata.get("otter", {}))
    found = []
    for q in questions(master):
        for check in q["TESTS"]:
            name = re.search(r"def (test_\w+)", check.source).group(1)
            if name in sources or name in tests:
                found.append(f"{q['name']}: the check {name}")
            message = re.search(r'^success_message:\s*"(.*)"', check.source, re.M)
            if message and message.group(1) in sources + tests:
                found.append(f"{q['name']}: the message {message.group(1)!r}")
            for number in NUMBER.findall(message.group(1) if message else ""):
                if number not in ("0", "1", "2") and re.search(rf"(?<![\w.]){re.escape(number)}(?![\w])", tests):
                    found.append(f"{q['name']}: the answer {number}")
    return found


@pytest.mark.parametrize("number", CLASSROOM_CHAPTERS)
def test_student_edition_does_not_give_the_answers_away(editions, number):
    master = read(chapter_path(number))
    student = read(editions / "student" / chapter_path(number).name)
    assert leaks(master, student) == []
    tests = student.metadata["otter"]["tests"]
    assert sorted(tests) == sorted(q["name"] for q in questions(master)), "one visible check per exercise"
    for name, code in tests.items():  # only the "filled in" check is visible
        assert re.findall(r"def (test_\w+)", code) == ["test_filled_in"], (name, code)
        assert "hidden=False" in code and "points=0" in code


def test_leak_check_can_fail():
    master = read(chapter_path("02"))
    open_edition = nbformat.v4.new_notebook()
    check = next(q for q in questions(master) if q["name"] == "ch02_ex1")["TESTS"][0]
    open_edition.metadata["otter"] = {"tests": {"ch02_ex1": check.source}}
    found = leaks(master, open_edition)
    assert "ch02_ex1: the check test_t_star" in found and "ch02_ex1: the answer 152" in found


# --- one chapter end to end ---------------------------------------------------------------------


def execute(path: Path) -> nbformat.NotebookNode:
    nb = read(path)
    NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}).execute()
    return nb


def check_outputs(nb) -> dict[str, str]:
    """The text each grader.check cell displayed, by exercise."""
    found = {}
    for cell in nb.cells:
        match = re.fullmatch(r'grader\.check\("([^"]+)"\)', cell.source.strip())
        if match:
            found[match.group(1)] = "".join(o.get("data", {}).get("text/plain", "") for o in cell.outputs)
    return found


@pytest.mark.slow
def test_student_edition_runs_and_reports_the_blanks(editions, tmp_path):
    path = chapter_path(GRADED)
    copy = tmp_path / path.name
    shutil.copy(editions / "student" / path.name, copy)
    nb = execute(copy)  # raises CellExecutionError on any error
    outputs = check_outputs(nb)
    assert list(outputs) == [q["name"] for q in questions(read(path))]
    for name, text in outputs.items():
        assert "Test case failed" in text and "passed!" not in text, f"{name}: {text[:300]}"
        assert "not done yet" in text, f"{name} should say what is missing: {text[:300]}"


def break_answers(nb) -> nbformat.NotebookNode:
    for _, right, wrong, _ in BREAKS:
        cells = [c for c in nb.cells if c.cell_type == "code" and right in c.source]
        assert len(cells) == 1, right
        cells[0].source = cells[0].source.replace(right, wrong)
    return nb


@pytest.mark.slow
def test_grading_a_folder_gives_the_expected_scores(editions, tmp_path):
    path = chapter_path(GRADED)
    submissions = tmp_path / "submissions"
    submissions.mkdir()
    instructor = read(editions / "instructor" / path.name)
    nbformat.write(instructor, submissions / "alice.ipynb")
    nbformat.write(break_answers(instructor), submissions / "bob.ipynb")
    report = tmp_path / "report"
    # an earlier run's files (a student since removed) and a teacher's own note
    (report / "feedback").mkdir(parents=True)
    (report / "feedback" / "carol.txt").write_text("stale", encoding="utf-8")
    (report / "scores.csv").write_text("submission,total,max\ncarol,1,12\n", encoding="utf-8")
    (report / "notes.md").write_text("mine", encoding="utf-8")
    said = run_script("grade", GRADED, str(submissions), "--out", str(editions), "--report", str(report), timeout=900).stdout
    assert sorted(p.name for p in (report / "feedback").iterdir()) == ["alice.txt", "bob.txt"]
    assert (report / "notes.md").read_text(encoding="utf-8") == "mine"
    assert "No log found" not in said and "NaN" not in said and "Public Tests" not in said, said  # Otter's noise held back
    assert re.search(r"^submission +ch03_ex1 .* total +max$", said, re.M), said  # our table instead
    with open(report / "scores.csv", newline="", encoding="utf-8") as f:
        rows = {row["submission"]: row for row in csv.DictReader(f)}
    assert set(rows) == {"alice", "bob"}
    # The points of each exercise, from the checks' configuration in the chapter.
    points = {q["name"]: question_points(q) for q in questions(read(path))}
    lost = {f"ch{GRADED}_{ex}": 0 for ex in ("ex1", "ex2", "ex3", "ex4")}
    for ex, _, _, cost in BREAKS:
        lost[f"ch{GRADED}_{ex}"] += cost
    assert float(rows["alice"]["max"]) == sum(points.values()) == 12
    assert float(rows["alice"]["total"]) == 12, rows["alice"]  # the instructor edition passes every check
    for name, full in points.items():
        assert float(rows["alice"][name]) == full
        assert float(rows["bob"][name]) == full - lost[name], (name, rows["bob"])
    assert float(rows["bob"]["total"]) == 12 - 4
    feedback = (report / "feedback" / "bob.txt").read_text(encoding="utf-8")
    assert "684 works, but so does 683" in feedback  # the checks explain what is wrong
    assert "alpha_bar_1 differs between the orders" in feedback


def test_grade_report_goes_beside_the_submissions_and_the_table_aligns(tmp_path):
    sys.path.insert(0, str(SCRIPT.parent))
    try:
        import classroom
    finally:
        sys.path.remove(str(SCRIPT.parent))
    (tmp_path / "ch03").mkdir()
    assert classroom.default_report([str(tmp_path / "ch03")], "03_x") == tmp_path / "ch03-grades"
    assert classroom.default_report([str(tmp_path / "ch03" / "a.ipynb")], "03_x") == tmp_path / "ch03" / "grades-03_x"
    rows = [{"submission": "alice", "ex1": 3, "total": 3, "max": 3}, {"submission": "bob", "ex1": 2.5, "total": 2.5, "max": 3}]
    assert classroom.score_table(rows, ["submission", "ex1", "total", "max"]).splitlines() == [
        "submission  ex1  total  max",
        "alice         3      3    3",
        "bob         2.5    2.5    3",
    ]
