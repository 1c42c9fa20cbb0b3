"""Benchmark: VICReg training-step throughput, pdessl (Equinox ResNet-18 + 512-512-512
projector + VICReg + AdamW, one jitted step) next to the same model and step in
PyTorch, on the same CPU threads, float32.

Settings: the paper's 1-D input (3 channels t, x, u of a 128 x 256 space-time crop)
and 2-D input (80 channels: 16 frames x (x, y, t, vx, vy) of 128 x 128). Augmented
views are drawn outside the timed region for both (inputs are random tensors), so the
numbers compare the network step itself.

    python experiments/benchmarks/training_step.py [--batch 8] [--steps 3]
"""

import argparse
import time

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
import optax

from pdessl.models import Projector, ResNet
from pdessl.training import SSLModel, vicreg_step_loss


def ours(channels, h, w, batch, steps):
    k1, k2 = jax.random.split(jax.random.key(0))
    (enc, proj), state = eqx.nn.make_with_state(
        lambda: (ResNet(channels, key=k1), Projector(512, (512, 512, 512), key=k2))
    )()
    model = SSLModel(enc, proj)
    opt = optax.adamw(3e-4, weight_decay=1e-6)
    params, static = eqx.partition(model, eqx.is_inexact_array)
    opt_state = opt.init(params)
    x1 = jnp.asarray(
        np.random.default_rng(0).standard_normal((batch, channels, h, w)), jnp.float32
    )
    x2 = x1 + 0.1

    @eqx.filter_jit(donate="all-except-first")
    def step(xs, params, state, opt_state):
        def loss_fn(p, s):
            return vicreg_step_loss(
                eqx.combine(p, static), s, xs[0], xs[1], (25.0, 25.0, 1.0)
            )

        (loss, (state, _, _)), g = jax.value_and_grad(loss_fn, has_aux=True)(
            params, state
        )
        updates, opt_state = opt.update(g, opt_state, params)
        return optax.apply_updates(params, updates), state, opt_state, loss

    params, state, opt_state, loss = step((x1, x2), params, state, opt_state)
    loss.block_until_ready()
    start = time.perf_counter()
    for _ in range(steps):
        params, state, opt_state, loss = step((x1, x2), params, state, opt_state)
    loss.block_until_ready()
    return batch * steps / (time.perf_counter() - start)


def _torch_resnet18(channels):
    """torchvision's ResNet-18 layout without torchvision (whose PyPI wheel does not
    load beside this machine's torch build): 7x7/2 stem, max-pool, 4 x 2 blocks."""
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

    layers = [
        nn.Conv2d(channels, 64, 7, 2, 3, bias=False),
        nn.BatchNorm2d(64),
        nn.ReLU(),
        nn.MaxPool2d(3, 2, 1),
    ]
    cin = 64
    for i, width in enumerate((64, 128, 256, 512)):
        layers += [Block(cin, width, 1 if i == 0 else 2), Block(width, width, 1)]
        cin = width
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    return nn.Sequential(*layers)


def torch_step(channels, h, w, batch, steps):
    import torch

    net = _torch_resnet18(channels)
    proj = torch.nn.Sequential(
        torch.nn.Linear(512, 512),
        torch.nn.BatchNorm1d(512),
        torch.nn.ReLU(),
        torch.nn.Linear(512, 512),
        torch.nn.BatchNorm1d(512),
        torch.nn.ReLU(),
        torch.nn.Linear(512, 512, bias=False),
    )
    params = list(net.parameters()) + list(proj.parameters())
    opt = torch.optim.AdamW(params, lr=3e-4, weight_decay=1e-6)
    x1 = torch.randn(batch, channels, h, w)
    x2 = x1 + 0.1

    def vicreg(z1, z2):
        inv = torch.nn.functional.mse_loss(z1, z2)
        loss = 25 * inv
        n, d = z1.shape
        for z in (z1, z2):
            z = z - z.mean(0)
            std = torch.sqrt(z.var(0) + 1e-4)
            loss = loss + 25 * torch.relu(1 - std).mean() / 2
            cov = z.T @ z / (n - 1)
            loss = loss + (cov.pow(2).sum() - cov.diagonal().pow(2).sum()) / d
        return loss

    def step():
        opt.zero_grad()
        loss = vicreg(proj(net(x1)), proj(net(x2)))
        loss.backward()
        opt.step()

    step()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    return batch * steps / (time.perf_counter() - start)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=3)
    args = parser.parse_args()
    import torch

    print(
        f"jax {jax.__version__} ({jax.devices()[0].device_kind}), torch "
        f"{torch.__version__} ({torch.get_num_threads()} threads), batch {args.batch}"
    )
    for name, shape in (
        ("1-D: 3 x 128 x 256", (3, 128, 256)),
        ("2-D: 80 x 128 x 128", (80, 128, 128)),
    ):
        a = ours(*shape, args.batch, args.steps)
        b = torch_step(*shape, args.batch, args.steps)
        print(
            f"{name:22s} pdessl {a:7.1f} samples/s   torch {b:7.1f} samples/s   "
            f"ratio {a / b:.2f}x"
        )


if __name__ == "__main__":
    main()
