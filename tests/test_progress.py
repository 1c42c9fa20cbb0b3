"""Progress bars (issue 16, item 2): one helper, used by pretraining, the supervised
baseline, probe heads and time-steppers; periodic log lines above the bar and in the
log; `--quiet` turns both off."""

import io
import logging

import jax
import numpy as np
import pytest

from pdessl import datasets, downstream, progress
from pdessl.training import load_config, pretrain


@pytest.fixture
def loud():
    """Bars on for the test (the environment may set PDESSL_QUIET), restored after."""
    before = progress.is_quiet()
    progress.set_quiet(False)
    yield
    progress.set_quiet(before)


def test_bar_shows_rate_remaining_time_and_loss(loud):
    out = io.StringIO()
    with progress.step_bar(4, desc="demo", file=out, enabled=True, leave=True) as bar:
        for loss in (4.0, 3.0, 2.0, 1.0):
            bar.update(loss=np.float32(loss))
    text = out.getvalue()
    assert "demo" in text and "4/4" in text, text
    assert "step/s" in text, text  # the rate, in steps
    assert "<00:00" in text, text  # elapsed<remaining
    assert "loss=4" in text, text  # the first loss is shown at once


def test_a_resumed_bar_starts_at_the_resumed_step(loud):
    out = io.StringIO()
    bar = progress.step_bar(10, desc="resume", initial=7, file=out, leave=True)
    with bar as b:
        b.update(3)
    assert "7/10" in out.getvalue() and "10/10" in out.getvalue()


def test_log_lines_go_above_the_bar_and_to_the_logger(loud, capsys, caplog):
    seen = []
    with caplog.at_level(logging.INFO, logger="pdessl"):
        with progress.step_bar(2, desc="demo") as bar:
            bar.update()
            bar.log("step 1: loss 0.5")  # print: written with tqdm.write to stdout
            bar.log("step 2: loss 0.4", seen.append)  # a callback gets the line
    out, err = capsys.readouterr()
    assert out == "step 1: loss 0.5\n"
    assert "step 1" not in err and "demo" in err  # the bar is on stderr
    assert seen == ["step 2: loss 0.4"]
    assert [r.message for r in caplog.records] == [
        "step 1: loss 0.5",
        "step 2: loss 0.4",
    ]


def test_quiet_turns_bars_and_log_lines_off_but_keeps_the_logger(loud, capsys, caplog):
    progress.set_quiet(True)
    seen = []
    with caplog.at_level(logging.INFO, logger="pdessl"):
        with progress.step_bar(2, desc="demo") as bar:
            assert not bar.enabled
            bar.update(2, loss=1.0)
            bar.log("step 2: loss 0.4", seen.append)
    assert capsys.readouterr() == ("", "")
    assert seen == [] and [r.message for r in caplog.records] == ["step 2: loss 0.4"]


def test_bars_are_shown_by_process_zero_only(loud, monkeypatch):
    monkeypatch.setattr(jax, "process_index", lambda: 1)
    with progress.step_bar(2, desc="demo") as bar:
        assert not bar.enabled
    monkeypatch.setattr(jax, "process_index", lambda: 0)
    with progress.step_bar(2, desc="demo") as bar:
        assert bar.enabled


@pytest.fixture(scope="module")
def train_file(tmp_path_factory):
    path = tmp_path_factory.mktemp("progress") / "train.h5"
    recipe = datasets.load_recipe("burgers-tiny")
    datasets.generate(recipe, "train", path, num_samples=8, progress=False)
    return path


@pytest.fixture
def every_update(loud, monkeypatch):
    """Every update drawn (normally at most every half second)."""
    monkeypatch.setattr(progress, "POSTFIX_INTERVAL_S", 0.0)


def test_probe_head_and_time_stepper_loops_show_a_bar(every_update, capsys):
    y = np.linspace(0.0, 1.0, 8)
    features = np.random.default_rng(0).standard_normal((8, 4))
    downstream.fit_mlp_probe(features, y, steps=3, validation=0.0)
    err = capsys.readouterr().err
    assert "probe head" in err and "3/3" in err and "loss=" in err, err

    config = downstream.TimestepConfig(
        time_window=2, width=4, depth=1, steps=2, batch_size=2, warmup_steps=1
    )
    model = downstream.make_timestepper(config, 0, key=jax.random.key(0))
    u = np.random.default_rng(1).standard_normal((4, 6, 16)).astype(np.float32)
    downstream.train_timestepper(model, u, None, config, key=jax.random.key(1))
    err = capsys.readouterr().err
    assert "time-stepper" in err and "2/2" in err and "loss=" in err, err

    progress.set_quiet(True)
    downstream.fit_mlp_probe(features, y, steps=3, validation=0.0)
    assert capsys.readouterr().err == ""


@pytest.mark.slow  # compiles a pretraining step and a supervised ResNet: ~2 min
def test_pretraining_and_supervised_loops_show_a_bar(every_update, tmp_path, capsys):
    path = tmp_path / "train.h5"
    recipe = datasets.load_recipe("burgers-tiny")
    datasets.generate(recipe, "train", path, num_samples=8, progress=False)
    config = load_config(
        "tiny", steps=3, batch_size=4, log_every=1, checkpoint_every=3, probe_target=""
    )
    lines = []
    pretrain(config, tmp_path / "pre", data=path, progress=lines.append)
    err = capsys.readouterr().err
    assert "pretrain" in err and "3/3" in err and "loss=" in err, err
    # The per-step lines reach the callback (and metrics.jsonl), not the bar's stream.
    assert [line.split(":")[0] for line in lines] == ["step 1", "step 2", "step 3"]
    assert "step 1:" not in err

    from pdessl.training import read_encoder_file

    _, _, header = read_encoder_file(tmp_path / "pre" / "encoder.eqx")
    ds = datasets.open_dataset(path)
    downstream.train_supervised(
        header,
        ds,
        np.log(ds.nu.values),
        generators=("space_shift",),
        steps=2,
        batch_size=4,
    )
    err = capsys.readouterr().err
    assert "supervised baseline" in err and "2/2" in err and "loss=" in err, err
