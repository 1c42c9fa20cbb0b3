"""Downstream evaluation: regression probes, supervised baselines, conditioned time-stepping."""

from ._regression import LinearProbe as LinearProbe
from ._regression import MLPHead as MLPHead
from ._regression import TargetTransform as TargetTransform
from ._regression import fit_linear_probe as fit_linear_probe
from ._regression import fit_mlp_probe as fit_mlp_probe
from ._regression import format_results as format_results
from ._regression import ic_spectrum as ic_spectrum
from ._regression import nmse as nmse
from ._regression import relative_l1 as relative_l1
from ._regression import run_regression as run_regression
from ._regression import supervised_generators as supervised_generators
from ._regression import train_supervised as train_supervised
