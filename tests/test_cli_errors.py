"""Bad input on the command line: one line on stderr naming the file and the problem, exit status 1.

Each case runs ``python -m tutorial_lib`` in-process through ``main`` (the same code path as
the shell) and checks the message, the status, and that no traceback was printed.
"""

import json
import shutil

import h5py
import numpy as np
import pytest
import trimesh
from command_line import fails_with  # tests/command_line.py
from PIL import Image

from tutorial_lib import config, provenance, shipping, svr
from tutorial_lib.__main__ import main
from tutorial_lib.models import Autoencoder, ImageEncoder
from tutorial_lib.training import save_checkpoint

SHIPPED = config.shipped_checkpoints_dir()


@pytest.fixture
def models(tmp_path):
    """A small autoencoder and image encoder that belong together (the same z fingerprint in their papers)."""
    save_checkpoint(tmp_path / "ae.pt", Autoencoder(4, 8))
    provenance.write_manifest(tmp_path / "ae.json", {"z_fingerprint": "0123456789abcdef"})
    provenance.save_weights(tmp_path / "image.pt", ImageEncoder(width=8), object_size=100, autoencoder_z="0123456789abcdef")
    return ["--image-encoder", str(tmp_path / "image.pt"), "--autoencoder", str(tmp_path / "ae.pt"), "--device", "cpu"]


@pytest.fixture
def picture(tmp_path):
    image = np.full((100, 100), 255, np.uint8)
    image[30:70, 40:60] = 40
    Image.fromarray(image).save(tmp_path / "chair.png")
    return tmp_path / "chair.png"


def test_missing_picture(tmp_path, capsys, models):
    fails_with(capsys, ["reconstruct", str(tmp_path / "holiday.jpg"), "--out", str(tmp_path / "x.obj"), *models],
               "holiday.jpg: no such image file")  # fmt: skip


def test_empty_picture(tmp_path, capsys, models):
    (tmp_path / "empty.png").write_bytes(b"")
    fails_with(capsys, ["reconstruct", str(tmp_path / "empty.png"), "--out", str(tmp_path / "x.obj"), *models], "empty.png: the file is empty")


def test_truncated_picture(tmp_path, capsys, models, picture):
    data = picture.read_bytes()
    (tmp_path / "cut.png").write_bytes(data[: len(data) // 2])
    fails_with(capsys, ["reconstruct", str(tmp_path / "cut.png"), "--out", str(tmp_path / "x.obj"), *models], "cut.png: a damaged or truncated image")


def test_a_text_file_is_not_a_picture(tmp_path, capsys, models):
    (tmp_path / "notes.jpg").write_text("a chair, seen from the front\n")
    fails_with(capsys, ["reconstruct", str(tmp_path / "notes.jpg"), "--out", str(tmp_path / "x.obj"), *models], "notes.jpg: not an image file")


def test_unsupported_out_extension_is_refused_before_any_model_runs(tmp_path, capsys, picture):
    # No model files at all: the argument is checked first, so the message is about --out.
    argv = ["reconstruct", str(picture), "--out", str(tmp_path / "chair.xyz"), "--autoencoder", str(tmp_path / "none.pt")]
    fails_with(capsys, argv, "chair.xyz: choose a .obj, .ply, .stl or .off file name")


@pytest.mark.parametrize("resolution", ["100", "4", "1024"])
def test_bad_resolution(tmp_path, capsys, models, picture, resolution):
    argv = ["reconstruct", str(picture), "--out", str(tmp_path / "x.obj"), "--resolution", resolution, *models]
    fails_with(capsys, argv, f"resolution {resolution} is not supported")


@pytest.mark.parametrize("resolution", ["high", "64.5"])
def test_resolution_that_is_not_a_number(tmp_path, capsys, picture, resolution):
    # argparse's errors too are one line and exit status 1, like every other error
    fails_with(capsys, ["reconstruct", str(picture), "--out", str(tmp_path / "x.obj"), "--resolution", resolution], f"invalid int value: '{resolution}'")


def test_checkpoint_of_another_architecture(tmp_path, capsys, models, picture):
    argv = ["reconstruct", str(picture), "--out", str(tmp_path / "x.obj"), *models]
    argv[argv.index("--autoencoder") + 1] = str(tmp_path / "image.pt")  # an image encoder given as the autoencoder
    fails_with(capsys, argv, "image.pt: holds a model of class ImageEncoder, not Autoencoder")


def test_a_file_that_is_no_checkpoint(tmp_path, capsys, models, picture):
    (tmp_path / "junk.pt").write_bytes(b"\x00" * 100)
    argv = ["reconstruct", str(picture), "--out", str(tmp_path / "x.obj"), *models]
    argv[argv.index("--autoencoder") + 1] = str(tmp_path / "junk.pt")
    fails_with(capsys, argv, "junk.pt: not a readable tutorial_lib weights file")


def test_mismatched_image_encoder_and_autoencoder_are_refused(tmp_path, capsys, picture):
    """The shipped image encoder with an autoencoder whose z are others: refused, naming both files."""
    shutil.copy(SHIPPED / "autoencoder_quick.pt", tmp_path / "other_ae.pt")
    (tmp_path / "other_ae.json").write_text(json.dumps({"z_fingerprint": "0123456789abcdef"}))
    line = fails_with(capsys, ["reconstruct", str(picture), "--out", str(tmp_path / "x.obj"), "--autoencoder", str(tmp_path / "other_ae.pt"), "--device", "cpu"],
                      "image_encoder_quick.pt: this image encoder was trained on the z of another autoencoder")  # fmt: skip
    assert "other_ae.pt (0123456789abcdef)" in line
    assert not (tmp_path / "x.obj").exists()


def test_the_shipped_pair_belongs_together():
    shipping.load("image_encoder", config.get_profile("quick"))  # no error: the manifests agree


def test_models_without_papers_are_refused_unless_trusted(tmp_path, capsys, picture):
    """An image encoder that records no autoencoder, beside one without a manifest: nothing can be checked."""
    save_checkpoint(tmp_path / "ae.pt", Autoencoder(4, 8))
    provenance.save_weights(tmp_path / "image.pt", ImageEncoder(width=8), object_size=100)
    argv = ["reconstruct", str(picture), "--out", str(tmp_path / "x.obj"), "--image-encoder", str(tmp_path / "image.pt"),
            "--autoencoder", str(tmp_path / "ae.pt"), "--device", "cpu", "--resolution", "16"]  # fmt: skip
    line = fails_with(capsys, argv, "image.pt: no manifest or record says which autoencoder's z it learned")
    assert "--trust-unlabelled" in line and not (tmp_path / "x.obj").exists()
    assert main([*argv, "--trust-unlabelled"]) in (0, 1)  # unchecked pairing: accepted (a random model may decode nothing)
    assert "used anyway (trust_unlabelled)" in capsys.readouterr().out


def test_truncated_hdf5(tmp_path, capsys, box_dataset):
    folder = box_dataset(tmp_path / "boxes", shapes=2)
    data = (folder / "train.hdf5").read_bytes()
    (tmp_path / "cut.hdf5").write_bytes(data[: len(data) // 3])
    fails_with(capsys, ["data", "info", str(tmp_path / "cut.hdf5")], "cut.hdf5: not a readable HDF5 file")


def test_foreign_hdf5_dataset(tmp_path, capsys):
    folder = tmp_path / "foreign"
    folder.mkdir()
    for split in ("train", "test"):
        with h5py.File(folder / f"{split}.hdf5", "w") as f:
            f["images"] = np.zeros((2, 8, 8), np.uint8)
    line = fails_with(capsys, ["train", "ae", "--dataset", str(folder), "--steps", "1", "--device", "cpu", "--checkpoint", str(tmp_path / "ae.pt")],
                      "train.hdf5: missing keys")  # fmt: skip
    assert "it has ['images']" in line


def test_split_without_pixels(tmp_path, box_dataset):
    """A split made without renderings (IM-NET's 3D-only files) cannot feed the image encoder."""
    from tutorial_lib import data

    folder = box_dataset(tmp_path / "boxes", shapes=2)
    with h5py.File(folder / "test.hdf5", "a") as f:
        del f["pixels"]
    with pytest.raises(data.DatasetError, match=r"test.hdf5: has no 'pixels'"):
        svr.test_views(folder / "test.hdf5")


def test_mesh_folder_where_every_mesh_is_broken(tmp_path, capsys):
    for category in ("chair", "table"):
        (tmp_path / "meshes" / category).mkdir(parents=True)
        for i in range(2):
            (tmp_path / "meshes" / category / f"m{i}.obj").write_text("v 0 0 0\nthis is not a mesh\n")
    line = fails_with(capsys, ["data", "build", "--source", str(tmp_path / "meshes"), "--out", str(tmp_path / "out"), "--workers", "1"],
                      "out: no shape for the train split; 4 meshes failed, listed in")  # fmt: skip
    assert "failures.json" in line


def test_debug_shows_the_traceback(tmp_path):
    with pytest.raises(FileNotFoundError, match="holiday.jpg: no such image file"):
        main(["--debug", "reconstruct", str(tmp_path / "holiday.jpg"), "--out", str(tmp_path / "x.obj")])


def test_mesh_outputs_are_never_half_written(tmp_path):
    """save_mesh writes to a temporary name and renames: only complete files carry the asked-for name."""
    from tutorial_lib import geometry

    path = geometry.save_mesh(trimesh.creation.box(), tmp_path / "box.obj")
    assert path.is_file() and [p.name for p in tmp_path.iterdir()] == ["box.obj"]
    assert len(trimesh.load(path, force="mesh").faces) == 12


# --------------------------------------------------------------------------------------------
# Arguments: one line and exit status 1 like every other error, all checked before any model loads
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("argv, message", [
    (["search", "q.png", "--by", "zz"], "search: argument --by: invalid choice: 'zz' (choose from 'z', 'lfd')"),
    (["search", "q.png", "--profile", "quik"], "search: argument --profile: invalid choice: 'quik'"),
    (["reconstruct", "q.png", "--out", "x.obj", "--profile", "quik"], "reconstruct: argument --profile: invalid choice: 'quik'"),
    (["data", "build", "--profile", "quik"], "data build: argument --profile: invalid choice: 'quik'"),
    (["search", "q.png", "--top", "0"], "argument --top: expected a whole number of at least 1, got 0"),
    (["search", "q.png", "--top", "-1"], "argument --top: expected a whole number of at least 1, got -1"),
    (["search", "q.png", "--top", "five"], "argument --top: expected a whole number, got 'five'"),
    (["data", "build", "--workers", "0"], "argument --workers: expected a whole number of at least 1, got 0"),
    (["data", "build", "--up", "+q"], "argument --up: axis '+q' must be one of +x, -x, +y, -y, +z, -z"),
    (["data", "build", "--front", "-w"], "argument --front: axis '-w' must be one of +x, -x, +y, -y, +z, -z"),
    (["reconstruct", "q.png"], "the following arguments are required: --out"),
    ([], "the following arguments are required: command"),
])  # fmt: skip
def test_argument_errors_are_one_line_and_exit_status_1(capsys, argv, message):
    fails_with(capsys, argv, message)


def test_a_negative_axis_can_be_written_after_its_option():
    from tutorial_lib.__main__ import _joined_axes, build_parser

    args = build_parser().parse_args(_joined_axes(["data", "build", "--source", "meshes", "--up", "+z", "--front", "-x"]))
    assert (args.up, args.front) == ("+z", "-x")
    args = build_parser().parse_args(_joined_axes(["data", "build", "--front", "-Y", "--up", "-z"]))
    assert (args.up, args.front) == ("-z", "-y")


def test_up_and_front_on_one_axis_are_refused_before_any_work(tmp_path, capsys, monkeypatch):
    from tutorial_lib import data

    monkeypatch.setattr(data, "build_dataset", lambda *a, **k: pytest.fail("the build started"))
    fails_with(capsys, ["data", "build", "--source", str(tmp_path), "--up", "+y", "--front", "-y"], "up '+y' and front '-y' must be different axes")


def test_up_alone_takes_the_usual_front_and_search_checks_its_axes_first(tmp_path, capsys, monkeypatch):
    from tutorial_lib import data

    class Report:
        def summary(self):
            return "built"

    seen = {}
    monkeypatch.setattr(data, "build_dataset", lambda *a, **k: seen.update(k) or Report())
    assert main(["data", "build", "--source", str(tmp_path), "--up", "+z"]) == 0  # ModelNet's words: --up +z alone is enough
    assert (seen["up"], seen["front"]) == ("+z", "+y")
    fails_with(capsys, ["search", str(tmp_path / "q.obj"), "--up", "+z", "--front", "-z"], "up '+z' and front '-z' must be different axes")
    picture = tmp_path / "q.png"
    Image.new("L", (64, 64), 255).save(picture)
    fails_with(capsys, ["search", str(picture), "--up", "+z"], f"{picture}: --up and --front turn a mesh; a picture has no axes to give")


def test_a_data_build_out_that_is_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "taken").write_text("a file")
    fails_with(capsys, ["data", "build", "--out", str(tmp_path / "taken")], f"{tmp_path / 'taken'}: is a file; give a folder name")


@pytest.fixture
def no_index(monkeypatch):
    """The search index must not be read (or built): the arguments are refused first."""
    from tutorial_lib import search

    monkeypatch.setattr(search, "load_index", lambda *a, **k: pytest.fail("the index was loaded"))
    monkeypatch.setattr(search, "build_profile_index", lambda *a, **k: pytest.fail("the index was built"))


@pytest.mark.parametrize("sheet, message", [
    ("results.txt", "results.txt: choose a picture file name for --sheet"),
    ("a_folder.png", "a_folder.png: is a folder; give a picture file name"),
    ("a_file/results.png", "a_file is a file, not a folder"),
])  # fmt: skip
def test_sheet_is_checked_before_the_index_or_any_model(tmp_path, capsys, picture, no_index, sheet, message):
    (tmp_path / "a_folder.png").mkdir()
    (tmp_path / "a_file").write_text("not a folder")
    fails_with(capsys, ["search", str(picture), "--sheet", str(tmp_path / sheet)], message)


def test_an_unwritable_sheet_or_out_is_refused_first(tmp_path, capsys, picture, no_index, monkeypatch):
    import os

    real = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **k: False if str(path) == str(tmp_path / "locked") else real(path, mode, **k))
    (tmp_path / "locked").mkdir()
    fails_with(
        capsys, ["search", str(picture), "--sheet", str(tmp_path / "locked" / "s.png")], f"{tmp_path / 'locked' / 's.png'}: cannot write it: permission denied"
    )
    argv = ["reconstruct", str(picture), "--out", str(tmp_path / "locked" / "x.obj"), "--autoencoder", str(tmp_path / "none.pt")]
    fails_with(capsys, argv, f"{tmp_path / 'locked' / 'x.obj'}: cannot write it: permission denied")
