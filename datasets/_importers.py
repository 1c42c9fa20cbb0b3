"""Importers of public dataset layouts into pdessl files.

- LPSDA (Brandstetter et al. 2022, `generate/generate_data.py`): one group per split
  holding `pde_{nt}-{nx}` (sample, time, x), `x` (sample, x), `t` (sample, time),
  `dx`, `dt` (sample). Its "Burgers" files hold the *heat* field psi; the importer
  maps it to the textbook Burgers velocity $u = -2\\nu\\,\\partial_x \\log\\psi$
  (our `Burgers` convention). LPSDA's own loader instead returns
  $(L / 2\\nu)\\,\\partial_x \\log\\psi / 100 = -\\frac{L}{400\\,\\nu^2}\\,u$, i.e.
  -157.08 u for its L = 2 pi, nu = 0.01, with the opposite sign: values from the two
  pipelines are not interchangeable.
- PDEArena Navier–Stokes smoke (`pdedatagen/navier_stokes.py`): one group per split
  holding `u` (smoke), `vx`, `vy` (sample, time, x, y), `t` (sample, time), `x`, `y`,
  `dt`, `dx`, `dy`, `buo_y`. Its `x`, `y` are `linspace(0, L, n)` (endpoint included)
  while `dx = L / n` and fields are cell-centred: the importer keeps `dx`, `dy` and
  `t0`/`dt`, and records the mismatch in the file's `notes` attribute.

Source samples holding NaN or Inf are counted while converting; unless the caller
passes `allow_nonfinite=True` (`pdessl import --allow-nonfinite`) the import is then
refused with the count and nothing is left under `out`. With it they are kept, and the
count and the first indices are added to the `notes` attribute (training and the
downstream commands still refuse such files).
"""

import json
from pathlib import Path

import h5py
import numpy as np

from ._generate import _versions
from ._physics_check import (
    LPSDA_STORES_HEAT,
    RESIDUAL_THRESHOLD,
    check_lpsda_physics,
)
from ._store import FIELD, DatasetFileError, DatasetWriter

_CHUNK = 16  # samples read and written at a time


def _open_source(src: str | Path) -> h5py.File:
    src = Path(src)
    if not src.exists():
        raise DatasetFileError(f"{src} does not exist.")
    if not h5py.is_hdf5(src):
        raise DatasetFileError(f"{src} is not an HDF5 file.")
    return h5py.File(src, "r")


def _new_output(out: str | Path) -> Path:
    out = Path(out)
    if out.exists():
        raise DatasetFileError(f"{out} exists; importers write a new file.")
    return out


def _pick_split(f: h5py.File, split: str | None, src) -> h5py.Group:
    groups = [k for k in f if isinstance(f[k], h5py.Group)]
    if split is None:
        if len(groups) != 1:
            raise DatasetFileError(
                f"{src} holds the groups {groups}; choose one with --split."
            )
        split = groups[0]
    if split not in groups:
        raise DatasetFileError(f"{src} has no split {split!r}; it has {groups}.")
    return f[split]


def _require(group: h5py.Group, names, src) -> None:
    missing = [n for n in names if n not in group]
    if missing:
        raise DatasetFileError(
            f"{src}:{group.name} lacks {missing}; it is not in the expected layout."
        )


def _attrs(pde: str, src, split: str, n: int, notes: str) -> dict:
    identity = dict(
        recipe=f"import:{Path(src).name}",
        recipe_name="imported",
        pde=pde,
        split=split,
        seed=None,
        num_samples=n,
        shard=[0, 1],
        sample_start=0,
        num_samples_in_file=n,
        dtype=None,
    )
    return dict(
        pde=pde,
        recipe="",
        recipe_name=f"imported from {Path(src).name}",
        identity=json.dumps(identity),
        solver=json.dumps({"imported_from": str(src)}),
        versions=json.dumps(_versions()),
        description=notes,
        notes=notes,
    )


class _NonFiniteSamples:
    """Counts the samples with a NaN or Inf in any field, chunk by chunk."""

    def __init__(self):
        self.indices: list[int] = []

    def add(self, start: int, *fields: np.ndarray) -> None:
        bad = np.zeros(len(fields[0]), dtype=bool)
        for values in fields:
            bad |= ~np.isfinite(values.reshape(len(values), -1)).all(axis=1)
        self.indices += (start + np.flatnonzero(bad)).tolist()

    def finish(self, src, out: Path, n: int, allow: bool) -> None:
        """Refuse (removing `out`) or note the bad samples in `out`'s `notes`."""
        if not self.indices:
            return
        count, first = len(self.indices), self.indices[:10]
        if not allow:
            out.unlink(missing_ok=True)
            raise DatasetFileError(
                f"{src} holds NaN or Inf in {count} of {n} samples (indices "
                f"{first}{' ...' if count > 10 else ''}); nothing was imported. Pass "
                "--allow-nonfinite (allow_nonfinite=True) to keep them anyway "
                "(training and evaluation refuse such files), or fix the source."
            )
        with h5py.File(out, "r+") as f:
            f.attrs["notes"] = (
                f"{f.attrs['notes']} {count} of {n} samples hold NaN or Inf, kept "
                f"on request (--allow-nonfinite): indices {first}"
                f"{' ...' if count > 10 else ''}."
            )


def cole_hopf_velocity(psi: np.ndarray, dx: np.ndarray, nu: float) -> np.ndarray:
    """$u = -2\\nu\\,\\psi_x/\\psi$ for heat fields `psi` (sample, time, x) on periodic
    grids of spacing `dx` (sample,), with a spectral derivative."""
    finite = psi[np.isfinite(psi)]  # NaN or Inf are counted by the importer
    if np.any(finite <= 0):
        raise DatasetFileError(
            "the heat field must be positive for Cole–Hopf (log psi); found values "
            f"<= 0 (min {finite.min():.3g})."
        )
    n = psi.shape[-1]
    k = 2 * np.pi * np.fft.rfftfreq(n, d=1.0)[None, None, :] / dx[:, None, None]
    if n % 2 == 0:
        k[..., -1] = 0.0  # first derivative of the Nyquist mode is not representable
    psi_x = np.fft.irfft(1j * k * np.fft.rfft(psi, axis=-1), n=n, axis=-1)
    return -2 * nu * psi_x / psi


def import_lpsda(
    src: str | Path,
    out: str | Path,
    *,
    pde: str,
    split: str | None = None,
    nu: float = 0.01,
    dtype: str = "float32",
    allow_nonfinite: bool = False,
    check_physics: bool = True,
) -> Path:
    """Convert an LPSDA file (`pde` one of `ks`, `kdv`, `burgers`) to our layout.

    Unless `check_physics=False`, the converted field of the first few samples must
    satisfy the PDE (relative residual below `RESIDUAL_THRESHOLD`, see
    `_physics_check`); otherwise the import is refused with the likely cause (wrong
    `pde`, `nu` or units) and nothing is written. A failed import leaves no file.
    """
    if pde not in LPSDA_STORES_HEAT:
        raise ValueError(
            f"pde must be {', '.join(list(LPSDA_STORES_HEAT)[:-1])} or "
            f"{list(LPSDA_STORES_HEAT)[-1]} for LPSDA, got {pde!r}."
        )
    heat = LPSDA_STORES_HEAT[pde]
    if heat and not nu > 0:
        raise ValueError(f"nu must be > 0, got {nu}.")
    with _open_source(src) as f:
        group = _pick_split(f, split, src)
        fields = [k for k in group if k.startswith("pde_")]
        if len(fields) != 1:
            raise DatasetFileError(
                f"{src}:{group.name} must hold one 'pde_{{nt}}-{{nx}}' dataset, got "
                f"{fields}."
            )
        _require(group, ("t", "dt", "dx"), src)
        data = group[fields[0]]
        n, nt, nx = data.shape
        per_sample = {name: (np.float64, ()) for name in ("t0", "dt", "dx", "L", "T")}
        per_sample["index"] = (np.int64, ())
        if heat:
            per_sample["nu"] = (np.float64, ())
        notes = (
            f"LPSDA {pde} data, split {group.name.strip('/')}; T is the last saved "
            "time (LPSDA does not store the horizon separately)."
        )
        if heat:
            notes += f" Heat field mapped to u = -2 nu d/dx log psi with nu = {nu}."
        out = _new_output(out)
        m = min(n, _CHUNK)
        residual = float("nan")
        if check_physics:
            residual = _check_first_samples(group, data[:m], pde, nu, m)
        conversion = _conversion(pde, nu, float(group["dx"][0]) * nx, residual)
        attrs = _attrs(pde, src, group.name.strip("/"), n, notes)
        attrs.update(conversion)
        bad = _NonFiniteSamples()
        try:
            with DatasetWriter.create(
                out,
                time=nt,
                space=(nx,),
                per_sample=per_sample,
                dtype=dtype,
                attrs=attrs,
            ) as writer:
                for a in range(0, n, _CHUNK):
                    b = min(n, a + _CHUNK)
                    u = data[a:b]
                    dx = group["dx"][a:b]
                    t = group["t"][a:b]
                    if heat:
                        with np.errstate(invalid="ignore"):  # NaN samples stay NaN
                            u = _cole_hopf_or_explain(u, dx, nu, a)
                    bad.add(a, u)
                    batch = {
                        FIELD: u,
                        "index": np.arange(a, b),
                        "t0": t[:, 0],
                        "dt": group["dt"][a:b],
                        "dx": dx,
                        "L": dx * nx,
                        "T": t[:, -1],
                    }
                    if heat:
                        batch["nu"] = np.full(b - a, nu)
                    writer.append(batch)
        except BaseException:
            out.unlink(missing_ok=True)  # no 0-sample file blocking the rerun
            raise
    bad.finish(src, out, n, allow_nonfinite)
    return out


def _cole_hopf_or_explain(psi, dx, nu, start: int) -> np.ndarray:
    try:
        return cole_hopf_velocity(psi, dx, nu)
    except DatasetFileError as err:
        raise DatasetFileError(
            f"samples {start}..{start + len(psi) - 1}: {err} An LPSDA Burgers file "
            "holds a positive heat field; this one does not: is it a KS or KdV file "
            "(--pde ks or --pde kdv)?"
        ) from None


def _check_first_samples(group: h5py.Group, raw: np.ndarray, pde, nu, m) -> float:
    """The physics check of `_physics_check` on the first `m` samples."""
    dt, dx = group["dt"][:m], group["dx"][:m]
    converted = raw
    if LPSDA_STORES_HEAT[pde]:
        try:
            with np.errstate(invalid="ignore"):
                converted = cole_hopf_velocity(raw, dx, nu)
        except DatasetFileError:
            converted = None  # explained with the alternatives below
    return check_lpsda_physics(pde, raw, converted, dt, dx, nu)


def _conversion(pde: str, nu: float, length: float, residual: float) -> dict:
    """Attributes stating the source format, the conversion and the factor from the
    imported field to the scale the source's own training pipeline feeds its models."""
    if LPSDA_STORES_HEAT[pde]:
        factor = -length / (400 * nu**2)
        conversion = (
            "heat field psi mapped to the textbook Burgers velocity u = -2 nu "
            f"d/dx log psi (nu = {nu})"
        )
        scale = (
            f"LPSDA's loader feeds (L / 2 nu) d/dx log psi / 100 = -L / (400 nu^2) u "
            f"= {factor:.6g} u (L = {length:.6g}, first sample)"
        )
    else:
        factor, conversion = 1.0, "none (LPSDA stores the field u itself)"
        scale = "LPSDA's loader feeds the stored field: factor 1"
    return dict(
        source_format="LPSDA (Brandstetter et al. 2022, generate/generate_data.py)",
        conversion=conversion,
        source_training_scale=factor,
        source_training_scale_note=scale,
        import_residual=residual,
        import_residual_threshold=RESIDUAL_THRESHOLD,
    )


def import_pdearena_smoke(
    src: str | Path,
    out: str | Path,
    *,
    split: str | None = None,
    dtype: str = "float32",
    allow_nonfinite: bool = False,
) -> Path:
    """Convert a PDEArena Navier–Stokes smoke file to our layout: fields `u` (smoke),
    `vx`, `vy` over (sample, time, x, y); per-sample `buoyancy`, `t0`, `dt`, `dx`, `dy`."""
    with _open_source(src) as f:
        group = _pick_split(f, split, src)
        _require(group, ("u", "vx", "vy", "t", "dt", "dx", "dy", "buo_y"), src)
        n, nt, nx, ny = group["u"].shape
        for name in ("vx", "vy"):
            if group[name].shape != (n, nt, nx, ny):
                raise DatasetFileError(
                    f"{src}: {name} has shape {group[name].shape}, u has "
                    f"{(n, nt, nx, ny)}."
                )
        per_sample = {
            name: (np.float64, ()) for name in ("t0", "dt", "dx", "dy", "buoyancy")
        }
        per_sample["index"] = (np.int64, ())
        t = group["t"][:]
        spacing = np.diff(t, axis=1).mean(axis=1) if nt > 1 else group["dt"][:]
        notes = (
            "PDEArena Navier-Stokes smoke (closed box, staggered velocities resampled "
            "to cell centres by PDEArena). Its x, y coordinates include the endpoint "
            "while dx = L/n: only dx, dy are kept."
        )
        if not np.allclose(spacing, group["dt"][:], rtol=1e-6):
            notes += (
                f" Its t spacing ({spacing[0]:.6g}) differs from its dt "
                f"({group['dt'][0]:.6g}); dt is kept as stored."
            )
        out = _new_output(out)
        bad = _NonFiniteSamples()
        with DatasetWriter.create(
            out,
            time=nt,
            space=(nx, ny),
            per_sample=per_sample,
            dtype=dtype,
            attrs=dict(
                _attrs("ns", src, group.name.strip("/"), n, notes),
                source_format="PDEArena (pdedatagen/navier_stokes.py)",
                conversion="none (fields copied; x, y coordinates dropped)",
                source_training_scale=1.0,
                source_training_scale_note="PDEArena feeds the stored fields: 1",
            ),
            fields=("u", "vx", "vy"),
        ) as writer:
            for a in range(0, n, _CHUNK):
                b = min(n, a + _CHUNK)
                fields = {k: group[k][a:b] for k in ("u", "vx", "vy")}
                bad.add(a, *fields.values())
                writer.append(
                    {
                        **fields,
                        "index": np.arange(a, b),
                        "t0": t[a:b, 0],
                        "dt": group["dt"][a:b],
                        "dx": group["dx"][a:b],
                        "dy": group["dy"][a:b],
                        "buoyancy": group["buo_y"][a:b],
                    }
                )
    bad.finish(src, out, n, allow_nonfinite)
    return out
