"""Encoders, projectors (and later heads and time-steppers). Know nothing of PDEs."""

from ._resnet import BasicBlock as BasicBlock
from ._resnet import Projector as Projector
from ._resnet import ResNet as ResNet
