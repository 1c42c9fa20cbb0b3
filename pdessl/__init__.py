"""pdessl: self-supervised representations of PDE solutions with Lie point symmetries.

Importing pdessl turns on JAX's 64-bit mode: the solvers integrate in float64 (float32
puts a ~4e-5 error floor under chaotic PDEs that grows to O(1) over LPSDA horizons).
Models cast their inputs to float32 explicitly. Set `PDESSL_NO_X64=1` to opt out.
"""

import os

import jax

if os.environ.get("PDESSL_NO_X64", "") != "1":
    jax.config.update("jax_enable_x64", True)

__version__ = "0.1.0"

_API = ("load_encoder", "embed", "embed_arrays", "embed_dataset", "Encoder")
_RESAMPLE = ("resample", "Resampled", "ResampleError")
_SHIPPED = ("shipped_encoders",)


def __getattr__(name: str):
    # Lazy: `import pdessl.solvers` should not pull in the networks and training code.
    if name in _API:
        from pdessl import api

        return getattr(api, name)
    if name in _RESAMPLE:
        from pdessl import _resample

        return getattr(_resample, name)
    if name in _SHIPPED:
        from pdessl import shipped

        return getattr(shipped, name)
    raise AttributeError(f"module 'pdessl' has no attribute {name!r}")
