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
