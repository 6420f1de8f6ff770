"""The README, ARCHITECTURE.md and docs/ say only what the code does.

Each test reads the documents as text and checks what they name against the tree:
files and packages, links, `make` targets, management commands and their options,
URLs, and the environment variables the settings read.
"""

from __future__ import annotations

import ast
import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from django.core.management import get_commands, load_command_class
from django.urls import Resolver404, resolve

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
ARCHITECTURE = ROOT / "ARCHITECTURE.md"
CONFIGURATION = ROOT / "docs" / "configuration.md"
SETTINGS = ROOT / "rcu" / "settings.py"
USER_DOCS = [README, *sorted((ROOT / "docs").glob("*.md"))]
APPS = ("rcu", "stewardship", "gdpr")

README_MAX_LINES = 350
# Variables the test suite and the benchmarks read, not the application.
NOT_SETTINGS = {"RCU_TEST_BROKER_URL"}


def _text(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _rel(path: Path) -> str:
    return str(path.relative_to(ROOT))


def _code_spans(text: str) -> list[str]:
    """Inline code (`…`) and the lines of fenced code blocks."""
    spans: list[str] = []
    in_fence = False
    for line in text.splitlines():
        if line.lstrip().startswith("```"):
            in_fence = not in_fence
            continue
        if in_fence:
            spans.append(line)
        else:
            spans.extend(re.findall(r"`([^`\n]+)`", line))
    return spans


# --- README -------------------------------------------------------------------


def test_readme_stays_short():
    lines = _text(README).count("\n")
    assert lines < README_MAX_LINES, (
        f"README.md has {lines} lines (limit {README_MAX_LINES}): it is for users; move "
        "reference material to docs/"
    )


def test_readme_keeps_the_two_commands():
    text = _text(README)
    assert "make demo" in text
    assert "make test" in text


def test_every_make_target_the_readme_names_exists():
    makefile = _text(ROOT / "Makefile")
    targets = set(re.findall(r"^([A-Za-z][\w-]*):", makefile, flags=re.MULTILINE))
    named = set(re.findall(r"\bmake ([a-z][\w-]*)", _text(README)))
    assert named, "the README names no make target"
    assert named <= targets, f"make targets the Makefile lacks: {sorted(named - targets)}"


# --- ARCHITECTURE.md's tree ---------------------------------------------------

# Entries start at indentation 0, 2 or 4; deeper lines continue a description.
_ENTRY_MAX_INDENT = 6
_FILE_IN_TEXT = re.compile(r"[\w./-]*\w\.(?:py|md|csv|json|toml|html|txt)\b")


@dataclass
class TreeEntry:
    line: int
    paths: list[Path]  # what the names column lists
    base: Path  # where the description's file names are looked up
    described: list[str] = field(default_factory=list)  # file names in the description


def _tree_block() -> list[tuple[int, str]]:
    lines = _text(ARCHITECTURE).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("```"))
    end = next(i for i in range(start + 1, len(lines)) if lines[i].startswith("```"))
    return [(number + 1, lines[number]) for number in range(start + 1, end)]


def _tree_entries() -> list[TreeEntry]:
    """Parse the tree: `names  description`, names separated by one space, children
    indented by two under the last directory of their parent line."""
    entries: list[TreeEntry] = []
    parents: dict[int, Path] = {-2: ROOT}
    for number, line in _tree_block():
        if not line.strip():
            continue
        indent = len(line) - len(line.lstrip(" "))
        if indent > _ENTRY_MAX_INDENT:
            assert entries, f"ARCHITECTURE.md:{number}: a description with no entry"
            entries[-1].described.extend(_FILE_IN_TEXT.findall(line))
            continue
        names_column, _, description = line.strip().partition("  ")
        names = names_column.split(" ")
        parent = parents[indent - 2]
        directories = [parent / name for name in names if name.endswith("/")]
        if directories:
            parents[indent] = directories[-1]
        entries.append(TreeEntry(
            line=number,
            paths=[parent / name for name in names],
            base=directories[-1] if directories else parent,
            described=_FILE_IN_TEXT.findall(description),
        ))
    return entries


def test_the_architecture_tree_parses():
    entries = _tree_entries()
    assert len(entries) > 40
    assert any(path == ROOT / "rcu" / "settings.py" for e in entries for path in e.paths)


def test_every_path_the_architecture_tree_names_exists():
    missing = [
        f"ARCHITECTURE.md:{entry.line}: {_rel(path)}"
        for entry in _tree_entries()
        for path in entry.paths
        if not path.exists()
    ]
    assert not missing, "named in the tree but absent:\n" + "\n".join(missing)


def test_every_file_a_tree_description_names_exists():
    """`services/  … locks.py …` names rcu/services/locks.py; a name with a slash may
    also be written from the top (`bench/splink_reference.py`, `docs/limits.md`)."""
    missing = []
    for entry in _tree_entries():
        for name in entry.described:
            candidates = [entry.base / name] + ([ROOT / name] if "/" in name else [])
            if not any(candidate.is_file() for candidate in candidates):
                missing.append(f"ARCHITECTURE.md:{entry.line}: {name} (in {_rel(entry.base)}/)")
    assert not missing, "named in a description but absent:\n" + "\n".join(missing)


def test_the_architecture_tree_names_nothing_twice():
    seen: dict[Path, int] = {}
    repeated = []
    for entry in _tree_entries():
        for path in entry.paths:
            if path in seen:
                repeated.append(f"{_rel(path)} (lines {seen[path]} and {entry.line})")
            seen[path] = entry.line
        described = [entry.base / name for name in entry.described]
        repeated += [
            f"{_rel(path)} twice in the description at line {entry.line}"
            for path in sorted(set(described)) if described.count(path) > 1
        ]
    assert not repeated, "\n".join(repeated)


def test_the_architecture_tree_names_every_module_of_each_app():
    """Every module and package at the top of rcu/, stewardship/ and gdpr/ is placed."""
    named = {path for entry in _tree_entries() for path in entry.paths}
    named |= {entry.base / name for entry in _tree_entries() for name in entry.described}
    unplaced = []
    for app in APPS:
        for child in sorted((ROOT / app).iterdir()):
            if child.name.startswith(("_", ".")) or child.name == "__pycache__":
                continue
            is_module = child.suffix == ".py"
            is_package = child.is_dir() and (child / "__init__.py").exists()
            if (is_module or is_package) and child not in named and child / "commands" not in named:
                unplaced.append(_rel(child))
    assert not unplaced, "add these to ARCHITECTURE.md's tree: " + ", ".join(unplaced)


# --- links ------------------------------------------------------------------

_LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")


def _anchor(heading: str) -> str:
    """GitHub's anchor of a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = unicodedata.normalize("NFC", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    return {
        _anchor(match)
        for match in re.findall(r"^#{1,6} (.+)$", _text(path), flags=re.MULTILINE)
    }


@pytest.mark.parametrize("document", USER_DOCS, ids=_rel)
def test_every_relative_link_resolves(document: Path):
    broken = []
    links = _LINK.findall(_text(document))
    for target in links:
        if re.match(r"^[a-z]+:", target):  # http:, https:, mailto:
            continue
        file_part, _, anchor = target.partition("#")
        path = (document.parent / file_part).resolve() if file_part else document
        if not path.exists():
            broken.append(f"{target}: no such file")
        elif anchor and path.suffix == ".md" and anchor not in _anchors(path):
            broken.append(f"{target}: no heading #{anchor} in {_rel(path)}")
    assert not broken, f"{_rel(document)}:\n" + "\n".join(broken)


def test_every_document_in_docs_is_linked_from_the_readme():
    linked = {
        (README.parent / target.partition("#")[0]).resolve()
        for target in _LINK.findall(_text(README))
    }
    unlinked = [_rel(path) for path in USER_DOCS[1:] if path.resolve() not in linked]
    assert not unlinked, f"the README does not point to: {unlinked}"


@pytest.mark.parametrize("document", [*USER_DOCS, ARCHITECTURE], ids=_rel)
def test_every_repository_path_in_code_exists(document: Path):
    """`rcu/reference/`, `examples/sources/crm.json`, `.ci/run`… exist."""
    top = ("rcu/", "stewardship/", "gdpr/", "examples/", "docs/", "bench/", "tests/", ".ci/")
    missing = [
        token
        for span in _code_spans(_text(document))
        for token in re.findall(r"(?<![\w/.])(?:" + "|".join(map(re.escape, top)) + r")[\w./-]*", span)
        if not (ROOT / token.rstrip(".")).exists()
    ]
    assert not missing, f"{_rel(document)} names paths that do not exist: {missing}"


# --- management commands ---------------------------------------------------

# `manage.py import_records --source crm`, or a span that starts with a command and
# its options: `import_records --snapshot`.
_COMMAND_CALL = re.compile(r"manage\.py\s+([a-z][a-z0-9_]*)([^`|#]*)")
_COMMAND_SPAN = re.compile(r"^([a-z][a-z0-9_]*)((?:\s+\S+)*?\s+--[a-z][\w-]*.*)$")
_NOT_COMMANDS = {"make", "python", "celery", "curl", "export", "env"}


def _command_mentions(text: str) -> list[tuple[str, str]]:
    mentions = []
    for span in _code_spans(text):
        for name, rest in _COMMAND_CALL.findall(span):
            mentions.append((name, rest))
        match = _COMMAND_SPAN.match(span.strip())
        if match and "manage.py" not in span and match.group(1) not in _NOT_COMMANDS:
            mentions.append((match.group(1), match.group(2)))
    # Prose naming a command: "run `match --full`", "(printed by `seed_demo`)".
    project_commands = {
        name for name, app in get_commands().items() if app.split(".")[0] in APPS
    }
    for span in re.findall(r"`([a-z][a-z0-9_]*)`", text):
        if span in project_commands:
            mentions.append((span, ""))
    return mentions


def _options_of(name: str) -> set[str]:
    command = load_command_class(get_commands()[name], name)
    parser = command.create_parser("manage.py", name)
    return set(parser._option_string_actions)


@pytest.mark.parametrize("document", USER_DOCS, ids=_rel)
def test_every_management_command_and_option_named_exists(document: Path):
    commands = get_commands()
    problems = []
    for name, rest in _command_mentions(_text(document)):
        if name not in commands:
            problems.append(f"no command {name!r}")
            continue
        unknown = set(re.findall(r"(?<![\w-])--[a-z][\w-]*", rest)) - _options_of(name)
        if unknown:
            problems.append(f"{name}: no option {sorted(unknown)}")
    assert not problems, f"{_rel(document)}: " + "; ".join(sorted(set(problems)))


def test_the_commands_are_documented_somewhere():
    """Every command the project ships appears in the README or docs/."""
    text = "\n".join(_text(path) for path in USER_DOCS)
    shipped = {name for name, app in get_commands().items() if app.split(".")[0] in APPS}
    undocumented = sorted(name for name in shipped if name not in text)
    assert not undocumented, f"commands no document mentions: {undocumented}"


# --- URLs ---------------------------------------------------------------------

_URL = re.compile(r"^(?:(GET|POST|PUT|PATCH|DELETE)\s+)?(/[\w{}/.-]*)(?:\?\S*)?$")
# Prefixes named as such ("the API is at `/api/v1/`"), not pages.
_PREFIXES = {"/api/", "/api/v1/"}
_PLACEHOLDERS = {
    "{code}": "crm",
    "{id}": "1",
    "{name}": "birthplace",
    "{letter_id}": "1",
    "{hold_id}": "1",
    "{ack_id}": "1",
    "{external_id}": "C-1042",
    "{public_id}": "0b6f1c1e-5d0c-4a53-9b43-4c1f2f0d8a11",
}


@pytest.mark.parametrize("document", USER_DOCS, ids=_rel)
def test_every_url_named_is_served(document: Path):
    """`/stewardship/queue/`, `POST /api/v1/sources/{code}/records/`…: the path resolves,
    and the API view answers that method."""
    problems = []
    for span in _code_spans(_text(document)):
        match = _URL.match(span.strip())
        if not match or match.group(2) in _PREFIXES or match.group(2).startswith("//"):
            continue
        method, path = match.groups()
        for placeholder, value in _PLACEHOLDERS.items():
            path = path.replace(placeholder, value)
        try:
            found = resolve(path)
        except Resolver404:
            problems.append(f"{span}: no such URL")
            continue
        view_class = getattr(found.func, "view_class", None) or getattr(found.func, "cls", None)
        if method and view_class is not None and not hasattr(view_class, method.lower()):
            problems.append(f"{span}: the view does not answer {method}")
    assert not problems, f"{_rel(document)}:\n" + "\n".join(problems)


# --- environment variables ---------------------------------------------------

_ENV_READERS = {"env_str", "env_bool", "env_int", "env_list", "getenv"}


def _variables_read_by_settings() -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(_text(SETTINGS))):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        func = node.func
        called = func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")
        is_environ_get = (
            isinstance(func, ast.Attribute) and func.attr == "get"
            and getattr(func.value, "attr", getattr(func.value, "id", "")) == "environ"
        )
        first = node.args[0]
        if (called in _ENV_READERS or is_environ_get) and isinstance(first, ast.Constant):
            names.add(first.value)
    return names


def _variables_documented() -> set[str]:
    """The first cell of every table row of docs/configuration.md."""
    names = set()
    for line in _text(CONFIGURATION).splitlines():
        if line.startswith("|"):
            first_cell = line.split("|")[1]
            names.update(re.findall(r"`([A-Z][A-Z0-9_]+)`", first_cell))
    return names


def test_the_settings_read_environment_variables():
    read = _variables_read_by_settings()
    assert {"DEBUG", "DATABASE_URL", "RCU_IMPORT_BATCH_SIZE"} <= read


def test_every_documented_variable_is_read_by_the_settings():
    unread = _variables_documented() - _variables_read_by_settings()
    assert not unread, f"docs/configuration.md documents variables rcu/settings.py never reads: {sorted(unread)}"


def test_every_variable_the_settings_read_is_documented():
    undocumented = _variables_read_by_settings() - _variables_documented()
    assert not undocumented, (
        f"rcu/settings.py reads variables docs/configuration.md does not document "
        f"(add a table row: name, default, meaning): {sorted(undocumented)}"
    )


@pytest.mark.parametrize("document", [*USER_DOCS, ARCHITECTURE], ids=_rel)
def test_every_rcu_variable_named_exists(document: Path):
    named = set(re.findall(r"\bRCU_[A-Z0-9_]*[A-Z0-9]\b", _text(document)))
    settings_text = _text(SETTINGS)
    unknown = {
        name for name in named - NOT_SETTINGS
        if name not in _variables_read_by_settings() and not re.search(rf"^{name}\b", settings_text, re.MULTILINE)
    }
    assert not unknown, f"{_rel(document)} names settings that do not exist: {sorted(unknown)}"
