"""Does an imported field satisfy the PDE it is imported as? The import's physics check.

A file imported with the wrong `--pde`, the wrong `--nu` or in other units is a
well-formed array of numbers: only the equation can tell. After conversion the
importer computes the relative residual $\\|u_t - \\mathcal{L}u - \\mathcal{N}(u)\\| /
\\|u_t\\|$ (`pdessl.symmetries.relative_residual`: spectral space derivatives,
fourth-order central differences in time) of the first few finite samples and
refuses the import above `RESIDUAL_THRESHOLD`.

The threshold: correct imports of LPSDA-style files (tests/test_import_physics.py,
LPSDA's own time steps) measure 5e-5 (KS, dt 0.2), 6e-4 (Burgers) and 8e-3 (KdV,
dt 0.4: the fourth-order time difference dominates); wrong ones measure O(1) and
more (KdV read as KS 4.9, a heat field read as KdV 180, a 10x viscosity 9). 0.05 sits
between the two with a margin of 6x below and 100x above.

On refusal the message gives the residual of the alternatives that are cheap to
compute on the same samples: the other 1-D PDEs on the raw source field, and the heat
equation with its viscosity fitted by least squares ($\\nu = \\langle\\psi_t,
\\psi_{xx}\\rangle / \\|\\psi_{xx}\\|^2$), which also reveals a wrong `--nu`.
"""

import numpy as np

from pdessl import pdes

from ._store import DatasetFileError

RESIDUAL_THRESHOLD = 0.05
NUM_CHECKED = 4  # samples checked (the first finite ones)


# How LPSDA stores each PDE it ships, keyed by LPSDA's names (this is parsing of its
# file format): the field u itself, or, for Burgers, the heat field psi of the
# Cole–Hopf transform (True).
LPSDA_STORES_HEAT = {"ks": False, "kdv": False, "burgers": True}


def _residual(pde, u: np.ndarray, dt: float, dx: float) -> float:
    from pdessl.symmetries import GridField1d, relative_residual

    field = GridField1d(np.asarray(u, dtype=np.float64), 0.0, dt, dx)
    return float(relative_residual(pde, field))


def _make(pde: str, nu: float):
    descriptor = pdes.get(pde)
    return descriptor.solver({name: nu for name in descriptor.parameters})


def fitted_heat_viscosity(psi: np.ndarray, dt: float, dx: float) -> float:
    """Least-squares $\\nu$ in $\\psi_t = \\nu\\psi_{xx}$ for one trajectory
    `(time, x)`, with the residual checker's derivatives."""
    nx = psi.shape[-1]
    k = 2 * np.pi * np.fft.rfftfreq(nx, d=dx)
    psi_xx = np.fft.irfft(-(k**2) * np.fft.rfft(psi[2:-2], axis=-1), n=nx, axis=-1)
    psi_t = (-psi[4:] + 8 * psi[3:-1] - 8 * psi[1:-3] + psi[:-4]) / (12 * dt)
    return float(np.sum(psi_t * psi_xx) / max(np.sum(psi_xx**2), 1e-300))


def worst_residual(pde: str, u, dt, dx, nu: float = 0.01) -> float:
    """Largest relative residual of `pde` over the samples `u` `(sample, time, x)`
    with per-sample `dt`, `dx`."""
    spec = _make(pde, nu)
    return max(
        _residual(spec, ui, dti, dxi) for ui, dti, dxi in zip(u, dt, dx, strict=True)
    )


def alternatives(raw, dt, dx) -> dict[str, float]:
    """Residuals of the raw source field as KS, KdV and heat (fitted viscosity),
    keyed `ks`, `kdv`, `heat nu=...`."""
    out = {p: worst_residual(p, raw, dt, dx) for p in ("ks", "kdv")}
    nus = [fitted_heat_viscosity(r, t, x) for r, t, x in zip(raw, dt, dx, strict=True)]
    nu = float(np.median(nus))
    if nu > 0:
        out[f"heat nu={nu:.4g}"] = worst_residual("heat", raw, dt, dx, nu)
    return out


def _name(key: str) -> str:
    return {"ks": "KS", "kdv": "KdV", "burgers": "Burgers"}.get(key, key)


def explain(pde: str, nu: float, residual: float | None, alts: dict[str, float]) -> str:
    """The refusal message: the residual found, the likely cause, the alternatives."""
    best = min(alts, key=alts.get)
    listing = ", ".join(f"{_name(k)} {v:.3g}" for k, v in alts.items())
    found = (
        f"the relative PDE residual of the converted field is {residual:.3g} "
        f"(a correct import is below {RESIDUAL_THRESHOLD})"
        if residual is not None
        else "the conversion failed"
    )
    lines = [f"as {_name(pde)} data, {found}; nothing was imported."]
    if alts[best] < RESIDUAL_THRESHOLD:
        if best.startswith("heat"):
            fitted = float(best.split("=")[1])
            if LPSDA_STORES_HEAT[pde]:
                lines.append(
                    f"The heat field fits psi_t = nu psi_xx with nu = {fitted:.4g} "
                    f"(residual {alts[best]:.3g}), not the --nu {nu} given: pass "
                    f"--nu {fitted:.3g}."
                )
            else:
                lines.append(
                    f"This looks like an LPSDA Burgers (heat) file with nu = "
                    f"{fitted:.4g} (residual {alts[best]:.3g}), not {_name(pde)}: "
                    f"pass --pde burgers --nu {fitted:.3g}."
                )
        else:
            lines.append(
                f"This looks like {_name(best)}, not {_name(pde)} (residual "
                f"{alts[best]:.3g}): pass --pde {best}."
            )
    else:
        lines.append(
            "No other LPSDA equation fits either: check --pde, --nu and the units "
            "of the field, time and space (a rescaled field or axis breaks the "
            "equation)."
        )
    lines.append(f"Residuals of the source field as the alternatives: {listing}.")
    return " ".join(lines)


def check_lpsda_physics(
    pde: str, raw: np.ndarray, converted: np.ndarray | None, dt, dx, nu: float
) -> float:
    """Refuse (`DatasetFileError`) a conversion whose residual is above the threshold;
    return the residual. `raw` is the source field of a few samples, `converted` the
    imported one (None when the conversion itself failed)."""
    finite = np.isfinite(raw.reshape(len(raw), -1)).all(axis=1)
    if converted is not None:
        finite &= np.isfinite(converted.reshape(len(converted), -1)).all(axis=1)
    idx = np.flatnonzero(finite)[:NUM_CHECKED]
    if raw.shape[1] < 5 or not idx.size:
        return float("nan")  # too few frames or no finite sample: nothing to check
    dt, dx = np.asarray(dt)[idx], np.asarray(dx)[idx]
    residual = None
    if converted is not None:
        residual = worst_residual(pde, converted[idx], dt, dx, nu)
        if residual <= RESIDUAL_THRESHOLD:
            return residual
    raise DatasetFileError(explain(pde, nu, residual, alternatives(raw[idx], dt, dx)))
