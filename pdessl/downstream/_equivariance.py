r"""How an encoder represents each symmetry of its PDE: equivariance and invariance.

For a generator $X$ and crops $x_n$ moved by $g_{\epsilon_n} = e^{\epsilon_n X}$,
with representations $h_n = f(x_n)$ and $h'_n = f(g_{\epsilon_n} x_n)$:

- **equivariance R²**: a ridge map $h' \approx A h + \epsilon\,(b + B h) + c$ is
  fitted on half of the crops and scored on the other half,
  $R^2 = 1 - \sum_n \|\hat h'_n - h'_n\|^2 / \sum_n \|h'_n - \bar h'\|^2$. The
  $\epsilon B h$ term is the first order of a linear group action
  $\rho(\epsilon) = e^{\epsilon M}$ (for small $\epsilon$, $B \approx MA$): the map is
  linear in the representation and in $\epsilon$ separately, the simplest reading of
  "a linear map of $(h, \epsilon)$" that can express a linear action.
- **blind R²**: the same fit without $\epsilon$ ($h' \approx A h + c$): what the
  representation of $x$ alone says about that of $g_\epsilon x$. The gap
  equivariance − blind is what knowing the group element adds.
- **invariance**: $1 - \sum_n \|h'_n - h_n\|^2 / \sum_n \|h'_n - \bar h'\|^2$, the R² of
  the identity map (1 for an exactly invariant encoder; it can be negative).

An invariant encoder scores high everywhere with no gap; an equivariant one has a
high equivariance R² with a gap over the blind fit and a lower invariance.
"""

import jax
import jax.numpy as jnp
import numpy as np
import xarray as xr

from pdessl import datasets, symmetries
from pdessl.embedding import Encoder
from pdessl.training import batch_views


def _ridge_fit_score(a_tr, y_tr, a_te, y_te, ridge: float) -> float:
    mean, std = a_tr.mean(0), a_tr.std(0) + 1e-12
    a_tr = np.concatenate([(a_tr - mean) / std, np.ones((len(a_tr), 1))], axis=1)
    a_te = np.concatenate([(a_te - mean) / std, np.ones((len(a_te), 1))], axis=1)
    reg = ridge * np.eye(a_tr.shape[1])
    reg[-1, -1] = 0.0  # no shrinkage of the intercept
    w = np.linalg.solve(a_tr.T @ a_tr + reg, a_tr.T @ y_tr)
    return _r2(a_te @ w, y_te)


def _r2(pred, y) -> float:
    return float(1.0 - np.sum((pred - y) ** 2) / np.sum((y - y.mean(0)) ** 2))


def equivariance_scores(
    h: np.ndarray, h_moved: np.ndarray, eps: np.ndarray, *, ridge: float = 1.0
) -> dict[str, float]:
    """`equivariance_r2`, `blind_r2` and `invariance` (module docstring) of
    representations `h` `(n, dim)` of crops and `h_moved` of the same crops moved by
    group elements `eps` `(n,)`: fitted on the first half, scored on the second."""
    h = np.asarray(h, np.float64)
    h_moved = np.asarray(h_moved, np.float64)
    eps = np.asarray(eps, np.float64).reshape(-1)
    if h.ndim != 2 or h.shape != h_moved.shape or len(eps) != len(h):
        raise ValueError(
            "h and h_moved must be (n, dim) of one shape and eps (n,); got "
            f"{h.shape}, {h_moved.shape}, {eps.shape}."
        )
    if len(h) < 8:
        raise ValueError(
            f"need at least 8 crops (half to fit, half to score), got {len(h)}."
        )
    if not np.all(np.isfinite(h)) or not np.all(np.isfinite(h_moved)):
        raise ValueError("the representations hold NaN or infinity.")
    half = len(h) // 2
    with_eps = np.concatenate([h, eps[:, None], eps[:, None] * h], axis=1)
    return dict(
        equivariance_r2=_ridge_fit_score(
            with_eps[:half], h_moved[:half], with_eps[half:], h_moved[half:], ridge
        ),
        blind_r2=_ridge_fit_score(
            h[:half], h_moved[:half], h[half:], h_moved[half:], ridge
        ),
        invariance=_r2(h[half:], h_moved[half:]),
    )


def _encode(encoder: Encoder, views) -> np.ndarray:
    net = jax.vmap(lambda v: encoder.network(v, encoder.state)[0])
    return np.concatenate(
        [np.asarray(net(views[i : i + 256])) for i in range(0, len(views), 256)]
    )


def encoder_equivariance(
    encoder: Encoder,
    data,
    *,
    crops: int = 512,
    strengths: dict[str, float] | None = None,
    seed: int = 0,
    ridge: float = 1.0,
) -> dict[str, dict[str, float]]:
    """Per generator of the encoder's PDE (default strengths, overridden by
    `strengths`; zero-strength generators are skipped): `equivariance_scores` on
    `crops` random crops of the trajectories in `data` (a file or dataset), each
    moved by a random $\\epsilon$ of that generator alone. The crops, the group
    elements and the fit/score split are fixed by `seed`, so two encoders are
    compared on the same crops."""
    ds = data if isinstance(data, xr.Dataset) else datasets.open_dataset(data)
    two_d = encoder.descriptor.ndim == 2
    fields = ("vx", "vy") if two_d else ("u",)
    loader = datasets.CropLoader(
        ds,
        batch_size=min(crops, ds.sizes["sample"]),
        crop_time=encoder.crop_time,
        crop_space=encoder.crop_space,
        seed=seed,
        fields=fields,
        variables=() if two_d else ("L",),
    )
    batches, n, epoch = [], 0, 0
    while n < crops:  # epochs draw new crop origins of the same trajectories
        for batch in loader.epoch(epoch):
            batches.append(batch)
            n += len(batch["t0"])
        epoch += 1
    batch = {
        k: jnp.asarray(np.concatenate([b[k] for b in batches])[:crops])
        for k in batches[0]
    }
    if two_d:
        batch.update(Lx=batch["dx"] * ds.sizes["x"], Ly=batch["dy"] * ds.sizes["y"])
    keys = jax.random.split(jax.random.key(seed), len(batch["t0"]))
    scales = encoder.scales
    h = _encode(
        encoder, batch_views(symmetries.identity_augmentation(), keys, batch, scales)
    )
    out = {}
    for gen in symmetries.default_generators(encoder.pde, **(strengths or {})):
        if gen.strength <= 0:
            continue
        aug = symmetries.Augmentation((gen,), 1, 1)
        name = aug.names[0]
        eps = np.asarray(jax.vmap(aug.sample)(keys))[:, 0]
        h_moved = _encode(encoder, batch_views(aug, keys, batch, scales))
        out[name] = dict(
            equivariance_scores(h, h_moved, eps / gen.strength, ridge=ridge),
            strength=float(gen.strength),
        )
    return out


def format_equivariance(rows: dict[str, dict[str, dict[str, float]]]) -> str:
    """A Markdown table of `{encoder name: encoder_equivariance(...)}`."""
    lines = [
        "| encoder | generator | equivariance R² | blind R² | invariance |",
        "|---|---|---|---|---|",
    ]
    for name, per_gen in rows.items():
        for gen, s in per_gen.items():
            lines.append(
                f"| {name} | {gen} | {s['equivariance_r2']:.3f} | {s['blind_r2']:.3f} "
                f"| {s['invariance']:.3f} |"
            )
    return "\n".join(lines) + "\n"
