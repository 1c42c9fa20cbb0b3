"""`key=value` config overrides on the command line (issue 16, item 1): parsing,
validation against the typed configs (unknown keys, wrong types, nested keys), and
the effective config written to the workdir and results.json."""

import json

import pytest

from pdessl import datasets
from pdessl.cli import main
from pdessl.errors import UserError
from pdessl.experiment import load_experiment
from pdessl.overrides import (
    apply_overrides,
    override_experiment,
    override_pretrain_config,
    parse_overrides,
)
from pdessl.training import PretrainConfig, load_config


def test_parse_keeps_order_and_text_and_refuses_malformed_tokens():
    assert parse_overrides(["steps=3000", "symmetries.scaling=0", "name= a b "]) == {
        "steps": "3000",
        "symmetries.scaling": "0",
        "name": "a b",
    }
    for token in ("steps", "=3", "a..b=1", ".a=1"):
        with pytest.raises(UserError, match="write KEY=VALUE"):
            parse_overrides([token])
    with pytest.raises(UserError, match="given twice"):
        parse_overrides(["steps=1", "steps=2"])


def test_pretrain_overrides_are_typed_and_nested():
    config = override_pretrain_config(
        load_config("tiny"),
        [
            "steps=3000",
            "batch_size=64",
            "symmetries.scaling=0",
            "symmetries.galilean_boost=0.25",
            "widths=16,32,64",
            "depths=[1, 1, 1]",
            "learning_rate=1e-3",
            "warmup_steps=7",
            "optimizer=lars",
            'views="same_crop"',
            "tensorboard=false",
        ],
    )
    assert isinstance(config, PretrainConfig)
    assert (config.steps, config.batch_size, config.warmup_steps) == (3000, 64, 7)
    assert config.symmetries == {"scaling": 0.0, "galilean_boost": 0.25}
    assert config.widths == (16, 32, 64) and config.depths == (1, 1, 1)
    assert config.learning_rate == 1e-3 and isinstance(config.learning_rate, float)
    assert (config.optimizer, config.views, config.tensorboard) == (
        "lars",
        "same_crop",
        False,
    )
    # An integer where a float is expected is a number, and stays a float.
    assert override_pretrain_config(config, ["learning_rate=1"]).learning_rate == 1.0


@pytest.mark.parametrize(
    "token, message",
    [
        ("stpes=3", "unknown key 'stpes' (did you mean steps?); the valid keys are"),
        ("steps=abc", "steps must be an integer, got 'abc'"),
        ("steps=3.5", "steps must be an integer, got '3.5'"),
        ("steps=true", "steps must be an integer"),
        ("learning_rate=fast", "learning_rate must be a number, got 'fast'"),
        ("tensorboard=1", "tensorboard must be true or false, got '1'"),
        ("widths=16,wide", "widths must be a list of integers"),
        ("symmetries.scaling=big", "symmetries.scaling must be a number"),
        ("steps.max=3", "steps is a single value (an integer), not a table"),
        # Names under a free table are checked when the config is built.
        ("symmetries.rotation=1", "unknown generator(s) ['rotation'] for burgers"),
        # The config's own value checks still run.
        ("batch_size=1", "batch_size must be >= 2"),
        ("optimizer=sgd", "unknown optimizer 'sgd'"),
    ],
)
def test_bad_pretrain_overrides_are_named(token, message):
    with pytest.raises(UserError) as err:
        override_pretrain_config(load_config("tiny"), [token])
    assert message in str(err.value), err.value
    if "unknown key" in message:
        for key in ("batch_size", "steps", "symmetries", "widths"):
            assert key in str(err.value)


def test_experiment_overrides_reach_the_nested_tables():
    base = load_experiment("quickstart")
    config = override_experiment(
        base,
        [
            "pretrain.steps=300",
            "pretrain.symmetries.scaling=0",
            "regression.labelled=128",
            "regression.heads=linear",
            "seeds=[0, 1]",
            "unlabelled=512",
        ],
    )
    assert config.pretrain["steps"] == 300 and config.pretrain["batch_size"] == 64
    assert config.pretrain["symmetries"] == {"scaling": 0.0}
    assert config.regression == dict(base.regression, labelled=128, heads=("linear",))
    assert config.seeds == (0, 1) and config.unlabelled == 512
    assert base.pretrain["steps"] == 3000  # the loaded config is not changed


@pytest.mark.parametrize(
    "token, message",
    [
        (
            "regression.labeled=3",
            "unknown key 'regression.labeled' (did you mean labelled?)",
        ),
        ("pretrain.stepz=3", "the valid keys in [pretrain] are"),
        ("regresion.labelled=3", "did you mean regression?"),
        ("regression.labelled=many", "regression.labelled must be an integer"),
        ("timestep.width=wide", "timestep.width must be an integer"),
        ("seeds=0,a", "seeds must be a list of integers"),
        ("pretrain.batch_size=1", "batch_size must be >= 2"),
    ],
)
def test_bad_experiment_overrides_are_named(token, message):
    with pytest.raises(UserError) as err:
        override_experiment(load_experiment("quickstart"), [token])
    assert message in str(err.value), err.value


def test_absent_sections_are_added_only_when_overridden():
    base = load_experiment("quickstart")
    assert base.timestep is None
    config = override_experiment(base, ["timestep.steps=5"])
    assert config.timestep == {"steps": 5}
    without = override_experiment(base, ["seeds=[0]"])
    assert without.timestep is None  # untouched sections stay absent
    # A value inside an existing table is replaced, its other keys kept.
    retargeted = override_experiment(base, ["regression.target=ic_amplitude"])
    assert retargeted.regression == dict(base.regression, target="ic_amplitude")


def test_apply_overrides_copies_and_merges_nested_tables():
    data = {"a": 1, "t": {"x": 1.0}}
    schema = {"a": int, "t": dict[str, float]}
    out = apply_overrides(data, {"t.y": "2"}, schema)
    assert out == {"a": 1, "t": {"x": 1.0, "y": 2.0}}
    assert data == {"a": 1, "t": {"x": 1.0}}
    # An optional table that is absent is created; one token holds one value only.
    optional = {"r": dict[str, int] | None}
    assert apply_overrides({"r": None}, {"r.a": "1"}, optional) == {"r": {"a": 1}}
    with pytest.raises(UserError, match="a must be an integer"):
        apply_overrides(data, {"a": "1\nt = 2"}, schema)


# --- the command line -----------------------------------------------------------------


@pytest.fixture
def stub_pretrain(monkeypatch):
    """`pretrain` replaced by a stub recording the config it was given."""
    import pdessl.training

    seen = []

    def pretrain(config, workdir, data=None, progress=print):
        seen.append(config)
        return {"loss": 0.5}

    monkeypatch.setattr(pdessl.training, "pretrain", pretrain)
    return seen


def test_pretrain_command_applies_overrides_and_writes_the_effective_config(
    tmp_path, stub_pretrain, capsys
):
    work = tmp_path / "work"
    argv = ["pretrain", "tiny", "steps=30", "--workdir", str(work), "batch_size=8"]
    assert main([*argv, "symmetries.scaling=0", "--quiet"]) == 0
    (config,) = stub_pretrain
    assert (config.steps, config.batch_size) == (30, 8)
    assert config.symmetries == {"scaling": 0.0}
    written = json.loads((work / "config.json").read_text())
    assert written["source"] == "tiny"
    assert written["overrides"] == ["steps=30", "batch_size=8", "symmetries.scaling=0"]
    assert written["config"]["steps"] == 30
    assert written["config"]["symmetries"] == {"scaling": 0.0}
    assert written["config"]["widths"] == list(config.widths)


def test_pretrain_command_names_a_bad_override(tmp_path, stub_pretrain, capsys):
    work = tmp_path / "work"
    code = main(["pretrain", "tiny", "--workdir", str(work), "batch_sise=8"])
    err = capsys.readouterr().err
    assert code == 2 and not stub_pretrain
    assert "unknown key 'batch_sise' (did you mean batch_size?)" in err, err
    assert "Traceback" not in err and not work.exists()


def test_commands_without_overrides_still_refuse_stray_arguments(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["inspect", "file.h5", "steps=3"])
    assert exc.value.code == 2
    assert "unrecognized arguments: steps=3" in capsys.readouterr().err


_EXPERIMENT = """
name = "overrides"
recipe = "burgers-tiny"
unlabelled = 8
test = 4
seeds = [0]
controls = false

[pretrain]
preset = "tiny"
steps = 10
"""


def test_experiment_command_records_the_effective_config(tmp_path, monkeypatch, capsys):
    """Data generation, pretraining and encoder loading stubbed: the overrides must
    reach the stages, `config.json` and `results.json`."""
    import pdessl
    import pdessl.training

    calls = []

    def generate(recipe, split, path, num_samples, progress):
        calls.append(("generate", split, num_samples))
        path.write_bytes(b"data")

    def pretrain(config, workdir, data, progress):
        calls.append(("pretrain", config.steps, config.batch_size))
        (workdir / "encoder.eqx").write_bytes(b"encoder")

    monkeypatch.setattr(datasets, "generate", generate)
    monkeypatch.setattr(pdessl.training, "pretrain", pretrain)
    monkeypatch.setattr(pdessl, "load_encoder", lambda path: None, raising=False)
    path = tmp_path / "exp.toml"
    path.write_text(_EXPERIMENT)
    work = tmp_path / "work"
    tokens = ["pretrain.steps=25", "unlabelled=6", "pretrain.batch_size=4"]
    argv = ["experiment", str(path), tokens[0], "--workdir", str(work), *tokens[1:]]
    assert main([*argv, "--no-figures", "--quiet"]) == 0
    assert calls == [
        ("generate", "train", 6),
        ("generate", "test", 4),
        ("pretrain", 25, 4),
    ]
    written = json.loads((work / "config.json").read_text())
    assert written["overrides"] == tokens
    assert written["config"]["pretrain"] == {
        "preset": "tiny",
        "steps": 25,
        "batch_size": 4,
    }
    results = json.loads((work / "results.json").read_text())
    assert results["experiment"]["unlabelled"] == 6
    assert results["experiment"]["pretrain"]["steps"] == 25
    assert results["pretrain"]["steps"] == 25 and results["pretrain"]["batch_size"] == 4


def test_a_slurm_job_rebuilds_the_overridden_config(tmp_path, monkeypatch, capsys):
    """The job loads the config again from its name: it must receive what makes
    the same config, overrides included."""
    import pdessl.training._slurm as slurm

    submitted = {}

    class Job:
        job_id = "1"

    def submit(config, workdir, *, data, overrides, folder, parameters):
        submitted.update(config=config, overrides=overrides)
        return Job()

    monkeypatch.setattr(slurm, "submit_pretraining", submit)
    tokens = ["steps=30", "symmetries.scaling=0", "widths=8,16"]
    argv = ["pretrain", "tiny", "--workdir", str(tmp_path / "w"), "--slurm", "1/2"]
    assert main([*argv, *tokens]) == 0
    rebuilt = load_config(submitted["config"], **submitted["overrides"])
    assert rebuilt == override_pretrain_config(load_config("tiny"), tokens)
    assert rebuilt.steps == 30 and rebuilt.widths == (8, 16)
