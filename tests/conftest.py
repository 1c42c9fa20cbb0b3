import atexit
import os
import shutil
import tempfile

# Several CPU devices for sharding tests; must be set before JAX initialises.
os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=4")
# Under pytest-xdist each worker is its own JAX process: one intra-op thread each, so
# that two workers on two cores do not oversubscribe them (measured in RESULTS.md;
# PDESSL_TEST_ONE_THREAD=0 keeps XLA's default threads).
if (
    os.environ.get("PYTEST_XDIST_WORKER")
    and os.environ.get("PDESSL_TEST_ONE_THREAD", "1") != "0"
    and "intra_op" not in os.environ["XLA_FLAGS"]
):
    os.environ["XLA_FLAGS"] += (
        " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    )

# One persistent compilation cache for the session, in a fresh folder: a computation
# compiled once (a train step, a batched solve) is loaded from disk by every later test
# and by every `pdessl` subprocess the tests start (they inherit these variables),
# instead of being compiled again. Lowering still happens, so `jax.log_compiles` checks
# see every compilation request. The folder is new each session: nothing is reused
# across runs. Set PDESSL_TEST_COMPILATION_CACHE=0 to compile everything afresh.
if os.environ.get("PDESSL_TEST_COMPILATION_CACHE", "1") != "0":
    if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
        _cache = tempfile.mkdtemp(prefix="pdessl-test-jax-cache-")
        atexit.register(shutil.rmtree, _cache, ignore_errors=True)
        os.environ["JAX_COMPILATION_CACHE_DIR"] = _cache
    # Cache every entry: the tests' computations are small and compile in well under
    # JAX's default threshold of one second.
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "-1")

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


# Strict dtype promotion (STYLE.md): no implicit int->float, float32<->float64 or
# float->complex promotion. JAX's strict mode refuses even `1j * k` and a real
# viscosity times a complex symbol, which the spectral solvers and the dataset code do
# throughout, so it is on for the bodies of tests marked `strict_dtypes` (networks,
# losses, views: where a silent float64 promotion would matter) and for every test
# with PDESSL_STRICT_DTYPES=1 (which today fails in the solvers).
STRICT_DTYPES_EVERYWHERE = os.environ.get("PDESSL_STRICT_DTYPES") == "1"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "strict_dtypes: run the test body under strict dtype promotion"
    )


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    if STRICT_DTYPES_EVERYWHERE or item.get_closest_marker("strict_dtypes"):
        with jax.numpy_dtype_promotion("strict"):
            return (yield)
    return (yield)


@pytest.fixture(scope="session")
def burgers_tiny_48(tmp_path_factory):
    """48 burgers-tiny training trajectories, generated once per session for the
    pretraining tests (read only: a test that writes copies it first)."""
    from pdessl import datasets

    path = tmp_path_factory.mktemp("burgers48") / "b.h5"
    datasets.generate(
        datasets.load_recipe("burgers-tiny"),
        "train",
        path,
        num_samples=48,
        batch_size=48,
        progress=False,
    )
    return path
