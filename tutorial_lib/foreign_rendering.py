"""A second, "foreign" renderer: pictures of our shapes made the way another project would make them.

The image encoder is trained on the talk's renderings (:mod:`tutorial_lib.rendering`): grey,
137×137, one Lambertian light at a fixed place relative to the camera, the camera 1.5 units
from the centre with a fixed field of view, a white background, lossless pixels. A picture from
elsewhere differs in all of that at once. This module renders the same meshes differently in
every one of those ways, so that how the network copes with real pictures can be measured
without downloading anything:

* colour (RGB): a palette per shape, one colour per region (connected part of the mesh ×
  height band, and upward-facing faces in an accent colour for some shapes);
* texture: 3-D value noise or wood-like stripes modulating the colour on the surface;
* light: one to three coloured directional lights from random directions, an ambient term and
  Blinn-Phong specular highlights; no cast shadows;
* camera: another distance (focal length) and an off-centre aim, the object filling a random
  share of the frame; 224×224 pixels, anti-aliased (2×2 supersampling);
* background white or a light grey, and JPEG compression at a quality drawn per picture.

Everything is drawn from a seed: the picture of (shape, view) depends only on the seed, the
shape's index and the view number, not on what else is rendered. Rays are cast by
:func:`tutorial_lib.geometry.ray_intersector` (Embree through trimesh when available), the ray
caster the dataset's compiled renderer is tested against.

The set built by :func:`build_foreign_set` (CLI ``python -m tutorial_lib data foreign``) is for
testing only: nothing in the training code reads it.

The light grey of the background stays above the threshold that :func:`tutorial_lib.images.load_image`
uses to tell the object from the background (:data:`tutorial_lib.images.BACKGROUND_THRESHOLD`):
a darker background is a different problem (segmentation), not the one measured here.
"""

from __future__ import annotations

import colorsys
import io
import json
from pathlib import Path

import numpy as np
import trimesh

from . import config, data, provenance
from .geometry import check_mesh, ray_intersector
from .rendering import camera_basis, direction_from_angles

FOREIGN_SIZE = 224
SUPERSAMPLING = 2  # rays per pixel along each axis; averaged down (anti-aliasing)
#: Ranges every picture's settings are drawn from (recorded in the set's index).
RANGES = {
    "azimuth_deg": (-180.0, 180.0),
    "inclination_deg": (-20.0, 45.0),
    "camera_distance": (2.2, 4.5),  # the training camera sits at 1.5: here a longer focal length
    "aim_offset": 0.12,  # the camera aims this far (at most) from the centre, within the image plane
    "fill": (0.55, 0.92),  # the object's farthest projected point, as a share of half the frame
    "lights": (1, 3),
    "ambient": (0.12, 0.3),
    "specular": (0.1, 0.5),
    "shininess": (8.0, 80.0),
    "texture_amplitude": (0.08, 0.3),
    "height_bands": (1, 3),
    "background_grey": (246, 255),  # above load_image's object threshold (0.95 × 255 ≈ 242)
    "jpeg_quality": (50, 92),
}


# --------------------------------------------------------------------------------------------
# Drawing the settings of one picture
# --------------------------------------------------------------------------------------------


def _palette(rng: np.random.Generator, count: int) -> list[list[float]]:
    """``count`` RGB colours around one base hue (sometimes a contrasting one), never near white."""
    base = rng.random()
    colours = []
    for _ in range(count):
        hue = (base + (0.5 if rng.random() < 0.25 else rng.normal(0.0, 0.06))) % 1.0
        saturation = rng.uniform(0.15, 0.85)
        value = rng.uniform(0.3, 0.85)
        colours.append([round(c, 4) for c in colorsys.hsv_to_rgb(hue, saturation, value)])
    return colours


def draw_settings(rng: np.random.Generator) -> dict:
    """Every random choice of one picture, as a JSON-serialisable dict."""
    r = RANGES
    lights = []
    for _ in range(int(rng.integers(r["lights"][0], r["lights"][1] + 1))):
        tint = 1.0 + rng.uniform(-0.12, 0.12, size=3)
        lights.append({
            # relative to the camera: azimuth to its right, elevation above its axis
            "azimuth_deg": round(float(rng.uniform(-80, 80)), 2),
            "elevation_deg": round(float(rng.uniform(-10, 70)), 2),
            "intensity": round(float(rng.uniform(0.4, 1.0)), 3),
            "colour": [round(float(t), 3) for t in tint],
        })  # fmt: skip
    aim = rng.normal(size=2)
    aim = aim / np.linalg.norm(aim) * rng.uniform(0, r["aim_offset"])
    background = 255 if rng.random() < 0.5 else int(rng.integers(r["background_grey"][0], r["background_grey"][1]))
    return {
        "azimuth_deg": round(float(rng.uniform(*r["azimuth_deg"])), 2),
        "inclination_deg": round(float(rng.uniform(*r["inclination_deg"])), 2),
        "camera_distance": round(float(rng.uniform(*r["camera_distance"])), 3),
        "aim_offset": [round(float(a), 4) for a in aim],
        "fill": round(float(rng.uniform(*r["fill"])), 3),
        "lights": lights,
        "ambient": round(float(rng.uniform(*r["ambient"])), 3),
        "specular": round(float(rng.uniform(*r["specular"])), 3),
        "shininess": round(float(rng.uniform(*r["shininess"])), 1),
        "texture": "stripes" if rng.random() < 0.4 else "noise",
        "texture_amplitude": round(float(rng.uniform(*r["texture_amplitude"])), 3),
        "texture_frequency": round(float(rng.uniform(3.0, 10.0)), 2),
        "texture_seed": int(rng.integers(2**31)),
        "height_bands": int(rng.integers(r["height_bands"][0], r["height_bands"][1] + 1)),
        "accent_tops": bool(rng.random() < 0.5),
        "palette": _palette(rng, 8),
        "background": background,
        "jpeg_quality": int(rng.integers(r["jpeg_quality"][0], r["jpeg_quality"][1] + 1)),
    }


# --------------------------------------------------------------------------------------------
# Surface colour: regions and texture
# --------------------------------------------------------------------------------------------


def face_regions(mesh: trimesh.Trimesh, height_bands: int, accent_tops: bool) -> np.ndarray:
    """A region number per face: connected part × height band of the face's centre, and
    (with ``accent_tops``) one more region for faces that look straight up (seats, table tops)."""
    components = trimesh.graph.connected_component_labels(mesh.face_adjacency, node_count=len(mesh.faces))
    heights = mesh.triangles_center[:, 1]
    edges = np.linspace(heights.min(), heights.max(), height_bands + 1)[1:-1]
    bands = np.searchsorted(edges, heights)
    regions = components * height_bands + bands
    if accent_tops:
        regions = np.where(mesh.face_normals[:, 1] > 0.9, regions.max() + 1, regions)
    return regions


def _value_noise(points: np.ndarray, frequency: float, seed: int) -> np.ndarray:
    """Smooth noise in about [-1, 1] at ``points`` (two octaves of trilinear value noise on a lattice)."""
    from scipy import ndimage

    lattice = np.random.default_rng(seed).uniform(-1.0, 1.0, size=(2, 24, 24, 24))
    total = np.zeros(len(points))
    for octave, weight in ((1.0, 0.67), (2.3, 0.33)):
        coords = ((points + 0.5) * frequency * octave).T  # lattice units; wraps around
        total += weight * ndimage.map_coordinates(lattice[int(octave > 1)], coords, order=1, mode="grid-wrap")
    return total


def surface_texture(points: np.ndarray, settings: dict) -> np.ndarray:
    """A brightness factor around 1 at each surface point: noise, or wood-like stripes."""
    noise = _value_noise(points, settings["texture_frequency"], settings["texture_seed"])
    if settings["texture"] == "stripes":
        axis = np.random.default_rng(settings["texture_seed"]).normal(size=3)
        axis /= np.linalg.norm(axis)
        pattern = np.sin(2 * np.pi * settings["texture_frequency"] * (points @ axis) + 3.0 * noise)
    else:
        pattern = noise
    return 1.0 + settings["texture_amplitude"] * pattern


# --------------------------------------------------------------------------------------------
# Rendering
# --------------------------------------------------------------------------------------------


def _camera(mesh: trimesh.Trimesh, settings: dict):
    """Camera position, its (forward, right, up) basis and the half width of its image plane at
    unit distance, such that the whole mesh fills ``fill`` of half the frame at most."""
    position = settings["camera_distance"] * direction_from_angles(settings["azimuth_deg"], settings["inclination_deg"])
    forward, right, up = camera_basis(position)
    target = settings["aim_offset"][0] * right + settings["aim_offset"][1] * up
    forward, right, up = camera_basis(position - target)  # look at the (off-centre) target
    relative = mesh.vertices - position
    depth = relative @ forward
    extent = np.max(np.abs(np.stack([relative @ right, relative @ up], axis=1)) / depth[:, None])
    return position, (forward, right, up), extent / settings["fill"]


def render_foreign(mesh: trimesh.Trimesh, settings: dict, size: int = FOREIGN_SIZE) -> np.ndarray:
    """The RGB picture (uint8 ``[size, size, 3]``, before JPEG) of a mesh under ``settings``
    (:func:`draw_settings`)."""
    check_mesh(mesh)
    position, (forward, right, up), half_width = _camera(mesh, settings)
    fine = size * SUPERSAMPLING
    coords = (np.arange(fine) + 0.5 - fine / 2.0) * (half_width / (fine / 2.0))
    cols, rows = np.meshgrid(coords, -coords, indexing="xy")
    directions = forward[None, :] + cols.reshape(-1, 1) * right[None, :] + rows.reshape(-1, 1) * up[None, :]
    directions /= np.linalg.norm(directions, axis=1, keepdims=True)
    origins = np.broadcast_to(position, directions.shape)
    face, ray, hits = ray_intersector(mesh).intersects_id(origins, directions, multiple_hits=False, return_locations=True)

    image = np.empty((len(directions), 3))
    image[:] = settings["background"] / 255.0
    if len(ray):
        normals = mesh.face_normals[face].copy()
        to_eye = -directions[ray]
        normals[np.einsum("ij,ij->i", normals, to_eye) < 0] *= -1.0  # light the side the camera sees
        regions = face_regions(mesh, settings["height_bands"], settings["accent_tops"])[face]
        palette = np.asarray(settings["palette"])
        albedo = palette[regions % len(palette)] * surface_texture(hits, settings)[:, None]
        colour = settings["ambient"] * albedo
        for light in settings["lights"]:
            to_light = direction_from_angles(light["azimuth_deg"], light["elevation_deg"])  # in the camera's frame
            to_light = to_light[0] * right + to_light[1] * up + to_light[2] * forward  # angle 0 points back at the camera
            tint = light["intensity"] * np.asarray(light["colour"])
            diffuse = np.clip(normals @ to_light, 0.0, None)
            halfway = to_eye + to_light
            halfway /= np.linalg.norm(halfway, axis=1, keepdims=True)
            specular = settings["specular"] * np.clip(np.einsum("ij,ij->i", normals, halfway), 0.0, None) ** settings["shininess"]
            colour += (diffuse[:, None] * albedo + specular[:, None] * (diffuse > 0)[:, None]) * tint[None, :]
        image[ray] = colour
    image = image.reshape(size, SUPERSAMPLING, size, SUPERSAMPLING, 3).mean(axis=(1, 3))
    return np.round(255.0 * np.clip(image, 0.0, 1.0)).astype(np.uint8)


def jpeg_bytes(rgb: np.ndarray, quality: int) -> bytes:
    """An RGB uint8 picture compressed as JPEG at ``quality`` (1-95)."""
    from PIL import Image

    buffer = io.BytesIO()
    Image.fromarray(np.ascontiguousarray(rgb, dtype=np.uint8)).save(buffer, format="JPEG", quality=int(quality))
    return buffer.getvalue()


def picture_rng(seed: int, shape_index: int, view: int) -> np.random.Generator:
    """The random stream of one picture: the same (seed, shape, view) always gives the same picture."""
    return np.random.default_rng([seed, shape_index, view])


def render_foreign_picture(mesh: trimesh.Trimesh, seed: int, shape_index: int = 0, view: int = 0) -> tuple[bytes, dict]:
    """The JPEG file content of one foreign picture and the settings it was drawn with."""
    settings = draw_settings(picture_rng(seed, shape_index, view))
    return jpeg_bytes(render_foreign(mesh, settings), settings["jpeg_quality"]), settings


# --------------------------------------------------------------------------------------------
# The foreign test set
# --------------------------------------------------------------------------------------------


def foreign_dir(profile: config.Profile) -> Path:
    """Default folder of a profile's foreign set: ``<data root>/<profile>_foreign``."""
    return config.data_root() / f"{profile.name}_foreign"


def index_path(folder: str | Path) -> Path:
    return Path(folder) / "index.json"


def build_foreign_set(profile: config.Profile, views: int = 2, seed: int = 0, out: str | Path | None = None,
                      progress: bool = True, test_file: str | Path | None = None) -> Path:  # fmt: skip
    """Render every test shape of a profile's dataset (or of ``test_file``) ``views`` times the foreign way.

    Writes ``<out>/<shape name>_<view>.jpg`` and ``<out>/index.json`` (one entry per picture:
    file, name, category, shape index in the test split, view number, and all its settings;
    plus the dataset's fingerprint and the ranges drawn from). Every file is written atomically
    and the index last. Returns the index's path.
    """
    from tqdm.auto import tqdm

    if views < 1:
        raise ValueError(f"views must be at least 1, got {views}")
    test_file = Path(test_file) if test_file is not None else data.split_path(data.ensure_dataset(profile, progress=progress), "test")
    out = Path(out) if out is not None else foreign_dir(profile)
    split = data.read_split(test_file, ())
    pictures = []
    jobs = [(i, v) for i in range(len(split["names"])) for v in range(views)]
    for shape_index, view in tqdm(jobs, desc="foreign pictures", disable=not progress):
        name = split["names"][shape_index]
        content, settings = render_foreign_picture(data.read_mesh(test_file, shape_index), seed, shape_index, view)
        file = f"{name}_{view}.jpg"
        with provenance.atomic_path(out / file) as tmp:
            tmp.write_bytes(content)
        pictures.append({"file": file, "name": name, "category": split["categories"][shape_index], "shape_index": shape_index,
                         "view": view, **settings})  # fmt: skip
    index = {
        "profile": profile.name, "seed": seed, "views": views, "size": FOREIGN_SIZE, "supersampling": SUPERSAMPLING,
        "test_file": str(test_file), "dataset_fingerprint": data.read_attrs(test_file).get("fingerprint"),
        "ranges": RANGES, "pictures": pictures,
    }  # fmt: skip
    path = index_path(out)
    with provenance.atomic_path(path) as tmp:
        tmp.write_text(json.dumps(index, indent=1) + "\n")
    return path


def read_foreign_index(folder: str | Path) -> dict:
    """The index of a foreign set, with a one-line error naming the file when it is missing or broken."""
    path = index_path(folder)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no foreign set here (build one with `python -m tutorial_lib data foreign`)")
    try:
        return json.loads(path.read_text())
    except json.JSONDecodeError as exc:
        raise ValueError(f"{path}: not a valid index ({exc})") from None
