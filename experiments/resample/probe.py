"""Probe on resampled fine-grid data vs the same probe on native data (quick start).

The quick start's Burgers recipe regenerated with nx 128 and twice the saves (same
seed: same viscosities and initial conditions), resampled onto the encoder's grid with
`pdessl.resample`, and probed for nu (linear head, 64 labels, 5 seeds) like the native
files. Usage: python probe.py N_TRAIN N_TEST [WORKDIR]; expects the quick start run at
/tmp/runs/qs-v2 (edit `native` and the encoder path for another run).
"""

import json
import sys
import time

import h5py
import numpy as np

import pdessl
from pdessl import datasets, downstream

N_TRAIN, N_TEST = int(sys.argv[1]), int(sys.argv[2])
root = sys.argv[3] if len(sys.argv) > 3 else "/tmp/wt18_probe"
native = {s: f"/tmp/runs/qs-v2/data/{s}.h5" for s in ("train", "test")}
with h5py.File(native["train"]) as f:
    text = f.attrs["recipe"]
fine_text = (
    text.replace("num_points = 64", "num_points = 128")
    .replace("num_saves = 51", "num_saves = 101")
    .replace("keep_last = 32", "keep_last = 63")
    .replace("steps_per_save = 8", "steps_per_save = 4")
)
assert (
    fine_text.count("128")
    and "num_saves = 101" in fine_text
    and "keep_last = 63" in fine_text
)
recipe = datasets.parse_recipe(fine_text, "burgers-tiny-fine")
enc = pdessl.load_encoder("/tmp/runs/qs-v2/pretrain/encoder.eqx")
sets = {}
for split, n in (("train", N_TRAIN), ("test", N_TEST)):
    t = time.time()
    out = f"{root}/fine-{split}.h5"
    import os

    if not os.path.exists(out):
        datasets.generate(recipe, split, out, num_samples=n, seed=0, progress=False)
    fine = datasets.open_dataset(out).load()
    nat = datasets.open_dataset(native[split]).isel(sample=slice(0, n)).load()
    np.testing.assert_allclose(fine.nu.values, nat.nu.values, rtol=1e-12)
    # resample the fine trajectories onto the encoder grid, as embed(resample=True) does
    rs = [
        pdessl.resample(
            u.astype(np.float64),
            dt=float(fine.dt[i]),
            dx=float(fine.dx[i]),
            new_dt=enc.training_dt,
            new_dx=enc.training_dx,
        )
        for i, u in enumerate(fine.u.values)
    ]
    u = np.stack([r.u for r in rs])
    err = max(r.time_error for r in rs)
    res = nat.copy()
    res["u"] = (("sample", "time", "x"), u[:, : nat.sizes["time"]].astype(np.float32))
    diff = np.linalg.norm(res.u.values - nat.u.values) / np.linalg.norm(nat.u.values)
    print(
        split,
        "gen s",
        round(time.time() - t),
        "time err",
        err,
        "rel diff to native",
        diff,
        flush=True,
    )
    sets[split] = (nat, res)
results = {}
for name, i in (("native", 0), ("resampled", 1)):
    r = downstream.run_regression(
        enc,
        sets["train"][i],
        sets["test"][i],
        "nu",
        heads=("linear",),
        supervised=False,
        seeds=(0, 1, 2, 3, 4),
        labelled=64,
        progress=lambda *a: None,
    )
    results[name] = r
    print(
        name,
        {
            k: (v["nmse"]["mean"], v["nmse"]["std"], v["nmse"]["values"])
            for k, v in r["results"].items()
        },
        flush=True,
    )
json.dump(results, open(f"{root}/results.json", "w"), default=str, indent=1)
