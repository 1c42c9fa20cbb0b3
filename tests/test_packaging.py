import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def test_import_paths_map_to_the_design_folders():
    import pdessl.datasets
    import pdessl.solvers

    assert Path(pdessl.solvers.__file__).parent == ROOT / "solvers"
    assert Path(pdessl.datasets.__file__).parent == ROOT / "datasets"


def test_wheel_contains_only_the_pdessl_namespace(tmp_path):
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-w",
            str(tmp_path),
            str(ROOT),
        ],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        pytest.fail(f"building the wheel failed:\n{proc.stderr[-2000:]}")
    (wheel,) = tmp_path.glob("pdessl-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    top = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert top == {"pdessl"}, top
    assert "pdessl/solvers/_etdrk4.py" in names
    # Every subpackage on disk is in the wheel (the package list is explicit).
    for init in sorted((ROOT / "pdessl").rglob("__init__.py")):
        rel = init.relative_to(ROOT).as_posix()
        assert rel in names, f"{rel} is missing from the wheel: list it in pyproject"
    assert "pdessl/py.typed" in names
    # The shipped encoders (package data) travel with the wheel.
    from pdessl.shipped import shipped_encoders

    assert shipped_encoders()
    for name in shipped_encoders():
        assert f"pdessl/encoders/{name}.eqx" in names, name


def test_cli_reports_bad_parameters_without_traceback():
    from pdessl.cli import main

    assert main(["simulate", "burgers", "--viscosity", "-1", "--nx", "16"]) == 2
