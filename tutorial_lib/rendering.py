"""Headless ray-cast rendering: the dataset's grey views, and silhouettes.

The talk's image spec ("Dataset - Images"): 137×137 pixels, camera on a sphere of radius 1.5
around the centre, random azimuth in (−180°, 180°) and inclination in (−40°, 40°), a light
1.5 units from the centre, 9 pixels of padding on each side.

Camera angles: azimuth 0°, inclination 0° looks at the object's front (the camera sits on
−Z); azimuth 90° looks at its right side (+X); positive inclination looks from above.

The field of view is the same for every shape and view: it is set so that the whole cube a
normalised mesh may occupy (see :func:`tutorial_lib.geometry.fit_half_extent`) projects
inside the image minus its padding. The padding is therefore always white, and the image
scale means the same thing for every shape, which the image encoder relies on.

Every pixel shows what the ray through its centre meets first, shaded as a ray tracer would
(a shadow ray towards the light decides cast shadows). The rays are not traced one by one: a
compiled kernel (numba, :mod:`tutorial_lib._raster`) projects each triangle onto the image and
keeps the nearest at every pixel centre inside it (a z-buffer), and finds what blocks the
shadow rays, which all run towards one light, the same way. No OpenGL or display is needed,
so this runs on servers and in CI. :func:`_render_views_raycast` is the same picture made by
casting every ray with Embree through trimesh (the dataset's renderer before version 2 of
its rendering; kept to check the kernel against: the two differ in fewer than one pixel per million).

:func:`render_logit_grid` draws a decoder's occupancy field with the same camera and light
in torch, differentiably (volume rendering), so that a picture's gradient reaches the shape's
z: notebook 06 dreams shapes with it (:func:`tutorial_lib.dream.dream_shapes`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
import trimesh

from .config import CROP_SIZE, IMAGE_PADDING, IMAGE_SIZE
from .geometry import check_mesh, fit_half_extent, ray_intersector

CAMERA_DISTANCE = 1.5
LIGHT_DISTANCE = 1.5
#: The light sits this far from the camera, up and to the viewer's left, so that faces turned
#: towards different directions get different greys and the form reads.
LIGHT_OFFSET_DEG = (-35.0, 35.0)  # (azimuth, inclination) relative to the camera
AMBIENT = 0.18
DIFFUSE = 0.72  # brightest lit surface: AMBIENT + DIFFUSE = 0.9, distinct from the white background
SHADOW = 0.45  # fraction of the diffuse light a point in shadow still gets


@dataclass(frozen=True)
class View:
    azimuth: float  # degrees
    inclination: float  # degrees


def random_views(count: int, rng: np.random.Generator, azimuth_range=(-180.0, 180.0), inclination_range=(-40.0, 40.0)) -> np.ndarray:
    """``count`` random (azimuth, inclination) pairs in degrees, as a float32 array ``[count, 2]``."""
    azimuth = rng.uniform(*azimuth_range, size=count)
    inclination = rng.uniform(*inclination_range, size=count)
    return np.stack([azimuth, inclination], axis=1).astype(np.float32)


def direction_from_angles(azimuth_deg, inclination_deg) -> np.ndarray:
    """Unit vector from the centre towards a camera at the given azimuth and inclination."""
    az = np.radians(np.asarray(azimuth_deg, dtype=np.float64))
    el = np.radians(np.asarray(inclination_deg, dtype=np.float64))
    return np.stack([np.sin(az) * np.cos(el), np.sin(el), -np.cos(az) * np.cos(el)], axis=-1)


def camera_basis(position: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(forward, right, up) unit vectors of a camera at ``position`` looking at the origin, Y up."""
    forward = -position / np.linalg.norm(position)
    right = np.cross(forward, [0.0, 1.0, 0.0])
    if np.linalg.norm(right) < 1e-8:  # looking straight down or up: any right vector will do
        right = np.array([1.0, 0.0, 0.0])
    right /= np.linalg.norm(right)
    up = np.cross(right, forward)
    return forward, right, up


def _camera_bases(positions: np.ndarray) -> np.ndarray:
    """:func:`camera_basis` of many cameras at once: ``[V, 3 (forward, right, up), 3]``."""
    forward = -positions / np.linalg.norm(positions, axis=1, keepdims=True)
    right = np.cross(forward, [0.0, 1.0, 0.0])
    length = np.linalg.norm(right, axis=1, keepdims=True)
    straight = length[:, 0] < 1e-8  # looking straight down or up: any right vector will do
    right = np.where(straight[:, None], [1.0, 0.0, 0.0], right / np.where(straight[:, None], 1.0, length))
    return np.stack([forward, right, np.cross(right, forward)], axis=1)


def fit_radius() -> float:
    """Radius of the sphere that holds every normalised mesh (the corner of its cube)."""
    return float(np.sqrt(3.0) * fit_half_extent())


def _pixel_offsets(size: int, padding: int, half_width: float) -> tuple[np.ndarray, np.ndarray]:
    """Image-plane offsets of the pixel centres: the inner ``size - 2*padding`` pixels span
    ``[-half_width, half_width]``; rows go down, columns go right."""
    scale = half_width / ((size - 2 * padding) / 2.0)
    coords = (np.arange(size) + 0.5 - size / 2.0) * scale
    cols, rows = np.meshgrid(coords, coords, indexing="xy")
    return cols.ravel(), -rows.ravel()


def perspective_rays(views: np.ndarray, size: int = IMAGE_SIZE, padding: int = IMAGE_PADDING, distance: float = CAMERA_DISTANCE, radius: float | None = None):
    """Ray origins and unit directions for every pixel of every view: arrays ``[V*size*size, 3]``.

    The field of view fits a sphere of ``radius`` (default :func:`fit_radius`) inside the
    image minus its padding.
    """
    views = np.asarray(views, dtype=np.float64).reshape(-1, 2)
    radius = fit_radius() if radius is None else radius
    # A sphere of radius r seen from distance d fills the cone of half-angle asin(r/d); on the
    # image plane at unit distance that is a disc of radius tan(asin(r/d)).
    half_width = radius / np.sqrt(distance**2 - radius**2)
    du, dv = _pixel_offsets(size, padding, half_width)
    origins, directions = [], []
    for azimuth, inclination in views:
        position = distance * direction_from_angles(azimuth, inclination)
        forward, right, up = camera_basis(position)
        d = forward[None, :] + du[:, None] * right[None, :] + dv[:, None] * up[None, :]
        directions.append(d / np.linalg.norm(d, axis=1, keepdims=True))
        origins.append(np.broadcast_to(position, d.shape))
    return np.concatenate(origins), np.concatenate(directions)


def render_views(
    mesh: trimesh.Trimesh,
    views: np.ndarray,
    size: int = IMAGE_SIZE,
    padding: int = IMAGE_PADDING,
    shadows: bool = True,
    radius: float | None = None,
) -> np.ndarray:
    """Grey renderings of a normalised mesh, uint8 ``[V, size, size]``, white background.

    Flat Lambertian shading from a point light ``LIGHT_DISTANCE`` from the centre, placed
    relative to each camera (so that every view is lit alike), with an ambient term and,
    optionally, cast shadows. Faces are lit from whichever side the camera sees, so meshes
    with inconsistent normals still render sensibly. ``radius`` zooms: the sphere of that
    radius fills the frame (default: the dataset's fixed framing, :func:`fit_radius`).
    """
    check_mesh(mesh)
    from . import _raster

    views = np.asarray(views, dtype=np.float64).reshape(-1, 2)
    radius = fit_radius() if radius is None else radius
    half_width = radius / np.sqrt(CAMERA_DISTANCE**2 - radius**2)  # as perspective_rays frames it
    coords = (np.arange(size) + 0.5 - size / 2.0) * (half_width / ((size - 2 * padding) / 2.0))  # pixel centres, as _pixel_offsets
    positions = CAMERA_DISTANCE * direction_from_angles(views[:, 0], views[:, 1]).reshape(-1, 3)
    bases = _camera_bases(positions)
    lights = LIGHT_DISTANCE * direction_from_angles(views[:, 0] + LIGHT_OFFSET_DEG[0], np.clip(views[:, 1] + LIGHT_OFFSET_DEG[1], -89.0, 89.0))
    grey = _raster._render(
        np.ascontiguousarray(mesh.vertices, dtype=np.float64),
        np.ascontiguousarray(mesh.faces, dtype=np.int64),
        np.ascontiguousarray(mesh.face_normals, dtype=np.float64),
        np.ascontiguousarray(positions),
        np.ascontiguousarray(bases[:, 0]),
        np.ascontiguousarray(bases[:, 1]),
        np.ascontiguousarray(bases[:, 2]),
        np.ascontiguousarray(lights.reshape(-1, 3)),
        coords,
        bool(shadows),
        AMBIENT,
        DIFFUSE,
        SHADOW,
        _outward(mesh),
    )
    return np.round(grey).astype(np.uint8).reshape(len(views), size, size)


def _render_views_raycast(
    mesh: trimesh.Trimesh,
    views: np.ndarray,
    size: int = IMAGE_SIZE,
    padding: int = IMAGE_PADDING,
    shadows: bool = True,
    radius: float | None = None,
) -> np.ndarray:
    """:func:`render_views` by casting one ray per pixel (and one per lit pixel towards the light)
    with Embree: slower, and the reference the compiled kernel is tested against."""
    check_mesh(mesh)
    views = np.asarray(views, dtype=np.float64).reshape(-1, 2)
    origins, directions = perspective_rays(views, size, padding, radius=radius)
    intersector = ray_intersector(mesh)
    face, ray, hits = intersector.intersects_id(origins, directions, multiple_hits=False, return_locations=True)

    image = np.full(len(origins), 255.0)
    if len(ray):
        normals = mesh.face_normals[face]
        facing_away = np.einsum("ij,ij->i", normals, directions[ray]) > 0
        normals[facing_away] *= -1.0
        view_of_ray = ray // (size * size)
        lights = LIGHT_DISTANCE * direction_from_angles(
            views[view_of_ray, 0] + LIGHT_OFFSET_DEG[0], np.clip(views[view_of_ray, 1] + LIGHT_OFFSET_DEG[1], -89.0, 89.0)
        )
        to_light = lights - hits
        light_distance = np.linalg.norm(to_light, axis=1)
        to_light /= light_distance[:, None]
        diffuse = np.clip(np.einsum("ij,ij->i", normals, to_light), 0.0, 1.0)
        if shadows:
            lit = diffuse > 0
            starts = hits[lit] + normals[lit] * 1e-4
            blocked_index, blocked_ray, blocked_at = intersector.intersects_id(starts, to_light[lit], multiple_hits=False, return_locations=True)
            # Only geometry between the point and the light casts a shadow.
            in_front = np.linalg.norm(blocked_at - starts[blocked_ray], axis=1) < light_distance[lit][blocked_ray]
            shade = np.ones(lit.sum())
            shade[blocked_ray[in_front]] = SHADOW
            diffuse[lit] *= shade
        image[ray] = 255.0 * (AMBIENT + DIFFUSE * diffuse)
    return np.round(image).astype(np.uint8).reshape(len(views), size, size)


def _outward(mesh: trimesh.Trimesh) -> int:
    """+1 (-1) for a closed mesh whose face normals all point out of (into) it, else 0."""
    if not (mesh.is_watertight and mesh.is_winding_consistent):
        return 0
    return 1 if mesh.volume >= 0 else -1


def orthographic_silhouettes(mesh: trimesh.Trimesh, directions: np.ndarray, size: int = 256, radius: float | None = None) -> np.ndarray:
    """Binary silhouettes seen along each unit vector of ``directions`` (orthographic), ``[V, size, size]``.

    The view is centred on the origin and spans ``[-radius, radius]`` in both image axes
    (default: the largest vertex distance from the origin, so the mesh just fits). Used by the
    light field descriptor, which compares silhouettes from the vertices of a dodecahedron.
    """
    check_mesh(mesh)
    directions = np.asarray(directions, dtype=np.float64).reshape(-1, 3)
    if radius is None:
        radius = float(np.linalg.norm(mesh.vertices, axis=1).max())
    du, dv = _pixel_offsets(size, 0, radius)
    origins, rays = [], []
    for direction in directions:
        direction = direction / np.linalg.norm(direction)
        # The camera sits outside the mesh, looking along -direction towards the centre.
        forward, right, up = camera_basis(direction * 3.0 * radius)
        o = 3.0 * radius * direction[None, :] + du[:, None] * right[None, :] + dv[:, None] * up[None, :]
        origins.append(o)
        rays.append(np.broadcast_to(forward, o.shape))
    hit = ray_intersector(mesh).intersects_any(np.concatenate(origins), np.concatenate(rays))
    return hit.reshape(len(directions), size, size)


# --------------------------------------------------------------------------------------------
# A differentiable renderer of a decoded occupancy field (dreaming a shape: notebook 06)
# --------------------------------------------------------------------------------------------


def crop_rays(views, size: int = 64, samples: int = 40):
    """The rays of the pixels of the networks' 128×128 centre crop, as :func:`perspective_rays` casts them.

    ``views``: (azimuth, inclination) pairs in degrees, ``[V, 2]``. The crop is sampled at
    ``size``×``size`` pixels (its pixels' centres; 128 gives the crop's own pixels), and each ray
    at ``samples`` evenly spaced points through the sphere that holds every normalised mesh.
    Returns torch tensors: ``points [V, size, size, samples, 3]`` (world coordinates),
    ``directions [V, size, size, 3]`` (unit) and ``lights [V, 3]`` (the light's position of
    each view, placed as :func:`render_views` places it).
    """
    views = np.asarray(views, dtype=np.float64).reshape(-1, 2)
    radius = fit_radius()
    half_width = radius / np.sqrt(CAMERA_DISTANCE**2 - radius**2)
    scale = half_width / ((IMAGE_SIZE - 2 * IMAGE_PADDING) / 2.0)  # image-plane units per pixel of the 137-pixel image
    first = (IMAGE_SIZE - CROP_SIZE) // 2  # the crop starts at this row and column (images.center_crop)
    centres = first + (np.arange(size) + 0.5) * CROP_SIZE / size  # pixel centres of the crop, in 137-image pixels
    offsets = (centres - IMAGE_SIZE / 2.0) * scale
    cols, rows = np.meshgrid(offsets, offsets, indexing="xy")
    depths = np.linspace(CAMERA_DISTANCE - radius, CAMERA_DISTANCE + radius, samples)
    points, directions, lights = [], [], []
    for azimuth, inclination in views:
        position = CAMERA_DISTANCE * direction_from_angles(azimuth, inclination)
        forward, right, up = camera_basis(position)
        d = forward + cols[..., None] * right - rows[..., None] * up
        d /= np.linalg.norm(d, axis=-1, keepdims=True)
        points.append(position + d[..., None, :] * depths[:, None])
        directions.append(d)
        lights.append(LIGHT_DISTANCE * direction_from_angles(azimuth + LIGHT_OFFSET_DEG[0], np.clip(inclination + LIGHT_OFFSET_DEG[1], -89.0, 89.0)))
    as_tensor = lambda values: torch.as_tensor(np.stack(values), dtype=torch.float32)  # noqa: E731
    return as_tensor(points), as_tensor(directions), as_tensor(lights)


def render_logit_grid(logits, rays, sharpness: float = 1.0):
    """Grey pictures ``[B, 1, H, W]`` in [0, 1] of occupancy fields given as logits on a voxel-centre grid.

    ``logits``: ``[B, n, n, n]``, a decoder's output at :func:`~tutorial_lib.geometry.grid_points`
    of ``n`` (> 0 inside), indexed ``[x, y, z]``; ``rays``: :func:`crop_rays` for B views.
    Differentiable in ``logits``, so a gradient on the picture reaches the decoder's z.

    Volume rendering (Max 1995; NeRF's compositing): along each ray, the field is sampled
    (trilinearly, from the logits, so a part thinner than a cell still crosses zero), the
    opacity of a sample is ``sigmoid(sharpness · logit)``, and the first opaque samples hide the
    rest (transmittance, a running product of ``1 − opacity``). Each sample is shaded the way
    :func:`render_views` shades a face — ``AMBIENT + DIFFUSE · max(0, n · l)`` towards the
    same light — with the normal taken from the field's gradient (it points out of the shape,
    where the logit falls); cast shadows are left out. What no sample covers stays white.
    """
    points, directions, lights = rays
    batch, height, width, samples, _ = points.shape
    gradient = torch.stack(torch.gradient(logits, dim=(1, 2, 3)), dim=1)  # [B, 3, n, n, n]: d/dx, d/dy, d/dz
    volume = torch.cat([logits[:, None], gradient], dim=1)
    # grid_sample reads (x, y, z) as (last, middle, first) axis of the volume, in [-1, 1] across the cube [-0.5, 0.5]³
    where = (2.0 * points).flip(-1).reshape(batch, 1, height, width * samples, 3)
    sampled = F.grid_sample(volume, where.to(volume), mode="bilinear", padding_mode="border", align_corners=False)
    sampled = sampled.reshape(batch, 4, height, width, samples)
    in_cube = (points.abs() <= 0.5).all(dim=-1).to(volume)
    opacity = torch.sigmoid(sharpness * sampled[:, 0]) * in_cube
    transmittance = torch.cumprod(torch.cat([torch.ones_like(opacity[..., :1]), 1.0 - opacity[..., :-1]], dim=-1), dim=-1)
    weight = transmittance * opacity  # how much each sample is seen
    normal = -sampled[:, 1:].permute(0, 2, 3, 4, 1)
    normal = normal / (normal.norm(dim=-1, keepdim=True) + 1e-6)
    towards_camera = (normal * directions[:, :, :, None, :].to(volume)).sum(-1, keepdim=True) > 0
    normal = torch.where(towards_camera, -normal, normal)  # lit from whichever side the camera sees, as render_views does
    to_light = lights[:, None, None, None, :].to(volume) - points.to(volume)
    to_light = to_light / to_light.norm(dim=-1, keepdim=True)
    shade = AMBIENT + DIFFUSE * (normal * to_light).sum(-1).clamp(0.0, 1.0)
    picture = 1.0 - weight.sum(-1) + (weight * shade).sum(-1)
    return picture[:, None]
