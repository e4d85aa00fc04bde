"""The layer rule (issue 17): index_build → assistant → ui. A lower layer never imports a
higher one, not even inside a function; bench/ and tests/ are above everything."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.conftest import ROOT

# package → the packages it must never import
FORBIDDEN = {
    "index_build": {"assistant", "ui", "bench", "tests"},
    "assistant": {"ui", "bench", "tests"},
    "ui": {"bench", "tests"},
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_a_layer_never_imports_a_higher_one(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files
    wrong = {str(f.relative_to(ROOT)): sorted(_imports(f) & FORBIDDEN[package]) for f in files}
    assert {f: names for f, names in wrong.items() if names} == {}


def test_the_layer_check_sees_an_import_inside_a_function(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from assistant.text import tokenize\n    import ui.web\n", encoding="utf-8")
    assert _imports(probe) == {"assistant", "ui"}
