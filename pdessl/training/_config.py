"""Typed pretraining configuration, read from TOML (a shipped preset or a path) with
overrides; unknown keys are errors."""

import dataclasses
from pathlib import Path

from pdessl.errors import UserError
from pdessl.tomlfile import check_keys, read_toml, shipped_tomls

OPTIMIZERS = ("adamw", "lars")
VIEWS = ("independent", "same_crop")
COORDINATES = ("absolute", "centred")
FIELD_SCALINGS = ("dataset", "view")
OBJECTIVES = ("vicreg", "jepa")


@dataclasses.dataclass(frozen=True)
class PretrainConfig:
    data_recipe: str = "burgers-tiny"  # generated into the workdir when no data given
    pde: str = "burgers"
    steps: int = 60
    batch_size: int = 16
    crop_time: int = 16
    crop_space: int = 32
    widths: tuple[int, ...] = (16, 32)
    depths: tuple[int, ...] = (1, 1)
    imagenet_stem: bool = False
    group_norm: bool = False
    projector: tuple[int, ...] = (64, 64, 64)
    optimizer: str = "adamw"  # or "lars" (trust coefficient 1e-3: use a larger lr)
    learning_rate: float = 3e-3
    weight_decay: float = 1e-6
    warmup_steps: int = 5
    sim_coeff: float = 25.0
    std_coeff: float = 25.0
    cov_coeff: float = 1.0
    trotter_order: int = 2
    trotter_steps: int = 2
    seed: int = 0
    log_every: int = 10
    checkpoint_every: int = 20
    keep_checkpoints: int = 2
    preemption_check_every: int = 10  # steps between multi-process signal checks
    probe_target: str = ""  # per-sample variable to probe (e.g. "nu"); "" disables
    probe_every: int = 20
    probe_samples: int = 32
    tensorboard: bool = False  # also write scalars for TensorBoard (tensorboardX)
    # Strength overrides of the PDE's symmetry generators, by name as in
    # `Augmentation.names` (e.g. {galilean_boost = 0.2}); 0 disables a generator.
    # Burgers' projective map is off unless given a strength here.
    symmetries: dict = dataclasses.field(default_factory=dict)
    # "independent": each view is its own random crop (time and space) of the
    # trajectory, as in the official code; "same_crop": both views transform one crop
    # (an ablation: the views then differ only by the group element).
    views: str = "independent"
    # Coordinate channels: "absolute" (offset by fixed dataset references, so shifts
    # and crop times stay visible, as the official raw coordinates) or "centred" (each
    # view's mean subtracted: shifts become invisible).
    coordinates: str = "absolute"
    # Field channel scaling: "dataset" (divide by the training data's std, the
    # paper's) or "view" (standardise each view's field by its own mean and std: an
    # option beyond the paper, amplitude-invariant inputs).
    field_scaling: str = "dataset"
    # "vicreg" (the paper's: two views made to agree) or "jepa" (beyond the paper:
    # a predictor maps the representation of a crop at frames [t, t + crop_time) and
    # the offset D to that of the crop at [t + D, t + D + crop_time) of the same
    # trajectory, with VICReg's variance and covariance terms on the
    # representations; sim_coeff weighs the prediction error). The jepa_* keys are
    # read by "jepa" only.
    objective: str = "vicreg"
    jepa_max_delta: int = 8  # D uniform in 1..jepa_max_delta frames
    jepa_predictor: tuple[int, ...] = (256, 256)  # hidden widths of the predictor
    # Move the context crop by a random element of the symmetry group above and give
    # its parameters to the predictor (an equivariant predictor).
    jepa_equivariant: bool = False
    # 1-D PDEs: the target crop's spatial window moved by a random 0..jepa_max_shift
    # grid points from the context's (periodic), the shift given to the predictor;
    # 0 keeps the same spatial window. Recommended: crop_space (measured on Burgers
    # in experiments/RESULTS.md: 2.5-5x lower probe NMSE than the same window, which
    # lets the predictor carry the crop's pattern forward instead of the dynamics).
    # The default 0 keeps earlier configs and encoders reproducible.
    jepa_max_shift: int = 0

    def __post_init__(self):
        for name in (
            "steps",
            "batch_size",
            "crop_time",
            "crop_space",
            "log_every",
            "checkpoint_every",
            "keep_checkpoints",
            "preemption_check_every",
            "jepa_max_delta",
        ):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}.")
        if self.batch_size < 2:
            raise ValueError("batch_size must be >= 2 (VICReg batch statistics).")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(
                f"unknown optimizer {self.optimizer!r}; choose one of "
                f"{', '.join(OPTIMIZERS)}."
            )
        for name, choices in (
            ("views", VIEWS),
            ("coordinates", COORDINATES),
            ("field_scaling", FIELD_SCALINGS),
            ("objective", OBJECTIVES),
        ):
            if getattr(self, name) not in choices:
                raise ValueError(
                    f"unknown {name} {getattr(self, name)!r}; choose one of "
                    f"{', '.join(choices)}."
                )
        if self.jepa_max_shift < 0:
            raise ValueError(f"jepa_max_shift must be >= 0, got {self.jepa_max_shift}.")
        if not self.jepa_predictor or min(self.jepa_predictor) < 1:
            raise ValueError(
                f"jepa_predictor must be positive widths, got {self.jepa_predictor}."
            )
        if len(self.widths) != len(self.depths):
            raise ValueError("widths and depths must have the same length.")


def presets() -> list[str]:
    return shipped_tomls("pdessl.training", "presets")


def load_config(name_or_path: str | Path, **overrides) -> PretrainConfig:
    """A shipped preset (`tiny`) or a TOML file, with keyword overrides."""
    data = read_toml(name_or_path, "pdessl.training", "presets", "config")
    data.update({k: v for k, v in overrides.items() if v is not None})
    fields = {f.name: f for f in dataclasses.fields(PretrainConfig)}
    check_keys(data, fields, f"{name_or_path}: unknown config key(s)")
    for k, v in data.items():
        if isinstance(v, list):
            data[k] = tuple(v)
        _check_type(k, v, fields[k], name_or_path)
    return PretrainConfig(**data)


def _check_type(key: str, value, field: dataclasses.Field, source) -> None:
    """A TOML value of the wrong kind (`steps = "100"`) is named here, before it
    fails deep inside training."""
    default = (
        field.default_factory()
        if field.default_factory is not dataclasses.MISSING
        else field.default
    )
    kinds = {
        bool: ((bool,), "true or false"),
        int: ((int,), "an integer"),
        float: ((int, float), "a number"),
        str: ((str,), "a string"),
        tuple: ((list, tuple), "a list"),
        dict: ((dict,), "a table"),
    }
    for kind, (accepted, words) in kinds.items():
        if isinstance(default, kind):
            ok = isinstance(value, accepted) and (
                kind is bool or not isinstance(value, bool)
            )
            if not ok:
                raise UserError(
                    f"{source}: {key} must be {words}, got {value!r}; fix the config."
                )
            return
