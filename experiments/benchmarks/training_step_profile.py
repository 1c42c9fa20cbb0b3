"""Profile: where the CPU time of the VICReg step's gradient goes, by kind of XLA op.

Traces two calls of the jitted gradient of the step's loss (ResNet-18 + 512-512-512
projector, batch 8, two views) with `jax.profiler`, reads the trace back with
`jax.profiler.ProfileData`, and sums the time of every executed XLA op (thunk) into
kinds: forward convolutions, weight-gradient and input-gradient convolutions (told
apart by the op's source metadata and output shape, from the compiled HLO), layout
transposes, and the rest by fusion name. Durations are wall time on the executing
thread, so a loaded machine inflates them all; the shares are what to read.

    python experiments/benchmarks/training_step_profile.py [--shape 3x128x256]
        [--vmap]

`--vmap` profiles the previous step (per-sample modules vmapped over a named batch
axis) instead of the batch-level channels-last one. Run single-threaded for a clean
per-op attribution, e.g. with XLA_FLAGS="--xla_cpu_multi_thread_eigen=false
intra_op_parallelism_threads=1".
"""

import argparse
import collections
import glob
import re
import tempfile

import equinox as eqx
import jax
import jax.numpy as jnp
import numpy as np
from training_step import COEFFS, _vmap_loss

from pdessl.models import Projector, ResNet
from pdessl.training import SSLModel, vicreg_step_loss


def _kinds(hlo: str):
    """Fusion name -> kind, from the compiled HLO text."""
    bodies = {
        m.group(1): m.group(2)
        for m in re.finditer(r"\n%([\w.\-]+) \([^\n]*\{\n(.*?)\n\}", hlo, re.S)
    }
    kinds = {}
    for m in re.finditer(r"%([\w.\-]+) = [^\n]*?calls=%([\w.\-]+)([^\n]*)", hlo):
        name, body, rest = m.group(1), bodies.get(m.group(2), ""), m.group(3)
        conv = re.search(r"= f32\[([\d,]*)\]\S* convolution\(", body)
        if conv:
            out = [int(v) for v in conv.group(1).split(",")]
            if "transpose(" not in rest:
                kinds[name] = "convolution, forward"
            elif out[1] <= 7 and out[2] <= 7:  # a kernel-sized output
                kinds[name] = "convolution, weight gradient"
            else:
                kinds[name] = "convolution, input gradient"
        elif "dot(" in body:
            kinds[name] = "matrix product"
    return kinds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shape", default="3x128x256", help="channels x h x w")
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--vmap", action="store_true")
    args = parser.parse_args()
    shape = tuple(int(s) for s in args.shape.split("x"))
    if len(shape) != 3 or min(shape) < 1 or args.batch < 2:
        raise SystemExit("--shape is CxHxW (positive), --batch at least 2.")
    k1, k2 = jax.random.split(jax.random.key(0))
    (enc, proj), state = eqx.nn.make_with_state(
        lambda: (ResNet(shape[0], key=k1), Projector(512, key=k2))
    )()
    params, static = eqx.partition(SSLModel(enc, proj), eqx.is_inexact_array)
    rng = np.random.default_rng(0)
    x1 = jnp.asarray(rng.standard_normal((args.batch, *shape)), jnp.float32)
    x2 = x1 + 0.1
    loss_of = _vmap_loss if args.vmap else vicreg_step_loss

    def loss(p, s):
        return loss_of(eqx.combine(p, static), s, x1, x2, COEFFS)[0]

    grad = jax.jit(jax.grad(loss)).lower(params, state).compile()
    kinds = _kinds(grad.as_text())
    jax.block_until_ready(grad(params, state))
    calls = 2
    with tempfile.TemporaryDirectory() as tmp:
        with jax.profiler.trace(tmp):
            for _ in range(calls):
                jax.block_until_ready(grad(params, state))
        (path,) = glob.glob(f"{tmp}/**/*.xplane.pb", recursive=True)
        profile = jax.profiler.ProfileData.from_file(path)
    skip = ("ThunkExecutor", "SlinkyThreadPool", "$", "PjRt", "Execute")
    total, count = collections.Counter(), collections.Counter()
    for plane in profile.planes:
        for line in plane.lines:
            if not line.name.startswith("tf_XLA"):
                continue
            for event in line.events:
                if event.name.startswith(skip):
                    continue
                kind = kinds.get(event.name) or re.sub(r"\.\d+$", "", event.name)
                total[kind] += event.duration_ns / calls
                count[kind] += 1 / calls
    whole = sum(total.values())
    step = "vmap (previous)" if args.vmap else "batch-level, channels-last"
    print(f"{args.shape}, batch {args.batch}, {step}: {whole / 1e6:.0f} ms of ops")
    for kind, ns in total.most_common(12):
        print(
            f"{ns / 1e6:8.1f} ms {100 * ns / whole:5.1f} %  x{count[kind]:4.0f}  {kind}"
        )


if __name__ == "__main__":
    main()
