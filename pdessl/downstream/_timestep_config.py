"""The time-stepping configuration."""

import dataclasses

MODES = ("none", "params", "ssl")


@dataclasses.dataclass(frozen=True)
class TimestepConfig:
    """Network and optimisation settings of one time-stepper run (LPSDA: `time_window`
    20; the tiny defaults here fit `burgers-tiny`'s 32 frames)."""

    time_window: int = 8
    width: int = 32
    depth: int = 3
    kernel: int = 5
    embed_dim: int = 32
    film: bool = True
    steps: int = 500
    batch_size: int = 32
    learning_rate: float = 2e-3
    warmup_steps: int = 20

    def __post_init__(self):
        for name in ("time_window", "width", "kernel", "steps", "batch_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}.")
