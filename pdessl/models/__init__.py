"""Encoders, projectors (and later heads and time-steppers). Know nothing of PDEs."""

from ._batched import encode_batch as encode_batch
from ._batched import project_batch as project_batch
from ._resnet import BasicBlock as BasicBlock
from ._resnet import Projector as Projector
from ._resnet import ResNet as ResNet
from ._timestepper import ConditionEmbedding as ConditionEmbedding
from ._timestepper import TimeStepper1d as TimeStepper1d
from ._timestepper import UNet2d as UNet2d
from ._vmap import batched as batched
