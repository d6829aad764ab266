"""The classroom edition of the course: student and instructor notebooks, and grading.

The chapters in notebooks/ are the single source. Their exercises are written in the format of
Otter-Grader's ``otter assign`` (raw cells ``# BEGIN QUESTION`` ... ``# END QUESTION`` around the
prompt, a ``# BEGIN SOLUTION`` block with the folded answer and the worked solution, and a
``# BEGIN TESTS`` block of check cells). The raw cells and the check cells are tagged
``remove-cell``, so the rendered book does not show them. This script adds the assignment
configuration (ASSIGNMENT_CONFIG below; it is not stored in the chapters) to a temporary copy of
each chapter and runs Otter on it:

    python scripts/classroom.py generate [--out _build/classroom] [--no-run-tests] [CHAPTER ...]

writes, for every chapter with exercises (or the chapters named: ``03`` or a file name),

    OUT/student/NN_name.ipynb      solutions removed (``...`` blanks), folded answers removed,
                                   one ``grader.check("chNN_exK")`` cell per exercise, which only
                                   says whether every answer is filled in: the chapters' checks
                                   are Otter hidden tests here (see hide_checks), so the student
                                   file holds no check that gives an answer away
    OUT/instructor/NN_name.ipynb   the same notebook with the solutions in (Otter's "autograder"
                                   notebook): every check passes
    OUT/autograder/NN_name.zip     Otter's grading configuration and tests for ``otter run``

Unless ``--no-run-tests`` is given, ``otter assign`` executes each instructor notebook and fails
if any check does not pass on the worked solutions.

    python scripts/classroom.py grade CHAPTER SUBMISSION_OR_FOLDER ... [--out OUT] [--report DIR]

runs ``otter run`` (no Docker) with OUT/autograder/NN_name.zip on every submitted notebook of
one chapter (a folder is searched for ``*.ipynb``; name each file after its student), and writes
DIR/scores.csv (one row per submission: the points of each exercise, the total and the maximum)
and DIR/feedback/<submission>.txt (the checks' messages, to hand back), then prints the score
table. DIR defaults to a folder beside the submissions: ``SUBMISSIONS-grades`` for a folder
``SUBMISSIONS`` (for single files, ``grades-NN_name`` in their folder). Each run starts clean: the
scores.csv and feedback files of an earlier run in DIR are removed first (nothing else in DIR is
touched). Otter's own messages (its per-notebook score table, which shows a "Public Tests" row
without points for the visible "filled in" checks, and "No log found with which to
verify student scores", which concerns Otter's optional log of when each check ran, not the
scores) are held back and shown only when a notebook cannot be graded. ``otter run`` executes
the submitted code with your permissions.
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import csv
import io
import json
import re
import shutil
import tempfile
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
DEFAULT_OUT = ROOT / "_build" / "classroom"

# Otter Assign's settings, the same for every chapter (the name is set per chapter).
ASSIGNMENT_CONFIG = {
    "init_cell": True,  # `import otter; grader = otter.Notebook(...)` at the top
    "check_all_cell": True,  # `grader.check_all()` at the end
    "export_cell": False,  # no zip/PDF export: submissions are the .ipynb files themselves
    "generate": True,  # the autograder zip that `otter run` grades with
    "run_tests": True,  # run the checks on the worked solutions (unless --no-run-tests)
    "save_environment": False,
    "solutions_pdf": False,
    "show_question_points": True,
    "tests": {"files": False, "ok_format": False},  # exception-based checks with messages
}
BOOK_ONLY_TAGS = {"solution", "hide-input", "remove-cell"}


def has_questions(path: Path) -> bool:
    nb = nbformat.read(path, as_version=4)
    return any(c.cell_type == "raw" and c.source.lstrip().upper().startswith("# BEGIN QUESTION") for c in nb.cells)


def chapters(selection: list[str] | None = None, source: Path = NOTEBOOKS) -> list[Path]:
    """Chapter notebooks with Otter questions, in file-name order (all, or those selected)."""
    found = [p for p in sorted(Path(source).glob("*.ipynb")) if has_questions(p)]
    if not selection:
        return found
    chosen = []
    for name in selection:
        match = [p for p in found if p.name == name or p.stem == name or p.name.startswith(f"{name}_")]
        if len(match) != 1:
            raise SystemExit(f"no single chapter with exercises matches {name!r} (have: {', '.join(p.stem for p in found)})")
        chosen += match
    return chosen


def assignment_name(path: Path) -> str:
    return "ch" + path.name.split("_", 1)[0]


def master_notebook(path: Path) -> nbformat.NotebookNode:
    """The chapter with Otter's assignment configuration as its first cell, and its checks hidden."""
    nb = nbformat.read(path, as_version=4)
    config = {"name": assignment_name(path), **ASSIGNMENT_CONFIG}
    nb.cells.insert(0, nbformat.v4.new_raw_cell("# ASSIGNMENT CONFIG\n" + json.dumps(config, indent=2)))
    hide_checks(nb)
    return nb


# The graded editions must not give the answers away. The chapters' checks compare values and
# say what the right one is ("t_star is right: 152."), so in the editions every one of them is an
# Otter *hidden* test: it is in the autograder zip only, not in the student notebook, and runs
# when the notebook is graded. In its place the student notebook gets one visible check per
# exercise that only says whether every answer is filled in (no longer the `...` blank).
BLANK_CHECK = '''""" # BEGIN TEST CONFIG
points: 0
success_message: "Filled in: {names}. The values are checked when your notebook is graded."
""" # END TEST CONFIG
def test_filled_in({args}):
    import ast
    import inspect
    import textwrap

    def blank(value):  # the edition's `...`, or a function whose body still holds one
        if value is ...:
            return True
        try:
            tree = ast.parse(textwrap.dedent(inspect.getsource(value)))
        except (TypeError, OSError, SyntaxError):
            return False
        return any(isinstance(node, (ast.Expr, ast.Return, ast.Assign)) and isinstance(node.value, ast.Constant)
                   and node.value.value is ... for node in ast.walk(tree))

    for name, value in {pairs}:
        assert not blank(value), f"not done yet: {{name}} still has a ... to fill in"
test_filled_in({args})'''
ASSIGNED = re.compile(r"^\s*(\w+)\s*(?:\[[^\]]*\])?\s*=[^=]")
DEFINED = re.compile(r"^\s*def (\w+)\(")


def block_kind(cell) -> tuple[str, str] | None:
    """("BEGIN" or "END", "QUESTION", "SOLUTION" or "TESTS") for an Otter marker cell."""
    match = re.match(r"#\s*(BEGIN|END)\s+(QUESTION|SOLUTION|TESTS)\b", cell.source.lstrip(), re.I) if cell.cell_type == "raw" else None
    return (match.group(1).upper(), match.group(2).upper()) if match else None


def answer_names(solution: str, checks: list[str]) -> list[str]:
    """The names a student fills in: assigned or defined in the worked solution's marked lines and
    blocks, and read by a check (in the order the checks take them)."""
    marked, inside = set(), False
    for line in solution.splitlines():
        if re.search(r"#\s*BEGIN SOLUTION", line):
            inside = True
        elif re.search(r"#\s*END SOLUTION", line):
            inside = False
        elif inside or line.rstrip().endswith("# SOLUTION"):
            match = ASSIGNED.match(line) or DEFINED.match(line)
            if match:
                marked.add(match.group(1))
    defined = {m.group(1) for m in map(DEFINED.match, solution.splitlines()) if m}
    body = {}  # a function whose body holds marked lines is an answer too
    current = None
    for line in solution.splitlines():
        if DEFINED.match(line):
            current = DEFINED.match(line).group(1)
        elif line.strip() and not line[0].isspace():
            current = None  # back at the top level
        elif current and re.search(r"#\s*(BEGIN )?SOLUTION", line):
            body[current] = True
    marked |= {name for name in defined if body.get(name)}
    names = []
    for check in checks:
        for node in ast.walk(ast.parse(check)):
            if isinstance(node, ast.FunctionDef) and node.name.startswith("test_"):
                names += [a.arg for a in node.args.args if a.arg in marked and a.arg not in names]
    return names


def hide_checks(nb: nbformat.NotebookNode) -> None:
    """Make every check cell an Otter hidden test and add a visible "filled in" check per question."""
    blocks, solution, checks, first_check = [], "", [], None
    for cell in list(nb.cells):
        kind = block_kind(cell)
        if kind:
            blocks = blocks + [kind[1]] if kind[0] == "BEGIN" else blocks[:-1]
            if kind == ("BEGIN", "QUESTION"):
                solution, checks, first_check = "", [], None
            if kind == ("END", "TESTS") and first_check is not None:
                names = answer_names(solution, checks)
                if names:
                    source = BLANK_CHECK.format(names=", ".join(names), args=", ".join(names),
                                                pairs="(" + "".join(f"({n!r}, {n}), " for n in names) + ")")
                    nb.cells.insert(nb.cells.index(first_check), nbformat.v4.new_code_cell(source, metadata={"tags": ["remove-cell"]}))
            continue
        if blocks[-1:] == ["SOLUTION"] and cell.cell_type == "code":
            solution += cell.source + "\n"
        if blocks[-1:] == ["TESTS"] and cell.cell_type == "code":
            first_check = first_check or cell
            checks.append(cell.source)
            head, _, rest = cell.source.partition("\n")
            cell.source = head + "\nhidden: true\n" + rest


# The chapters' "how to do the exercises" paragraph speaks of collapsed solutions and hidden
# check cells; in the editions the exercise cells are open and the checks are grader.check cells.
EXERCISE_HOWTO = re.compile(r"^(?:Try each one|Solutions are collapsed)[^\n]*Hidden check cells follow each solution[^\n]*$", re.MULTILINE)
EDITION_HOWTO = {
    "student": (
        "Write your answer in place of each `...` in an exercise's cell (the exercise says under *In code* "
        "which names to fill in) and run it, then run the `grader.check(...)` cell below it: it says whether "
        "every answer is filled in. Whether the answers are right is checked when your notebook is graded, "
        "and the feedback then says what is off. Rerun both as often as you like."
    ),
    "instructor": (
        "Instructor edition: every exercise's worked solution is filled in and followed by its "
        "`grader.check(...)` cell, which passes. The student edition has `...` blanks in their place."
    ),
}


def tidy(path: Path, edition: str) -> None:
    """Show the exercise cells in the editions: drop the book's folding (tags and collapsed input),
    and say how the edition's exercises work."""
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = EXERCISE_HOWTO.sub(EDITION_HOWTO[edition], cell.source)
        tags = cell.metadata.get("tags", [])
        if {"otter_answer_cell", "otter_assign_solution_cell"} & set(tags):
            cell.metadata["tags"] = [t for t in tags if t not in BOOK_ONLY_TAGS]
            cell.metadata.get("jupyter", {}).pop("source_hidden", None)
            if not cell.metadata.get("jupyter", True):
                del cell.metadata["jupyter"]
    nbformat.write(nb, path)


def generate(selection: list[str] | None, out: Path, run_tests: bool, source: Path = NOTEBOOKS) -> list[Path]:
    from otter.assign import main as otter_assign  # `otter assign`, in this process

    paths = chapters(selection, source)
    if not paths:
        raise SystemExit("no chapter in notebooks/ has Otter questions")
    for sub in ("student", "instructor", "autograder"):
        (out / sub).mkdir(parents=True, exist_ok=True)
    for path in paths:
        with tempfile.TemporaryDirectory(prefix="diffviz-classroom-") as tmp:
            tmp = Path(tmp)
            master = tmp / "master" / path.name
            master.parent.mkdir()
            nbformat.write(master_notebook(path), master)
            dist = tmp / "dist"
            print(f"classroom: otter assign {path.name}" + ("" if run_tests else " (checks not run)"), flush=True)
            try:
                otter_assign(str(master), str(dist), no_run_tests=not run_tests)
            except Exception as err:  # e.g. RuntimeError: a check failed on the worked solutions
                raise SystemExit(f"otter assign failed on {path.name}: {err}") from err
            zips = sorted((dist / "autograder").glob("*.zip"))
            if len(zips) != 1:
                raise SystemExit(f"otter assign made {len(zips)} autograder zips for {path.name}")
            shutil.copyfile(dist / "student" / path.name, out / "student" / path.name)
            shutil.copyfile(dist / "autograder" / path.name, out / "instructor" / path.name)
            shutil.copyfile(zips[0], out / "autograder" / f"{path.stem}.zip")
            for edition in ("student", "instructor"):
                tidy(out / edition / path.name, edition)
    print(f"classroom: {len(paths)} chapters -> {out}/student, {out}/instructor, {out}/autograder")
    return paths


def submissions_in(items: list[str]) -> list[Path]:
    found = []
    for item in map(Path, items):
        if item.is_dir():
            found += sorted(p for p in item.glob("*.ipynb") if ".ipynb_checkpoints" not in p.parts)
        elif item.suffix == ".ipynb":
            found.append(item)
        else:
            raise SystemExit(f"{item}: not a notebook or a folder of notebooks")
    if len({p.stem for p in found}) != len(found):
        raise SystemExit("two submissions have the same file name: name each after its student")
    return found


def grade(chapter: str, items: list[str], out: Path, report: Path | None = None, source: Path = NOTEBOOKS) -> list[dict]:
    """Grade each submission with `otter run`; write scores.csv and feedback/*.txt; return the rows."""
    from otter.run import main as otter_run  # `otter run`: no Docker, in this process

    (path,) = chapters([chapter], source)
    autograder = out / "autograder" / f"{path.stem}.zip"
    if not autograder.is_file():
        raise SystemExit(f"{autograder} is missing: run `make classroom` (or this script's generate) first")
    submissions = submissions_in(items)
    report = report or default_report(items, path.stem)
    clear_report(report)
    rows, questions = [], []
    for submission in submissions:
        with tempfile.TemporaryDirectory(prefix="diffviz-grade-") as tmp:
            # otter run grades a notebook named like the assignment's
            work = Path(tmp) / "submission"
            work.mkdir()
            shutil.copyfile(submission, work / path.name)
            otter_says = io.StringIO()  # Otter's own table and notes: shown only if grading fails
            with contextlib.redirect_stdout(otter_says), contextlib.redirect_stderr(otter_says):
                otter_run(str(work / path.name), autograder=str(autograder.resolve()), output_dir=tmp, no_logo=True)
            results = Path(tmp) / "results.json"
            if not results.is_file():
                raise SystemExit(f"otter run wrote no results for {submission}; it said:\n{otter_says.getvalue()}")
            tests = [t for t in json.loads(results.read_text())["tests"] if "max_score" in t]
        row = {"submission": submission.stem}
        for t in tests:
            row[t["name"]] = t["score"]
            if t["name"] not in questions:
                questions.append(t["name"])
        row["total"] = sum(t["score"] for t in tests)
        row["max"] = sum(t["max_score"] for t in tests)
        rows.append(row)
        feedback = "\n\n".join(f"{t['name']}: {t['score']} / {t['max_score']}\n{t.get('output', '').strip()}" for t in tests)
        (report / "feedback" / f"{submission.stem}.txt").write_text(feedback + "\n", encoding="utf-8")
        print(f"classroom: {submission.name}: {row['total']:g} / {row['max']:g}", flush=True)
    columns = ["submission", *questions, "total", "max"]
    with open(report / "scores.csv", "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    print(score_table(rows, columns))
    print(f"classroom: scores in {report / 'scores.csv'}, messages in {report / 'feedback'}")
    return rows


def default_report(items: list[str], stem: str) -> Path:
    """Beside the submissions: ``F-grades`` for a folder ``F``, else ``grades-NN_name`` next to the file."""
    first = Path(items[0]).resolve()
    return first.with_name(first.name + "-grades") if first.is_dir() else first.parent / f"grades-{stem}"


def clear_report(report: Path) -> None:
    """Remove what an earlier run wrote into ``report`` (scores.csv, feedback/*.txt), nothing else."""
    (report / "scores.csv").unlink(missing_ok=True)
    feedback = report / "feedback"
    for old in feedback.glob("*.txt"):
        old.unlink()
    feedback.mkdir(parents=True, exist_ok=True)


def score_table(rows: list[dict], columns: list[str]) -> str:
    """The scores as an aligned text table, one row per submission."""
    cells = [columns] + [[r[c] if c == "submission" else f"{r.get(c, 0):g}" for c in columns] for r in rows]
    widths = [max(len(str(row[i])) for row in cells) for i in range(len(columns))]
    return "\n".join("  ".join(str(v).ljust(w) if i == 0 else str(v).rjust(w) for i, (v, w) in enumerate(zip(row, widths))) for row in cells)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("generate", help="write the student and instructor editions and the autograder zips")
    gen.add_argument("chapters", nargs="*", help="chapter numbers or file names (default: every chapter with exercises)")
    gen.add_argument("--out", type=Path, default=DEFAULT_OUT)
    gen.add_argument("--no-run-tests", action="store_true", help="do not execute the instructor editions")
    gen.add_argument("--source", type=Path, default=NOTEBOOKS, help="folder of the chapter notebooks")
    gr = sub.add_parser("grade", help="grade submitted notebooks of one chapter with otter run")
    gr.add_argument("chapter", help="chapter number or file name, e.g. 03")
    gr.add_argument("submissions", nargs="+", help="submitted notebooks, or folders of them")
    gr.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where `generate` wrote the editions")
    gr.add_argument("--report", type=Path, default=None,
                    help="where to write scores.csv and feedback/ (default: SUBMISSIONS-grades beside the submissions folder)")
    gr.add_argument("--source", type=Path, default=NOTEBOOKS, help="folder of the chapter notebooks")
    args = parser.parse_args(argv)
    if args.command == "generate":
        generate(args.chapters, args.out, run_tests=not args.no_run_tests, source=args.source)
    else:
        grade(args.chapter, args.submissions, args.out, args.report, source=args.source)


if __name__ == "__main__":
    main()
