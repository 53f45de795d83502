"""The life of a shipped model, the same for every kind: where it lives, train it when missing, ship it, load it.

Four kinds of model come with the tutorial: the 3D ``autoencoder`` (notebook 04), the
``image_encoder`` that reads z from a picture (05), the category ``classifier`` that notebook
06 dreams with, and the latent ``gan`` (08). Each is trained by its recipe module
(:mod:`~tutorial_lib.autoencoder`, :mod:`~tutorial_lib.svr`, :mod:`~tutorial_lib.classification`,
:mod:`~tutorial_lib.gan`), and everything else about it happens here, in one way for all four::

    files = shipping.paths("image_encoder", profile)      # weights, manifest and the kind's own files
    model = shipping.load("image_encoder", profile, device=device)
    model = shipping.ensure("image_encoder", profile, device=device)  # trains it first where it is missing
    manifest = shipping.ship("image_encoder", model, history, profile, device=device)

* **Where.** A profile whose models are committed (``quick``) has them in ``data/checkpoints/``;
  any other (``full``, ``smoke``) in ``<data root>/models/``: a model trained at paper scale
  never writes into the checkout. Training checkpoints are in ``<data root>/runs/``.
* **Ensure** trains a missing model with its recipe and the checkpoint ``train <kind>`` uses,
  so an interrupted run continues when called again, then ships it (the models it needs first:
  the autoencoder before the two that learn its z).
* **Ship** writes the weights (float16: half the file, and the manifest's scores are measured
  on exactly these weights), lets the recipe evaluate what was written and add its own fields
  and files, and writes the manifest last: a model counts as shipped only once it is complete.
  Every manifest records the dataset it saw (fingerprints and build settings), and a model that
  learned the autoencoder's z records which ones (``autoencoder_z``, a fingerprint).
* **Load** rebuilds the network from the class and config its weights file records
  (:func:`tutorial_lib.models.build_model`), and refuses, with one line naming both files, a
  model paired with an autoencoder whose z it did not learn, or one whose papers (manifest or
  recorded fingerprint) are missing unless ``trust_unlabelled`` says to use it anyway.
* :func:`stale_reasons` says why a shipped model no longer matches what the present code would
  train it on (another dataset, other generator versions, another autoencoder); a unit test
  runs it on every committed manifest.

What a recipe module provides: the training function the kind names (``train(profile, run)``
shape: a :class:`~tutorial_lib.config.Profile` and :class:`~tutorial_lib.training.RunOptions`,
returning ``(model, history)``), ``shipped_manifest(model, history, profile, device, files,
progress)`` (evaluates the shipped weights, writes the kind's own files, returns its manifest
fields, a one-line ``summary`` among them) and, where it ships more or less than the trained
module, ``to_ship(model, profile) -> (network, extras)``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from pathlib import Path

import torch

from . import config, data, provenance
from .config import Profile
from .provenance import CheckpointError
from .training import CPU


@dataclass(frozen=True)
class Kind:
    """One kind of shipped model and what the lifecycle needs to know of it."""

    name: str  # file stem (``<name>_<profile>.pt``) and the manifest's "model"
    title: str  # how messages name it
    network: str  # the class its weights file must hold (tutorial_lib.models.MODELS)
    recipe: str  # the module that trains and evaluates it
    train: str  # the recipe's training function: train(profile, run, **options) -> (model, history)
    command: str  # the CLI command that trains it
    files: dict = field(default_factory=dict)  # its own files beside the weights: key -> name suffix
    learns_z: bool = False  # trained on the autoencoder's z: tied to that autoencoder by fingerprint
    reads_pixels: bool = False  # trained on the renderings (else on the voxels, points or z)
    needs: tuple[str, ...] = ()  # kinds that must be shipped before it can train
    checkpoint_suffix: str = ""  # the training checkpoint's name after the profile (the autoencoder's recipe)
    data_parallel: bool = False  # trains under torchrun with DistributedDataParallel

    def module(self):
        return importlib.import_module(f"tutorial_lib.{self.recipe}")


KINDS: dict[str, Kind] = {
    "autoencoder": Kind("autoencoder", "autoencoder", "Autoencoder", "autoencoder", "train_autoencoder", "train ae",
                        files={"z": "_z.npz"}, checkpoint_suffix="_fast", data_parallel=True),
    "image_encoder": Kind("image_encoder", "image encoder", "ImageEncoder", "svr", "train_svr", "train svr",
                          files={"evaluation": "_evaluation.json"}, learns_z=True, reads_pixels=True, needs=("autoencoder",), data_parallel=True),
    "classifier": Kind("classifier", "category classifier", "CategoryResNet", "classification", "train_classifier", "train classifier",
                       reads_pixels=True),
    "gan": Kind("gan", "latent GAN", "Generator", "gan", "train_gan", "train gan", learns_z=True, needs=("autoencoder",)),
    # Reads drawings made from the dataset's meshes, not its renderings; starts from the image encoder's weights.
    "sketch_encoder": Kind("sketch_encoder", "sketch encoder", "ImageEncoder", "sketches", "train_sketch_encoder", "train sketch",
                           learns_z=True, needs=("autoencoder", "image_encoder")),
}  # fmt: skip

#: The build settings a model does not depend on (tutorial_lib.data.builder_settings): what the
#: renderings are to a model trained on voxels, points or z, and what the points are to one
#: trained on pictures. (A model trained on z depends on the points through the autoencoder's
#: fingerprint instead.) ``versions.X`` names one generator's version.
_PIXEL_SETTINGS = ("views_per_shape", "image_size", "image_padding", "versions.rendering")
_POINT_SETTINGS = ("point_budgets", "edge_window", "versions.point_sampling")


def kind_of(kind: str | Kind) -> Kind:
    if isinstance(kind, Kind):
        return kind
    try:
        return KINDS[kind]
    except KeyError:
        raise ValueError(f"unknown kind of model {kind!r}: choose one of {sorted(KINDS)}") from None


def _profile(profile) -> Profile:
    if not isinstance(profile, Profile):
        raise TypeError(f"expected a config.Profile, got {profile!r}: resolve a name once with config.get_profile({profile!r})")
    return profile


# --------------------------------------------------------------------------------------------
# Where
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ModelFiles:
    weights: Path
    manifest: Path
    extra: dict  # the kind's own files, e.g. {"z": .../autoencoder_quick_z.npz}


def paths(kind: str | Kind, profile: Profile) -> ModelFiles:
    """Where a kind's shipped model of a profile lives: the committed ``data/checkpoints/`` when its
    weights are there (``quick``), else ``<data root>/models/`` (``full``, ``smoke``)."""
    kind, profile = kind_of(kind), _profile(profile)
    base = config.shipped_checkpoints_dir() / f"{kind.name}_{profile.name}"
    if not base.with_suffix(".pt").is_file():
        base = config.data_root() / "models" / base.name
    return ModelFiles(base.with_suffix(".pt"), base.with_suffix(".json"), {key: Path(f"{base}{suffix}") for key, suffix in kind.files.items()})


def training_checkpoint(kind: str | Kind, profile: Profile, suffix: str | None = None) -> Path:
    """The resumable training checkpoint ``train <kind>`` uses by default (``<data root>/runs/``)."""
    kind, profile = kind_of(kind), _profile(profile)
    return config.data_root() / "runs" / f"{kind.name}_{profile.name}{kind.checkpoint_suffix if suffix is None else suffix}.pt"


def is_shipped(kind: str | Kind, profile: Profile) -> bool:
    """Whether a profile's model of this kind is complete (its manifest, written last, exists)."""
    return paths(kind, profile).manifest.is_file()


# --------------------------------------------------------------------------------------------
# Ensure, train, ship
# --------------------------------------------------------------------------------------------


def train(kind: str | Kind, profile: Profile, run, **options):
    """Train a kind's model with its recipe: ``(model, history)``. ``options`` go to the recipe's
    training function (e.g. the autoencoder's ``recipe=`` or ``dataset=``)."""
    kind = kind_of(kind)
    return getattr(kind.module(), kind.train)(_profile(profile), run, **options)


def ensure(kind: str | Kind, profile: Profile, device: torch.device = CPU, progress: bool = True) -> torch.nn.Module:
    """The profile's shipped model of this kind; where there is none yet (``full`` on a fresh clone), train and ship it first.

    The kinds it needs come first (the autoencoder, whose z the image encoder and the GAN learn).
    Training resumes from :func:`training_checkpoint`, so a stopped run continues when this is
    called again (or ``train <kind>`` is run).
    """
    from .training import RunOptions

    kind, profile = kind_of(kind), _profile(profile)
    for needed in kind.needs:
        ensure(needed, profile, device, progress)
    files = paths(kind, profile)
    if not files.manifest.is_file():
        checkpoint = training_checkpoint(kind, profile)
        print(f"no {profile.name} {kind.title} at {files.weights}: training it now (checkpoint {checkpoint}: if stopped, run again to continue)")
        model, history = train(kind, profile, RunOptions(device=device, checkpoint=checkpoint, progress=progress))
        ship(kind, model, history, profile, device=device, progress=progress)
    return load(kind, profile, device=device)


def dataset_record(profile: Profile) -> dict:
    """What a manifest records of the profile's dataset: each split's fingerprint, and the build settings."""
    folder = data.dataset_dir(profile)
    attrs = {split: data.read_attrs(data.split_path(folder, split)) for split in data.SPLITS}
    return {split: attrs[split]["fingerprint"] for split in data.SPLITS} | {"builder": attrs["train"].get("builder")}


def ship(kind: str | Kind, model: torch.nn.Module, history, profile: Profile, device: torch.device = CPU, progress: bool = True) -> dict:
    """Write a trained model as the profile's shipped one: weights (float16), the kind's own files, manifest last.

    The recipe evaluates the weights as written (``shipped_manifest``), on ``device`` (the
    training device); its fields join the ones every manifest has. Returns the manifest.
    """
    kind, profile = kind_of(kind), _profile(profile)
    module = kind.module()
    files = paths(kind, profile)
    record = getattr(history, "record", {}) or {}
    network, extras = module.to_ship(model, profile) if hasattr(module, "to_ship") else (model, {})
    if kind.learns_z:
        if record.get("autoencoder_z") is None:
            raise ValueError(f"{kind.title}: its training record does not say which autoencoder's z it learned; cannot ship it")
        extras = extras | {"autoencoder_z": record["autoencoder_z"]}
    provenance.save_weights(files.weights, network.eval(), **extras)
    shipped = load(kind, profile, files.weights, device=device)  # evaluate what was written
    manifest = provenance.base_manifest(kind.name, profile.name, device, history) | {"dataset": dataset_record(profile)}
    if kind.learns_z:
        manifest["autoencoder_z"] = record["autoencoder_z"]
    manifest |= module.shipped_manifest(shipped, history, profile, device, files, progress)
    provenance.write_manifest(files.manifest, manifest)
    return manifest


# --------------------------------------------------------------------------------------------
# Load
# --------------------------------------------------------------------------------------------


def autoencoder_z(autoencoder_weights: str | Path) -> str | None:
    """The fingerprint of an autoencoder's training z, from its manifest or its z file beside it (None: no papers)."""
    path = Path(autoencoder_weights)
    manifest, z_file = path.with_suffix(".json"), path.with_name(f"{path.stem}_z.npz")
    if manifest.is_file() and "z_fingerprint" in (recorded := provenance.read_manifest(manifest)):
        return recorded["z_fingerprint"]
    if z_file.is_file():
        return provenance.array_fingerprint(read_z_file(z_file)["train_z"])
    return None


def read_z_file(path: str | Path) -> dict:
    """The arrays of an autoencoder's z file (``train_z``, ``train_names``, …), naming the file if it cannot be read."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no shipped z (train the autoencoder with `python -m tutorial_lib train ae --ship`)")
    arrays = provenance.read_arrays(path, ("train_z", "test_z"), "z file")
    return {k: (v.tolist() if v.dtype.kind in "US" else v) for k, v in arrays.items()}


def load(kind: str | Kind, profile: Profile, path: str | Path | None = None, device: torch.device = CPU,
         autoencoder: str | Path | None = None, trust_unlabelled: bool = False) -> torch.nn.Module:  # fmt: skip
    """The profile's shipped model of a kind (or the one at ``path``), in eval mode on ``device``.

    A model that learned the autoencoder's z is checked against the autoencoder it will be used
    with (``autoencoder``: its weights file; default the profile's shipped one): the fingerprint
    the model recorded must be that autoencoder's, else :class:`CheckpointError` names both
    files. Where either has no papers to check, the model is refused unless ``trust_unlabelled``
    (then a one-line notice says it was not checked). What the weights file records beside the
    weights (``object_size``, ``class_names``, ``autoencoder_z``) becomes attributes of the model.
    """
    from .models import build_model

    kind, profile = kind_of(kind), _profile(profile)
    path = Path(path) if path is not None else paths(kind, profile).weights
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no {kind.title} here (train one with `python -m tutorial_lib {kind.command} --ship`)")
    state = provenance.load_weights(path, kind.network)
    if kind.learns_z:
        partner = Path(autoencoder) if autoencoder is not None else paths("autoencoder", profile).weights
        _check_pairing(kind, path, state, partner, trust_unlabelled)
    model = build_model(state["architecture"])
    model.load_state_dict(state["model"])
    for key in ("object_size", "class_names", "autoencoder_z"):
        setattr(model, key, state.get(key))
    return model.to(device).eval()


def _check_pairing(kind: Kind, path: Path, state: dict, partner: Path, trust_unlabelled: bool) -> None:
    recorded = state.get("autoencoder_z")
    manifest = path.with_suffix(".json")
    if recorded is None and manifest.is_file():
        recorded = provenance.read_manifest(manifest).get("autoencoder_z")
    actual = autoencoder_z(partner)
    if recorded is not None and actual is not None:
        provenance.check_belongs_to(kind.title, recorded, actual, path, partner)
        return
    unlabelled = path if recorded is None else partner
    what = "which autoencoder's z it learned" if recorded is None else "which z it gives"
    if not trust_unlabelled:
        raise CheckpointError(
            f"{unlabelled}: no manifest or record says {what}, so the pairing of {path.name} with {partner.name} cannot be checked; "
            "use files shipped together, or pass --trust-unlabelled (trust_unlabelled=True) to use them anyway"
        )
    print(f"{unlabelled}: no record says {what}; used anyway (trust_unlabelled): results may be nonsense if they do not belong together")


# --------------------------------------------------------------------------------------------
# Stale models cannot hide
# --------------------------------------------------------------------------------------------


def _flatten(settings: dict, prefix: str = "") -> dict:
    out = {}
    for key, value in settings.items():
        if isinstance(value, dict) and key == "versions":
            out |= _flatten(value, f"{prefix}{key}.")
        else:
            out[f"{prefix}{key}"] = value
    return out


def stale_reasons(kind: str | Kind, profile: Profile, manifest_path: str | Path | None = None) -> list[str]:
    """Why a shipped model no longer matches what the present code would train it on (empty: it matches).

    Cheap, without building anything: the dataset build settings the manifest records against
    the ones the present code would use for the profile (:func:`tutorial_lib.data.builder_settings`,
    generator versions included; only the settings this kind depends on), its dataset
    fingerprints against the autoencoder's manifest, and, for a model that learned z, its
    ``autoencoder_z`` against the shipped autoencoder's manifest and z file.
    """
    kind, profile = kind_of(kind), _profile(profile)
    path = Path(manifest_path) if manifest_path is not None else paths(kind, profile).manifest
    manifest = provenance.read_manifest(path)
    reasons = []
    dataset = manifest.get("dataset") or {}
    recorded = dataset.get("builder")
    if not isinstance(recorded, dict):
        reasons.append(f"{path}: records no dataset build settings (trained before they were recorded)")
    else:
        ignored = _PIXEL_SETTINGS if not kind.reads_pixels else _POINT_SETTINGS
        expected, found = _flatten(data.builder_settings(profile)), _flatten(recorded)
        for key in sorted(set(expected) | set(found)):
            if key not in ignored and expected.get(key) != found.get(key):
                reasons.append(f"{path}: trained on data built with {key}={found.get(key)!r}; the present code builds {key}={expected.get(key)!r}")
    ae_files = paths("autoencoder", profile)
    ae = provenance.read_manifest(ae_files.manifest) if ae_files.manifest.is_file() else {}
    if kind.name != "autoencoder" and ae:
        for split in data.SPLITS:
            if dataset.get(split) != (ae.get("dataset") or {}).get(split):
                reasons.append(
                    f"{path}: its {split} split (fingerprint {dataset.get(split)}) is not the autoencoder's ({(ae.get('dataset') or {}).get(split)})"
                )
    if kind.name == "autoencoder" and ae_files.extra["z"].is_file():
        z = provenance.array_fingerprint(read_z_file(ae_files.extra["z"])["train_z"])
        if z != manifest.get("z_fingerprint"):
            reasons.append(f"{ae_files.extra['z']}: its z (fingerprint {z}) are not the ones {path} records ({manifest.get('z_fingerprint')})")
    if kind.learns_z and manifest.get("autoencoder_z") != ae.get("z_fingerprint"):
        reasons.append(f"{path}: learned the z {manifest.get('autoencoder_z')!r}, the shipped autoencoder's are {ae.get('z_fingerprint')!r}")
    own = getattr(kind.module(), "stale_reasons", None)  # what only this kind depends on (the sketch encoder: its drawings)
    if own is not None:
        reasons += own(manifest, path, profile)
    return reasons


__all__ = ["KINDS", "Kind", "ModelFiles", "autoencoder_z", "dataset_record", "ensure", "is_shipped", "kind_of", "load", "paths", "read_z_file",
           "ship", "stale_reasons", "train", "training_checkpoint"]  # fmt: skip
