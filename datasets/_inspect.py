"""Human-readable summary of a dataset file, and space-time plots of a few samples."""

import json
from pathlib import Path

import h5py
import numpy as np

from ._store import FIELD, check_readable, grid_mismatch


def describe(path: str | Path, *, max_samples_checked: int | None = None) -> str:
    """Dims, per-sample variables' ranges, attributes and a NaN/Inf check, as text.

    The finite check reads the whole field (chunk by chunk) unless
    `max_samples_checked` limits it.
    """
    path = check_readable(path)
    lines = [f"{path}"]
    with h5py.File(path, "r") as f:
        attrs = dict(f.attrs)
        n = int(np.asarray(attrs["n_complete"]).ravel()[0])
        identity = json.loads(attrs["identity"])
        expected = identity["num_samples_in_file"]
        field = f[FIELD]
        state = "complete" if n == expected else f"INCOMPLETE ({n} of {expected})"
        lines.append(
            f"  pde {attrs['pde']}, recipe {attrs.get('recipe_name', '?')}, split "
            f"{identity.get('split')}, seed {identity.get('seed')}, shard "
            f"{'/'.join(map(str, identity.get('shard', ('?', '?'))))}: {state}"
        )
        lines.append(
            f"  {FIELD}: {n} samples x {field.shape[1]} times x "
            f"{' x '.join(map(str, field.shape[2:]))} points, {field.dtype}, "
            f"chunks {field.chunks}"
        )
        for name in sorted(f):
            ds = f[name]
            if name == FIELD or not isinstance(ds, h5py.Dataset) or ds.ndim == 0:
                continue
            if ds.shape[0] < n or name in ("time", "x", "y", "mode", "sample"):
                continue
            if ds.ndim >= 3:  # another field (vx, vy): reported with u's shape
                lines.append(f"  {name}: field {ds.shape}, {ds.dtype}")
                continue
            values = ds[:n]
            if values.size:
                lines.append(
                    f"  {name:14s} {str(ds.shape[1:]) if ds.ndim > 1 else '':8s} "
                    f"min {values.min():.6g}  max {values.max():.6g}"
                )
        checked = n if max_samples_checked is None else min(n, max_samples_checked)
        bad = [i for i in range(checked) if not np.all(np.isfinite(field[i]))]
        lines.append(
            f"  finite check over {checked} samples: "
            + ("all finite" if not bad else f"NON-FINITE in samples {bad[:10]}")
        )
        if "L" in f and "dx" in f and field.ndim == 3:
            wrong = np.flatnonzero(
                grid_mismatch(f["L"][:n], f["dx"][:n], field.shape[2])
            )
            lines.append(
                "  grid: "
                + (
                    "L = dx * nx in every sample"
                    if not wrong.size
                    else f"L != dx * nx (GRID MISMATCH) in samples {wrong[:10].tolist()}"
                )
            )
        lines.append(
            "  redrawn after failed solves: "
            f"{int(np.asarray(attrs.get('num_redrawn', 0)).ravel()[0])}"
        )
        versions = json.loads(attrs.get("versions", "{}"))
        lines.append(
            "  versions: " + ", ".join(f"{k} {v}" for k, v in versions.items())
        )
        lines.append(f"  solver: {attrs.get('solver', '?')}")
        for key in (
            "source_format",
            "conversion",
            "source_training_scale",
            "source_training_scale_note",
            "import_residual",
        ):
            if key in attrs:
                value = attrs[key]
                if isinstance(value, np.ndarray) and value.size == 1:
                    value = value.item()
                lines.append(f"  {key}: {value}")
        version = int(np.asarray(attrs["format_version"]).ravel()[0])
        lines.append(f"  format_version {version}")
    return "\n".join(lines)


def plot_samples(
    path: str | Path,
    out: str | Path,
    *,
    num_samples: int = 4,
    compare: str | Path | None = None,
) -> Path:
    """Space-time images (x horizontal, t vertical) of the first samples; with
    `compare`, a second row shows the same samples from another file (e.g. the
    output of `pdessl augment`), on their own grids."""
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise ImportError(
            "pdessl plot needs matplotlib: pip install 'pdessl[plot]'"
        ) from None
    rows = [_read_samples(path, num_samples)]
    if compare is not None:
        rows.append(_read_samples(compare, num_samples))
    n = min(len(r["u"]) for r in rows)
    fig, axes = plt.subplots(
        len(rows), n, figsize=(3.2 * n, 3.2 * len(rows)), squeeze=False
    )
    for r, row in enumerate(rows):
        for i, ax in enumerate(axes[r]):
            nt, nx = row["u"][i].shape
            t0, dt, dx = row["t0"][i], row["dt"][i], row["dx"][i]
            im = ax.imshow(
                row["u"][i],
                origin="lower",
                aspect="auto",
                cmap="RdBu_r",
                extent=(0, nx * dx, t0, t0 + (nt - 1) * dt),
            )
            title = f"{row['label']} #{i}"
            if "nu" in row:
                title += f", nu={row['nu'][i]:.3g}"
            ax.set_title(title, fontsize=8)
            ax.set_xlabel("x")
            if i == 0:
                ax.set_ylabel("t")
            fig.colorbar(im, ax=ax, fraction=0.046)
    fig.tight_layout()
    out = Path(out)
    fig.savefig(out, dpi=110)
    plt.close(fig)
    return out


def _read_samples(path, num_samples: int) -> dict:
    path = check_readable(path)
    with h5py.File(path, "r") as f:
        n = min(num_samples, int(np.asarray(f.attrs["n_complete"]).ravel()[0]))
        if n == 0:
            raise ValueError(f"{path} holds no committed samples to plot.")
        if f[FIELD].ndim != 3:
            raise ValueError("plot shows 1-D fields (sample, time, x) only.")
        row = {k: f[k][:n] for k in (FIELD, "t0", "dt", "dx", "nu") if k in f}
        row["label"] = f"{path.stem} ({f.attrs['pde']})"
    return row
