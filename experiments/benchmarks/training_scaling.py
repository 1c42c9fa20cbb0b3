"""Benchmark: pretraining throughput with 1 process and with 2 processes on localhost
(`jax.distributed`, CPU, one device per process), the same configuration and global
batch. Runs `pdessl pretrain` as subprocesses and reads samples/s from process 0's
metrics.jsonl, leaving out the first logged window (compilation).

    python experiments/benchmarks/training_scaling.py [--config tiny] [--steps 40]

On a shared 2-core CPU the two processes compete for the same cores as the single
one does: this measures the overhead of the multi-process path (gloo all-reduce of
gradients, the per-step preemption flag all-gather), not a speed-up.
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
from pathlib import Path

from pdessl import datasets
from pdessl.training import load_config


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def samples_per_second(cfg: Path, data: Path, workdir: Path, processes: int) -> float:
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=1")
    base = [sys.executable, "-m", "pdessl.cli", "pretrain", str(cfg)]
    base += ["--data", str(data), "--workdir", str(workdir)]
    if processes == 1:
        cmds = [base]
    else:
        port = _free_port()
        cmds = [
            [
                *base,
                *("--coordinator", f"127.0.0.1:{port}"),
                *("--num-processes", str(processes), "--process-id", str(i)),
            ]
            for i in range(processes)
        ]
    procs = [
        subprocess.Popen(c, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for c in cmds
    ]
    for p in procs:
        _, err = p.communicate()
        if p.returncode:
            raise RuntimeError(err.decode()[-2000:])
    rows = [json.loads(line) for line in open(workdir / "metrics.jsonl")]
    rates = [r["samples_per_s"] for r in rows[1:]]
    return sum(rates) / len(rates)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--config", default="tiny")
    parser.add_argument("--steps", type=int, default=40)
    args = parser.parse_args()
    config = load_config(args.config)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = tmp / "data.h5"
        datasets.generate(
            datasets.load_recipe(config.data_recipe), "train", data, progress=False
        )
        # The preset, without the probe and intermediate checkpoints, logged every
        # 10 steps.
        text = Path(args.config).read_text() if Path(args.config).is_file() else None
        if text is None:
            from importlib import resources

            text = (
                resources.files("pdessl.training") / "presets" / f"{args.config}.toml"
            ).read_text()
        lines = [
            line
            for line in text.splitlines()
            if not line.startswith(
                ("steps", "log_every", "checkpoint_every", "probe_target")
            )
        ]
        lines += [
            f"steps = {args.steps}",
            "log_every = 10",
            f"checkpoint_every = {args.steps}",
            'probe_target = ""',
        ]
        cfg = tmp / "cfg.toml"
        cfg.write_text("\n".join(lines) + "\n")
        one = samples_per_second(cfg, data, tmp / "one", 1)
        two = samples_per_second(cfg, data, tmp / "two", 2)
    print(f"config {args.config}, {args.steps} steps, global batch {config.batch_size}")
    print(f"1 process : {one:8.1f} samples/s")
    print(f"2 processes: {two:8.1f} samples/s")
    print(f"ratio 2/1 : {two / one:8.2f}x")


if __name__ == "__main__":
    main()
