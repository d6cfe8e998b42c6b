"""Imports run one way: salesboost <- sim <- experiments and salesboost <- analysis <- experiments.

Checked on the source (AST), so a forbidden import fails here even if no test executes it.
Heavy libraries (ray, mlflow, hydra) may only be imported by experiments/, and there only
inside functions, so that importing the package stays fast and workers stay lean.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from experiments.paths import REPO_ROOT

PACKAGES = ("salesboost", "sim", "analysis", "experiments")
# package -> top-level modules it must never import
FORBIDDEN = {
    "salesboost": {"sim", "analysis", "experiments", "simpy", "ray", "mlflow", "hydra", "omegaconf", "pandas"},
    "sim": {"analysis", "experiments", "ray", "mlflow", "hydra", "omegaconf", "pandas", "scipy", "matplotlib"},
    "analysis": {"sim", "experiments", "simpy", "ray", "mlflow", "hydra", "omegaconf"},
    "experiments": set(),
}
LAZY_ONLY = {"ray", "mlflow", "matplotlib", "pyarrow"}  # never at module level...
# ...except in the plotting modules
LAZY_EXCEPT = {
    "matplotlib": {"analysis/plots.py", "analysis/sweep.py", "analysis/tornado.py", "analysis/customer_plots.py"}
}


def _imports(path: Path) -> list[tuple[str, bool]]:
    """(top-level module, imported at module level?) for every import in ``path``."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    module_level = {id(node) for node in tree.body}
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module]
        found += [(name.split(".")[0], id(node) in module_level) for name in names]
    return found


SOURCES = [(pkg, path) for pkg in PACKAGES for path in sorted((REPO_ROOT / pkg).rglob("*.py"))]


@pytest.mark.parametrize(("package", "path"), SOURCES, ids=[str(p.relative_to(REPO_ROOT)) for _, p in SOURCES])
def test_imports_respect_the_layers(package: str, path: Path):
    for module, at_module_level in _imports(path):
        assert module not in FORBIDDEN[package], f"{path.relative_to(REPO_ROOT)} imports {module}"
        where = path.relative_to(REPO_ROOT).as_posix()
        if module in LAZY_ONLY and where not in LAZY_EXCEPT.get(module, set()):
            assert not at_module_level, f"{where} imports {module} at module level"


def test_every_package_is_checked():
    assert {pkg for pkg, _ in SOURCES} == set(PACKAGES)
    assert len(SOURCES) > 20
