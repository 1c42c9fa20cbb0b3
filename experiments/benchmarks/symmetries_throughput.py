"""Benchmark: augmented samples per second, ours (jit + vmap over the batch) against
the reference implementations' approach (PyTorch on the CPU, one sample at a time in
the data loader, as LPSDA's `__getitem__` and the official SSLForPDEs transforms do).

- KS crops (regridded, LPSDA style): space shift + Galilean boost by Fourier shifts on
  (time, x) crops.
- NS crops (coordinate channels, SSLForPDEs style): (x, y, t, vx, vy) channels of
  16 x 128 x 128 crops, the 9 NS generators composed by a Lie–Trotter product of
  order 2 with 2 steps.

Both sides compute in float32 on the same CPU threads.

    python experiments/benchmarks/symmetries_throughput.py [--batch 64]

PyTorch is an optional benchmark dependency: `pip install torch==2.13.0` (CPU).
"""

import argparse
import math
import platform
import time

import jax
import jax.numpy as jnp
import numpy as np

from pdessl import pdes as P
from pdessl import symmetries as S


def best_time(fn, repeats=5):
    fn()
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


# --- ours --------------------------------------------------------------------------


def ours_ks(batch, nt, nx):
    aug = S.Augmentation((S.SpaceShift(0.5), S.GalileanBoost(0.4)), 1, 1)
    u = jnp.asarray(
        np.random.default_rng(0).standard_normal((batch, nt, nx)), dtype=jnp.float32
    )
    fields = S.GridField1d(
        u,
        jnp.zeros(batch, jnp.float32),
        jnp.full(batch, 0.2, jnp.float32),
        jnp.full(batch, 0.25, jnp.float32),
    )
    keys = jax.random.split(jax.random.key(0), batch)

    @jax.jit
    def run(keys, fields):
        eps = jax.vmap(aug.sample)(keys).astype(jnp.float32)
        return jax.vmap(aug.apply_regridded)(eps, fields).u

    return lambda: run(keys, fields).block_until_ready()


def ours_ns(batch, nt, n):
    aug = P.default_augmentation("ns")
    rng = np.random.default_rng(0)
    t, x, y = np.meshgrid(
        np.arange(nt) * 1.5, np.arange(n) * 0.25, np.arange(n) * 0.25, indexing="ij"
    )
    points = {
        k: jnp.asarray(np.broadcast_to(v, (batch, nt, n, n)), jnp.float32)
        for k, v in (("t", t), ("x", x), ("y", y))
    }
    points["vx"] = jnp.asarray(rng.standard_normal((batch, nt, n, n)), jnp.float32)
    points["vy"] = jnp.asarray(rng.standard_normal((batch, nt, n, n)), jnp.float32)
    points["Lx"] = jnp.full(batch, 32.0, jnp.float32)
    points["Ly"] = jnp.full(batch, 32.0, jnp.float32)
    keys = jax.random.split(jax.random.key(0), batch)

    @jax.jit
    def run(keys, points):
        eps = jax.vmap(aug.sample)(keys).astype(jnp.float32)
        out = jax.vmap(aug.apply)(eps, points)
        return jnp.stack([out[k] for k in ("x", "y", "t", "vx", "vy")], axis=1)

    return lambda: run(keys, points).block_until_ready()


# --- PyTorch, one sample at a time ---------------------------------------------------


def torch_ks(batch, nt, nx):
    import torch

    u = torch.randn(batch, nt, nx)
    dx, dt = 0.25, 0.2
    length = nx * dx
    t = dt * torch.arange(nt)

    def fourier_shift(row, shift):
        k = 2 * math.pi * torch.arange(nx // 2 + 1) / length
        phase = torch.exp(-1j * k * shift[..., None])
        return torch.fft.irfft(torch.fft.rfft(row, dim=-1) * phase, n=nx, dim=-1)

    def one(sample):
        eps_x = 0.5 * (2 * torch.rand(()) - 1)
        eps_g = 0.4 * (2 * torch.rand(()) - 1)
        sample = fourier_shift(sample, eps_x * length * torch.ones(nt))
        return fourier_shift(sample, eps_g * t) + eps_g

    return lambda: torch.stack([one(u[i]) for i in range(batch)])


def torch_ns(batch, nt, n):
    import torch

    tt, xx, yy = torch.meshgrid(
        torch.arange(nt) * 1.5,
        torch.arange(n) * 0.25,
        torch.arange(n) * 0.25,
        indexing="ij",
    )
    data = torch.randn(batch, 2, nt, n, n)
    strengths = [1.0, 1.0, 0.1, 0.1, 0.01, 0.01, 0.01, 0.01]

    def gens(eps, p):
        # The same 8 maps as pdessl's NS set (x, y shifts in domain units, scaling,
        # rotation, linear and quadratic boosts), one tensor op per channel.
        x, y, t, vx, vy = p
        ex, ey, es, er, elx, ely, eqx, eqy = eps
        x = x + ex * 32.0
        y = y + ey * 32.0
        t, x, y = torch.exp(2 * es) * t, torch.exp(es) * x, torch.exp(es) * y
        vx, vy = torch.exp(-es) * vx, torch.exp(-es) * vy
        c, s = torch.cos(er), torch.sin(er)
        x, y = c * x - s * y, s * x + c * y
        vx, vy = c * vx - s * vy, s * vx + c * vy
        x, vx = x + elx * t, vx + elx
        y, vy = y + ely * t, vy + ely
        x, vx = x + eqx * t**2, vx + 2 * eqx * t
        y, vy = y + eqy * t**2, vy + 2 * eqy * t
        return x, y, t, vx, vy

    def one(sample):
        eps = torch.tensor([s * (2 * torch.rand(()).item() - 1) for s in strengths])
        p = (xx, yy, tt, sample[0], sample[1])
        for _ in range(2):  # Lie–Trotter order 2, 2 steps: forward then backward halves
            p = gens(eps / 4, p)
            p = gens(eps / 4, p)
        return torch.stack(p)

    return lambda: torch.stack([one(data[i]) for i in range(batch)])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=64)
    args = parser.parse_args()
    import torch

    print(
        f"machine: {platform.machine()}, jax {jax.__version__} "
        f"({jax.devices()[0].device_kind}), torch {torch.__version__} "
        f"({torch.get_num_threads()} threads)"
    )
    b = args.batch
    rows = []
    for name, ours, ref, _shape in (
        ("KS crops 64x128, regridded", ours_ks(b, 64, 128), torch_ks(b, 64, 128), ""),
        ("NS crops 16x128x128, coords", ours_ns(b, 16, 128), torch_ns(b, 16, 128), ""),
    ):
        t_ours, t_ref = best_time(ours), best_time(ref)
        rows.append((name, b / t_ours, b / t_ref))
    print(
        f"{'workload':32s} {'ours [samples/s]':>17s} {'torch [samples/s]':>18s} "
        f"{'ratio':>7s}"
    )
    for name, s_ours, s_ref in rows:
        print(f"{name:32s} {s_ours:17.0f} {s_ref:18.0f} {s_ours / s_ref:6.1f}x")


if __name__ == "__main__":
    main()
