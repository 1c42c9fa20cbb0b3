import json
import os
import re
import signal
import subprocess
import sys
import time

import equinox as eqx
import jax
import numpy as np
import pytest

from pdessl import datasets
from pdessl.training import load_config, make_view, pretrain, read_encoder_file
from pdessl.training._probe import ridge_probe_nmse
from pdessl.training._step import ChannelScales


@pytest.fixture(scope="module")
def data(burgers_tiny_48):
    return burgers_tiny_48  # read only


def _losses(workdir):
    rows = [json.loads(line) for line in open(workdir / "metrics.jsonl")]
    return {r["step"]: r["loss"] for r in rows}


@pytest.fixture(scope="module")
def reference_run(tmp_path_factory, data):
    """The work directory of an uninterrupted 40-step tiny run (logged every 10 steps,
    probed every 20, encoder exported); read-only for the tests that share it."""
    ref = tmp_path_factory.mktemp("ref")
    pretrain(load_config("tiny", steps=40), ref, data=data, progress=lambda *_: None)
    return ref


@pytest.fixture(scope="module")
def reference_losses(reference_run):
    """Losses of the uninterrupted 40-step tiny run."""
    return _losses(reference_run)


def _tiny_40_steps_cmd(run, data):
    return [
        sys.executable,
        "-m",
        "pdessl.cli",
        "pretrain",
        "tiny",
        "--steps",
        "40",
        "--workdir",
        str(run),
        "--data",
        str(data),
    ]


def _signalled(cmd, sig, after, ready=None):
    """Run `cmd`, send `sig` once it prints a line starting with `after` (and `ready()`
    holds, if given); return its exit code and output."""
    proc = subprocess.Popen(
        cmd,
        stdout=subprocess.PIPE,
        text=True,
        env=dict(os.environ, PYTHONUNBUFFERED="1"),
    )
    out = []
    for line in proc.stdout:
        out.append(line)
        if line.startswith(after):
            while ready is not None and not ready() and proc.poll() is None:
                time.sleep(0.01)
            proc.send_signal(sig)  # a run that ended first fails the exit-code check
            break
    out.append(proc.stdout.read())
    proc.wait()
    return proc.returncode, "".join(out)


def _assert_same_losses(reference, resumed, steps):
    # Same data order (epoch, index from the step), same fold_in(key, step), restored
    # parameters, optimiser and BatchNorm state: identical arithmetic on one CPU.
    for step in steps:
        assert resumed[step] == pytest.approx(reference[step], rel=1e-6), (
            step,
            reference,
            resumed,
        )


@pytest.mark.slow  # three pretraining subprocesses: ~25 s; the in-process preemption test below covers resuming to the same losses
def test_sigkilled_pretraining_resumes_to_the_same_losses(
    tmp_path, data, reference_losses
):
    cmd = _tiny_40_steps_cmd(tmp_path, data)
    # Killed after step 30, once the (asynchronous) checkpoint at 20 is finalised:
    # under load its writing can outlast ten steps.
    code, _ = _signalled(
        cmd,
        signal.SIGKILL,
        after="step 30",
        ready=(tmp_path / "checkpoints" / "20").is_dir,
    )
    assert code == -signal.SIGKILL
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert "resumed from step 20" in res.stdout
    _assert_same_losses(reference_losses, _losses(tmp_path), (30, 40))
    # The killed run left its lock (taken over) and a row for step 30 after the
    # checkpoint at 20 (dropped on resume): one row per logged step.
    assert "taking over the stale lock" in res.stderr
    assert not (tmp_path / "pretrain.lock").exists()
    steps = [json.loads(line)["step"] for line in open(tmp_path / "metrics.jsonl")]
    assert steps == [10, 20, 30, 40]


def test_preemption_signal_stops_at_the_next_step_and_resumes(
    tmp_path, data, reference_losses
):
    # In process: the signal is sent from the logging callback after step 10, so the
    # run must stop exactly at step 10, before the step-11 update.
    config = load_config("tiny", steps=40)

    def progress(line):
        if line.startswith("step 10"):
            os.kill(os.getpid(), signal.SIGTERM)

    metrics = pretrain(config, tmp_path, data=data, progress=progress)
    assert metrics["preempted_at"] == 10
    assert (tmp_path / "checkpoints" / "10").is_dir()
    assert signal.getsignal(signal.SIGTERM) is signal.SIG_DFL  # handler restored
    lines = []
    pretrain(config, tmp_path, data=data, progress=lines.append)
    assert lines[0] == "resumed from step 10"
    _assert_same_losses(reference_losses, _losses(tmp_path), (20, 30, 40))


@pytest.mark.slow  # two pretraining subprocesses per signal: ~45 s each
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGUSR1])
def test_preemption_signal_saves_and_resumes_to_the_same_losses(
    tmp_path, data, reference_losses, sig
):
    from pdessl.training._preemption import EXIT_CODE

    cmd = _tiny_40_steps_cmd(tmp_path, data)
    code, out = _signalled(cmd, sig, after="step 10")
    assert code == EXIT_CODE, out
    match = re.search(r"checkpoint at step (\d+)", out)
    assert match, out
    stopped = int(match.group(1))
    # The signal came after step 10 was logged; the run stops at a step boundary
    # after that (how far the loop got depends on timing) and before the end.
    assert 10 <= stopped < 40, out
    assert (tmp_path / "checkpoints" / str(stopped)).is_dir()
    res = subprocess.run(cmd, capture_output=True, text=True, check=True)
    assert f"resumed from step {stopped}" in res.stdout
    logged_after = [s for s in (20, 30, 40) if s > stopped]
    _assert_same_losses(reference_losses, _losses(tmp_path), logged_after)


def _capture_export(monkeypatch) -> dict:
    """Records the in-memory encoder and state that `pretrain` hands to the export."""
    from pdessl.training import _pretrain

    captured = {}
    export = _pretrain.export_encoder

    def spy(path, encoder, state, *args):
        captured.update(encoder=encoder, state=state)
        return export(path, encoder, state, *args)

    monkeypatch.setattr(_pretrain, "export_encoder", spy)
    return captured


@eqx.filter_jit
def _jit_call(network, x, state):
    # Compiled, so that the exported (JAX) and in-memory (NumPy) leaves run the same
    # float32 program: called eagerly the two differed by float32 round-off (measured
    # ~1e-7 relative), which the bit-for-bit comparison would flag.
    return network(x, state)


def _assert_same_arrays(a, b):
    """Bit-identical array leaves, in the same order. (Not the tree structures: the
    BatchNorm state markers carry a construction-path name that differs.)"""
    leaves_a = jax.tree.leaves(eqx.filter(a, eqx.is_array))
    leaves_b = jax.tree.leaves(eqx.filter(b, eqx.is_array))
    for x, y in zip(leaves_a, leaves_b, strict=True):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_exported_encoder_reloads_with_identical_embeddings(
    tmp_path, data, monkeypatch
):
    captured = _capture_export(monkeypatch)
    config = load_config("tiny", steps=10)
    pretrain(config, tmp_path, data=data, progress=lambda *_: None)
    encoder, state, header = read_encoder_file(tmp_path / "encoder.eqx")
    assert header["widths"] == list(config.widths)
    ds = datasets.open_dataset(data)
    scales = ChannelScales(**header["scales"])
    from pdessl import symmetries

    aug = symmetries.Augmentation((symmetries.SpaceShift(0.0),))
    u = ds.u.values[0, :16, :32]
    x = make_view(
        aug,
        jax.random.key(0),
        u,
        ds.t0.values[0],
        ds.dt.values[0],
        ds.dx.values[0],
        ds.L.values[0],
        scales,
    )
    # The file holds the trained network as it was in memory: same parameters, and
    # (in inference mode, so through its BatchNorm running statistics, which the
    # in-memory state also holds for the projector) the same embedding, bit for bit.
    trained = eqx.nn.inference_mode(captured["encoder"])
    _assert_same_arrays(encoder, trained)
    h1, _ = _jit_call(encoder, x, state)
    h2, _ = _jit_call(trained, x, captured["state"])
    np.testing.assert_array_equal(h1, h2)
    # ...and it is the trained one: ten steps moved it from the initialisation.
    from pdessl.training._pretrain import build

    initial = eqx.nn.inference_mode(build(config)[0].encoder)
    assert not np.array_equal(initial.stem.weight, encoder.stem.weight)
    bad = tmp_path / "bad.eqx"
    bad.write_bytes((tmp_path / "encoder.eqx").read_bytes()[:200])
    with pytest.raises(ValueError, match=r"(truncated|bad header)"):
        read_encoder_file(bad)


def test_config_errors():
    with pytest.raises(ValueError, match="unknown config key"):
        load_config("tiny", stepz=3)
    with pytest.raises(ValueError, match="unknown config"):
        load_config("huge")
    with pytest.raises(ValueError, match="batch_size"):
        load_config("tiny", batch_size=1)
    with pytest.raises(ValueError, match=r"unknown optimizer 'sgd'.*adamw, lars"):
        load_config("tiny", optimizer="sgd")


def _five_logged_steps(tmp_path):
    """The tiny preset shortened to 5 steps, each logged."""
    from importlib import resources

    text = (resources.files("pdessl.training") / "presets" / "tiny.toml").read_text()
    cfg = tmp_path / "cfg.toml"
    cfg.write_text(
        text.replace("steps = 60", "steps = 5").replace(
            "log_every = 10", "log_every = 1"
        )
    )
    return cfg


def _one_process_losses(cfg, data, workdir):
    """Losses of the same run in a fresh process with a single CPU device."""
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=1")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pdessl.cli",
            "pretrain",
            str(cfg),
            "--workdir",
            str(workdir),
            "--data",
            str(data),
        ],
        env=env,
        check=True,
        capture_output=True,
    )
    return _losses(workdir)


@pytest.fixture(scope="module")
def five_steps(tmp_path_factory, data):
    """The 5-step config file and its losses in a fresh one-device process: the
    reference that the multi-device and multi-process tests compare against."""
    folder = tmp_path_factory.mktemp("five")
    cfg = _five_logged_steps(folder)
    return cfg, _one_process_losses(cfg, data, folder / "one")


@pytest.mark.slow  # two pretraining runs: ~20 s; test_vicreg's sharded-batch test
# covers the loss over sharded devices in process
def test_data_parallel_over_devices_matches_one_device(tmp_path, data, five_steps):
    # This process has 4 CPU devices (conftest): the batch of 16 is split 4 ways.
    assert len(jax.devices()) == 4
    cfg, b = five_steps
    pretrain(load_config(cfg), tmp_path / "four", data=data, progress=lambda *_: None)
    a = _losses(tmp_path / "four")
    assert sorted(a) == sorted(b) == [1, 2, 3, 4, 5]
    # Same global batch; only the reduction order differs (float32 network), so the
    # losses agree to float32 round-off at first. Adam's normalised updates amplify
    # such differences over training (measured 1e-3 relative after 20 steps), so
    # the comparison covers the first 5 steps.
    for step in a:
        assert b[step] == pytest.approx(a[step], rel=1e-5), (a, b)


def _two_processes(cfg, data, workdir, *extra):
    """`pdessl pretrain` as two jax.distributed processes on localhost, one CPU device
    each."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(
        os.environ,
        XLA_FLAGS="--xla_force_host_platform_device_count=1",
        PYTHONUNBUFFERED="1",
    )
    return [
        subprocess.Popen(
            [
                sys.executable,
                "-m",
                "pdessl.cli",
                "pretrain",
                str(cfg),
                "--data",
                str(data),
                "--workdir",
                str(workdir),
                "--coordinator",
                f"127.0.0.1:{port}",
                "--num-processes",
                "2",
                "--process-id",
                str(i),
                *extra,
            ],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        for i in range(2)
    ]


def _finish(procs, timeout=300):
    """Outputs of the processes; never leaves a hung collective behind (SIGKILL:
    JAX traps TERM)."""
    try:
        return [p.communicate(timeout=timeout)[0] for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()


@pytest.mark.slow  # two jax.distributed subprocesses: ~15 s; test_data_parallel_over_devices_matches_one_device covers the sharded arithmetic in process
def test_two_processes_match_one_process(tmp_path, data, five_steps):
    # jax.distributed on localhost: two processes with one CPU device each, each
    # loading its half of every global batch, against one process with the same
    # global batch of 16.
    cfg, b = five_steps
    procs = _two_processes(cfg, data, tmp_path / "two")
    outs = _finish(procs)
    assert all(p.returncode == 0 for p in procs), outs
    a = _losses(tmp_path / "two")
    assert sorted(a) == sorted(b) == [1, 2, 3, 4, 5]
    for step in a:
        # Same global batch and arithmetic; the all-reduce changes the summation
        # order only (float32): measured agreement ~1e-7.
        assert a[step] == pytest.approx(b[step], rel=1e-5), (a, b)


def test_ridge_probe_recovers_a_linearly_encoded_target(rng):
    from pdessl.training._probe import ridge_probe_nmse

    features = rng.standard_normal((200, 16))
    target = features @ rng.standard_normal(16) + 3.0
    # A linear target and 100 training samples for 17 unknowns: the residual is the
    # ridge bias only.
    assert (
        ridge_probe_nmse(
            features[:100], target[:100], features[100:], target[100:], ridge=1e-6
        )
        < 1e-6
    )
    assert (
        ridge_probe_nmse(features[:100], target[:100], features[100:], target[100:])
        < 5e-2  # default ridge 10 shrinks by ~10/(100+10)
    )
    noise = rng.standard_normal(200)
    assert (
        ridge_probe_nmse(features[:100], noise[:100], features[100:], noise[100:]) > 0.9
    )  # nothing to find: about the mean


def _probe_by_hand(features, target) -> float:
    """The documented online probe: ridge on the first half, NMSE on the second, of
    log(target) where it is positive and spans more than a factor 3."""
    features = np.asarray(features, dtype=np.float64)
    if target.min() > 0 and target.max() > 3 * target.min():
        target = np.log(target)
    half = len(features) // 2
    return ridge_probe_nmse(
        features[:half], target[:half], features[half:], target[half:]
    )


def _batched_encoder(workdir):
    encoder, state, header = read_encoder_file(workdir / "encoder.eqx")
    net = jax.vmap(encoder, axis_name="batch", in_axes=(0, None), out_axes=(0, None))
    return (lambda views: net(views, state)[0]), header


def test_pretraining_logs_the_online_probe(tmp_path, data, reference_run):
    # The reference run: 40 steps of the tiny preset, probed every 20.
    config = load_config("tiny", steps=40)
    rows = [json.loads(line) for line in open(reference_run / "metrics.jsonl")]
    probe = {r["step"]: r["probe_nmse_nu"] for r in rows if "probe_nmse_nu" in r}
    assert sorted(probe) == [20, 40]
    probe = [probe[40]]
    # Recomputed from the exported encoder (the network at step 40, when the last
    # probe ran) on the unaugmented first crops of all 48 samples (probe_samples 64).
    from pdessl import symmetries

    encoder, header = _batched_encoder(reference_run)
    ds = datasets.open_dataset(data)
    scales = ChannelScales(**header["scales"])
    views = jax.vmap(
        lambda u, t0, dt, dx, length: make_view(
            symmetries.identity_augmentation(),
            jax.random.key(0),
            u,
            t0,
            dt,
            dx,
            length,
            scales,
        )
    )(
        ds.u.values[:, : config.crop_time, : config.crop_space],
        ds.t0.values,
        ds.dt.values,
        ds.dx.values,
        ds.L.values,
    )
    expected = _probe_by_hand(encoder(views), ds.nu.values)
    # float32 features computed by another program (round-off ~1e-6 relative) through
    # a ridge-regularised, well-conditioned fit: 1e-4 relative is ample.
    assert probe[0] == pytest.approx(expected, rel=1e-4)
    with pytest.raises(ValueError, match="probe_target 'mu'"):
        pretrain(
            load_config("tiny", steps=2, probe_target="mu"),
            tmp_path / "x",
            data=data,
            progress=lambda *_: None,
        )


@pytest.mark.slow  # two 2-process runs: ~60 s each signal
@pytest.mark.parametrize("sig", [signal.SIGUSR1, signal.SIGTERM])
def test_preemption_signal_to_one_process_stops_both_at_the_same_step(
    tmp_path, data, sig
):
    # SIGTERM also checks that our handler, not the one jax.distributed installs,
    # receives it.
    from pdessl.training._preemption import EXIT_CODE

    cfg = _five_logged_steps(tmp_path)
    procs = _two_processes(cfg, data, tmp_path, "--steps", "40")
    for line in procs[1].stdout:
        if line.startswith("step 3"):
            procs[1].send_signal(sig)  # process 0 gets no signal
            break
    outs = _finish(procs)
    assert [p.returncode for p in procs] == [EXIT_CODE, EXIT_CODE], outs
    steps = [re.search(r"checkpoint at step (\d+)", out) for out in outs]
    assert all(steps), outs
    stopped = {int(m.group(1)) for m in steps}
    assert len(stopped) == 1 and 3 <= min(stopped) < 40, outs
    procs = _two_processes(cfg, data, tmp_path, "--steps", "40")
    outs = _finish(procs)
    assert [p.returncode for p in procs] == [0, 0], outs
    assert all(f"resumed from step {min(stopped)}" in out for out in outs), outs


@pytest.fixture(scope="module")
def ns_data(tmp_path_factory):
    path = tmp_path_factory.mktemp("ns") / "ns.h5"
    datasets.generate(
        datasets.load_recipe("ns-tiny"),
        "train",
        path,
        num_samples=8,
        batch_size=8,
        progress=False,
    )
    return path


@pytest.mark.slow  # ~12 s; the NS JEPA test covers NS pretraining, export and embed,
# test_training_step the single compilation
def test_navier_stokes_pretraining_compiles_once_and_exports(
    tmp_path, ns_data, monkeypatch
):
    captured = _capture_export(monkeypatch)
    import logging

    from pdessl import symmetries
    from pdessl.training import make_view_2d

    config = load_config(  # the preset made smaller: compilation dominates
        "ns-tiny",
        steps=3,
        batch_size=4,  # 8 samples: 2 batches per epoch, 1 per CPU device
        crop_time=2,
        crop_space=8,
        widths=[8],
        depths=[1],
        projector=[16, 16],
        log_every=1,
        probe_every=3,
        probe_samples=8,
    )
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = logging.getLogger("jax")
    logger.addHandler(handler)
    try:
        with jax.log_compiles():
            metrics = pretrain(config, tmp_path, data=ns_data, progress=lambda *_: None)
    finally:
        logger.removeHandler(handler)
    compiles = [
        r
        for r in records
        if "Compiling" in r.getMessage() and "_train_step" in str(r.args)
    ]
    assert len(compiles) == 1, [r.getMessage() for r in compiles]
    losses = _losses(tmp_path)
    assert sorted(losses) == [1, 2, 3] and all(np.isfinite(list(losses.values())))
    # The returned metrics are the last logged row.
    assert metrics["loss"] == losses[3]

    encoder, state, header = read_encoder_file(tmp_path / "encoder.eqx")
    assert header["in_channels"] == 5 * config.crop_time
    ds = datasets.open_dataset(ns_data)
    crop = (0, slice(config.crop_time), slice(8), slice(8))
    x = make_view_2d(
        symmetries.Augmentation((symmetries.SpaceShift(0.0),)),
        jax.random.key(0),
        ds.vx.values[crop],
        ds.vy.values[crop],
        ds.t0.values[0],
        ds.dt.values[0],
        ds.dx.values[0],
        ds.dy.values[0],
        (16.0, 16.0),
        ChannelScales(**header["scales"]),
    )
    assert x.shape == (5 * config.crop_time, 8, 8)
    # The export is the in-memory network: same parameters, same embedding.
    trained = eqx.nn.inference_mode(captured["encoder"])
    _assert_same_arrays(encoder, trained)
    h1, _ = _jit_call(encoder, x, state)
    h2, _ = _jit_call(trained, x, captured["state"])
    assert h1.shape == (config.widths[-1],)
    np.testing.assert_array_equal(h1, h2)
    # The online probe of step 3 (the exported network), recomputed by hand on the
    # unaugmented first crops of the 8 samples, lengths from the grid.
    batched, _ = _batched_encoder(tmp_path)
    n, nx, ny = ds.sizes["sample"], ds.sizes["x"], ds.sizes["y"]
    views = jax.vmap(
        lambda vx, vy, t0, dt, dx, dy: make_view_2d(
            symmetries.identity_augmentation(),
            jax.random.key(0),
            vx,
            vy,
            t0,
            dt,
            dx,
            dy,
            (dx * nx, dy * ny),
            ChannelScales(**header["scales"]),
        )
    )(
        ds.vx.values[:n, : config.crop_time, :8, :8],
        ds.vy.values[:n, : config.crop_time, :8, :8],
        ds.t0.values[:n],
        ds.dt.values[:n],
        ds.dx.values[:n],
        ds.dy.values[:n],
    )
    expected = _probe_by_hand(batched(views), ds.buoyancy.values[:n])
    # As for the 1-D probe: float32 features, a well-conditioned ridge fit.
    assert metrics["probe_nmse_buoyancy"] == pytest.approx(expected, rel=1e-4)


def test_pde_and_data_must_match(tmp_path, ns_data):
    with pytest.raises(ValueError, match=r"holds 'ns' data but the config's pde is"):
        pretrain(load_config("tiny", steps=1), tmp_path, data=ns_data, progress=print)


def _event_scalars(path):
    """(tag, step, value) of the scalars in a TensorBoard event file: TFRecord
    framing (length u64, crc u32, payload, crc u32) around `Event` protos."""
    import struct

    from tensorboardX.proto.event_pb2 import Event

    raw, out, i = path.read_bytes(), [], 0
    while i < len(raw):
        (n,) = struct.unpack("<Q", raw[i : i + 8])
        event = Event.FromString(raw[i + 12 : i + 12 + n])
        out += [(v.tag, event.step, v.simple_value) for v in event.summary.value]
        i += 12 + n + 4
    return out


def test_tensorboard_without_tensorboardx_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorboardX", None)  # as if not installed
    with pytest.raises(ImportError, match="pip install tensorboardX"):
        pretrain(  # fails before reading the (absent) data
            load_config("tiny", tensorboard=True),
            tmp_path,
            data=tmp_path / "none.h5",
            progress=lambda *_: None,
        )


@pytest.mark.slow  # a pretraining run (compilation): ~25 s
def test_tensorboard_scalars_match_the_metrics(tmp_path, data):
    pytest.importorskip("tensorboardX")
    config = load_config("tiny", steps=2, log_every=1, tensorboard=True)
    pretrain(config, tmp_path, data=data, progress=lambda *_: None)
    (events,) = (tmp_path / "tensorboard").glob("events.out.tfevents.*")
    written = {(tag, step): v for tag, step, v in _event_scalars(events)}
    for step, loss in _losses(tmp_path).items():
        # stored as float32 in the event file, as the loss itself
        assert written[("loss", step)] == pytest.approx(loss, rel=1e-6)


def test_slurm_submission_parameters():
    from pdessl.cli import build_parser
    from pdessl.training._slurm import slurm_parameters

    args = build_parser().parse_args(
        ["pretrain", "tiny", "--workdir", "w", "--slurm", "2/4"]
    )
    assert args.slurm == (2, 4)
    # One task per GPU: 2 nodes x 4 GPUs = 8 jax.distributed processes.
    assert slurm_parameters(
        *args.slurm, timeout_min=args.slurm_timeout, partition="gpu"
    ) == dict(
        nodes=2,
        tasks_per_node=4,
        gpus_per_node=4,
        timeout_min=240,
        slurm_partition="gpu",
    )
    for bad in ("2x4", "0/4"):
        with pytest.raises(SystemExit):
            build_parser().parse_args(
                ["pretrain", "tiny", "--workdir", "w", "--slurm", bad]
            )


@pytest.mark.slow  # two pretraining tasks plus a one-process reference: ~60 s
def test_slurm_tasks_through_submitits_local_executor(tmp_path, data, monkeypatch):
    pytest.importorskip("submitit")
    from pdessl.training._slurm import slurm_parameters, submit_pretraining

    cfg = _five_logged_steps(tmp_path)
    # The tasks inherit this environment: one CPU device per process, as in the
    # two-process test.
    monkeypatch.setenv("XLA_FLAGS", "--xla_force_host_platform_device_count=1")
    job = submit_pretraining(
        str(cfg),
        tmp_path / "two",
        data=data,
        overrides={},
        folder=tmp_path / "logs",
        parameters=slurm_parameters(1, 2, timeout_min=5, partition=None),
        cluster="local",
    )
    results = job.results()  # raises if a task failed
    assert len(results) == 2
    a = _losses(tmp_path / "two")
    b = _one_process_losses(cfg, data, tmp_path / "one")
    assert sorted(a) == sorted(b) == [1, 2, 3, 4, 5]
    for step in a:
        # As in test_two_processes_match_one_process: summation order only.
        assert a[step] == pytest.approx(b[step], rel=1e-5), (a, b)


def test_symmetry_strengths_select_the_views_generators():
    from pdessl.training import pretrain_augmentation

    names = pretrain_augmentation(load_config("tiny")).names
    assert names == ("space_shift_x", "galilean_boost", "scaling")  # no projective
    only_shift = load_config("tiny", symmetries={"galilean_boost": 0, "scaling": 0})
    assert pretrain_augmentation(only_shift).names == ("space_shift_x",)
    with_projective = load_config("tiny", symmetries={"projective": 0.01})
    assert "projective" in pretrain_augmentation(with_projective).names
    with pytest.raises(ValueError, match="unknown generator"):
        pretrain_augmentation(load_config("tiny", symmetries={"scalin": 0.1}))
    none = {"space_shift_x": 0, "galilean_boost": 0, "scaling": 0}
    # Crop-only views (the "no symmetries" ablation): the identity map ...
    crop_only = pretrain_augmentation(load_config("tiny", symmetries=none))
    assert crop_only.names == ("space_shift_x",)
    assert float(crop_only.generators[0].strength) == 0.0
    # ... but with same-crop views that would make the two views identical.
    with pytest.raises(ValueError, match="keep at least one"):
        pretrain_augmentation(load_config("tiny", symmetries=none, views="same_crop"))
