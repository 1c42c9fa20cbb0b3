import json

import numpy as np
import pytest

from pdessl import datasets, pdes, solvers, symmetries
from pdessl.augment import augment_file
from pdessl.cli import main


@pytest.fixture(scope="module")
def kdv_file(tmp_path_factory):
    out = tmp_path_factory.mktemp("aug") / "kdv.h5"
    datasets.generate(
        datasets.load_recipe("kdv-tiny"),
        "train",
        out,
        num_samples=4,
        batch_size=4,
        dtype="float64",
        progress=False,
    )
    return out


def _residuals(path):
    ds = datasets.open_dataset(path)
    return np.array(
        [
            float(
                symmetries.relative_residual(
                    solvers.KortewegDeVries(),
                    symmetries.GridField1d(
                        ds.u.values[i],
                        ds.t0.values[i],
                        ds.dt.values[i],
                        ds.dx.values[i],
                    ),
                )
            )
            for i in range(ds.sizes["sample"])
        ]
    )


def test_augmented_file_keeps_solutions_and_records_parameters(kdv_file, tmp_path):
    aug = symmetries.Augmentation(
        (*pdes.default_generators("kdv"), symmetries.TimeShift(3.0)),
        trotter_order=1,
        trotter_steps=1,
    )
    out = augment_file(kdv_file, tmp_path / "a.h5", aug, seed=3, crop_time=24)
    src, dst = datasets.open_dataset(kdv_file), datasets.open_dataset(out)
    assert dst.u.shape == (4, 24, 64)
    for name in aug.names:
        assert f"eps_{name}" in dst
    # The stored group parameters reproduce the stored data exactly.
    i = 2
    eps = np.array([dst[f"eps_{n}"].values[i] for n in aug.names])
    field = symmetries.GridField1d(
        src.u.values[i], src.t0.values[i], src.dt.values[i], src.dx.values[i]
    )
    again = aug.apply_regridded(eps, field, 24)
    # The same float64 regrid of the same eps (float64 file): round-off of |u| ~ 2.4,
    # measured 4.4e-16; 1e-14 leaves a factor 22. dt and L: exact (measured).
    np.testing.assert_allclose(dst.u.values[i], again.u, rtol=0, atol=1e-14)
    np.testing.assert_allclose(dst.dt.values[i], again.dt, rtol=1e-15)
    # Exact transforms: the residual (coarse dt, 4th-order differences) is unchanged
    # up to the factor 2 the issue allows.
    assert np.all(_residuals(out) <= 2 * _residuals(kdv_file))
    np.testing.assert_allclose(dst.L.values, dst.dx.values * 64, rtol=1e-15)
    assert json.loads(dst.attrs["augmentation"])["seed"] == 3


def test_cli_augment_and_compare_plot(kdv_file, tmp_path):
    out = tmp_path / "c.h5"
    assert (
        main(
            [
                "augment",
                str(kdv_file),
                "--out",
                str(out),
                "--generators",
                "galilean_boost",
                "--strengths",
                "0.3",
            ]
        )
        == 0
    )
    ds = datasets.open_dataset(out)
    assert [v for v in ds.data_vars if v.startswith("eps_")] == ["eps_galilean_boost"]
    assert np.all(np.abs(ds.eps_galilean_boost.values) <= 0.3)
    png = tmp_path / "c.png"
    assert main(["plot", str(kdv_file), "--compare", str(out), "--out", str(png)]) == 0
    assert png.stat().st_size > 1000
    assert (
        main(
            [
                "augment",
                str(kdv_file),
                "--out",
                str(tmp_path / "d.h5"),
                "--generators",
                "projective",
            ]
        )
        == 2
    )
    assert (
        main(
            [
                "augment",
                str(kdv_file),
                "--out",
                str(tmp_path / "e.h5"),
                "--generators",
                "time_shift",
                "--strengths",
                "2.0",
            ]
        )
        == 2
    )  # no crop
