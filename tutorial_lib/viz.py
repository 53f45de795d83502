"""Pictures: static matplotlib figures (saved under :func:`config.figures_dir`) and interactive k3d views.

Every interactive k3d view in a notebook has a static twin made here, so that a reader
without a widget front end (GitHub, nbviewer, a PDF) still sees the object.

* :func:`render_mesh_image` – a shaded grey picture of a mesh from any angle (our ray caster).
* :func:`voxel_boxes` – voxels as a blocky mesh (only the faces between filled and empty
  voxels), so voxels can be rendered like any mesh.
* :func:`show_images` – a grid of images with titles.
* :func:`plot_points` – a 3D scatter of a point cloud, coloured by value.
* :func:`k3d_mesh`, :func:`k3d_voxels`, :func:`k3d_points` – interactive views.
* :func:`save_figure` – write a figure to ``<figures dir>/<name>.png`` (``build/figures`` unless ``make figures``).
* :class:`LiveTrainingPlot` – a loss curve (and a logged metric) redrawn while a model trains.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import trimesh

from .config import figures_dir
from .rendering import render_views


def save_figure(fig, name: str, dpi: int = 110) -> Path:
    """Save ``fig`` as ``<figures dir>/<name>.png`` and return the path (see :func:`config.figures_dir`)."""
    from .provenance import atomic_path

    path = figures_dir() / f"{name}.png"
    with atomic_path(path) as tmp:  # a full disk or a kill leaves the old figure, never half of one
        fig.savefig(tmp, dpi=dpi, bbox_inches="tight", format="png")
    return path


def render_mesh_image(
    mesh: trimesh.Trimesh, azimuth: float = -35.0, inclination: float = 25.0, size: int = 256, padding: int = 8, radius: float | None = 0.62
) -> np.ndarray:
    """A shaded grey image (uint8, white background) of a mesh in the [-0.5, 0.5]³ cube.

    ``radius`` sets the zoom: a sphere of that radius fills the image. The default frames a
    typical normalised shape; ``None`` uses the dataset's framing, where any shape fits.
    """
    if len(mesh.faces) == 0:
        return np.full((size, size), 255, np.uint8)
    return render_views(mesh, np.array([[azimuth, inclination]]), size=size, padding=padding, radius=radius)[0]


def voxel_boxes(voxels: np.ndarray) -> trimesh.Trimesh:
    """The surface of a voxel grid as a mesh of square faces (two triangles each).

    Only faces between a filled voxel and an empty one (or the grid's border) are made, so a
    64³ grid gives tens of thousands of faces, not millions.
    """
    voxels = np.asarray(voxels, dtype=bool)
    n = voxels.shape[0]
    padded = np.pad(voxels, 1)
    corners = np.array([[0, 0, 0], [1, 0, 0], [1, 1, 0], [0, 1, 0], [0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]], float)
    # For each of the 6 directions: the neighbour offset and the quad's corner ids, ordered so
    # that the face normal points out of the filled voxel.
    faces_of = {(-1, 0, 0): [0, 4, 7, 3], (1, 0, 0): [1, 2, 6, 5], (0, -1, 0): [0, 1, 5, 4],
                (0, 1, 0): [3, 7, 6, 2], (0, 0, -1): [0, 3, 2, 1], (0, 0, 1): [4, 5, 6, 7]}  # fmt: skip
    vertices, triangles = [], []
    count = 0
    for (dx, dy, dz), quad in faces_of.items():
        neighbour = padded[1 + dx : n + 1 + dx, 1 + dy : n + 1 + dy, 1 + dz : n + 1 + dz]
        index = np.argwhere(voxels & ~neighbour)
        if not len(index):
            continue
        quad_vertices = (index[:, None, :] + corners[quad][None]) / n - 0.5  # [F, 4, 3] cell corners in world units
        vertices.append(quad_vertices.reshape(-1, 3))
        base = count + 4 * np.arange(len(index))[:, None]
        triangles.append(np.concatenate([base + [0, 1, 2], base + [0, 2, 3]]))
        count += 4 * len(index)
    if not vertices:
        return trimesh.Trimesh()
    return trimesh.Trimesh(np.concatenate(vertices), np.concatenate(triangles), process=True)


def show_images(images, titles=None, columns: int = 5, size: float = 2.2, cmap: str = "gray", suptitle: str | None = None):
    """A grid of images (uint8 grey or float) with optional titles; returns the figure."""
    images = list(images)
    rows = int(np.ceil(len(images) / columns))
    fig, axes = plt.subplots(rows, columns, figsize=(columns * size, rows * size), squeeze=False)
    for ax in axes.flat:
        ax.axis("off")
    for i, image in enumerate(images):
        ax = axes.flat[i]
        ax.imshow(image, cmap=cmap, vmin=0, vmax=255 if np.asarray(image).dtype == np.uint8 else None)
        if titles is not None:
            ax.set_title(titles[i], fontsize=9)
    if suptitle:
        fig.suptitle(suptitle)
    fig.tight_layout()
    return fig


def plot_points(points: np.ndarray, values=None, ax=None, size: float = 1.0, title: str | None = None, elev: float = 20, azim: float = -60):
    """3D scatter of a point cloud in the canonical frame (Y drawn upwards), coloured by ``values``."""
    if ax is None:
        fig = plt.figure(figsize=(4, 4))
        ax = fig.add_subplot(projection="3d")
    points = np.asarray(points)
    # matplotlib's 3D axes draw Z upwards: show our Y (up) on its vertical axis, our Z as depth.
    colors = None if values is None else np.asarray(values).reshape(-1)
    ax.scatter(points[:, 0], points[:, 2], points[:, 1], c=colors, s=size, cmap="coolwarm", vmin=0, vmax=1, depthshade=False, linewidths=0)
    ax.set(xlim=(-0.5, 0.5), ylim=(-0.5, 0.5), zlim=(-0.5, 0.5), xlabel="x", ylabel="z", zlabel="y")
    ax.view_init(elev=elev, azim=azim)
    ax.set_box_aspect((1, 1, 1))
    if title:
        ax.set_title(title, fontsize=9)
    return ax


def _k3d():
    import k3d

    return k3d


def k3d_mesh(mesh: trimesh.Trimesh, color: int = 0x6A8CAF, plot=None, **kwargs):
    """An interactive mesh view (returns the k3d plot; display it by leaving it last in a cell)."""
    k3d = _k3d()
    plot = plot if plot is not None else k3d.plot(grid_visible=False, **kwargs)
    plot += k3d.mesh(np.asarray(mesh.vertices, np.float32), np.asarray(mesh.faces, np.uint32), color=color, flat_shading=True)
    return plot


def k3d_voxels(voxels: np.ndarray, color: int = 0x6A8CAF, plot=None, **kwargs):
    """Voxels as interactive cubes in world coordinates."""
    k3d = _k3d()
    plot = plot if plot is not None else k3d.plot(grid_visible=False, **kwargs)
    # k3d.voxels indexes its array [z, y, x]; ours is [x, y, z].
    plot += k3d.voxels(np.transpose(np.asarray(voxels, np.uint8), (2, 1, 0)), color_map=[color], outlines=False,
                       bounds=[-0.5, 0.5, -0.5, 0.5, -0.5, 0.5], compression_level=1)  # fmt: skip
    return plot


def k3d_points(points: np.ndarray, values=None, point_size: float = 0.01, plot=None, **kwargs):
    """A point cloud; points with value 1 in red, 0 in blue (or one colour without values)."""
    k3d = _k3d()
    plot = plot if plot is not None else k3d.plot(grid_visible=False, **kwargs)
    points = np.asarray(points, np.float32)
    if values is None:
        plot += k3d.points(points, point_size=point_size, color=0x3366CC, shader="flat")
    else:
        colors = np.where(np.asarray(values).reshape(-1) > 0.5, 0xD62728, 0x1F77B4).astype(np.uint32)
        plot += k3d.points(points, point_size=point_size, colors=colors, shader="flat")
    return plot


class LiveTrainingPlot:
    """A figure of the training loss (and optionally one logged metric) that redraws in place.

    Pass ``plot.update`` as the ``callback`` of :func:`tutorial_lib.training.train` (or of a
    recipe built on it). In Jupyter the figure under the cell is replaced at every update; in
    a plain script or under papermill it is drawn once more at the end, which is harmless.
    """

    def __init__(self, metric: str | None = None, title: str = "training", x: str = "seconds", metric_limits: tuple | None = (0, 1)):
        from IPython.display import display

        self.metric, self.x, self.metric_limits = metric, x, metric_limits
        self.fig, axes = plt.subplots(1, 2 if metric else 1, figsize=(10 if metric else 5.5, 3.2))
        self.axes = np.atleast_1d(axes)
        self.fig.suptitle(title)
        plt.close(self.fig)  # shown through the display handle only, not again at the end of the cell
        self.handle = display(self.fig, display_id=True)

    def update(self, history, step: int | None = None) -> None:
        loss_ax = self.axes[0]
        loss_ax.clear()
        history.plot(ax=loss_ax, x=self.x)
        if self.metric:
            ax = self.axes[1]
            ax.clear()
            logged = history.metrics.get(self.metric, [])
            if logged:
                steps, values = zip(*logged)
                seconds = np.interp(steps, history.step, history.seconds) if self.x == "seconds" else steps
                ax.plot(seconds, values, "o-", color="C1")
            ax.set(xlabel=self.x, ylabel=self.metric.replace("_", " "), ylim=self.metric_limits)
            ax.grid(alpha=0.3)
        self.fig.tight_layout()
        if self.handle is not None:
            self.handle.update(self.fig)
