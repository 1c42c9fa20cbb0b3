"""Importers, tested on small files written in the source projects' exact layouts."""

import h5py
import numpy as np
import pytest

from pdessl import datasets
from pdessl.datasets import DatasetFileError
from pdessl.solvers import TrigonometricHeatSolution


def _write_lpsda(path, u, t, dx, split="train"):
    """LPSDA's generate_data.py layout: group per split, pde_{nt}-{nx}, x, t, dx, dt."""
    _, nt, nx = u.shape
    with h5py.File(path, "w") as f:
        g = f.create_group(split)
        g.create_dataset(f"pde_{nt}-{nx}", data=u)
        g.create_dataset("x", data=np.arange(nx)[None, :] * dx[:, None])
        g.create_dataset("dx", data=dx)
        g.create_dataset("t", data=t)
        g.create_dataset("dt", data=t[:, 1] - t[:, 0])


def test_lpsda_ks_import(tmp_path, rng):
    n, nt, nx = 5, 7, 32
    u = rng.standard_normal((n, nt, nx))
    dx = rng.uniform(1.8, 2.2, n)
    t = np.linspace(60, 100, nt)[None, :] * rng.uniform(0.9, 1.1, (n, 1))
    src = tmp_path / "KS_train_5.h5"
    _write_lpsda(src, u, t, dx)
    # random fields satisfy no PDE: the layout is tested, not the physics
    out = datasets.import_lpsda(
        src, tmp_path / "ks.h5", pde="ks", dtype="float64", check_physics=False
    )
    ds = datasets.open_dataset(out)
    assert ds["u"].dims == ("sample", "time", "x")
    np.testing.assert_array_equal(ds["u"].values, u)
    np.testing.assert_array_equal(ds["dx"].values, dx)
    np.testing.assert_array_equal(ds["t0"].values, t[:, 0])
    np.testing.assert_array_equal(ds["T"].values, t[:, -1])
    np.testing.assert_allclose(ds["L"].values, dx * nx, rtol=1e-15)
    np.testing.assert_array_equal(ds["index"].values, np.arange(n))
    assert ds.attrs["pde"] == "ks"


def test_lpsda_burgers_heat_field_becomes_the_cole_hopf_velocity(tmp_path):
    nu, length, nx = 0.01, 2 * np.pi, 64
    heat = TrigonometricHeatSolution(2.0, [0.6, 0.2], [0.3, -0.4], [1, 3], nu, length)
    x = np.arange(nx) * length / nx
    t = np.linspace(0.0, 4.0, 6)
    psi = np.stack([[np.asarray(heat.psi(x, ti)) for ti in t]] * 2)
    src = tmp_path / "Heat_train_2.h5"
    _write_lpsda(src, psi, np.tile(t, (2, 1)), np.full(2, length / nx))
    out = datasets.import_lpsda(
        src, tmp_path / "b.h5", pde="burgers", nu=nu, dtype="float64"
    )
    ds = datasets.open_dataset(out)
    exact = np.stack([np.asarray(heat.burgers(x, ti)) for ti in t])
    # psi is a degree-3 trigonometric polynomial: the spectral derivative on 64 points
    # is exact to round-off (1e-15 relative to |psi_x| ~ 1, times 2 nu).
    np.testing.assert_allclose(ds["u"].values[0], exact, atol=1e-13)
    np.testing.assert_array_equal(ds["nu"].values, [nu, nu])


def test_lpsda_import_errors(tmp_path, rng):
    src = tmp_path / "two_splits.h5"
    with h5py.File(src, "w") as f:
        f.create_group("train")
        f.create_group("valid")
    with pytest.raises(DatasetFileError, match="choose one with --split"):
        datasets.import_lpsda(src, tmp_path / "o.h5", pde="ks")
    with pytest.raises(DatasetFileError, match="no split 'test'"):
        datasets.import_lpsda(src, tmp_path / "o.h5", pde="ks", split="test")
    with pytest.raises(DatasetFileError, match="pde_"):
        datasets.import_lpsda(src, tmp_path / "o.h5", pde="ks", split="train")
    neg = tmp_path / "neg.h5"
    _write_lpsda(neg, -np.ones((1, 2, 8)), np.array([[0.0, 1.0]]), np.ones(1))
    with pytest.raises(DatasetFileError, match="positive"):
        datasets.import_lpsda(neg, tmp_path / "n.h5", pde="burgers")
    with pytest.raises(ValueError, match="ks, kdv or burgers"):
        datasets.import_lpsda(neg, tmp_path / "n.h5", pde="ns")


def _write_pdearena(path, n=3, nt=4, nx=8, ny=6, rng=None, split="train"):
    """PDEArena pdedatagen/navier_stokes.py layout."""
    data = {k: rng.standard_normal((n, nt, nx, ny)) for k in ("u", "vx", "vy")}
    with h5py.File(path, "w") as f:
        g = f.create_group(split)
        for k, v in data.items():
            g.create_dataset(k, data=v)
        g.create_dataset("t", data=np.tile(np.linspace(18.0, 102.0, nt), (n, 1)))
        g.create_dataset("dt", data=np.full(n, 1.5))
        g.create_dataset("x", data=np.tile(np.linspace(0, 32, nx), (n, 1)))
        g.create_dataset("dx", data=np.full(n, 32 / nx))
        g.create_dataset("y", data=np.tile(np.linspace(0, 32, ny), (n, 1)))
        g.create_dataset("dy", data=np.full(n, 32 / ny))
        g.create_dataset("buo_y", data=rng.uniform(0.2, 0.5, n))
    return data


def test_pdearena_smoke_import(tmp_path, rng):
    src = tmp_path / "NavierStokes2D_train_1_0.50000_3.h5"
    data = _write_pdearena(src, rng=rng)
    out = datasets.import_pdearena_smoke(src, tmp_path / "ns.h5", dtype="float64")
    ds = datasets.open_dataset(out)
    for k in ("u", "vx", "vy"):
        assert ds[k].dims == ("sample", "time", "x", "y")
        np.testing.assert_array_equal(ds[k].values, data[k])
    with h5py.File(src, "r") as f:
        np.testing.assert_array_equal(ds["buoyancy"].values, f["train/buo_y"][:])
    np.testing.assert_array_equal(ds["t0"].values, [18.0] * 3)
    np.testing.assert_array_equal(ds["dt"].values, [1.5] * 3)
    # t spacing (84 / 3 = 28) disagrees with dt = 1.5: recorded, not silently fixed.
    assert "differs from its dt" in ds.attrs["notes"]


def test_pdearena_import_rejects_wrong_layout(tmp_path, rng):
    src = tmp_path / "bad.h5"
    with h5py.File(src, "w") as f:
        f.create_group("train").create_dataset("u", data=np.zeros((1, 2, 4, 4)))
    with pytest.raises(DatasetFileError, match="lacks"):
        datasets.import_pdearena_smoke(src, tmp_path / "o.h5")


def test_cli_import(tmp_path, rng):
    from pdessl.cli import main

    src = tmp_path / "s.h5"
    _write_pdearena(src, rng=rng)
    assert main(["import", "pdearena", str(src), "--out", str(tmp_path / "o.h5")]) == 0
    assert main(["import", "lpsda", str(src), "--out", str(tmp_path / "p.h5")]) == 2
