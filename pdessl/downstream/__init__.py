"""Downstream evaluation: regression probes, supervised baselines, conditioned time-stepping."""

from ._condition import Standardiser as Standardiser
from ._condition import default_parameters as default_parameters
from ._condition import parameter_condition as parameter_condition
from ._condition import ssl_condition as ssl_condition
from ._probes import LinearProbe as LinearProbe
from ._probes import MLPHead as MLPHead
from ._probes import TargetTransform as TargetTransform
from ._probes import fit_linear_probe as fit_linear_probe
from ._probes import fit_mlp_probe as fit_mlp_probe
from ._probes import nmse as nmse
from ._probes import relative_l1 as relative_l1
from ._regression import format_results as format_results
from ._regression import ic_spectrum as ic_spectrum
from ._regression import regression_targets as regression_targets
from ._regression import run_regression as run_regression
from ._stepper import make_timestepper as make_timestepper
from ._stepper import rollout as rollout
from ._stepper import rollout_nmse as rollout_nmse
from ._stepper import teacher_forced as teacher_forced
from ._stepper import train_timestepper as train_timestepper
from ._supervised import supervised_generators as supervised_generators
from ._supervised import train_supervised as train_supervised
from ._timestep import TimestepConfig as TimestepConfig
from ._timestep import format_timestep_results as format_timestep_results
from ._timestep import timestep_experiment as timestep_experiment
