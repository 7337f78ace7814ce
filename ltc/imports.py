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


def _imported_modules(path: Path) -> set[str]:
    """Dotted names of the ``ltc`` modules that a file's import statements may name (anywhere in it)."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)  # from ltc import io
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
        for name in _imported_modules(todo.pop()):
            parts = name.split(".")
            for depth in range(1, len(parts) + 1):  # the packages on the way, then the module
                path = _module_file(root_path, ".".join(parts[:depth]))
                if path is not None and path not in seen:
                    seen.add(path)
                    todo.append(path)
    return tuple(sorted(str(p) for p in seen))
