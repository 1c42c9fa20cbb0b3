"""VICReg pretraining (first slice: the jitted step; the loop, checkpoints and
multi-host sharding come next)."""

from ._step import ChannelScales as ChannelScales
from ._step import SSLModel as SSLModel
from ._step import make_view as make_view
from ._step import train_step as train_step
from ._step import vicreg_step_loss as vicreg_step_loss
