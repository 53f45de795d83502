"""The one lifecycle of every shipped model (tutorial_lib.shipping): where, ensure, ship, load, and
stale models that cannot hide."""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch

from tutorial_lib import config, data, provenance, shipping
from tutorial_lib.models import Autoencoder, CategoryCNN, Generator, ImageEncoder
from tutorial_lib.provenance import CheckpointError

QUICK = config.get_profile("quick")


@pytest.fixture
def scratch(tmp_path, monkeypatch):
    """An empty data root and an empty committed-checkpoints folder."""
    monkeypatch.setenv("TUTORIAL_DATA", str(tmp_path / "data"))
    monkeypatch.setattr(config, "shipped_checkpoints_dir", lambda: tmp_path / "checkpoints")
    return tmp_path


def test_every_kind_is_rebuilt_through_the_one_registry_of_networks():
    from tutorial_lib.models import MODELS

    assert set(shipping.KINDS) == {"autoencoder", "image_encoder", "classifier", "gan", "sketch_encoder"}
    for kind in shipping.KINDS.values():
        assert kind.network in MODELS and hasattr(kind.module(), kind.train) and hasattr(kind.module(), "shipped_manifest")
    assert {k for k, kind in shipping.KINDS.items() if kind.learns_z} == {"image_encoder", "gan", "sketch_encoder"}


def test_paths_are_the_committed_folder_for_committed_models_else_the_data_root(scratch):
    files = shipping.paths("gan", QUICK)
    assert files.weights == scratch / "data" / "models" / "gan_quick.pt" and files.manifest.name == "gan_quick.json"
    (scratch / "checkpoints").mkdir()
    (scratch / "checkpoints" / "autoencoder_quick.pt").write_bytes(b"")
    files = shipping.paths("autoencoder", QUICK)
    assert files.weights.parent == scratch / "checkpoints" and files.extra == {"z": scratch / "checkpoints" / "autoencoder_quick_z.npz"}
    assert shipping.training_checkpoint("autoencoder", QUICK) == scratch / "data" / "runs" / "autoencoder_quick_fast.pt"
    assert shipping.training_checkpoint("classifier", config.get_profile("full")).name == "classifier_full.pt"


def test_a_profile_name_is_refused_below_the_edge():
    with pytest.raises(TypeError, match=r"config.get_profile\('quick'\)"):
        shipping.paths("autoencoder", "quick")
    with pytest.raises(ValueError, match="unknown kind of model 'vae'"):
        shipping.paths("vae", QUICK)


@pytest.mark.parametrize("kind", sorted(shipping.KINDS))
def test_load_names_a_missing_file_and_one_of_another_kind(scratch, kind):
    with pytest.raises(FileNotFoundError, match=rf"nothing.pt: no {shipping.KINDS[kind].title} here .*{shipping.KINDS[kind].command} --ship"):
        shipping.load(kind, QUICK, scratch / "nothing.pt")
    provenance.save_weights(scratch / "cnn.pt", CategoryCNN(width=4))
    with pytest.raises(CheckpointError, match=rf"cnn.pt: holds a model of class CategoryCNN, not {shipping.KINDS[kind].network}"):
        shipping.load(kind, QUICK, scratch / "cnn.pt")


def _shipped_autoencoder(folder, z_fingerprint):
    provenance.save_weights(folder / "ae.pt", Autoencoder(4, 4))
    provenance.write_manifest(folder / "ae.json", {"z_fingerprint": z_fingerprint})
    return folder / "ae.pt"


def test_a_model_that_learned_z_is_refused_beside_another_autoencoder_or_without_papers(scratch, capsys):
    ours, theirs = _shipped_autoencoder(scratch, "aaaaaaaaaaaaaaaa"), scratch / "other" / "ae.pt"
    theirs.parent.mkdir()
    _shipped_autoencoder(theirs.parent, "bbbbbbbbbbbbbbbb")
    provenance.save_weights(scratch / "image.pt", ImageEncoder(width=8), autoencoder_z="aaaaaaaaaaaaaaaa", object_size=90.0)
    loaded = shipping.load("image_encoder", QUICK, scratch / "image.pt", autoencoder=ours)
    assert loaded.autoencoder_z == "aaaaaaaaaaaaaaaa" and loaded.object_size == 90.0
    with pytest.raises(CheckpointError, match=r"image.pt: this image encoder was trained on the z of another autoencoder .*other/ae.pt \(bbbb"):
        shipping.load("image_encoder", QUICK, scratch / "image.pt", autoencoder=theirs)

    # A GAN copied without its manifest: nothing says which z it learned.
    provenance.save_weights(scratch / "gan.pt", Generator(width=8))
    with pytest.raises(CheckpointError, match=r"gan.pt: no manifest or record says which autoencoder's z it learned.*--trust-unlabelled"):
        shipping.load("gan", QUICK, scratch / "gan.pt", autoencoder=ours)
    # An autoencoder without papers: nothing says which z it gives.
    provenance.save_weights(scratch / "bare" / "ae.pt", Autoencoder(4, 4))
    with pytest.raises(CheckpointError, match=r"bare/ae.pt: no manifest or record says which z it gives"):
        shipping.load("image_encoder", QUICK, scratch / "image.pt", autoencoder=scratch / "bare" / "ae.pt")
    capsys.readouterr()
    assert shipping.load("gan", QUICK, scratch / "gan.pt", autoencoder=ours, trust_unlabelled=True).config["width"] == 8
    assert "used anyway (trust_unlabelled)" in capsys.readouterr().out
    # With its manifest the GAN is paired by the manifest's fingerprint.
    provenance.write_manifest(scratch / "gan.json", {"autoencoder_z": "aaaaaaaaaaaaaaaa"})
    shipping.load("gan", QUICK, scratch / "gan.pt", autoencoder=ours)


def test_ensure_trains_and_ships_once_then_loads(scratch, monkeypatch, box_dataset):
    """Where no classifier is shipped, ensure trains one (resumable, with the CLI's checkpoint) and
    ships it to the data root's models/, manifest last; the second call only loads it."""
    profile = replace(QUICK, classifier=config.ClassifierSettings(width=8, steps=3))
    folder = box_dataset(scratch / "data" / "quick", shapes=2)
    monkeypatch.setattr(data, "ensure_dataset", lambda profile, progress=True: folder)
    model = shipping.ensure("classifier", profile, progress=False)
    files = shipping.paths("classifier", profile)
    assert files.weights == scratch / "data" / "models" / "classifier_quick.pt" and files.manifest.is_file()
    assert shipping.training_checkpoint("classifier", profile).is_file() and model.config["width"] == 8
    manifest = provenance.read_manifest(files.manifest)
    assert manifest["model"] == "classifier" and manifest["dataset"]["train"] == "boxes-train-0" and "summary" in manifest

    from tutorial_lib import classification

    monkeypatch.setattr(classification, "train_classifier", lambda *args, **kwargs: pytest.fail("trained again"))
    again = shipping.ensure("classifier", profile, progress=False)
    assert all(torch.equal(a, b) for a, b in zip(model.state_dict().values(), again.state_dict().values()))


def test_a_gan_ships_its_generator_with_the_fingerprint_of_the_z_it_learned(scratch, monkeypatch, box_dataset):
    from tutorial_lib import autoencoder, gan
    from tutorial_lib.training import RunOptions

    box_dataset(scratch / "data" / "quick", shapes=2)
    rng = np.random.default_rng(0)
    codes = {"train_z": rng.random((50, 128)).astype(np.float32)}
    model, history = gan.train_gan(QUICK, RunOptions(steps=2, progress=False), width=16, codes=codes)
    fingerprint = provenance.array_fingerprint(codes["train_z"])
    ae_weights = _shipped_autoencoder(scratch, fingerprint)
    monkeypatch.setattr(shipping, "paths", _redirect_autoencoder(shipping.paths, ae_weights))
    manifest = shipping.ship("gan", model, history, QUICK)
    assert manifest["autoencoder_z"] == fingerprint and "generator only" in manifest["contents"]
    loaded = shipping.load("gan", QUICK)
    assert isinstance(loaded, Generator) and loaded.config["width"] == 16
    torch.testing.assert_close(loaded(torch.zeros(3, 128)), model.generator.half().float()(torch.zeros(3, 128)))  # the shipped weights are float16
    assert autoencoder.scored_test_shapes(QUICK, scratch / "data" / "quick") is None


def _redirect_autoencoder(paths, weights):
    """shipping.paths with the autoencoder's files at ``weights`` (a test's own autoencoder)."""

    def redirected(kind, profile):
        files = paths(kind, profile)
        if shipping.kind_of(kind).name != "autoencoder":
            return files
        return shipping.ModelFiles(weights, weights.with_suffix(".json"), {"z": weights.with_name(f"{weights.stem}_z.npz")})

    return redirected


# --------------------------------------------------------------------------------------------
# Stale models cannot hide
# --------------------------------------------------------------------------------------------


def _manifest(path, **fields):
    provenance.write_manifest(path, fields)
    return path


def test_stale_reasons_compare_the_recorded_build_settings_with_the_present_ones(scratch):
    builder = data.builder_settings(QUICK)
    (scratch / "checkpoints").mkdir()
    ae = _manifest(scratch / "checkpoints" / "autoencoder_quick.json", dataset={"train": "t", "test": "s", "builder": builder}, z_fingerprint="z1")
    (scratch / "checkpoints" / "autoencoder_quick.pt").write_bytes(b"")
    assert shipping.stale_reasons("autoencoder", QUICK, ae) == []

    other_renderer = json.loads(json.dumps(builder))
    other_renderer["versions"]["rendering"] += 1
    classifier = _manifest(scratch / "c.json", dataset={"train": "t", "test": "s", "builder": other_renderer})
    assert shipping.stale_reasons("classifier", QUICK, classifier) == [
        f"{classifier}: trained on data built with versions.rendering={builder['versions']['rendering'] + 1}; "
        f"the present code builds versions.rendering={builder['versions']['rendering']}"
    ]
    # The renderer does not matter to a model trained on voxels and points.
    _manifest(ae, dataset={"train": "t", "test": "s", "builder": other_renderer}, z_fingerprint="z1")
    assert shipping.stale_reasons("autoencoder", QUICK, ae) == []
    # Fewer training shapes (an older quick profile), or another training split than the autoencoder's.
    smaller = builder | {"shapes": 715}
    old = _manifest(scratch / "old.json", dataset={"train": "t-old", "test": "s", "builder": smaller})
    reasons = shipping.stale_reasons("classifier", QUICK, old)
    assert any("shapes=715" in r for r in reasons) and any("train split (fingerprint t-old) is not the autoencoder's (t)" in r for r in reasons)
    assert shipping.stale_reasons("classifier", QUICK, _manifest(scratch / "none.json", dataset={"train": "t", "test": "s"})) == [
        f"{scratch / 'none.json'}: records no dataset build settings (trained before they were recorded)"
    ]
    # A model that learned another autoencoder's z.
    image = _manifest(scratch / "i.json", dataset={"train": "t", "test": "s", "builder": builder}, autoencoder_z="z0")
    assert shipping.stale_reasons("image_encoder", QUICK, image) == [f"{image}: learned the z 'z0', the shipped autoencoder's are 'z1'"]


@pytest.mark.parametrize("kind", sorted(shipping.KINDS))
def test_every_committed_model_matches_what_the_present_code_would_train_it_on(kind):
    """The shipped quick models: trained on today's quick dataset (build settings and generator
    versions), each other's data, and the shipped autoencoder's z."""
    files = shipping.paths(kind, QUICK)
    assert files.manifest.parent == config.shipped_checkpoints_dir() and files.manifest.is_file()
    assert shipping.stale_reasons(kind, QUICK) == []
