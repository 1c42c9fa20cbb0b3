"""Experiment runner: every stage in one work directory, resumable, validated."""

import json
from pathlib import Path

import numpy as np
import pytest

from pdessl.cli import main
from pdessl.experiment import load_experiment, run_experiment, shipped_experiments

TINY = """
name = "tiny-exp"
recipe = "burgers-tiny"
unlabelled = 24
test = 12
seeds = [0, 1]

[pretrain]
preset = "tiny"
steps = 4
batch_size = 8
log_every = 2
checkpoint_every = 4
probe_target = "nu"
probe_every = 2
probe_samples = 8

[regression]
target = "nu"
labelled = 12
supervised_steps = 4
head_steps = 20

[timestep]
modes = ["none", "ssl"]
time_window = 4
steps = 3
width = 8
"""


def _record_figures(monkeypatch) -> dict:
    """What each saved figure shows, per axes: line data, bar heights, mesh values."""
    from matplotlib.figure import Figure

    drawn = {}
    save = Figure.savefig

    def spy(self, fname, *args, **kwargs):
        drawn[Path(fname).stem] = [
            dict(
                lines=[np.asarray(line.get_ydata(), float) for line in ax.get_lines()],
                bars=[bar.get_height() for bar in ax.patches],
                meshes=[
                    np.asarray(c.get_array())
                    for c in ax.collections
                    if isinstance(c, QuadMesh)
                ],
            )
            for ax in self.axes
        ]
        return save(self, fname, *args, **kwargs)

    from matplotlib.collections import QuadMesh

    monkeypatch.setattr(Figure, "savefig", spy)
    return drawn


@pytest.mark.slow  # every stage of a tiny experiment, twice: ~35 s; `pdessl quickstart` runs the same path
def test_experiment_runs_every_stage_and_resumes(tmp_path, monkeypatch):
    drawn = _record_figures(monkeypatch)
    cfg = tmp_path / "exp.toml"
    cfg.write_text(TINY)
    work = tmp_path / "work"
    assert main(["experiment", str(cfg), "--workdir", str(work)]) == 0
    results = json.loads((work / "results.json").read_text())
    assert results["seeds"] == [0, 1]
    assert results["pretrain"]["steps"] == 4
    for method in ("ssl_linear", "ssl_mlp", "supervised", "untrained_linear"):
        assert len(results["regression"]["results"][method]["nmse"]["values"]) == 2
    for mode in ("none", "ssl", "ssl_untrained"):
        assert len(results["timestep"]["modes"][mode]["rollout"]) == 2
    for name in ("training_curves", "nmse_bars", "augmented_samples"):
        assert (work / "figures" / f"{name}.png").is_file()
    # The figures show the run's numbers: the logged losses and probe NMSEs...
    rows = [json.loads(line) for line in open(work / "pretrain" / "metrics.jsonl")]
    curves = drawn["training_curves"]
    np.testing.assert_array_equal(curves[0]["lines"][0], [r["loss"] for r in rows])
    np.testing.assert_array_equal(
        curves[3]["lines"][0],
        [r["probe_nmse_nu"] for r in rows if "probe_nmse_nu" in r],
    )
    # ...one bar per regression row at its mean NMSE...
    report = results["regression"]["results"]
    (bars,) = drawn["nmse_bars"]
    assert bars["bars"] == [report[m]["nmse"]["mean"] for m in report]
    # ...and three non-blank panels: the crop and two views that differ from it.
    panels = drawn["augmented_samples"][:3]  # then their colour bars
    meshes = [m for ax in panels for m in ax["meshes"]]
    assert len(meshes) == 3 and all(np.std(m) > 0 for m in meshes)
    assert not np.array_equal(meshes[0], meshes[1])
    assert not np.array_equal(meshes[0], meshes[2])
    # A second run reuses the data and the encoder instead of redoing them.
    encoder = work / "pretrain" / "encoder.eqx"
    stamp = encoder.stat().st_mtime_ns, (work / "data" / "train.h5").stat().st_mtime_ns
    again = run_experiment(load_experiment(cfg), work, figures=False, progress=print)
    assert (
        encoder.stat().st_mtime_ns,
        (work / "data" / "train.h5").stat().st_mtime_ns,
    ) == stamp
    # Same encoder, same seeds: the probes are deterministic.
    assert (
        again["regression"]["results"]["ssl_linear"]
        == results["regression"]["results"]["ssl_linear"]
    )


def test_experiment_config_errors(tmp_path):
    assert "quickstart" in shipped_experiments()
    quick = load_experiment("quickstart")
    assert quick.regression["target"] == "nu" and quick.unlabelled >= 1024
    cases = {
        'colour = "red"': "unknown key",
        "[regression]\nlabelled = 3": "needs a target",
        '[regression]\ntarget = "nu"\nheadz = 1': "unknown \\[regression\\] key",
        "[pretrain]\nstepz = 3": "unknown config key",
        "[timestep]\nwindow = 3": "unknown \\[timestep\\] key",
    }
    base = 'name = "x"\nrecipe = "burgers-tiny"\nunlabelled = 8\ntest = 4\n'
    for extra, message in cases.items():
        path = tmp_path / "bad.toml"
        path.write_text(base + extra)
        with pytest.raises(ValueError, match=message):
            load_experiment(path)
    path.write_text('name = "x"\n')
    with pytest.raises(ValueError, match="missing key"):
        load_experiment(path)
    with pytest.raises(ValueError, match="unknown experiment"):
        load_experiment("no-such-thing")


def test_every_experiment_config_in_the_repository_loads():
    from pathlib import Path

    root = Path(__file__).parents[1] / "experiments" / "configs"
    paths = sorted(root.glob("*/*.toml"))
    assert paths, "no experiment configs found"
    names = [load_experiment(p).name for p in paths]
    assert len(set(names)) == len(names)  # one work directory per experiment


def test_a_second_experiment_on_one_workdir_is_refused(tmp_path):
    import json
    import os
    import socket

    from pdessl.experiment import load_experiment, run_experiment

    # A live process (this one's parent) holds the workdir: refused before any work.
    lock = tmp_path / "experiment.lock"
    holder = {"pid": os.getppid(), "host": socket.gethostname(), "since": 0.0}
    lock.write_text(json.dumps(holder))
    with pytest.raises(ValueError, match=f"in use by process {os.getppid()}"):
        run_experiment(load_experiment("quickstart"), tmp_path)
    assert json.loads(lock.read_text()) == holder  # the other run's lock is kept
    assert not (tmp_path / "data").exists()
