"""Lie point symmetries of the PDEs, as exact augmentations."""

from ._cole_hopf import heat_superposition as heat_superposition
from ._compose import Augmentation as Augmentation
from ._compose import coordinate_channels as coordinate_channels
from ._compose import grid_points as grid_points
from ._compose import identity_augmentation as identity_augmentation
from ._generators import AbstractGenerator as AbstractGenerator
from ._generators import GalileanBoost as GalileanBoost
from ._generators import LinearBoost as LinearBoost
from ._generators import NSScaling as NSScaling
from ._generators import Projective as Projective
from ._generators import QuadraticBoost as QuadraticBoost
from ._generators import Rotation as Rotation
from ._generators import Scaling as Scaling
from ._generators import SpaceShift as SpaceShift
from ._generators import TimeShift as TimeShift
from ._regrid import GridField1d as GridField1d
from ._regrid import NotRegriddableError as NotRegriddableError
from ._regrid import fourier_shift as fourier_shift
from ._regrid import regrid as regrid
from ._regrid2d import GridField2d as GridField2d
from ._regrid2d import regrid2d as regrid2d
from ._residual import relative_residual as relative_residual
from ._residual import relative_residual_ns as relative_residual_ns
