"""Encoders shipped with the package (issue 16, item 4): each loads by name, carries
its model card, and embeds data of its own recipe."""

import shutil

import numpy as np
import pytest

import pdessl
from pdessl import datasets
from pdessl.errors import UserError
from pdessl.shipped import resolve_encoder, shipped_encoders

SHIPPED = [
    "burgers-tiny",
    "kdv-tiny",
    "ks-tiny",
    "ns-tiny",
    "ns-tiny-long",
    "quickstart",
]
CARD_KEYS = {
    "name",
    "experiment",
    "command",
    "recipe",
    "recipe_source",
    "grid",
    "crop",
    "pretraining",
    "results",
    "date",
    "pdessl_version",
}


def test_the_shipped_encoders_are_installed():
    assert shipped_encoders() == SHIPPED


@pytest.mark.parametrize("name", SHIPPED)
def test_each_shipped_encoder_loads_by_name_and_embeds_its_recipe(name, tmp_path):
    enc = pdessl.load_encoder(name)
    card = enc.card
    assert CARD_KEYS <= set(card), sorted(CARD_KEYS - set(card))
    assert card["name"] == name and card["pretraining"]["steps"] == 3000
    assert 16 <= enc.dim <= 64  # the CPU configs' widths
    assert card["results"], card  # the regression or time-stepping numbers
    # Two trajectories of the recipe it was trained on, from the card's own copy of
    # the recipe: embedded with the grid check on, they must give finite and
    # distinct representations (a collapsed or zeroed network gives equal rows).
    recipe_file = tmp_path / f"{card['recipe']}.toml"
    recipe_file.write_text(card["recipe_source"])
    recipe = datasets.load_recipe(recipe_file)
    assert recipe.pde == enc.pde
    data = tmp_path / "data.h5"
    datasets.generate(recipe, "test", data, num_samples=2, progress=False)
    z = pdessl.embed_dataset(enc, data).representation.values
    assert z.shape == (2, enc.dim) and np.all(np.isfinite(z))
    assert not np.allclose(z[0], z[1])


def test_names_are_looked_up_before_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "burgers-tiny").write_text("not an encoder")
    assert pdessl.load_encoder("burgers-tiny").card["name"] == "burgers-tiny"
    # A path still loads the file it names.
    copy = tmp_path / "mine.eqx"
    shutil.copyfile(resolve_encoder("ks-tiny"), copy)
    assert pdessl.load_encoder(copy).pde == "ks"


def test_an_unknown_name_lists_the_shipped_ones(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UserError) as err:
        pdessl.load_encoder("burgers-small")
    message = str(err.value)
    assert "unknown encoder 'burgers-small'" in message
    assert all(name in message for name in SHIPPED), message
    with pytest.raises(FileNotFoundError):  # a path that does not exist
        pdessl.load_encoder(tmp_path / "absent.eqx")


def test_a_trained_encoder_has_no_card(tmp_path):
    from pdessl.training import ChannelScales, build, export_encoder, load_config

    config = load_config("tiny")
    model, state, *_ = build(config)
    scales = ChannelScales(t=1.0, x=1.0, u=1.0)
    export_encoder(tmp_path / "e.eqx", model.encoder, state, config, scales)
    assert pdessl.load_encoder(tmp_path / "e.eqx").card == {}
