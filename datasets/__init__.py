"""Dataset recipes, batched/sharded/resumable generation, HDF5 storage and loaders."""

from ._generate import GenerationReport as GenerationReport
from ._generate import generate as generate
from ._generate import merge as merge
from ._generate import shard_range as shard_range
from ._importers import import_lpsda as import_lpsda
from ._importers import import_pdearena_smoke as import_pdearena_smoke
from ._loader import CropLoader as CropLoader
from ._physics_check import RESIDUAL_THRESHOLD as RESIDUAL_THRESHOLD
from ._recipe import Distribution as Distribution
from ._recipe import Recipe as Recipe
from ._recipe import RecipeError as RecipeError
from ._recipe import load_recipe as load_recipe
from ._recipe import parse_recipe as parse_recipe
from ._recipe import shipped_recipes as shipped_recipes
from ._store import DatasetFileError as DatasetFileError
from ._store import check_finite as check_finite
from ._store import open_dataset as open_dataset
