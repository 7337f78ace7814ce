"""The `ltc` files a rule lists as inputs (ltc/imports.py, read from import statements) hold every
`ltc` module its script really loads: checked against what Python itself imports."""
import json
import subprocess
import sys
from pathlib import Path

import pytest

from ltc.imports import package_files

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = sorted((REPO / "workflow" / "scripts").glob("*.py"))
LOADED = """
import json, runpy, sys
runpy.run_path(sys.argv[1], run_name="imported")  # the script's imports, not its main()
print(json.dumps(sorted(m.__file__ for name, m in list(sys.modules.items())
                        if (name == "ltc" or name.startswith("ltc.")) and getattr(m, "__file__", None))))
"""


def test_package_files_follow_imports_through_modules(tmp_path):
    """A hand-built package: a script imports a.b, whose module imports c; names resolve to modules."""
    pkg = tmp_path / "ltc"
    (pkg / "a").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "a" / "__init__.py").write_text("")
    (pkg / "a" / "b.py").write_text("def f():\n    from ltc import c  # a lazy import counts too\n")
    (pkg / "c.py").write_text("import numpy\nfrom ltc.d import thing\n")
    (pkg / "d.py").write_text("thing = 1\n")
    (pkg / "unused.py").write_text("")
    script = tmp_path / "s.py"
    script.write_text("import os\nfrom ltc.a.b import f\n")
    got = [Path(p).relative_to(tmp_path).as_posix() for p in package_files(str(script), str(tmp_path))]
    assert got == ["ltc/__init__.py", "ltc/a/__init__.py", "ltc/a/b.py", "ltc/c.py", "ltc/d.py"]


def test_package_files_follow_relative_imports(tmp_path):
    """A package whose __init__ imports its submodules relatively (from .x, from . import y, from ..z)."""
    pkg = tmp_path / "ltc"
    (pkg / "r").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "r" / "__init__.py").write_text("from .costs import f\nfrom . import rows\n")
    (pkg / "r" / "costs.py").write_text("from ..d import thing\n\ndef f():\n    return thing\n")
    (pkg / "r" / "rows.py").write_text("from .. import e\n")
    (pkg / "r" / "unused.py").write_text("")
    (pkg / "d.py").write_text("thing = 1\n")
    (pkg / "e.py").write_text("")
    script = tmp_path / "s.py"
    script.write_text("from ltc import r\n")
    got = [Path(p).relative_to(tmp_path).as_posix() for p in package_files(str(script), str(tmp_path))]
    assert got == ["ltc/__init__.py", "ltc/d.py", "ltc/e.py", "ltc/r/__init__.py", "ltc/r/costs.py", "ltc/r/rows.py"]


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: p.name)
def test_rule_inputs_hold_every_module_a_script_loads(script):
    proc = subprocess.run([sys.executable, "-c", LOADED, str(script)], capture_output=True, text=True, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    loaded = {str(Path(p).resolve()) for p in json.loads(proc.stdout.strip().splitlines()[-1])}
    listed = {str(Path(p).resolve()) for p in package_files(str(script), str(REPO))}
    assert loaded <= listed, f"{script.name} loads {sorted(loaded - listed)} that its rule does not list"
