"""The ``kb`` command: check, index, search, serve, new, import.

This is the one composition root: it may import indexer and webapp; nothing else in kb does.
Exit status: 0 when clean, 1 when there are problems, 2 on a usage error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from kb.citations import Citation
from kb.entry import Entry
from kb.fields import ENTRY_TYPES
from kb.links import check_links
from kb.loader import load_all
from kb.problems import Problem, summarize
from kb.progress import Progress, terminal_progress

DEFAULT_CONTENT = "content"
DEFAULT_INDEX = "instance/index"


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="netcourt-kb")
def main() -> None:
    """NetCourt KB: a knowledge base and search engine for China's internet courts."""


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--strict", is_flag=True, help="Also require summary and sources (the standard for content/).")
@click.option("--content", "context", type=click.Path(path_type=Path, file_okay=False), default=DEFAULT_CONTENT,
              show_default=True, help="When PATHS are files: the content folder they belong to (links resolve against it).")
def check(paths: tuple[Path, ...], strict: bool, context: Path) -> None:
    """Check entries and their links; print one line per problem."""
    roots = list(paths) or [Path(DEFAULT_CONTENT)]
    missing = [p for p in roots if not p.exists()]
    if missing:
        raise click.UsageError(f"no such file or folder: {missing[0]}")
    files = [p for p in roots if p.is_file()]
    unreported: list[tuple[Entry, Citation]] = []  # corpus copies' citations that do not resolve
    if files and context.is_dir():
        # Changed files (as pre-commit passes them) are checked within their content tree,
        # so citations and links resolve; only their own problems are reported.
        from kb.problems import display_path

        wanted = {display_path(p) for p in files if p.suffix == ".md"}
        report = load_all([context], strict=strict)
        problems = [p for p in _all_problems(report.problems, report.parsed, [context], unreported) if p.path in wanted]
        unreported = [u for u in unreported if u[0].path in wanted]
        checked = len(wanted)
    else:
        report = load_all(roots, strict=strict)
        problems = _all_problems(report.problems, report.parsed, [p for p in roots if p.is_dir()], unreported)
        checked = report.checked
    for problem in problems:
        click.echo(str(problem))
    if unreported:
        copies = len({entry.path for entry, _citation in unreported})
        click.echo(f"Not reported: {len(unreported)} citations in {copies} imported court documents do not resolve "
                   "(the court's own words: a document the statute corpus lacks, or a title as the court wrote it).")
    click.echo(summarize(problems, checked))
    sys.exit(1 if problems else 0)


def _all_problems(load_problems: list[Problem], entries: list[Entry], content_dirs: list[Path],
                  unreported: list[tuple[Entry, Citation]] | None = None) -> list[Problem]:
    """Return the load problems (values and vocabularies) plus those of links, sorted, without repeats
    (corpus copies' unresolved citations go to ``unreported``)."""
    return sorted(set(load_problems) | set(check_links(entries, content_dirs, unreported)))


@main.command()
@click.option("--content", "content_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False),
              help="Content folder (repeatable). Default: content/.")
@click.option("--index", "index_dir", type=click.Path(path_type=Path), default=DEFAULT_INDEX, show_default=True)
@click.option("--clean", is_flag=True, help="Rebuild from scratch instead of updating.")
@click.option("--drafts", is_flag=True, help="Include draft entries (for previews only).")
@click.option("--wait", type=float, default=0.0, help="Seconds to wait for another build to finish.")
def index(content_dirs: tuple[Path, ...], index_dir: Path, clean: bool, drafts: bool, wait: float) -> None:
    """Build or update the index; report bad files and skip them. Exit 1 if any file had a problem."""
    from indexer import BuildLockedError

    roots = list(content_dirs) or [Path(DEFAULT_CONTENT)]
    for root in roots:
        if not root.is_dir():
            raise click.UsageError(f"no such content folder: {root}")
    progress = terminal_progress(sys.stderr)  # bars on a terminal; in a log, only the summary line below
    try:
        report, problems = build_and_record(roots, index_dir, clean=clean, drafts=drafts, wait=wait, progress=progress)
    except BuildLockedError as exc:
        click.echo(f"kb index: {exc}", err=True)
        sys.exit(1)
    except OSError as exc:
        click.echo(f"kb index: {write_failure(index_dir, exc)}", err=True)
        sys.exit(1)
    finally:
        if progress is not None:
            progress.close()
    for problem in problems:
        click.echo(str(problem))
    if report.skipped:
        click.echo(f"Skipped {len(report.skipped)} of {report.checked} files.")
    click.echo(report.summary())
    # Every problem printed counts, links included (issue #13: this once looked at load problems only).
    sys.exit(1 if problems else 0)


def write_failure(index_dir: Path, exc: OSError) -> str:
    """Return the one line that reports a build that could not write (a full disk, a read-only folder)."""
    import errno

    what = "the disk is full" if exc.errno in (errno.ENOSPC, errno.EDQUOT) else (exc.strerror or str(exc)).lower()
    return (f"cannot write the index in '{index_dir}': {what}. The unfinished build was removed and the last "
            "build still serves. Free some space (or fix the folder) and run kb index again.")


def build_and_record(roots: list[Path], index_dir: Path, *, clean: bool = False, drafts: bool = False,
                     wait: float = 0.0, cache: dict | None = None, progress: Progress | None = None):  # type: ignore[no-untyped-def]
    """Build the index, check links and vocabularies, and record every problem beside the index."""
    from indexer import build_index
    from indexer.status import write_problems

    kwargs = {"cache": cache} if cache is not None else {}
    report = build_index(roots, index_dir, clean=clean, include_drafts=drafts, wait=wait, progress=progress, **kwargs)
    problems = _all_problems(report.problems, report.loaded, roots)  # the build's entries: no second read
    write_problems(index_dir, problems, report.checked)
    return report, problems


@main.command()
@click.argument("query")
@click.option("--index", "index_dir", type=click.Path(path_type=Path), default=DEFAULT_INDEX, show_default=True)
@click.option("--type", "entry_type", type=click.Choice(ENTRY_TYPES))
@click.option("--page", type=int, default=1)
@click.option("--per-page", type=int, default=10)
@click.option("--sort", type=click.Choice(["relevance", "date"]), default="relevance")
@click.option("--json", "as_json", is_flag=True, help="Print the API's JSON.")
def search(query: str, index_dir: Path, entry_type: str | None, page: int, per_page: int, sort: str, as_json: bool) -> None:
    """Search the index."""
    from indexer import QueryError, SearchIndex

    try:
        result = SearchIndex(index_dir).search(query, filters={"type": entry_type} if entry_type else {},
                                               page=page, per_page=per_page, sort=sort)
    except (QueryError, FileNotFoundError) as exc:
        raise click.UsageError(str(exc)) from None
    if as_json:
        click.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
        return
    if result.notice:
        click.echo(result.notice)
    for n, hit in enumerate(result.results, start=(page - 1) * per_page + 1):
        click.echo(f"{n:3}. [{hit.type}] {hit.title}  ({hit.url})")
    click.echo(f"{result.total} results.")


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, type=int, show_default=True)
@click.option("--index", "index_dir", type=click.Path(path_type=Path), default=None,
              help=f"Index folder. Default: {DEFAULT_INDEX}, or instance/preview with --drafts.")
@click.option("--watch", is_flag=True, help="Rebuild when content changes, and reload open pages.")
@click.option("--content", "content_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False),
              help="Content folder to watch (repeatable). Default: content/.")
@click.option("--drafts", is_flag=True, help="Preview: include draft entries (never in the public index).")
@click.option("--debug", is_flag=True, help="Flask debug mode (never in production).")
def serve(host: str, port: int, index_dir: Path | None, watch: bool, content_dirs: tuple[Path, ...], drafts: bool,
          debug: bool) -> None:
    """Serve the search UI and API (development server; see README for production)."""
    from werkzeug.serving import run_simple

    from indexer.analyzer import initialize
    from webapp import create_app, search_index

    index_dir = index_dir or Path("instance/preview" if drafts else DEFAULT_INDEX)
    roots = list(content_dirs) or [Path(DEFAULT_CONTENT)]
    initialize()
    watcher = None
    if watch or drafts:
        for root in roots:
            if not root.is_dir():
                raise click.UsageError(f"no such content folder: {root}")
        cache: dict = {}
        _report, problems = build_and_record(roots, index_dir, drafts=drafts, cache=cache, wait=30)
        for problem in problems:
            click.echo(str(problem), err=True)
        if watch:
            from kb.watch import ContentWatcher

            watcher = ContentWatcher(roots, lambda: rebuild(roots, index_dir, drafts, cache))
            watcher.start()
    app = create_app({"INDEX_DIR": str(index_dir), "DEBUG": debug, "WATCH": watch})
    from indexer import IndexUnusableError

    try:
        search_index(app)
    except FileNotFoundError as exc:
        raise click.UsageError(str(exc)) from None
    except IndexUnusableError as exc:
        click.echo(f"kb serve: {exc}", err=True)
        sys.exit(1)
    click.echo(f"Serving {index_dir} on http://{host}:{port}/" + (" (watching for changes)" if watch else ""), err=True)
    try:
        run_simple(host, port, app, threaded=True, use_debugger=debug, use_reloader=False)
    finally:
        if watcher is not None:
            watcher.stop()


def missing_folder_problem(root: Path) -> Problem:
    """Return the problem shown while a watched content folder is gone."""
    from kb.problems import display_path

    return Problem(display_path(root), 0, "content folder",
                   "is missing (deleted or moved); still serving the last build.",
                   "Restore the folder: it is rebuilt as soon as it is back.")


def rebuild(roots: list[Path], index_dir: Path, drafts: bool, cache: dict) -> None:
    """Update the index after a change; report problems on stderr and keep serving."""
    from indexer import BuildLockedError
    from indexer.status import write_problems

    missing = [root for root in roots if not root.is_dir()]
    if missing:
        # Building now would remove every entry of the missing folder: keep the last build
        # serving, say why in /-/problems, and rebuild when the folder is back (kb/watch.py).
        problems = [missing_folder_problem(root) for root in missing]
        write_problems(index_dir, problems, 0)
        for problem in problems:
            click.echo(str(problem), err=True)
        return
    try:
        report, problems = build_and_record(roots, index_dir, drafts=drafts, cache=cache, wait=10)
    except BuildLockedError as exc:
        click.echo(f"kb serve: {exc}", err=True)
        return
    except OSError as exc:
        click.echo(f"kb serve: {write_failure(index_dir, exc)}", err=True)
        return
    click.echo(report.summary() + (f" {len(problems)} problems: see /-/problems" if problems else ""), err=True)


@main.command()
@click.argument("entry_type", type=click.Choice(ENTRY_TYPES))
@click.argument("title")
@click.option("--case-number", help="案号, e.g. （2021）京0491民初1号; also names the file: 2021-jing0491-minchu-1.md.")
@click.option("--content", "content_dir", type=click.Path(path_type=Path, file_okay=False), default=DEFAULT_CONTENT, show_default=True)
def new(entry_type: str, title: str, case_number: str | None, content_dir: Path) -> None:
    """Write a new entry from a template with every field; never overwrite a file."""
    from kb.casenumber import CaseNumberError, normalize_case_number
    from kb.templates import FOLDERS, new_entry_id, render_template

    if case_number is not None:
        try:
            case_number = normalize_case_number(case_number)
        except CaseNumberError as exc:
            if not exc.fix:
                raise click.BadParameter(str(exc), param_hint="'--case-number'") from None
            # The parser is sure of the fix (brackets, 年, 第): write it as kb check wants it.
            click.echo(f"kb new: case number written as {exc.fix} (was '{case_number}').", err=True)
            case_number = normalize_case_number(exc.fix)
    if case_number and entry_type != "ruling":
        raise click.BadParameter("only rulings have a case number.", param_hint="'--case-number'")
    path = content_dir / FOLDERS[entry_type] / f"{new_entry_id(entry_type, title, case_number)}.md"
    if path.exists():
        if case_number:
            fix = f"Its name comes from the case number {case_number}: one ruling, one entry; edit that file."
        else:
            fix = f"Its name comes from the title '{title}': choose another title, or edit that file."
        click.echo(f"kb new: {path} already exists. {fix}", err=True)
        sys.exit(1)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render_template(entry_type, title, case_number), encoding="utf-8")
    click.echo(str(path))


@main.group(name="import")
def import_() -> None:
    """Import entries from outside formats."""


@import_.command(name="lawrefbook")
@click.argument("src", type=click.Path(path_type=Path, exists=True, file_okay=False))
@click.argument("dest", type=click.Path(path_type=Path, file_okay=False))
@click.option("--only", multiple=True, help="Short title or file stem to import (repeatable). Default: all.")
def import_lawrefbook(src: Path, dest: Path, only: tuple[str, ...]) -> None:
    """Convert LawRefBook statute files (SRC) into statute entries under DEST."""
    from kb.importers.lawrefbook import import_corpus

    progress = terminal_progress(sys.stderr)
    try:
        report = import_corpus(src, dest, only=list(only) or None, progress=progress)
    finally:
        if progress is not None:
            progress.close()
    for problem in report.problems:
        click.echo(str(problem))
    click.echo(f"Converted {len(report.converted)} files, rejected {len(report.problems)}, in {report.seconds:.1f} s.")
    sys.exit(1 if report.problems else 0)


@import_.command(name="lecard")
@click.argument("src", type=click.Path(path_type=Path, exists=True))
@click.argument("dest", type=click.Path(path_type=Path, file_okay=False))
@click.option("--only", multiple=True, help="Judgment id to import (repeatable). Default: all.")
@click.option("--limit", type=int, default=None, help="Import only the first N judgments of the archive (fixtures, CI).")
@click.option("--charge", "charges", multiple=True, help="Import only the judgments that convict of this charge, e.g. 危险驾驶罪 (repeatable).")
def import_lecard(src: Path, dest: Path, only: tuple[str, ...], limit: int | None, charges: tuple[str, ...]) -> None:
    """Convert LeCaRD judgments (SRC: the corpus folder or its judgments.tar.xz) into ruling entries under DEST."""
    from kb.importers.lecard import import_judgments

    report = import_judgments(src, dest, only=set(only) or None, limit=limit, charges=set(charges) or None)
    for problem in report.problems:
        click.echo(str(problem))
    click.echo(f"Converted {len(report.converted)} judgments, rejected {len(report.problems)}, in {report.seconds:.1f} s.")
    sys.exit(1 if report.problems else 0)


@main.group()
def train() -> None:
    """Train the small models the search loads at query time."""


@train.command(name="charges")
@click.option("--content", "content_dirs", multiple=True, required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Folder of ruling entries with charges and a facts section (repeatable), e.g. from `kb import lecard`.")
@click.option("--out", type=click.Path(path_type=Path, dir_okay=False), default=Path(DEFAULT_INDEX) / "charges.npz",
              show_default=True, help="Model file; the search loads <index>/charges.npz, or KB_CHARGE_MODEL.")
@click.option("--exclude-queries", multiple=True, type=click.Path(path_type=Path, exists=True, dir_okay=False),
              help="JSON-lines file of query cases ({'fact': ...}) whose own judgments are left out of training.")
def train_charges(content_dirs: tuple[Path, ...], out: Path, exclude_queries: tuple[Path, ...]) -> None:
    """Train the charge classifier (TF-IDF character 1-3-grams + linear SVM) on the rulings' facts and charges."""
    from indexer.charges import train as train_model
    from indexer.factsim import facts_section

    report = load_all(list(content_dirs))
    heads = [json.loads(line)["fact"].strip()[:40] for path in exclude_queries
             for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    facts, charges, excluded = [], [], 0
    for entry in report.entries:
        section = facts_section(entry.body)
        if not (section and entry.charges):
            continue
        if any(head and head in section for head in heads):
            excluded += 1
            continue
        facts.append(section)
        charges.append(list(entry.charges))
    model, accuracy = train_model(facts, charges)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    click.echo(f"Trained on {accuracy['examples']} rulings ({len(model.classes)} charges; {excluded} left out as query cases): "
               f"top-1 accuracy on a 10% hold-out {accuracy['top1_heldout']:.2f}. Wrote {out} ({out.stat().st_size // 1024} KB).")


if __name__ == "__main__":  # pragma: no cover
    main()


@train.command(name="ranker")
@click.option("--questions", type=click.Path(path_type=Path, dir_okay=False, exists=True), required=True,
              help="STARD-style questions (JSON lines: question, relevant articles with files and text).")
@click.option("--index", "index_dir", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="An index of content/ and the statute corpus the answers point into.")
@click.option("--out", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Where to write the model (default: indexer/data/ranker, which the search loads).")
def train_ranker(questions: Path, index_dir: Path, out: Path | None) -> None:
    """Learn the term translations, priors and LambdaMART ranker (indexer/ranking.py)."""
    from indexer.ranking import MODEL_FOLDER
    from indexer.search import SearchIndex
    from indexer.training import load_questions
    from indexer.training import train as train_model

    index = SearchIndex(index_dir)
    labelled = load_questions(questions)
    ranker = train_model(index, labelled, log=lambda m: click.echo(m, err=True))
    target = out or MODEL_FOLDER
    ranker.save(target)
    click.echo(f"Trained on {len(labelled)} questions; wrote {target}.")
