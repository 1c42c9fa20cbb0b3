"""VICReg pretraining: the jitted step, the loop with checkpoints, encoder export."""

from ._calibrate import calibrate_batchnorm as calibrate_batchnorm
from ._calibrate import calibration_views as calibration_views
from ._calibrate import export_untrained as export_untrained
from ._config import PretrainConfig as PretrainConfig
from ._config import load_config as load_config
from ._export import export_encoder as export_encoder
from ._export import read_encoder_file as read_encoder_file
from ._pretrain import build as build
from ._pretrain import channel_scales as channel_scales
from ._pretrain import pretrain as pretrain
from ._pretrain import pretrain_augmentation as pretrain_augmentation
from ._pretrain import view_fields as view_fields
from ._pretrain import with_lengths as with_lengths
from ._probe import design as design
from ._probe import effective_rank as effective_rank
from ._probe import ridge_probe_nmse as ridge_probe_nmse
from ._probe import ridge_solve as ridge_solve
from ._schedule import warmup_cosine as warmup_cosine
from ._step import ChannelScales as ChannelScales
from ._step import SSLModel as SSLModel
from ._step import batch_views as batch_views
from ._step import make_view as make_view
from ._step import make_view_2d as make_view_2d
from ._step import second_view as second_view
from ._step import train_step as train_step
from ._step import vicreg_step_loss as vicreg_step_loss
