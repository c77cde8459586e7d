"""Every variable the code reads from the environment has one row in docs/configuration.md
and a line in .env.example.

The variables are found by parsing the code (no import): calls of the settings' env helpers
and of `os.environ.get`/`os.getenv` with a literal name, `os.environ["NAME"]`, and the
`${NAME}` substitutions of docker-compose.yml.
"""

from __future__ import annotations

import ast
import re
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SETTINGS = ROOT / "config" / "settings.py"
# The other Python files that read their own variables: the web server and its health check.
OTHER_READERS = (ROOT / "config" / "gunicorn.py", ROOT / "deploy" / "healthcheck.py")
COMPOSE = ROOT / "docker-compose.yml"
CONFIGURATION = ROOT / "docs" / "configuration.md"
ENV_EXAMPLE = ROOT / ".env.example"

# A table row whose first cell is one variable: | `NAME` | default | what it does |
ROW = re.compile(r"^\|\s*`([A-Z][A-Z0-9_]*)`\s*\|", re.MULTILINE)
# A variable in .env.example, set or commented out: `# NAME=value`.
EXAMPLE_LINE = re.compile(r"^#?\s*([A-Z][A-Z0-9_]*)=", re.MULTILINE)


def _is_environ(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "environ"
        and isinstance(node.value, ast.Name)
        and node.value.id == "os"
    )


def _reads_environ(call: ast.Call) -> bool:
    """`os.environ.get(…)` or `os.getenv(…)`."""
    function = call.func
    if not isinstance(function, ast.Attribute):
        return False
    if function.attr == "get":
        return _is_environ(function.value)
    return (
        function.attr == "getenv"
        and isinstance(function.value, ast.Name)
        and function.value.id == "os"
    )


def _called_name(call: ast.Call) -> str | None:
    return call.func.id if isinstance(call.func, ast.Name) else None


def env_helpers(tree: ast.Module) -> set[str]:
    """The module's functions that read the variable named by their first parameter,
    directly or through another such function (`envlist` calls `envstr`)."""
    functions = [node for node in tree.body if isinstance(node, ast.FunctionDef) and node.args.args]
    helpers: set[str] = set()
    grew = True
    while grew:
        grew = False
        for function in functions:
            if function.name in helpers:
                continue
            parameter = function.args.args[0].arg
            for node in ast.walk(function):
                if (
                    isinstance(node, ast.Call)
                    and node.args
                    and isinstance(node.args[0], ast.Name)
                    and node.args[0].id == parameter
                    and (_reads_environ(node) or _called_name(node) in helpers)
                ):
                    helpers.add(function.name)
                    grew = True
                    break
    return helpers


def variables_read(path: Path) -> set[str]:
    """The literal variable names a Python file reads from the environment."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    helpers = env_helpers(tree)
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args:
            first = node.args[0]
            if (
                isinstance(first, ast.Constant)
                and isinstance(first.value, str)
                and (_reads_environ(node) or _called_name(node) in helpers)
            ):
                names.add(first.value)
        elif (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)
            and _is_environ(node.value)
            and isinstance(node.slice, ast.Constant)
            and isinstance(node.slice.value, str)
        ):
            names.add(node.slice.value)
    return names


def compose_variables() -> set[str]:
    return set(re.findall(r"\$\{(\w+)", COMPOSE.read_text(encoding="utf-8")))


def every_variable_read() -> set[str]:
    names = variables_read(SETTINGS) | compose_variables()
    for path in OTHER_READERS:
        names |= variables_read(path)
    return names


def documented_rows() -> list[str]:
    return ROW.findall(CONFIGURATION.read_text(encoding="utf-8"))


def test_the_parse_finds_the_env_helpers_and_a_plausible_number_of_settings() -> None:
    tree = ast.parse(SETTINGS.read_text(encoding="utf-8"))
    assert len(env_helpers(tree)) >= 4  # text, true/false, whole number, number, list
    settings = variables_read(SETTINGS)
    # Far fewer would mean the parse lost its way, and the checks below would pass on nothing.
    assert len(settings) >= 60, sorted(settings)
    assert {"SECRET_KEY", "DEBUG", "DATABASE_URL", "ENV_FILE", "ALERTS_LEASE_SECONDS"} <= settings
    assert {"WEB_BIND", "PORT", "WEB_CONCURRENCY", "POSTGRES_PASSWORD"} <= every_variable_read()


def test_every_variable_read_has_a_row_in_docs_configuration() -> None:
    missing = sorted(every_variable_read() - set(documented_rows()))
    assert not missing, f"docs/configuration.md has no row for: {', '.join(missing)}"


@pytest.mark.parametrize("path", [SETTINGS, *OTHER_READERS, COMPOSE], ids=lambda path: path.name)
def test_every_variable_read_is_in_env_example(path: Path) -> None:
    read = compose_variables() if path == COMPOSE else variables_read(path)
    example = set(EXAMPLE_LINE.findall(ENV_EXAMPLE.read_text(encoding="utf-8")))
    missing = sorted(read - example)
    assert not missing, f".env.example lacks what {path.name} reads: {', '.join(missing)}"


def test_docs_configuration_documents_each_variable_once() -> None:
    twice = sorted(name for name, rows in Counter(documented_rows()).items() if rows > 1)
    assert not twice, f"docs/configuration.md has more than one row for: {', '.join(twice)}"


def test_docs_configuration_documents_nothing_the_code_does_not_read() -> None:
    stale = sorted(set(documented_rows()) - every_variable_read())
    assert not stale, f"docs/configuration.md documents what nothing reads: {', '.join(stale)}"
