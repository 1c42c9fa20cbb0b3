"""The embedding engine behind `pdessl.load_encoder` and `pdessl.embed` (the public
facade is `pdessl.api`, whose docstring describes crops, tiling and input checks)."""

from ._arrays import embed as embed
from ._arrays import embed_arrays as embed_arrays
from ._datasets import dataset_arrays as dataset_arrays
from ._datasets import embed_dataset as embed_dataset
from ._datasets import write_embeddings as write_embeddings
from ._encoder import GRID_FACTOR as GRID_FACTOR
from ._encoder import Encoder as Encoder
from ._encoder import load_encoder as load_encoder
from ._engine import embed_batches as embed_batches
