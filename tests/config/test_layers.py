"""The layer order of the apps holds where import-linter does not look: model references by
string (`ForeignKey("scraping.Listing")`, `apps.get_model("alerts", "Alert")`)."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from tests.conftest import ROOT

LAYERS = ["lib", "users", "listings", "filters", "alerts", "scraping"]
MODEL_STRING = re.compile(r"^([a-z_]+)\.([A-Z]\w*)$")


def upward_model_strings(root: Path) -> list[str]:
    """Each `path:line -> app.Model` in an app's code (migrations aside) naming an app above it."""
    found = []
    for app in LAYERS:
        for path in sorted((root / app).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for node in ast.walk(ast.parse(path.read_text(), str(path))):
                named = None
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    if match := MODEL_STRING.match(node.value):
                        named = match.group(1)
                elif (
                    isinstance(node, ast.Call)
                    and getattr(node.func, "attr", getattr(node.func, "id", "")) == "get_model"
                    and node.args
                    and isinstance(node.args[0], ast.Constant)
                ):
                    named = str(node.args[0].value).split(".")[0]
                if named in LAYERS and LAYERS.index(named) > LAYERS.index(app):
                    where = path.relative_to(root)
                    found.append(f"{where}:{node.lineno} -> {named}")
    return sorted(found)


def test_no_app_names_a_model_of_an_app_above_it():
    assert upward_model_strings(ROOT) == []


def test_the_check_sees_an_upward_model_string(tmp_path):
    (tmp_path / "listings").mkdir()
    (tmp_path / "listings" / "models.py").write_text(
        'from django.db import models\nlisting = models.ForeignKey("scraping.Scan", on_delete=1)\n'
        'alert = apps.get_model("alerts", "Alert")\nown = models.ForeignKey("users.User")\n'
    )
    assert upward_model_strings(tmp_path) == [
        "listings/models.py:2 -> scraping",
        "listings/models.py:3 -> alerts",
    ]
