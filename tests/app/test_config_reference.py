"""The README's configuration table is the code's: generated from ``app/config_reference.py``, and
that list holds exactly the environment variables the source reads."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import alphadesk
from alphadesk.app import config_reference

SRC = Path(alphadesk.__file__).parent
README = SRC.parents[1] / "README.md"
ENV_NAME = re.compile(r"^[A-Z][A-Z0-9]*(_[A-Z0-9]+)+$")
#: Names the source writes into a child process's environment (never read by the desk itself).
CHILD_ONLY = {"PGPASSWORD", "PGCONNECT_TIMEOUT"}


def _template(node: ast.JoinedStr) -> str:
    return "".join(v.value if isinstance(v, ast.Constant) else "<*>" for v in node.values
                   if isinstance(v, ast.Constant | ast.FormattedValue))  # fmt: skip


def _reads_environment(scope: ast.AST) -> bool:
    """Does this function (or module top level) look up the environment?"""
    for node in ast.walk(scope):
        if isinstance(node, ast.Attribute) and node.attr in ("environ", "getenv"):
            return True
        if isinstance(node, ast.Name) and node.id == "env":
            return True
    return False


def _scopes(tree: ast.Module) -> list[ast.AST]:
    return [n for n in ast.walk(tree)
            if isinstance(n, ast.FunctionDef | ast.AsyncFunctionDef)] + [tree]  # fmt: skip


def env_names_in_source() -> set[str]:
    """Every UPPER_SNAKE string (or f-string template, its fields as ``<*>``) in a scope that
    reads the environment; module constants count when their module reads it anywhere."""
    found: set[str] = set()
    for path in SRC.rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for scope in _scopes(tree):
            if not _reads_environment(scope):
                continue
            for node in ast.walk(scope):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    if ENV_NAME.match(node.value):
                        found.add(node.value)
                elif isinstance(node, ast.JoinedStr):
                    text = _template(node)
                    if "<*>" in text and ENV_NAME.match(text.replace("<*>", "X")):
                        found.add(text)
    return found - CHILD_ONLY


def _registry() -> set[str]:
    return {re.sub(r"<[A-Z]+>", "<*>", n) for n in config_reference.names()}


def test_every_variable_the_source_reads_is_in_the_reference() -> None:
    missing = sorted(env_names_in_source() - _registry())
    assert not missing, (f"read by the source but not in app/config_reference.py VARIABLES: "
                         f"{missing}")


def test_every_variable_in_the_reference_is_read_by_the_source() -> None:
    stale = sorted(_registry() - env_names_in_source())
    assert not stale, f"in the reference but read nowhere: {stale}"


def test_the_readme_table_is_the_generated_one() -> None:
    text = README.read_text(encoding="utf-8")
    assert config_reference.splice(text) == text, (
        "README's configuration table is out of date: run "
        "`.venv/bin/python -m alphadesk.app.config_reference --write README.md`")


def test_splice_refuses_a_text_without_markers() -> None:
    with pytest.raises(ValueError, match="markers"):
        config_reference.splice("no markers here")
