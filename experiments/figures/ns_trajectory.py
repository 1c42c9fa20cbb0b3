"""Render one buoyant-smoke trajectory (smoke and vorticity) from a dataset file.

pdessl generate ns-tiny --out ns.h5 --num-samples 1
python experiments/figures/ns_trajectory.py ns.h5 --out experiments/figures/ns_smoke.png

The vorticity is the spectral curl of the stored velocities: on the periodic grid, or
for a closed free-slip box (`--boundary free-slip`, read from the file's `boundary`
attribute by default) on the mirror-extended box, where vx is a sine series in x and
vy a sine series in y.
"""

import argparse

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from pdessl.datasets import open_dataset


def _mirror(f, px, py):
    """The box field extended by reflection about its walls (parities px, py)."""
    f = np.concatenate([f, px * f[..., ::-1, :]], axis=-2)
    return np.concatenate([f, py * f[..., ::-1]], axis=-1)


def vorticity(vx, vy, dx, dy, boundary="periodic"):
    """Spectral curl on the periodic grid, or on the box's cell centres."""
    if boundary == "free-slip":
        nx, ny = vx.shape[-2:]
        w = vorticity(_mirror(vx, -1, 1), _mirror(vy, 1, -1), dx, dy)
        return w[..., :nx, :ny]
    if boundary != "periodic":
        raise ValueError(
            f"boundary must be 'periodic' or 'free-slip', not {boundary!r}."
        )
    nx, ny = vx.shape[-2:]
    kx = 2 * np.pi * np.fft.fftfreq(nx, d=dx)[:, None]
    ky = 2 * np.pi * np.fft.fftfreq(ny, d=dy)[None, :]
    dvy_dx = np.fft.ifft2(1j * kx * np.fft.fft2(vy)).real
    dvx_dy = np.fft.ifft2(1j * ky * np.fft.fft2(vx)).real
    return dvy_dx - dvx_dy


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--out", required=True)
    parser.add_argument("--sample", type=int, default=0)
    parser.add_argument("--frames", type=int, default=5)
    parser.add_argument(
        "--boundary",
        choices=("periodic", "free-slip"),
        default=None,
        help="default: the file's `boundary` attribute (periodic if absent)",
    )
    args = parser.parse_args()
    ds = open_dataset(args.file)
    boundary = args.boundary or str(ds.attrs.get("boundary", "periodic"))
    i = args.sample
    u, vx, vy = (ds[k].values[i] for k in ("u", "vx", "vy"))
    dx, dy, dt, t0 = (float(ds[k].values[i]) for k in ("dx", "dy", "dt", "t0"))
    nt, nx, ny = u.shape
    frames = np.linspace(0, nt - 1, args.frames).round().astype(int)
    fig, axes = plt.subplots(2, len(frames), figsize=(2.6 * len(frames), 5.4))
    extent = (0, nx * dx, 0, ny * dy)
    w_all = vorticity(vx[frames], vy[frames], dx, dy, boundary)
    wmax = np.abs(w_all).max()
    for c, f in enumerate(frames):
        # Arrays are indexed [x, y]; imshow wants [row=y, col=x] with y up.
        axes[0, c].imshow(
            u[f].T,
            origin="lower",
            extent=extent,
            cmap="magma",
            vmin=u.min(),
            vmax=u.max(),
        )
        axes[0, c].set_title(f"smoke, t={t0 + f * dt:.1f}", fontsize=8)
        axes[1, c].imshow(
            w_all[c].T,
            origin="lower",
            extent=extent,
            cmap="RdBu_r",
            vmin=-wmax,
            vmax=wmax,
        )
        axes[1, c].set_title("vorticity", fontsize=8)
        for ax in axes[:, c]:
            ax.set_xticks([])
            ax.set_yticks([])
    fig.suptitle(
        f"{ds.attrs['recipe_name']} sample {i}, buoyancy "
        f"{float(ds['buoyancy'].values[i]):.3f} (+y up), {boundary}",
        fontsize=9,
    )
    fig.tight_layout()
    fig.savefig(args.out, dpi=100)


if __name__ == "__main__":
    main()
