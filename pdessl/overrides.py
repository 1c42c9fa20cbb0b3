"""Configuration overrides typed on the command line, `key=value` as in Hydra.

```
pdessl pretrain tiny steps=3000 batch_size=64 symmetries.scaling=0
pdessl experiment cell.toml pretrain.steps=3000 regression.labelled=128
pdessl quickstart pretrain.widths=16,32 seeds=[0,1]
```

A value is read as a TOML value (`3000`, `3e-3`, `true`, `[16, 32]`, `"text"`); text
that is not valid TOML is taken as a bare string (`optimizer=lars`), and a list may
be written without brackets (`widths=16,32,64`). Dots walk into tables
(`symmetries.scaling`, `pretrain.steps`). Every key and value is checked against the
typed configuration before anything runs: an unknown key is named with the valid
keys, a value of the wrong type with the type expected.

A *schema* maps each key to a type annotation of the configuration dataclass (`int`,
`float`, `bool`, `str`, `tuple[int, ...]`, `dict[str, float]`, `X | None`) or to a
nested schema (a dict) for a table whose keys are known.
"""

import dataclasses
import difflib
import tomllib
import types
import typing
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from pdessl.errors import UserError

Schema = Mapping[str, Any]


def parse_overrides(tokens: Sequence[str]) -> dict[str, str]:
    """`["a.b=1", ...]` as `{"a.b": "1", ...}` (values still text), in order; a token
    without `=`, with an empty key or given twice is refused."""
    out: dict[str, str] = {}
    for token in tokens:
        key, sep, text = token.partition("=")
        key = key.strip()
        if not sep or not key or any(not part for part in key.split(".")):
            raise UserError(
                f"cannot read the override {token!r}: write KEY=VALUE, e.g. "
                "steps=3000 or symmetries.scaling=0 (dots for nested keys)."
            )
        if key in out:
            raise UserError(
                f"the override {key} is given twice ({key}={out[key]} and {token}); "
                "give it once."
            )
        out[key] = text.strip()
    return out


def schema_of(cls) -> dict[str, Any]:
    """The schema of a configuration dataclass: each field's type annotation."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls)}


def apply_overrides(
    data: Mapping[str, Any],
    overrides: Mapping[str, str],
    schema: Schema,
    *,
    what: str = "config",
) -> dict[str, Any]:
    """A copy of the configuration mapping `data` with `overrides` (from
    `parse_overrides`) applied, each key checked against `schema` and each value
    converted to its field's type; `what` names the configuration in messages."""
    out = _deep_copy(data)
    for key, text in overrides.items():
        parts = key.split(".")
        table, level = out, schema
        for depth, part in enumerate(parts):
            path = ".".join(parts[: depth + 1])
            last = depth == len(parts) - 1
            if isinstance(level, Mapping):
                if part not in level:
                    raise UserError(_unknown_key(path, part, level, what))
                annotation = level[part]
            else:  # a free table (dict[str, V]): any key, values of type V
                annotation = _dict_value_type(level)
            if last:
                table[part] = _convert(text, annotation, path, what)
                break
            if not (isinstance(annotation, Mapping) or _is_dict(annotation)):
                raise UserError(
                    f"{what}: {path} is a single value "
                    f"({_words(annotation)}), not a table, so {key} does not exist; "
                    f"write {path}=VALUE."
                )
            if not isinstance(table.get(part), dict):
                table[part] = {}
            table, level = table[part], annotation
    return out


def _deep_copy(value):
    if isinstance(value, Mapping):
        return {k: _deep_copy(v) for k, v in value.items()}
    return value


def _unknown_key(path: str, part: str, level: Schema, what: str) -> str:
    close = difflib.get_close_matches(part, list(level), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    prefix = path.rpartition(".")[0]
    where = f" in [{prefix}]" if prefix else ""
    return (
        f"{what}: unknown key {path!r}{hint}; the valid keys{where} are "
        f"{', '.join(sorted(level))}."
    )


def _is_dict(annotation) -> bool:
    annotation, _ = _optional(annotation)
    return annotation is dict or typing.get_origin(annotation) is dict


def _dict_value_type(annotation):
    annotation, _ = _optional(annotation)
    args = typing.get_args(annotation)
    return args[1] if len(args) == 2 else Any


def _optional(annotation):
    """`(inner, True)` for `X | None`, else `(annotation, False)`."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(inner) == 1:
            return inner[0], True
    return annotation, False


def _words(annotation) -> str:
    """The type expected, in the words of the error message."""
    if isinstance(annotation, Mapping):
        return "a table"
    annotation, _ = _optional(annotation)
    if annotation is bool:
        return "true or false"
    if annotation is int:
        return "an integer"
    if annotation is float:
        return "a number"
    if annotation is str:
        return "a string"
    if typing.get_origin(annotation) is tuple:
        element = typing.get_args(annotation)[0]
        plural = {bool: "booleans", int: "integers", float: "numbers", str: "strings"}
        return f"a list of {plural.get(element, 'values')}"
    if _is_dict(annotation):
        return "a table"
    return "a value"


def _toml_value(text: str):
    """`text` as a TOML value, or None (not valid TOML)."""
    try:
        document = tomllib.loads(f"v = {text}")
    except tomllib.TOMLDecodeError:
        return None
    return document["v"] if set(document) == {"v"} else None  # one value only


def _convert(text: str, annotation, key: str, what: str):
    """The value of `text` for a field of type `annotation`, or a `UserError`
    naming the type expected."""
    if isinstance(annotation, Mapping):
        annotation = dict  # a whole known table given inline: checked downstream
    inner, _ = _optional(annotation)
    parsed = _toml_value(text)
    if inner is str:
        value = parsed if isinstance(parsed, str) else text
    elif typing.get_origin(inner) is tuple:
        return _convert_list(text, parsed, inner, key, what)
    else:
        value = parsed
    if not _matches(value, inner):
        _bad(key, text, annotation, what)
    if inner is float:
        value = float(value)
    return value


def _convert_list(text: str, parsed, annotation, key: str, what: str) -> tuple:
    """A TOML array, or items separated by commas (`widths=16,32,64`: brackets
    need quoting in some shells), each checked against the element type."""
    element = typing.get_args(annotation)[0]
    if isinstance(parsed, list):
        items = parsed
    else:
        items = []
        for piece in text.split(",") if text.strip() else []:
            value = _toml_value(piece)
            items.append(piece.strip() if element is str and value is None else value)
    if not all(_matches(item, element) for item in items):
        _bad(key, text, annotation, what)
    return tuple(float(i) if element is float else i for i in items)


def _matches(value, annotation) -> bool:
    if annotation is Any:
        return value is not None
    if annotation is bool:
        return isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if annotation is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if annotation is str:
        return isinstance(value, str)
    if _is_dict(annotation):
        if not isinstance(value, dict):
            return False
        element = _dict_value_type(annotation)
        return all(_matches(v, element) for v in value.values())
    return False


def _bad(key: str, text: str, annotation, what: str):
    raise UserError(
        f"{what}: {key} must be {_words(annotation)}, got {text!r}; e.g. "
        f"{key}={_example(annotation)}."
    )


def _example(annotation) -> str:
    inner, _ = _optional(annotation)
    if typing.get_origin(inner) is tuple:
        element = typing.get_args(inner)[0]
        return f"{_example(element)},{_example(element)}"
    return {bool: "true", int: "3", float: "0.5", str: "text"}.get(inner, "{a = 1}")


def pretrain_schema() -> dict[str, Any]:
    """The keys of `pdessl.training.PretrainConfig`; symmetry strengths are numbers
    by generator name (the names are checked against the PDE when the config is
    built)."""
    from pdessl.training import PretrainConfig

    schema = schema_of(PretrainConfig)
    schema["symmetries"] = dict[str, float]
    return schema


# Value types of the [regression] table of an experiment: the keyword arguments of
# `pdessl.downstream.run_regression` it passes on (`pdessl.experiment.REGRESSION_KEYS`).
REGRESSION_SCHEMA = {
    "target": str,
    "labelled": int,
    "heads": tuple[str, ...],
    "supervised": bool,
    "supervised_steps": int,
    "head_steps": int,
    "log_target": bool,
    "crops": str,
}


def experiment_schema() -> dict[str, Any]:
    """The keys of an experiment file: `pdessl.experiment.ExperimentConfig`, with
    `[pretrain]` (a preset plus `PretrainConfig` keys), `[regression]` and
    `[timestep]` (`TimestepConfig` keys plus the experiment's own) as tables."""
    from pdessl.downstream import TimestepConfig
    from pdessl.experiment import ExperimentConfig

    schema = schema_of(ExperimentConfig)
    schema["pretrain"] = {"preset": str, **pretrain_schema()}
    schema["regression"] = dict(REGRESSION_SCHEMA)
    schema["timestep"] = {
        **schema_of(TimestepConfig),
        "modes": tuple[str, ...],
        "params": tuple[str, ...],
        "log_params": bool,
    }
    return schema


def override_pretrain_config(config, tokens: Sequence[str]):
    """`config` (a `PretrainConfig`) with the `key=value` `tokens` applied, built
    again so that its own checks run (and the symmetry names are checked)."""
    from pdessl.training import PretrainConfig, pretrain_augmentation

    if not tokens:
        return config
    data = apply_overrides(
        dataclasses.asdict(config), parse_overrides(tokens), pretrain_schema()
    )
    try:
        new = PretrainConfig(**data)
        pretrain_augmentation(new)  # unknown generator names, negative strengths
    except ValueError as err:
        raise UserError(
            f"config after the overrides {' '.join(tokens)}: {err}"
        ) from None
    return new


def override_experiment(config, tokens: Sequence[str]):
    """`config` (an `ExperimentConfig`) with the `key=value` `tokens` applied and
    checked as `pdessl.experiment.load_experiment` checks a file."""
    from pdessl.experiment import ExperimentConfig, check_experiment

    if not tokens:
        return config
    data = apply_overrides(
        dataclasses.asdict(config),
        parse_overrides(tokens),
        experiment_schema(),
        what="experiment",
    )
    for key in ("regression", "timestep"):
        if data.get(key) == {} and getattr(config, key) is None:
            data[key] = None  # never set: keep it absent
    try:
        new = ExperimentConfig(**data)
        check_experiment(new)
    except ValueError as err:
        raise UserError(
            f"experiment after the overrides {' '.join(tokens)}: {err}"
        ) from None
    return new


def write_effective_config(
    workdir: str | Path, config, tokens: Sequence[str], *, source: str
) -> Path:
    """Write `WORKDIR/config.json`: the configuration a run uses (`config`, a
    dataclass) with where it came from (`source`) and the overrides typed."""
    from pdessl.outputs import write_json

    return write_json(
        Path(workdir) / "config.json",
        dict(
            source=str(source),
            overrides=list(tokens),
            config=dataclasses.asdict(config),
        ),
    )
