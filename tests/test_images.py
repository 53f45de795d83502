"""Pictures as people have them: phone photos turned by EXIF, 16-bit and float files, animations,
giant pictures and decompression bombs, light-grey backgrounds; and what `reconstruct` refuses.

Each checks the pixels read (a known answer) and, through ``main([...])``, the one line on
stderr and the exit status of the user's command.
"""

import struct
import warnings
import zlib

import numpy as np
import pytest
import torch
from command_line import fails_with  # tests/command_line.py
from PIL import Image

from tutorial_lib import images, picture_files, provenance, rendering, shapes, svr
from tutorial_lib.__main__ import main
from tutorial_lib.models import Autoencoder, ImageEncoder
from tutorial_lib.training import save_checkpoint


def object_picture(height=60, width=100, background=255, ink=40):
    """A white (or ``background``) picture with a dark block in its top-left quarter."""
    image = np.full((height, width), background, np.uint8)
    image[5:25, 10:40] = ink
    return image


# --------------------------------------------------------------------------------------------
# 5. EXIF, 16-bit, float, animations
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("orientation", [1, 3, 6, 8])
def test_phone_photos_are_turned_upright_by_their_exif_orientation(tmp_path, orientation):
    upright = object_picture()
    stored = np.rot90(upright, {1: 0, 3: 2, 6: 1, 8: -1}[orientation])  # as the camera's sensor saw it
    exif = Image.Exif()
    exif[0x0112] = orientation
    Image.fromarray(np.ascontiguousarray(stored)).save(tmp_path / "photo.jpg", exif=exif, quality=95)
    grey = picture_files.read_image(tmp_path / "photo.jpg")[..., 0]
    assert grey.shape == upright.shape
    assert np.abs(grey * 255 - upright).mean() < 4  # JPEG's small differences


def test_a_16_bit_png_is_read_by_its_full_range(tmp_path):
    deep = np.full((60, 100), 65535, np.uint16)
    deep[5:25, 10:40] = 10000  # 0.15 of white: PIL's 8-bit conversion would clip it to white
    Image.fromarray(deep).save(tmp_path / "deep.png")
    assert Image.open(tmp_path / "deep.png").mode.startswith("I")
    grey = picture_files.read_grey(tmp_path / "deep.png")
    np.testing.assert_allclose(grey[10, 20], 10000 / 65535, rtol=1e-6)
    assert grey[40, 80] == 1.0 and images.object_box(grey) == (5, 25, 10, 40)


@pytest.mark.parametrize("scale", [1.0, 255.0, 65535.0])
def test_a_float_tiff_is_read_by_the_range_its_values_use(tmp_path, scale):
    values = (object_picture() / 255.0 * scale).astype(np.float32)
    Image.fromarray(values, mode="F").save(tmp_path / "float.tif")
    grey = picture_files.read_grey(tmp_path / "float.tif")
    np.testing.assert_allclose(grey, object_picture() / 255.0, atol=1e-6)


@pytest.mark.parametrize("values, message", [
    (np.linspace(-3.0, 900000.0, 6000, dtype=np.float32).reshape(60, 100), "a floating-point picture whose values run from -3 to 900000: not grey levels"),
    (np.where(object_picture() > 100, np.float32("nan"), 0.2).astype(np.float32), "a floating-point picture with NaN or infinite values"),
])  # fmt: skip
def test_a_float_tiff_that_makes_no_sense_is_refused(tmp_path, capsys, values, message):
    Image.fromarray(values, mode="F").save(tmp_path / "odd.tif")
    fails_with(capsys, ["reconstruct", str(tmp_path / "odd.tif"), "--out", str(tmp_path / "x.obj")], f"{tmp_path / 'odd.tif'}: {message}")
    assert not (tmp_path / "x.obj").exists()


def test_an_animation_is_read_at_its_first_frame_and_says_so(tmp_path, capsys):
    frames = [Image.fromarray(object_picture(ink=ink)) for ink in (40, 200, 120)]
    frames[0].save(tmp_path / "spin.gif", save_all=True, append_images=frames[1:], duration=100, loop=0)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # said in a plain line, never as a Python warning
        grey = picture_files.read_image(tmp_path / "spin.gif")[..., 0]
    assert abs(grey[10, 20] * 255 - 40) < 2
    err = capsys.readouterr().err
    assert err == f"{tmp_path / 'spin.gif'}: an animation of 3 frames; reading its first frame\n"


# --------------------------------------------------------------------------------------------
# 9. Giant pictures, decompression bombs
# --------------------------------------------------------------------------------------------


def test_a_picture_above_the_pixel_budget_is_reduced_as_it_is_read(tmp_path):
    big = np.full((4000, 3000), 255, np.uint8)
    big[1000:2000, 500:1500] = 30
    Image.fromarray(big).save(tmp_path / "big.png")
    Image.fromarray(big).convert("RGB").save(tmp_path / "big.jpg", quality=90)
    for name in ("big.png", "big.jpg"):
        pixels = picture_files.read_image(tmp_path / name)
        assert pixels.shape[0] * pixels.shape[1] <= picture_files.PIXEL_BUDGET
        assert abs(pixels.shape[0] / pixels.shape[1] - 4 / 3) < 0.01
        box = images.object_box(pixels[..., 0])
        scale = 4000 / pixels.shape[0]
        assert np.allclose(np.array(box) * scale, [1000, 2000, 500, 1500], atol=3 * scale)


def _png_header_only(path, width, height):
    """A PNG whose header says ``width``×``height`` and whose pixels are missing: what a bomb looks like to a reader that checks first."""

    def chunk(kind, payload):
        return struct.pack(">I", len(payload)) + kind + payload + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)

    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", zlib.compress(b"\0" * 100))
        + chunk(b"IEND", b"")
    )
    return path


@pytest.mark.parametrize("side", [14000, 20000])
def test_a_decompression_bomb_is_one_line_naming_the_file(tmp_path, capsys, side):
    bomb = _png_header_only(tmp_path / "bomb.png", side, side)
    line = fails_with(capsys, ["reconstruct", str(bomb), "--out", str(tmp_path / "x.obj")], f"{bomb}: a picture of ")
    assert "more than the 179 megapixels this program reads (a decompression bomb?)" in line
    fails_with(capsys, ["search", str(bomb)], f"{bomb}: a picture of ")


# --------------------------------------------------------------------------------------------
# 4. The background from the border; no empty mesh written
# --------------------------------------------------------------------------------------------


def test_a_light_grey_background_is_made_white():
    grey = object_picture(background=240) / 255.0
    assert picture_files.background_level(grey) == pytest.approx(240 / 255)
    white = picture_files.whiten_background(grey)
    assert white[40, 80] == 1.0 and images.object_box(white) == (5, 25, 10, 40)
    np.testing.assert_allclose(white[10, 20], 40 / 240, rtol=1e-6)


def test_a_dark_background_is_refused(tmp_path, capsys):
    Image.fromarray(255 - object_picture()).save(tmp_path / "night.png")
    fails_with(capsys, ["reconstruct", str(tmp_path / "night.png"), "--out", str(tmp_path / "x.obj")],
               f"{tmp_path / 'night.png'}: the background (the picture's border, grey level 0.00 of 1) is dark")  # fmt: skip


def _chair_picture(background: int) -> np.ndarray:
    """A rendering of a procedural chair (as the dataset's), photographed in a light that makes its white background ``background``."""
    mesh = shapes.make_shape_from_seed("chair", 7).mesh
    from tutorial_lib import geometry

    view = rendering.render_views(geometry.normalize_mesh(mesh), np.array([[30.0, 20.0]], np.float32))[0]
    return np.round(view.astype(np.float32) * background / 255).astype(np.uint8)


def test_reconstruct_works_on_a_light_grey_background(tmp_path, capsys):
    import trimesh

    Image.fromarray(_chair_picture(240)).save(tmp_path / "grey.png")
    Image.fromarray(_chair_picture(255)).save(tmp_path / "white.png")
    framed = [svr.load_image(tmp_path / name, object_size=100) for name in ("grey.png", "white.png")]
    assert np.abs(framed[0] - framed[1]).max() < 0.02  # the same picture once the background is white
    assert main(["reconstruct", str(tmp_path / "grey.png"), "--out", str(tmp_path / "chair.obj"), "--resolution", "64", "--device", "cpu"]) == 0
    assert len(trimesh.load(tmp_path / "chair.obj", force="mesh").faces) > 100


def test_reconstruct_refuses_rather_than_write_an_empty_mesh(tmp_path, capsys):
    autoencoder = Autoencoder(4, 8)
    with torch.no_grad():
        autoencoder.decoder.out.bias.fill_(-100.0)  # a decoder that sees nothing anywhere
    save_checkpoint(tmp_path / "ae.pt", autoencoder)
    provenance.save_weights(tmp_path / "image.pt", ImageEncoder(width=8), object_size=100)  # a model without papers: trusted below
    Image.fromarray(_chair_picture(255)).save(tmp_path / "chair.png")
    argv = ["reconstruct", str(tmp_path / "chair.png"), "--out", str(tmp_path / "chair.obj"), "--resolution", "32",
            "--image-encoder", str(tmp_path / "image.pt"), "--autoencoder", str(tmp_path / "ae.pt"), "--device", "cpu", "--trust-unlabelled"]  # fmt: skip
    fails_with(capsys, argv, f"{tmp_path / 'chair.png'}: the models see no shape in it")
    assert not (tmp_path / "chair.obj").exists() and not [p for p in tmp_path.iterdir() if ".partial" in p.name]


def test_an_empty_mesh_is_never_written(tmp_path):
    import trimesh

    from tutorial_lib import geometry

    with pytest.raises(geometry.MeshError, match=r"empty.obj: not written: the mesh is empty"):
        geometry.save_mesh(trimesh.Trimesh(), tmp_path / "empty.obj")
    assert list(tmp_path.iterdir()) == []
