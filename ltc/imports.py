"""Which files of the ``ltc`` package a script uses, read from its import statements.

The workflow lists them as a rule's inputs, so that editing a module reruns exactly the rules whose
scripts import it, directly or through other ``ltc`` modules. Reading the imports (``ast``, nothing
is executed) keeps that list from drifting away from the code, as a hand-kept list does.
"""
from __future__ import annotations

import ast
from functools import lru_cache
from pathlib import Path

PACKAGE = "ltc"


def _module_file(root: Path, name: str) -> Path | None:
    """The file of module ``name`` (dotted) under ``root``: ``a/b.py`` or ``a/b/__init__.py``."""
    base = root.joinpath(*name.split("."))
    for path in (base.with_suffix(".py"), base / "__init__.py"):
        if path.is_file():
            return path
    return None


def _package_of(path: Path, root: Path) -> list[str] | None:
    """The dotted parts of the package a file under ``root`` belongs to: ``["ltc", "a"]`` for
    ``ltc/a/b.py``, ``["ltc", "a", "b"]`` for ``ltc/a/b/__init__.py``; ``None`` for a file outside ``root``."""
    try:
        parts = path.resolve().relative_to(root.resolve()).with_suffix("").parts
    except ValueError:
        return None
    return list(parts[:-1])


def _from_module(node: ast.ImportFrom, package: list[str] | None) -> str | None:
    """The absolute module an ``from X import ...`` names: ``X`` itself, or for a relative import
    (``from . import a``, ``from ..b import c``) resolved against ``package``; ``None`` if it cannot be."""
    if node.level == 0:
        return node.module
    if package is None or node.level > len(package):
        return None  # a relative import in a script, or one above the top package: Python refuses it too
    base = package[:len(package) - node.level + 1]
    return ".".join([*base, *([node.module] if node.module else [])])


def _imported_modules(path: Path, root: Path) -> set[str]:
    """Dotted names of the ``ltc`` modules that a file's import statements may name (anywhere in it),
    relative imports (``from .costs import f``) resolved to absolute names."""
    names = set()
    package = _package_of(path, root)
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and (module := _from_module(node, package)):
            names.add(module)
            names.update(f"{module}.{alias.name}" for alias in node.names)  # from ltc import io
    return {n for n in names if n == PACKAGE or n.startswith(PACKAGE + ".")}


@lru_cache(maxsize=None)
def package_files(script: str, root: str) -> tuple[str, ...]:
    """Sorted paths of the ``ltc`` files ``script`` imports, directly or indirectly, with the
    ``__init__.py`` of every package on the way; ``root`` is the folder holding ``ltc/``.

    Names that are not modules (``from ltc.io import read_labels``) resolve to the module that holds
    them. Dynamic imports (``importlib``) are not seen: a rule adds those files itself.
    """
    root_path = Path(root)
    seen: set[Path] = set()
    todo = [Path(script)]
    while todo:
        for name in _imported_modules(todo.pop(), root_path):
            parts = name.split(".")
            for depth in range(1, len(parts) + 1):  # the packages on the way, then the module
                path = _module_file(root_path, ".".join(parts[:depth]))
                if path is not None and path not in seen:
                    seen.add(path)
                    todo.append(path)
    return tuple(sorted(str(p) for p in seen))
