"""Benchmark: VICReg training-step throughput, pdessl (Equinox ResNet + projector +
VICReg + AdamW, one jitted step) next to the same model and step in PyTorch, on the
same CPU threads, float32.

Rows: the paper's 1-D input (3 channels t, x, u of a 128 x 256 space-time crop) and
2-D input (80 channels: 16 frames x (x, y, t, vx, vy) of 128 x 128), both with
ResNet-18 + 512-512-512 projector at batch 8; and the small encoder of the CPU
experiments (experiments/configs/cpu/, the quick start: widths 16-32-64, one block
per stage, 3x3 stem, 128-128-128 projector) on their 3 x 16 x 32 crops at batch 32.
Augmented views are drawn outside the timed region for both (inputs are random
tensors), so the numbers compare the network step itself.

Columns, timed in turn within each round so that a change of machine load hits all
of them alike (the ratios are per round, then the median over rounds):

- `pdessl`: the step as `pretrain` runs it (`vicreg_step_loss`: batch-level,
  channels-last passes), under `jax.jit` on the partitioned parameters, donated;
- `filter_jit`: the same step under `eqx.filter_jit` (dispatch overhead);
- `vmap`: the previous step, the per-sample modules vmapped over a named batch axis
  (NCHW), under `eqx.filter_jit`;
- `torch`: PyTorch, `torch.get_num_threads()` threads.

    python experiments/benchmarks/training_step.py [--batch 8] [--steps 3]
        [--rounds 3] [--single-thread]

`--single-thread` runs both frameworks on one thread and also reports CPU seconds
per sample (`time.process_time`), which a loaded machine disturbs far less than
wall time.
"""

import argparse
import os
import statistics
import sys
import time

if "--single-thread" in sys.argv:  # before JAX starts
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "")
        + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    )

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from pdessl.models import Projector, ResNet
from pdessl.training import SSLModel, vicreg_step_loss
from pdessl.vicreg import vicreg_loss

COEFFS = (25.0, 25.0, 1.0)


def _vmap_loss(model, state, x1, x2, coeffs):
    """The step's loss before the batch-level passes: per-sample modules vmapped."""

    def batched(module, state, x):
        return jax.vmap(
            module, axis_name="batch", in_axes=(0, None), out_axes=(0, None)
        )(x, state)

    h1, state = batched(model.encoder, state, x1)
    h2, state = batched(model.encoder, state, x2)
    z1, state = batched(model.projector, state, h1)
    z2, state = batched(model.projector, state, h2)
    sim, std, cov = coeffs
    loss, terms = vicreg_loss(z1, z2, sim_coeff=sim, std_coeff=std, cov_coeff=cov)
    return loss, (state, terms, h1)


def _jax_setup(arch, x1, x2, variant):
    """A `run(n)` that takes n steps of one pdessl variant, and its first call."""
    k1, k2 = jax.random.split(jax.random.key(0))
    (enc, proj), state = eqx.nn.make_with_state(
        lambda: (
            ResNet(
                x1.shape[1],
                widths=arch["widths"],
                depths=arch["depths"],
                imagenet_stem=arch["imagenet_stem"],
                key=k1,
            ),
            Projector(arch["widths"][-1], arch["projector"], key=k2),
        )
    )()
    opt = optax.adamw(3e-4, weight_decay=1e-6)
    params, static = eqx.partition(SSLModel(enc, proj), eqx.is_inexact_array)
    opt_state = opt.init(params)
    loss_of = _vmap_loss if variant == "vmap" else vicreg_step_loss

    def step(xs, params, state, opt_state):
        def loss_fn(p, s):
            return loss_of(eqx.combine(p, static), s, xs[0], xs[1], COEFFS)

        (loss, (state, _, _)), g = jax.value_and_grad(loss_fn, has_aux=True)(
            params, state
        )
        updates, opt_state = opt.update(g, opt_state, params)
        return optax.apply_updates(params, updates), state, opt_state, loss

    if variant == "pdessl":
        step = jax.jit(step, donate_argnums=(1, 2, 3))
    else:
        step = eqx.filter_jit(step, donate="all-except-first")
    carry = [params, state, opt_state]

    def run(n):
        for _ in range(n):
            *carry[:], loss = step((x1, x2), *carry)
        loss.block_until_ready()

    return run


def _torch_resnet(channels, widths, depths, imagenet_stem):
    """torchvision's ResNet layout without torchvision (whose PyPI wheel does not
    load beside this machine's torch build): 7x7/2 stem and max-pool (or a 3x3/1
    stem), stages of basic blocks, the first of each later stage with stride 2."""
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self, cin, cout, stride):
            super().__init__()
            self.c1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
            self.b1 = nn.BatchNorm2d(cout)
            self.c2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
            self.b2 = nn.BatchNorm2d(cout)
            self.short = None
            if stride != 1 or cin != cout:
                self.short = nn.Sequential(
                    nn.Conv2d(cin, cout, 1, stride, bias=False), nn.BatchNorm2d(cout)
                )

        def forward(self, x):
            y = self.b2(self.c2(torch.relu(self.b1(self.c1(x)))))
            return torch.relu(y + (x if self.short is None else self.short(x)))

    if imagenet_stem:
        stem = [nn.Conv2d(channels, widths[0], 7, 2, 3, bias=False)]
    else:
        stem = [nn.Conv2d(channels, widths[0], 3, 1, 1, bias=False)]
    layers = [*stem, nn.BatchNorm2d(widths[0]), nn.ReLU()]
    if imagenet_stem:
        layers.append(nn.MaxPool2d(3, 2, 1))
    cin = widths[0]
    for i, (width, depth) in enumerate(zip(widths, depths, strict=True)):
        for b in range(depth):
            layers.append(Block(cin, width, 2 if (b == 0 and i > 0) else 1))
            cin = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return nn.Sequential(*layers)


def _torch_setup(arch, x1, x2):
    import torch

    net = _torch_resnet(
        x1.shape[1], arch["widths"], arch["depths"], arch["imagenet_stem"]
    )
    dims = (arch["widths"][-1], *arch["projector"])
    layers = []
    for i in range(len(dims) - 1):
        last = i == len(dims) - 2
        layers.append(torch.nn.Linear(dims[i], dims[i + 1], bias=not last))
        if not last:
            layers += [torch.nn.BatchNorm1d(dims[i + 1]), torch.nn.ReLU()]
    proj = torch.nn.Sequential(*layers)
    params = list(net.parameters()) + list(proj.parameters())
    opt = torch.optim.AdamW(params, lr=3e-4, weight_decay=1e-6)
    x1, x2 = torch.from_numpy(np.asarray(x1)), torch.from_numpy(np.asarray(x2))

    def vicreg(z1, z2):
        loss = 25 * torch.nn.functional.mse_loss(z1, z2)
        n, d = z1.shape
        for z in (z1, z2):
            z = z - z.mean(0)
            std = torch.sqrt(z.var(0) + 1e-4)
            loss = loss + 25 * torch.relu(1 - std).mean() / 2
            cov = z.T @ z / (n - 1)
            loss = loss + (cov.pow(2).sum() - cov.diagonal().pow(2).sum()) / d
        return loss

    def run(n):
        for _ in range(n):
            opt.zero_grad()
            loss = vicreg(proj(net(x1)), proj(net(x2)))
            loss.backward()
            opt.step()

    return run


ROWS = (
    (
        "1-D: 3 x 128 x 256",
        (3, 128, 256),
        "batch",
        dict(
            widths=(64, 128, 256, 512),
            depths=(2, 2, 2, 2),
            imagenet_stem=True,
            projector=(512, 512, 512),
        ),
    ),
    (
        "2-D: 80 x 128 x 128",
        (80, 128, 128),
        "batch",
        dict(
            widths=(64, 128, 256, 512),
            depths=(2, 2, 2, 2),
            imagenet_stem=True,
            projector=(512, 512, 512),
        ),
    ),
    (
        "CPU encoder: 3 x 16 x 32",
        (3, 16, 32),
        "small_batch",
        dict(
            widths=(16, 32, 64),
            depths=(1, 1, 1),
            imagenet_stem=False,
            projector=(128, 128, 128),
        ),
    ),
)
VARIANTS = ("pdessl", "filter_jit", "vmap", "torch")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8, help="ResNet-18 rows")
    parser.add_argument("--small-batch", type=int, default=32, help="CPU encoder row")
    parser.add_argument("--steps", type=int, default=3, help="steps per timing")
    parser.add_argument("--small-steps", type=int, default=30, help="CPU encoder row")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--single-thread", action="store_true")
    parser.add_argument("--rows", default="1-D,2-D,CPU", help="comma-separated")
    args = parser.parse_args()
    for name, value in vars(args).items():
        if isinstance(value, int) and not isinstance(value, bool) and value < 1:
            raise SystemExit(f"--{name.replace('_', '-')} must be >= 1, got {value}.")
    import torch

    if args.single_thread:
        torch.set_num_threads(1)
    print(
        f"jax {jax.__version__} ({jax.devices()[0].device_kind}), torch "
        f"{torch.__version__} ({torch.get_num_threads()} threads), "
        f"{os.cpu_count()} CPUs, load {os.getloadavg()[0]:.1f}, "
        f"{args.rounds} rounds",
        flush=True,
    )
    wanted = args.rows.split(",")
    for name, shape, batch_arg, arch in ROWS:
        if not any(name.startswith(w) for w in wanted):
            continue
        batch = getattr(args, batch_arg)
        steps = args.small_steps if batch_arg == "small_batch" else args.steps
        x1 = np.random.default_rng(0).standard_normal((batch, *shape), np.float32)
        x2 = x1 + np.float32(0.1)
        runs = {
            v: _jax_setup(arch, jnp.asarray(x1), jnp.asarray(x2), v)
            for v in VARIANTS[:3]
        }
        runs["torch"] = _torch_setup(arch, x1, x2)
        for run in runs.values():
            run(1)  # compile, warm up
        wall = {v: [] for v in VARIANTS}
        cpu = {v: [] for v in VARIANTS}
        for _ in range(args.rounds):
            for v, run in runs.items():
                w, c = time.perf_counter(), time.process_time()
                run(steps)
                wall[v].append(batch * steps / (time.perf_counter() - w))
                cpu[v].append((time.process_time() - c) / (batch * steps))
        ratio = {
            v: statistics.median(
                a / b for a, b in zip(wall[v], wall["torch"], strict=True)
            )
            for v in VARIANTS
        }
        cells = "  ".join(f"{v} {statistics.median(wall[v]):7.1f}" for v in VARIANTS)
        print(
            f"{name:26s} batch {batch:3d}  samples/s: {cells}   ratio to torch "
            f"(median of rounds): pdessl {ratio['pdessl']:.2f}x, filter_jit "
            f"{ratio['filter_jit']:.2f}x, vmap {ratio['vmap']:.2f}x",
            flush=True,
        )
        if args.single_thread:
            cells = "  ".join(
                f"{v} {1e3 * statistics.median(cpu[v]):7.2f}" for v in VARIANTS
            )
            cratio = statistics.median(
                b / a for a, b in zip(cpu["pdessl"], cpu["torch"], strict=True)
            )
            print(
                f"{'':26s} CPU ms/sample: {cells}   torch/pdessl {cratio:.2f}x",
                flush=True,
            )
    print(f"load at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
