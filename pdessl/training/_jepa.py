r"""A joint-embedding predictive objective (JEPA) for PDE trajectories.

Instead of making two views agree (VICReg's invariance), the encoder $f$ sees a
*context* crop of a trajectory at frames $[t, t + w)$ and a *target* crop of the same
trajectory at $[t + \Delta, t + \Delta + w)$ (same spatial window), and a predictor
$g$ maps the context's representation and the embedded offset $\Delta$ to the
target's representation:

$$\mathcal{L} = \lambda\,\frac{1}{ND}\sum_{n,d} \big(g(f(x^c_n), \Delta_n)_d -
f(x^t_n)_d\big)^2 + \mu\,\mathrm{var}(f(x^c), f(x^t)) +
\nu\,\mathrm{cov}(f(x^c), f(x^t)),$$

the variance and covariance terms being VICReg's (`pdessl.vicreg`), taken on the
representations themselves so that predicting a constant cannot win. No pixel is
reconstructed and no EMA target is used: the VICReg terms prevent collapse.

With `equivariant=True` the context crop is first moved by a random element
$g_\epsilon$ of the PDE's symmetry group and the predictor also receives
$\epsilon$ (divided by each generator's strength): it has to map the transformed
context to the untransformed future, an *equivariant* predictor.

The predictor applied repeatedly to its own output is a latent rollout
(`latent_rollout`): a world model in representation space.
"""

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from jaxtyping import Array, Float, Int, PRNGKeyArray

from pdessl.vicreg import vicreg_loss

_FIELDS = ("u", "vx", "vy")  # the cropped fields a loader batch may hold


def sample_deltas(
    key: PRNGKeyArray, n: int, max_delta: int, min_delta: int = 1
) -> Int[Array, " n"]:
    """`n` frame offsets $\\Delta$, uniform on `min_delta..max_delta`."""
    if not 1 <= min_delta <= max_delta:
        raise ValueError(
            f"need 1 <= min_delta <= max_delta, got {min_delta}, {max_delta}."
        )
    return jax.random.randint(key, (n,), min_delta, max_delta + 1)


def context_target(
    field: Float[Array, "frames ..."], delta: Int[Array, ""], crop_time: int
) -> tuple[Float[Array, "crop ..."], Float[Array, "crop ..."]]:
    """The context (first `crop_time` frames) and the target (`crop_time` frames
    from frame `delta`) of one window of a trajectory. The window must hold at
    least `crop_time + delta` frames: `delta` may be traced, so it cannot be checked
    here, and a larger one would be clamped (`dynamic_slice`); `pretrain` crops
    windows of `crop_time + jepa_max_delta` frames."""
    if field.shape[0] < crop_time + 1:
        raise ValueError(
            f"a JEPA window needs more than crop_time = {crop_time} frames, got "
            f"{field.shape[0]}."
        )
    context = field[:crop_time]
    target = jax.lax.dynamic_slice_in_dim(field, delta, crop_time, axis=0)
    return context, target


def shifted_context_target(
    field: Float[Array, "frames x"],
    delta: Int[Array, ""],
    shift: Int[Array, ""],
    crop_time: int,
    crop_space: int,
) -> tuple[Float[Array, "crop cs"], Float[Array, "crop cs"]]:
    """As `context_target` for a 1-D window wider than the crop: the context is the
    first `crop_space` points, the target `crop_space` points from point `shift`
    (the window must hold `crop_space + shift` points; `pretrain` crops windows of
    `crop_space + jepa_max_shift`)."""
    context, target = context_target(field, delta, crop_time)
    target = jax.lax.dynamic_slice_in_dim(target, shift, crop_space, axis=1)
    return context[:, :crop_space], target


def context_target_batches(
    batch: dict, deltas, crop_time: int, shifts=None, crop_space: int | None = None
) -> tuple[dict, dict]:
    """A loader batch of `crop_time + max_delta`-frame windows split into a context
    batch and a target batch (fields cropped, `t0` moved by `delta * dt` for the
    target), the other entries shared. With `shifts` (1-D only) the windows are
    also wider than `crop_space` and the target's spatial window starts `shift`
    points in (the coordinate channels are relative to the crop: a periodic shift
    changes no other entry)."""
    context, target = dict(batch), dict(batch)
    for name in _FIELDS:
        if name in batch:
            if shifts is None:
                c, t = jax.vmap(context_target, in_axes=(0, 0, None))(
                    batch[name], deltas, crop_time
                )
            else:
                c, t = jax.vmap(shifted_context_target, in_axes=(0, 0, 0, None, None))(
                    batch[name], deltas, shifts, crop_time, crop_space
                )
            context[name], target[name] = c, t
    target["t0"] = batch["t0"] + deltas * batch["dt"]
    return context, target


def delta_features(delta, max_delta: int, frequencies: int) -> Float[Array, " k"]:
    """A fixed embedding of the offset: $\\Delta/\\Delta_{max}$ and
    $\\sin, \\cos(\\pi k \\Delta / \\Delta_{max})$, $k = 1..$`frequencies`."""
    s = jnp.asarray(delta, jnp.float32) / max_delta
    k = jnp.arange(1, frequencies + 1, dtype=jnp.float32)
    return jnp.concatenate([s[None], jnp.sin(jnp.pi * k * s), jnp.cos(jnp.pi * k * s)])


class JEPAPredictor(eqx.Module):
    """$g(h, \\Delta[, \\epsilon]) = h + \\mathrm{MLP}([h, e(\\Delta)[, \\epsilon]])$:
    a residual MLP on the representation, the embedded offset and (for an
    equivariant predictor) the normalised group element.

    **Arguments:**

    - `dim`: representation size (the encoder's `out_dim`).
    - `hidden`: hidden widths of the MLP (GELU activations).
    - `max_delta`: the largest offset in frames (scales the embedding).
    - `group_dim`: number of group parameters $\\epsilon$; 0 for a plain predictor.
    - `frequencies`: sine/cosine pairs of the offset embedding.
    - `max_shift`: the largest spatial shift of the target window (grid points;
      `jepa_max_shift`); 0: the same window, no shift input.
    - `dtype`: parameter dtype (float32, as the encoders).
    """

    layers: tuple[eqx.nn.Linear, ...]
    max_delta: int = eqx.field(static=True)
    group_dim: int = eqx.field(static=True)
    frequencies: int = eqx.field(static=True)
    max_shift: int = eqx.field(static=True)

    def __init__(
        self,
        dim: int,
        hidden: tuple[int, ...] = (256, 256),
        *,
        max_delta: int,
        group_dim: int = 0,
        frequencies: int = 4,
        max_shift: int = 0,
        dtype=jnp.float32,
        key: PRNGKeyArray,
    ):
        if dim < 1 or max_delta < 1 or min(group_dim, frequencies, max_shift) < 0:
            raise ValueError(
                f"need dim >= 1, max_delta >= 1, group_dim, frequencies, max_shift "
                f">= 0; got {dim}, {max_delta}, {group_dim}, {frequencies}, "
                f"{max_shift}."
            )
        extra = 1 + 2 * frequencies + group_dim + (1 if max_shift else 0)
        sizes = (dim + extra, *hidden, dim)
        keys = jax.random.split(key, len(sizes) - 1)
        self.layers = tuple(
            eqx.nn.Linear(a, b, dtype=dtype, key=k)
            for a, b, k in zip(sizes[:-1], sizes[1:], keys, strict=True)
        )
        self.max_delta, self.group_dim, self.frequencies = (
            max_delta,
            group_dim,
            frequencies,
        )
        self.max_shift = max_shift

    def __call__(
        self,
        h: Float[Array, " dim"],
        delta: Int[Array, ""],
        eps: Float[Array, " group"] | None = None,
        shift: Int[Array, ""] | None = None,
    ) -> Float[Array, " dim"]:
        parts = [h, delta_features(delta, self.max_delta, self.frequencies)]
        if self.group_dim:
            if eps is None or eps.shape != (self.group_dim,):
                raise ValueError(
                    f"this predictor is equivariant: pass eps of shape "
                    f"({self.group_dim},), got {None if eps is None else eps.shape}."
                )
            parts.append(jnp.asarray(eps, h.dtype))
        elif eps is not None:
            raise ValueError("this predictor takes no group element (group_dim 0).")
        if self.max_shift:  # no shift given: the same spatial window
            s = jnp.asarray(0 if shift is None else shift, h.dtype) / self.max_shift
            parts.append(s[None])
        elif shift is not None:
            raise ValueError("this predictor takes no spatial shift (max_shift 0).")
        y = jnp.concatenate(parts).astype(h.dtype)
        for layer in self.layers[:-1]:
            y = jax.nn.gelu(layer(y))
        return h + self.layers[-1](y).astype(h.dtype)


def latent_rollout(
    predictor: JEPAPredictor, h0: Float[Array, " dim"], delta, steps: int
) -> Float[Array, "steps dim"]:
    """The predictor applied `steps` times to its own output, each step `delta`
    frames ahead: the predicted representations at $\\Delta, 2\\Delta, \\ldots$
    (the input `h0` not included). Group elements are not used (identity,
    $\\epsilon = 0$, for an equivariant predictor)."""
    eps = jnp.zeros((predictor.group_dim,), h0.dtype) if predictor.group_dim else None

    def step(h, _):
        h = predictor(h, jnp.asarray(delta), eps)
        return h, h

    _, hs = jax.lax.scan(step, h0, None, length=steps)
    return hs


def jepa_loss(
    h_context: Float[Array, "batch dim"],
    h_target: Float[Array, "batch dim"],
    prediction: Float[Array, "batch dim"],
    *,
    pred_coeff: float = 25.0,
    std_coeff: float = 25.0,
    cov_coeff: float = 1.0,
    eps: float = 1e-4,
) -> tuple[Float[Array, ""], dict[str, Float[Array, ""]]]:
    """The JEPA loss of the module docstring. Returns `(total, terms)` with the
    unweighted `prediction`, `variance`, `covariance` terms (the last two as in
    `vicreg_loss`, over the context and target representations)."""
    if not h_context.shape == h_target.shape == prediction.shape:
        raise ValueError(
            "h_context, h_target and prediction must share one (batch, dim) shape, "
            f"got {h_context.shape}, {h_target.shape}, {prediction.shape}."
        )
    # VICReg's own variance and covariance terms; its invariance (context vs target)
    # is not part of this loss (coefficient 0).
    _, reg = vicreg_loss(h_context, h_target, sim_coeff=0.0, eps=eps)
    prediction_error = jnp.mean((prediction - h_target) ** 2)
    terms = dict(
        prediction=prediction_error,
        variance=reg["variance"],
        covariance=reg["covariance"],
    )
    total = (
        pred_coeff * prediction_error
        + std_coeff * reg["variance"]
        + cov_coeff * reg["covariance"]
    )
    return total, terms


def group_scales(aug) -> np.ndarray:
    """Each generator's strength (1 for a zero strength): $\\epsilon$ is divided by it
    before it enters the predictor, so every group coordinate is of order one."""
    s = np.array([g.strength for g in aug.generators], dtype=np.float32)
    return np.where(s > 0, s, 1.0)
