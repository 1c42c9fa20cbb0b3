"""The import's physics check on small files made the way LPSDA's generator makes
them (sine-series initial conditions, LPSDA's time steps, the heat field for Burgers),
at tiny size: wrong imports are refused naming the cause, right ones pass unchanged."""

import h5py
import jax
import numpy as np
import pytest

from pdessl import datasets, solvers
from pdessl.datasets import DatasetFileError

NU = 0.01


def _write_lpsda(path, u, dt, dx, split="train"):
    """LPSDA's generate_data.py layout: group per split, pde_{nt}-{nx}, x, t, dx, dt."""
    _, nt, nx = u.shape
    with h5py.File(path, "w") as f:
        g = f.create_group(split)
        g.create_dataset(f"pde_{nt}-{nx}", data=u)
        g.create_dataset("x", data=np.arange(nx)[None, :] * dx[:, None])
        g.create_dataset("dx", data=dx)
        g.create_dataset("t", data=np.arange(nt)[None, :] * dt[:, None])
        g.create_dataset("dt", data=dt)
    return path


def _solved(pde, length, t1, num_saves, keep, n=2, nx=64):
    """LPSDA's KS/KdV generation: sine-series u0, `keep` last of `num_saves` saves."""
    grid = solvers.Grid1d(nx, length)
    out = []
    for i in range(n):
        u0 = solvers.sample_sine_series(jax.random.key(i))(grid)
        sol = solvers.solve(
            pde, grid, u0, t1, num_saves, discard_first=num_saves - keep
        )
        out.append(np.asarray(sol.u))
    dt = np.full(n, t1 / (num_saves - 1))
    return np.stack(out), dt, np.full(n, length / nx)


def _heat(n=2, nx=64, nt=20, dt=0.1006):
    """LPSDA's Burgers files: a positive heat field psi (psi_t = nu psi_xx), whose
    Cole–Hopf transform is the Burgers velocity; L = 2 pi."""
    length = 2 * np.pi
    x = np.arange(nx) * length / nx
    t = np.arange(nt) * dt
    psi = []
    for i in range(n):
        heat = solvers.sample_heat_cole_hopf(jax.random.key(i), NU, length)
        psi.append([np.asarray(heat.psi(x, ti)) for ti in t])
    return np.asarray(psi), np.full(n, dt), np.full(n, length / nx)


@pytest.fixture(scope="module")
def lpsda_files(tmp_path_factory):
    d = tmp_path_factory.mktemp("lpsda")
    # KS: LPSDA's dt = 100 / 500 = 0.2; KdV: 100 / 250 = 0.4 (here T = 20).
    ks = _solved(solvers.KuramotoSivashinsky(), 22.0, 20.0, 101, 32)
    kdv = _solved(solvers.KortewegDeVries(), 32.0, 20.0, 51, 32)
    return {
        "ks": _write_lpsda(d / "KS_train.h5", *ks),
        "kdv": _write_lpsda(d / "KdV_train.h5", *kdv),
        "burgers": _write_lpsda(d / "Heat_train.h5", *_heat()),
    }


@pytest.mark.parametrize("pde", ["ks", "kdv", "burgers"])
def test_correct_import_passes_and_records_its_conventions(lpsda_files, tmp_path, pde):
    src = lpsda_files[pde]
    out = datasets.import_lpsda(src, tmp_path / "o.h5", pde=pde, dtype="float64")
    ds = datasets.open_dataset(out)
    with h5py.File(src) as f:
        raw = f["train"][next(k for k in f["train"] if k.startswith("pde_"))][:]
    if pde != "burgers":
        np.testing.assert_array_equal(ds["u"].values, raw)  # unchanged
    assert ds.attrs["import_residual"] < datasets.RESIDUAL_THRESHOLD
    assert ds.attrs["source_format"].startswith("LPSDA")
    factor = -2 * np.pi / (400 * NU**2) if pde == "burgers" else 1.0
    # the factor is computed from L = dx * nx in float64: round-off only.
    np.testing.assert_allclose(ds.attrs["source_training_scale"], factor, rtol=1e-12)


@pytest.mark.parametrize(
    ("actual", "claimed", "cause"),
    [
        ("kdv", "ks", "looks like KdV, not KS"),
        ("ks", "kdv", "looks like KS, not KdV"),
        ("burgers", "kdv", "pass --pde burgers --nu 0.01"),
        ("burgers", "ks", "pass --pde burgers --nu 0.01"),
    ],
)
def test_wrong_pde_is_refused_naming_the_right_one(
    lpsda_files, tmp_path, actual, claimed, cause
):
    out = tmp_path / "o.h5"
    with pytest.raises(DatasetFileError, match=cause):
        datasets.import_lpsda(lpsda_files[actual], out, pde=claimed)
    assert not out.exists()


def test_wrong_viscosity_is_refused_with_the_fitted_one(lpsda_files, tmp_path):
    out = tmp_path / "o.h5"
    with pytest.raises(
        DatasetFileError, match=r"not the --nu 0.1 given: pass --nu 0.01"
    ):
        datasets.import_lpsda(lpsda_files["burgers"], out, pde="burgers", nu=0.1)
    assert not out.exists()


@pytest.mark.parametrize("actual", ["ks", "kdv"])
def test_burgers_on_a_signed_field_names_the_wrong_pde(lpsda_files, tmp_path, actual):
    out = tmp_path / "o.h5"
    with pytest.raises(DatasetFileError, match=f"pass --pde {actual}"):
        datasets.import_lpsda(lpsda_files[actual], out, pde="burgers")
    assert not out.exists()
    # and the rerun with the right --pde is not blocked by a leftover file
    datasets.import_lpsda(lpsda_files[actual], out, pde=actual)


def test_wrong_units_are_refused(lpsda_files, tmp_path):
    """KS with time in other units (dt stored 10x too large): no PDE fits."""
    with h5py.File(lpsda_files["ks"]) as f:
        g = f["train"]
        u = g[next(k for k in g if k.startswith("pde_"))][:]
        dt, dx = g["dt"][:], g["dx"][:]
    src = _write_lpsda(tmp_path / "s.h5", u, 10 * dt, dx)
    with pytest.raises(DatasetFileError, match="units"):
        datasets.import_lpsda(src, tmp_path / "o.h5", pde="ks")
    out = datasets.import_lpsda(src, tmp_path / "o.h5", pde="ks", check_physics=False)
    assert np.isnan(datasets.open_dataset(out).attrs["import_residual"])


def test_cli_import_refusal_and_inspect(lpsda_files, tmp_path, capsys):
    from pdessl.cli import main

    out = tmp_path / "o.h5"
    assert (
        main(
            [
                "import",
                "lpsda",
                str(lpsda_files["kdv"]),
                "--pde",
                "ks",
                "--out",
                str(out),
            ]
        )
        == 2
    )
    assert "looks like KdV, not KS" in capsys.readouterr().err
    assert not out.exists()
    assert (
        main(
            [
                "import",
                "lpsda",
                str(lpsda_files["burgers"]),
                "--pde",
                "burgers",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["inspect", str(out)]) == 0
    text = capsys.readouterr().out
    assert "source_format" in text and "-157.08" in text
