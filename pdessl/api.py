"""Trained encoders in physics code: `load_encoder` and `embed`.

```python
import pdessl
enc = pdessl.load_encoder("runs/tiny/encoder.eqx")
z = pdessl.embed(enc, trajectory)  # xarray.DataArray with dims ("time", "x")
```

An encoder sees crops of `crop_time x crop_space` grid points, with the crop's
coordinates and the field stacked as channels $(t, x, u)$ exactly as in pretraining
(no augmentation). A trajectory larger than one crop is cut into non-overlapping
tiles and the tile representations are averaged (`crops="mean"`, the default), or only
its first crop is used (`crops="first"`, what the online probe of pretraining sees).

Inputs are checked before anything is computed: named dimensions, uniform grids,
grid spacings within a factor 2 of those the encoder was trained on (other scales are
outside its training distribution; pass `check_grid=False` to embed anyway), enough
points for one crop, and finite values. The errors say which and how to fix it.
"""

from pdessl.embedding import Encoder as Encoder
from pdessl.embedding import embed as embed
from pdessl.embedding import embed_arrays as embed_arrays
from pdessl.embedding import embed_dataset as embed_dataset
from pdessl.embedding import load_encoder as load_encoder
from pdessl.embedding import write_embeddings as write_embeddings
