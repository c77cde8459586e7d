"""Discord's own OpenAPI description (`../shared/discord/openapi.json`, MIT), for checking
what we send: its component schemas are JSON Schema 2020-12, read directly."""

from __future__ import annotations

import json
from functools import cache

import pytest
from jsonschema import Draft202012Validator

from tests.conftest import ROOT

SPEC = ROOT.parent / "shared" / "discord" / "openapi.json"
needs_spec = pytest.mark.skipif(
    not SPEC.exists(), reason=f"Discord's OpenAPI description is absent: {SPEC}"
)


@cache
def _components() -> dict:
    return json.loads(SPEC.read_text(encoding="utf-8"))["components"]


def spec_problems(name: str, instance: object) -> list[str]:
    """Where `instance` breaks the spec's schema `name` ([] when it is valid)."""
    schema = {"$ref": f"#/components/schemas/{name}", "components": _components()}
    return [
        f"{'/'.join(map(str, error.absolute_path))}: {error.message}"
        for error in Draft202012Validator(schema).iter_errors(instance)
    ]
