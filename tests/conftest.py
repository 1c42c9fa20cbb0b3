import os

# Several CPU devices for sharding tests; must be set before JAX initialises.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=4")

import jax
import numpy as np
import pytest

import pdessl  # noqa: F401  (turns on float64)

jax.config.update("jax_enable_x64", True)
jax.config.update("jax_numpy_rank_promotion", "raise")


@pytest.fixture
def seed(request) -> int:
    value = int(os.environ.get("PDESSL_TEST_SEED", "0"))
    print(f"{request.node.name}: seed {value}")
    return value


@pytest.fixture
def rng(seed) -> np.random.Generator:
    return np.random.default_rng(seed)
