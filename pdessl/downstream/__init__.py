"""Downstream evaluation: regression probes, supervised baselines, conditioned time-stepping."""

from ._condition import Standardiser as Standardiser
from ._condition import default_parameters as default_parameters
from ._condition import parameter_condition as parameter_condition
from ._condition import ssl_condition as ssl_condition
from ._timestep import TimestepConfig as TimestepConfig
from ._timestep import format_results as format_results
from ._timestep import make_timestepper as make_timestepper
from ._timestep import rollout as rollout
from ._timestep import rollout_nmse as rollout_nmse
from ._timestep import teacher_forced as teacher_forced
from ._timestep import timestep_experiment as timestep_experiment
from ._timestep import train_timestepper as train_timestepper
