"""Draw the tutorial's concept diagrams (the talk's slides) with matplotlib.

    python scripts/draw_diagrams.py              # PNGs into figures/diagrams/
    python scripts/draw_diagrams.py --svg        # SVGs beside them
    python scripts/draw_diagrams.py --only imnet --out /tmp/diagrams

Every diagram is deterministic (no randomness without a fixed seed; PNG metadata without a
date). Layer sizes are read from the real modules of ``tutorial_lib.models`` (a forward pass
with hooks or the layers' own sizes), the LFD cameras from ``tutorial_lib.metrics``, the point
budgets from ``tutorial_lib.config``: when the code changes, running this again redraws the truth.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch, Rectangle  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DEFAULT_OUT = REPO / "figures" / "diagrams"
DPI = 110

# One colour per kind of thing, the same in every diagram.
COLORS = {
    "data": "#dbe9f6",  # inputs and outputs: images, voxels, meshes
    "conv": "#fde2c4",  # convolutions
    "dense": "#d9f0d3",  # fully connected layers
    "code": "#f4cccc",  # the latent code z
    "op": "#eeeeee",  # operations without weights (pooling, marching cubes, sums)
    "loss": "#e6dcf2",  # critics, scores, losses
}
# The quick profile's width of notebook 02's CategoryCNN (its CNN_SETTINGS["quick"]["width"]).
NOTEBOOK_02_CNN_WIDTH = 8


# ----------------------------------------------------------------------------- drawing helpers
def _canvas(width: float, height: float, inches_per_unit: float = 1.0):
    fig = plt.figure(figsize=(width * inches_per_unit, height * inches_per_unit))
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_aspect("equal")
    ax.axis("off")
    return fig, ax


def _box(ax, x, y, w, h, text, kind="op", fontsize=10, weight="normal"):
    """A rounded box with its lower-left corner at (x, y) and centred text; returns its centre."""
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.08", facecolor=COLORS[kind], edgecolor="#333333", linewidth=1.2))
    ax.text(x + w / 2, y + h / 2, text, ha="center", va="center", fontsize=fontsize, weight=weight)
    return x + w / 2, y + h / 2


def _arrow(ax, start, end, color="#333333", style="-|>", rad=0.0, lw=1.4, linestyle="-"):
    ax.add_patch(
        FancyArrowPatch(start, end, arrowstyle=style, mutation_scale=14, color=color, linewidth=lw, connectionstyle=f"arc3,rad={rad}", linestyle=linestyle)
    )


def _title(ax, x, y, text, fontsize=13):
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize, weight="bold")


def _shape_text(shape) -> str:
    """torch.Size([1, 32, 16, 16]) -> '32 × 16 × 16' (the batch dimension dropped)."""
    return " × ".join(str(s) for s in tuple(shape)[1:])


def _output_shapes(model, example, module_types):
    """Run ``example`` through ``model`` and return [(module, output shape)] for modules of ``module_types``, in call order."""
    import torch

    seen = []
    hooks = [m.register_forward_hook(lambda mod, inp, out: seen.append((mod, tuple(out.shape)))) for m in model.modules() if isinstance(m, module_types)]
    with torch.no_grad():
        model(*example) if isinstance(example, tuple) else model(example)
    for h in hooks:
        h.remove()
    return seen


# ----------------------------------------------------------------------------- the diagrams
# A chair seen from its side (+X), in the cube [-0.5, 0.5]²: back post and back leg on the left, seat, a thin front
# leg on the right. One outline, counter-clockwise, shared by the two 2D diagrams below.
_CHAIR_SIDE = np.array(
    [
        (-0.30, -0.45),
        (-0.22, -0.45),
        (-0.22, -0.07),
        (0.22, -0.07),
        (0.22, -0.45),
        (0.26, -0.45),
        (0.26, -0.07),
        (0.30, -0.07),
        (0.30, 0.00),
        (-0.22, 0.00),
        (-0.22, 0.45),
        (-0.30, 0.45),
    ]
)


def _chair_inside(points: np.ndarray) -> np.ndarray:
    """Inside/outside of the side-view chair for points [P, 2]."""
    from matplotlib.path import Path as PolygonPath

    return PolygonPath(_CHAIR_SIDE).contains_points(points)


def _cell_centres(n: int) -> np.ndarray:
    """The centres of an n × n grid over [-0.5, 0.5]², as [n, n, 2] with row 0 at the top (as imshow draws it)."""
    c = (np.arange(n) + 0.5) / n - 0.5
    x, y = np.meshgrid(c, -c)
    return np.stack([x, y], axis=-1)


def _chair_grid(n: int) -> np.ndarray:
    """The chair as an n × n grid of cells, inside when the cell's centre is (as binvox decides), row 0 at the top."""
    return _chair_inside(_cell_centres(n).reshape(-1, 2)).reshape(n, n)


def _outline_points(count: int, seed: int = 0):
    """``count`` points spread uniformly along the chair's outline, and the outward normal at each."""
    start, end = _CHAIR_SIDE, np.roll(_CHAIR_SIDE, -1, axis=0)
    lengths = np.linalg.norm(end - start, axis=1)
    rng = np.random.default_rng(seed)
    edge = rng.choice(len(lengths), count, p=lengths / lengths.sum())
    t = rng.uniform(0, 1, count)[:, None]
    points = start[edge] + t * (end[edge] - start[edge])
    direction = (end - start)[edge] / lengths[edge, None]
    normals = np.stack([direction[:, 1], -direction[:, 0]], axis=1)  # counter-clockwise outline: the right-hand normal points out
    return points, normals


def _square_axes(ax, title: str = "", fontsize: float = 12):
    ax.set_xlim(-0.5, 0.5)
    ax.set_ylim(-0.5, 0.5)
    ax.set_autoscale_on(False)  # what is drawn later keeps these limits
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=fontsize)


def representations():
    """One shape four ways (the talk's representations, notebook 01): mesh, voxels, point cloud, implicit function."""
    n = 16
    fig, axes = plt.subplots(1, 4, figsize=(15, 4.9))
    closed = np.vstack([_CHAIR_SIDE, _CHAIR_SIDE[:1]])

    ax = axes[0]
    _square_axes(ax, "mesh\nvertices joined into faces")
    ax.fill(*_CHAIR_SIDE.T, color=COLORS["data"])
    ax.plot(*closed.T, color="#333333", lw=1.4)
    ax.plot(*_CHAIR_SIDE.T, "o", color="#c0392b", ms=5)
    ax.set_xlabel(f"{len(_CHAIR_SIDE)} vertices and the edges between them;\nin 3D: vertices and triangles", fontsize=10)

    ax = axes[1]
    _square_axes(ax, f"voxels\na {n} × {n} grid: inside or outside")
    grid = _chair_grid(n)
    front_leg = (_cell_centres(n)[..., 0] > 0.2) & (_cell_centres(n)[..., 1] < -0.07)
    assert not (grid & front_leg).any(), "the caption says the thin front leg falls between the cell centres"
    ax.imshow(grid, cmap="Greys", vmin=-0.3, vmax=1.4, extent=(-0.5, 0.5, -0.5, 0.5), interpolation="nearest")
    for t in np.linspace(-0.5, 0.5, n + 1):
        ax.axhline(t, color="#bbbbbb", lw=0.4)
        ax.axvline(t, color="#bbbbbb", lw=0.4)
    ax.plot(*closed.T, color="#c0392b", lw=0.8, ls="--")
    ax.set_xlabel("a cell is inside when its centre is: the thin front\nleg falls between the centres; in 3D memory grows as n³", fontsize=10)

    ax = axes[2]
    _square_axes(ax, "point cloud\npoints on the surface, with normals")
    points, normals = _outline_points(150)
    for p, q in zip(points, points + 0.035 * normals):
        ax.plot([p[0], q[0]], [p[1], q[1]], color="#1f4e79", lw=0.6)
    ax.plot(*points.T, "o", color="#333333", ms=2.5)
    ax.set_xlabel("what scanners and depth cameras give;\nno inside, no connections", fontsize=10)

    ax = axes[3]
    _square_axes(ax, "implicit function\nf(p) = 1 inside, 0 outside")
    fine = 400
    ax.imshow(_chair_grid(fine), cmap="Greys", vmin=-0.3, vmax=1.4, extent=(-0.5, 0.5, -0.5, 0.5), interpolation="nearest")
    queries = [((0.0, -0.035), "f(p) = 1"), ((-0.1, -0.3), "f(p) = 0"), ((-0.26, 0.3), "f(p) = 1"), ((0.1, 0.3), "f(p) = 0")]
    for (x, y), label in queries:
        inside = bool(_chair_inside(np.array([[x, y]]))[0])
        assert inside == label.endswith("1")
        ax.plot(x, y, "o", color="#c0392b" if inside else "#1f4e79", ms=7, mec="white")
        ax.annotate(label, (x, y), xytext=(8, 8), textcoords="offset points", fontsize=10, color="#c0392b" if inside else "#1f4e79")
    ax.set_xlabel("ask about any point: no resolution of its own;\nIM-NET learns f(z, p) for every shape's code z", fontsize=10)

    fig.suptitle("One shape, four representations (a chair seen from the side, drawn in 2D)", fontsize=13, weight="bold")
    fig.subplots_adjust(left=0.02, right=0.98, top=0.8, bottom=0.17, wspace=0.12)
    return fig


def _degrees(value: float) -> str:
    """-180.0 -> '−180°' (a typographic minus, as in the talk's slides)."""
    return f"{value:.0f}°".replace("-", "−")


def dataset_sample():
    """What one shape of the dataset holds (notebook 03): mesh, 64³ voxels, points at three resolutions, 20 renderings."""
    import inspect

    from tutorial_lib import config, point_sampling, rendering

    angles = inspect.signature(rendering.random_views).parameters
    azimuth, inclination = angles["azimuth_range"].default, angles["inclination_range"].default
    n_vox, pad = config.VOXEL_RESOLUTION, config.VOXEL_PADDING
    budgets = config.POINT_BUDGETS
    window = point_sampling.EDGE_WINDOW
    views, size, frame = config.VIEWS_PER_SHAPE, config.IMAGE_SIZE, config.IMAGE_PADDING
    slice_n = 32  # the points' picture: a 2D slice of a grid at this resolution

    width, height = 16.0, 8.4
    fig, ax = _canvas(width, height)
    _title(ax, width / 2, 8.05, "One shape of the dataset: what train.hdf5 and test.hdf5 store for it")
    shape = _box(ax, 0.2, 3.5, 2.2, 1.4, "one shape\n(a watertight\nmesh)", "data", fontsize=11)

    def icon(x, y, w=1.3, h=1.3):
        inset = fig.add_axes([x / width, y / height, w / width, h / height])
        _square_axes(inset)
        return inset

    rows = [
        (6.45, "mesh_vertices, mesh_faces", "the normalised mesh: Y up, front towards −Z, +X to the\nobject's right, centre of mass at the origin"),
        (
            4.75,
            f"voxels  {n_vox} × {n_vox} × {n_vox}",
            f"solid occupancy (1 inside, 0 outside), scaled to leave\n{pad} empty voxels of padding on every side",
        ),
        (
            3.05,
            "points_16 / values_16\npoints_32 / values_32\npoints_64 / values_64",
            " / ".join(f"{budgets[n]:,}" for n in sorted(budgets))
            + " points at "
            + " / ".join(f"{n}³" for n in sorted(budgets))
            + ",\neach inside (1) or outside (0), chosen by edge sampling:\n"
            + f"centres of {window}×{window}×{window} windows that hold both values first\n"
            + f"(the picture: a slice of a {slice_n}³ grid, edge voxels red inside, blue outside)",
        ),
        (
            1.35,
            f"pixels  {views} × {size} × {size}",
            f"{views} grey renderings, azimuth ({_degrees(azimuth[0])}, {_degrees(azimuth[1])}), inclination\n"
            f"({_degrees(inclination[0])}, {_degrees(inclination[1])}), camera on a sphere of radius {rendering.CAMERA_DISTANCE:g}, "
            f"{frame} px white frame",
        ),
    ]
    for i, (y, key, text) in enumerate(rows):
        box = _box(ax, 3.4, y, 3.6, 1.25, key, "data", fontsize=10, weight="bold")
        _arrow(ax, (2.4, shape[1]), (3.4, box[1]), rad=0.0)
        inset = icon(7.45, y - 0.02)
        if i == 0:
            inset.fill(*_CHAIR_SIDE.T, color=COLORS["data"])
            inset.plot(*np.vstack([_CHAIR_SIDE, _CHAIR_SIDE[:1]]).T, color="#333333", lw=1)
            inset.plot(*_CHAIR_SIDE.T, "o", color="#c0392b", ms=2.5)
        elif i == 1:
            inset.imshow(_chair_grid(n_vox), cmap="Greys", vmin=-0.3, vmax=1.4, extent=(-0.5, 0.5, -0.5, 0.5), interpolation="nearest")
            inner = 0.5 - pad / n_vox
            inset.add_patch(Rectangle((-inner, -inner), 2 * inner, 2 * inner, fill=False, edgecolor="#c0392b", lw=0.8, ls="--"))
        elif i == 2:
            grid = _chair_grid(slice_n)
            edges = point_sampling.edge_voxels(grid, window)
            centres = _cell_centres(slice_n)
            inset.imshow(grid, cmap="Greys", vmin=-0.3, vmax=3.0, extent=(-0.5, 0.5, -0.5, 0.5), interpolation="nearest")
            for value, color in ((True, "#c0392b"), (False, "#1f4e79")):
                chosen = edges & (grid == value)
                inset.plot(*centres[chosen].T, "o", color=color, ms=1.2)
        else:
            for k, shift in enumerate((0.16, 0.08, 0.0)):
                inset.add_patch(Rectangle((-0.5 + shift, -0.5 + shift), 0.84, 0.84, facecolor="white", edgecolor="#666666", lw=0.8, zorder=k))
            picture = 0.84 * (1 - 2 * frame / size)
            corner = np.array([-0.5 + (0.84 - picture) / 2, -0.5 + (0.84 - picture) / 2])
            inset.fill(*(corner + (_CHAIR_SIDE + 0.5) * picture).T, color="#888888", zorder=4)
            inset.add_patch(Rectangle(corner, picture, picture, fill=False, edgecolor="#c0392b", lw=0.6, ls="--", zorder=5))
        ax.text(9.1, y + 0.62, text, va="center", fontsize=10)
    ax.text(
        width / 2,
        0.45,
        "voxels, points_*, values_* and pixels are IM-NET's key names; the mesh and names, categories, variants, view_angles,\n"
        "sampling_stages and edge_counts are the dataset's own",
        ha="center",
        fontsize=10,
        style="italic",
    )
    return fig


def neuron_mlp():
    """A neuron (weighted sum, bias, ReLU) and an MLP of such neurons."""
    fig, ax = _canvas(13, 5.2)
    _title(ax, 3.2, 4.85, "One neuron")
    inputs = ["$x_1$", "$x_2$", "$x_3$"]
    weights = ["$w_1$", "$w_2$", "$w_3$"]
    ys = [3.6, 2.5, 1.4]
    sum_c = (3.4, 2.5)
    for y, name, w in zip(ys, inputs, weights):
        ax.add_patch(Circle((0.6, y), 0.32, facecolor=COLORS["data"], edgecolor="#333333"))
        ax.text(0.6, y, name, ha="center", va="center", fontsize=12)
        _arrow(ax, (0.95, y), (sum_c[0] - 0.55, sum_c[1] + (y - 2.5) * 0.35))
        ax.text(1.9, y + 0.05 + (2.5 - y) * 0.18, w, ha="center", va="bottom", fontsize=11, color="#b03a2e")
    ax.add_patch(Circle(sum_c, 0.55, facecolor=COLORS["dense"], edgecolor="#333333", linewidth=1.4))
    ax.text(*sum_c, r"$\Sigma$", ha="center", va="center", fontsize=18)
    ax.text(sum_c[0], sum_c[1] - 0.95, r"$s = w_1x_1 + w_2x_2 + w_3x_3 + b$", ha="center", fontsize=11)
    # ReLU with its graph inside the box
    _arrow(ax, (sum_c[0] + 0.55, 2.5), (4.55, 2.5))
    ax.add_patch(FancyBboxPatch((4.6, 1.9), 1.3, 1.2, boxstyle="round,pad=0.02", facecolor=COLORS["op"], edgecolor="#333333"))
    ax.plot([4.75, 5.25, 5.75], [2.15, 2.15, 2.85], color="#333333", lw=2)
    ax.text(5.25, 3.3, "ReLU", ha="center", fontsize=11)
    ax.text(5.25, 1.55, r"$\max(0, s)$", ha="center", fontsize=11)
    _arrow(ax, (5.95, 2.5), (6.55, 2.5))
    ax.text(6.6, 2.5, "$y$", ha="left", va="center", fontsize=13)
    ax.text(3.2, 0.25, "weights $w$ and bias $b$ are learned", ha="center", fontsize=10, style="italic")

    # an MLP: 3 inputs, two hidden layers of 5, 2 outputs
    _title(ax, 10.2, 4.85, "A multi-layer perceptron (MLP)")
    layers = [3, 5, 5, 2]
    xs = [7.9, 9.4, 10.9, 12.4]
    names = ["input", "hidden", "hidden", "output"]
    positions = []
    for x, n in zip(xs, layers):
        top = 2.5 + (n - 1) * 0.4
        positions.append([(x, top - 0.8 * i) for i in range(n)])
    for a, b in zip(positions[:-1], positions[1:]):
        for p in a:
            for q in b:
                ax.plot([p[0], q[0]], [p[1], q[1]], color="#999999", lw=0.7, zorder=1)
    for i, (layer, name) in enumerate(zip(positions, names)):
        kind = "data" if i in (0, len(positions) - 1) else "dense"
        for p in layer:
            ax.add_patch(Circle(p, 0.22, facecolor=COLORS[kind], edgecolor="#333333", zorder=2))
        ax.text(layer[0][0], 0.45, name, ha="center", fontsize=10)
    ax.text(10.15, 0.05, "every line is a weight; every circle a neuron", ha="center", fontsize=10, style="italic")
    return fig


def convolution():
    """A 3×3 kernel sliding over an image: one output value is the sum of a window times the kernel."""
    image = np.zeros((7, 7), dtype=int)
    image[:, 3:] = 1  # a vertical edge: dark on the left, bright on the right
    image[1:6, 1] = 1  # and a short bright bar
    kernel = np.array([[-1, 0, 1], [-1, 0, 1], [-1, 0, 1]])  # responds to "brighter on the right"
    out = np.array([[int((image[i : i + 3, j : j + 3] * kernel).sum()) for j in range(5)] for i in range(5)])
    row, col = 1, 2  # the window that is highlighted: it straddles the edge

    fig, ax = _canvas(14, 5.6)
    cell = 0.62

    def grid(values, x0, y0, cmap_values=None, highlight=None, title=""):
        n_rows, n_cols = values.shape
        for i in range(n_rows):
            for j in range(n_cols):
                v = values[i, j] if cmap_values is None else cmap_values[i, j]
                face = plt.cm.Greys(0.15 + 0.6 * v) if cmap_values is None else plt.cm.RdBu_r(0.5 + 0.15 * v)
                ax.add_patch(Rectangle((x0 + j * cell, y0 + (n_rows - 1 - i) * cell), cell, cell, facecolor=face, edgecolor="#666666", lw=0.6))
                dark = cmap_values is None and v > 0.5
                ax.text(
                    x0 + (j + 0.5) * cell,
                    y0 + (n_rows - 1 - i + 0.5) * cell,
                    str(values[i, j]),
                    ha="center",
                    va="center",
                    fontsize=10,
                    color="white" if dark else "black",
                )
        if highlight is not None:
            i, j, size = highlight
            ax.add_patch(Rectangle((x0 + j * cell, y0 + (n_rows - i - size) * cell), size * cell, size * cell, fill=False, edgecolor="#c0392b", lw=3))
        ax.text(x0 + n_cols * cell / 2, y0 + n_rows * cell + 0.3, title, ha="center", fontsize=11, weight="bold")

    grid(image, 0.4, 0.7, highlight=(row, col, 3), title="image 7 × 7")
    kx, ky = 5.7, 2.0
    grid(kernel, kx, ky, cmap_values=kernel * 2, title="kernel 3 × 3 (learned)")
    ox, oy = 10.2, 1.3
    grid(out, ox, oy, cmap_values=out / 1.5, highlight=(row, col, 1), title="feature map 5 × 5")
    ax.text(kx - 0.55, ky + 1.5 * cell, "⊛", ha="center", va="center", fontsize=22)
    ax.text(ox - 0.55, ky + 1.5 * cell, "=", ha="center", va="center", fontsize=22)
    window = image[row : row + 3, col : col + 3]
    terms = " + ".join(f"{a}·({b})" if b < 0 else f"{a}·{b}" for a, b in zip(window.ravel(), kernel.ravel()) if b != 0)
    ax.text(7.0, 0.55, f"red window: {terms} = {out[row, col]}", ha="center", fontsize=11, color="#c0392b")
    ax.text(7.0, 0.1, "slide the window one pixel at a time: the same 9 weights everywhere", ha="center", fontsize=10, style="italic")
    return fig


def cnn_02():
    """The CategoryCNN of notebook 02, with the shapes a 128×128 rendering takes through it."""
    import torch
    from torch import nn

    from tutorial_lib import config, models

    model = models.CategoryCNN(num_classes=13, width=NOTEBOOK_02_CNN_WIDTH).eval()
    example = torch.zeros(1, 1, config.CROP_SIZE, config.CROP_SIZE)
    pools = [shape for _, shape in _output_shapes(model, example, nn.MaxPool2d)]
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    n_classes = model.classifier.out_features

    fig, ax = _canvas(16.2, 4.0)
    _title(ax, 8.1, 3.7, f"Notebook 02's CNN (CategoryCNN, width {NOTEBOOK_02_CNN_WIDTH}): a rendering → one score per category")
    x = 0.2
    centre = _box(ax, x, 1.5, 1.5, 1.3, f"image\n{_shape_text(example.shape)}", "data")
    prev_right = (x + 1.5, centre[1])
    x += 2.0
    for i, (conv, shape) in enumerate(zip(convs, pools)):
        text = f"conv {conv.kernel_size[0]}×{conv.kernel_size[1]}\n{conv.in_channels}→{conv.out_channels}\nBN, ReLU\nmax-pool 2×2"
        c = _box(ax, x, 1.3, 1.65, 1.7, text, "conv", fontsize=9)
        _arrow(ax, prev_right, (x, c[1]))
        ax.text(c[0], 0.95, _shape_text(shape), ha="center", fontsize=10, color="#1f4e79")
        prev_right = (x + 1.65, c[1])
        x += 2.15
        if i == 0:
            ax.text(c[0], 0.62, "channels × height × width", ha="center", fontsize=8, color="#1f4e79")
    c = _box(ax, x, 1.5, 1.5, 1.3, f"average\nover space\n{pools[-1][1]}", "op", fontsize=9)
    _arrow(ax, prev_right, (x, c[1]))
    prev_right = (x + 1.5, c[1])
    x += 2.0
    c = _box(ax, x, 1.5, 1.55, 1.3, f"linear\n{model.classifier.in_features}→{n_classes}", "dense", fontsize=9)
    _arrow(ax, prev_right, (x, c[1]))
    prev_right = (x + 1.55, c[1])
    x += 1.95
    _box(ax, x, 1.5, 1.3, 1.3, f"{n_classes}\nscores", "data", fontsize=10)
    _arrow(ax, prev_right, (x, c[1]))
    ax.text(8.1, 0.1, "each block halves the picture and doubles the channels: from pixels to parts to categories", ha="center", fontsize=10, style="italic")
    return fig


def imnet():
    """IM-NET: voxel encoder → z → implicit decoder, with the [z, p] concatenated before every inner layer."""
    import torch
    from torch import nn

    from tutorial_lib import config, models

    profile = config.get_profile("full")  # the paper's widths
    encoder = models.VoxelEncoder(profile.autoencoder.encoder_width).eval()
    decoder = models.ImplicitDecoder(profile.autoencoder.decoder_width)
    voxels = torch.zeros(1, 1, config.VOXEL_RESOLUTION, config.VOXEL_RESOLUTION, config.VOXEL_RESOLUTION)
    conv_shapes = [shape for _, shape in _output_shapes(encoder, voxels, nn.Conv3d)]
    z_dim = decoder.config["z_dim"]
    skip = z_dim + 3
    quick = config.get_profile("quick").autoencoder

    fig, ax = _canvas(16, 9.0)
    _title(
        ax,
        8,
        8.7,
        f"IM-NET autoencoder (the paper's widths; the quick profile uses encoder width {quick.encoder_width}, decoder width {quick.decoder_width})",
        12,
    )

    # encoder: left column, top to bottom
    ax.text(2.4, 8.1, "voxel encoder (3D CNN)", ha="center", fontsize=11, weight="bold")
    y = 7.2
    _box(ax, 0.9, y, 3.0, 0.6, f"voxels {_shape_text(voxels.shape)}", "data")
    for i, shape in enumerate(conv_shapes):
        last = i == len(conv_shapes) - 1
        text = f"conv 4³ {'stride 1' if last else 'stride 2'} → {_shape_text(shape)}" if not last else f"conv 4³ → {shape[1]} × 1 × 1 × 1"
        _arrow(ax, (2.4, y), (2.4, y - 0.35))
        y -= 0.95
        _box(ax, 0.9, y, 3.0, 0.6, text, "conv", fontsize=9)
    ax.text(2.4, y - 0.35, "instance norm + LeakyReLU after each but the last", ha="center", fontsize=8, style="italic")
    _arrow(ax, (2.4, y - 0.5), (2.4, y - 0.85))
    zy = y - 1.45
    _box(ax, 1.4, zy, 2.0, 0.6, "sigmoid", "op")
    _arrow(ax, (3.4, zy + 0.3), (5.0, zy + 0.3))
    zc = _box(ax, 5.0, zy - 0.1, 1.5, 0.8, f"z\n{z_dim} numbers", "code", weight="bold")

    # decoder: the point joins z; every inner layer reads [h, z, p]
    ax.text(11.5, 8.1, "implicit decoder (MLP), asked about one point p = (x, y, z)", ha="center", fontsize=11, weight="bold")
    pc = _box(ax, 5.0, 6.4, 1.5, 0.8, "point p\n3 numbers", "data")
    cat_x = 7.3
    _box(ax, cat_x, 4.0, 1.3, 1.0, f"[z, p]\n{skip}", "code")
    _arrow(ax, (zc[0] + 0.75, zc[1]), (cat_x, 4.3))
    _arrow(ax, (pc[0] + 0.75, pc[1]), (cat_x, 4.75))
    layer_x = 9.3
    ys = [7.2, 6.1, 5.0, 3.9, 2.8]
    for i, (layer, ly) in enumerate(zip(decoder.hidden, ys)):
        _box(ax, layer_x, ly, 2.8, 0.7, f"linear {layer.in_features} → {layer.out_features}, LeakyReLU", "dense", fontsize=9)
        if i == 0:
            _arrow(ax, (cat_x + 1.3, 4.7), (layer_x, ly + 0.35))
        else:
            _arrow(ax, (layer_x + 1.4, ys[i - 1]), (layer_x + 1.4, ly + 0.7))
            _arrow(ax, (cat_x + 1.3, 4.5), (layer_x, ly + 0.35), color="#c0392b", linestyle="--", lw=1.1)
            prev = decoder.hidden[i - 1].out_features
            ax.text(layer_x + 2.95, ly + 0.85, f"{prev} + {skip} = {layer.in_features}", fontsize=8, color="#c0392b", va="center")
    oy = 1.6
    _arrow(ax, (layer_x + 1.4, ys[-1]), (layer_x + 1.4, oy + 0.7))
    _box(ax, layer_x, oy, 2.8, 0.7, f"linear {decoder.out.in_features} → {decoder.out.out_features}: inside?", "dense", fontsize=9)
    ax.text(13.6, 5.4, "red dashed:\n[z, p] is concatenated\nagain before every\ninner layer", fontsize=9, color="#c0392b", va="center")
    ax.text(
        8, 0.3, "training: the decoder's answer for many points p is compared with inside/outside of the true shape", ha="center", fontsize=10, style="italic"
    )
    return fig


def progressive_training():
    """Progressive training: the same decoder asked about points of a 16³, then 32³, then 64³ grid (a 2D slice shown)."""
    from tutorial_lib import config

    fig, axes = plt.subplots(1, 3, figsize=(13, 4.6))
    # a slice through a simple chair-like solid, drawn analytically so the diagram needs no data
    stages = sorted(config.POINT_BUDGETS)
    for ax, n in zip(axes, stages):
        c = (np.arange(n) + 0.5) / n - 0.5
        x, y = np.meshgrid(c, -c)
        seat = (np.abs(x) < 0.3) & (np.abs(y + 0.02) < 0.04)
        back = (np.abs(x + 0.27) < 0.035) & (y > -0.02) & (y < 0.42)
        legs = ((np.abs(x + 0.25) < 0.03) | (np.abs(x - 0.25) < 0.03)) & (y < 0) & (y > -0.42)
        inside = seat | back | legs
        ax.imshow(inside, cmap="Greys", vmin=-0.3, vmax=1.4, extent=(-0.5, 0.5, -0.5, 0.5), interpolation="nearest")
        if n <= 32:
            for t in np.linspace(-0.5, 0.5, n + 1):
                ax.axhline(t, color="#bbbbbb", lw=0.4)
                ax.axvline(t, color="#bbbbbb", lw=0.4)
        ax.set_xticks([])
        ax.set_yticks([])
        budget = config.POINT_BUDGETS[n]
        ax.set_title(f"stage {stages.index(n) + 1}: {n}³ grid\n{budget:,} points per shape", fontsize=12)
        if n == stages[0]:
            ax.set_xlabel("the thin legs fall between the cell centres", fontsize=10, color="#c0392b")
    fig.suptitle("Progressive training: coarse shapes first, then finer grids (the same decoder continues learning)", fontsize=13, weight="bold")
    for i in range(2):
        fig.text(0.345 + i * 0.315, 0.47, "→", fontsize=30, ha="center", va="center")
    fig.text(0.5, 0.015, "points are chosen by edge sampling: most near the surface, where inside and outside meet", ha="center", fontsize=10, style="italic")
    fig.subplots_adjust(left=0.02, right=0.98, top=0.78, bottom=0.12, wspace=0.25)
    return fig


def residual_block():
    """A residual (basic) block as in ResNet-18: two 3×3 convolutions and a skip that adds the input back."""
    fig, ax = _canvas(12, 4.2)
    _title(ax, 6, 3.9, "A residual block (ResNet-18's basic block)")
    y = 1.6
    _box(ax, 0.2, y, 1.0, 0.8, "x", "data", fontsize=13)
    blocks = [("conv 3×3\nBN, ReLU", "conv"), ("conv 3×3\nBN", "conv")]
    x = 2.0
    prev = (1.2, y + 0.4)
    for text, kind in blocks:
        _box(ax, x, y, 1.8, 0.8, text, kind, fontsize=10)
        _arrow(ax, prev, (x, y + 0.4))
        prev = (x + 1.8, y + 0.4)
        x += 2.5
    plus = (x + 0.35, y + 0.4)
    ax.add_patch(Circle(plus, 0.35, facecolor=COLORS["op"], edgecolor="#333333"))
    ax.text(*plus, "+", ha="center", va="center", fontsize=18)
    _arrow(ax, prev, (plus[0] - 0.35, plus[1]))
    ax.text((prev[0] + plus[0]) / 2 - 0.1, y + 0.6, "F(x)", fontsize=11, ha="center")
    # the skip connection over the top
    _arrow(ax, (0.7, y + 0.8), (plus[0], plus[1] + 0.35), rad=-0.25, color="#c0392b", lw=2)
    ax.text(4.4, 3.35, "skip connection: x is added back unchanged", ha="center", fontsize=10, color="#c0392b")
    _box(ax, plus[0] + 0.9, y, 1.1, 0.8, "ReLU", "op")
    _arrow(ax, (plus[0] + 0.35, plus[1]), (plus[0] + 0.9, plus[1]))
    _arrow(ax, (plus[0] + 2.0, plus[1]), (plus[0] + 2.5, plus[1]))
    ax.text(plus[0] + 2.55, plus[1], "F(x) + x", va="center", fontsize=11)
    ax.text(6, 0.55, "the block only has to learn a change F(x); gradients flow back through the + untouched,", ha="center", fontsize=10, style="italic")
    ax.text(6, 0.15, "so 18 (or 152) layers still train", ha="center", fontsize=10, style="italic")
    return fig


def pipeline_2d_3d():
    """The 2D → 3D pipeline: picture → ResNet-18 → z → implicit decoder → marching cubes → mesh."""
    from tutorial_lib import config, models

    encoder = models.ImageEncoder(width=config.get_profile("full").image_encoder.width)
    fc = encoder.net.fc
    z_dim = fc.out_features
    fig, ax = _canvas(16, 4.4)
    _title(ax, 8, 4.05, "From one picture to a 3D mesh")
    steps = [
        (f"picture\n{config.CROP_SIZE} × {config.CROP_SIZE} grey", "data"),
        (f"ResNet-18\nimage encoder\n…→ {fc.in_features} → {z_dim}", "conv"),
        (f"z\n{z_dim} numbers", "code"),
        ("implicit decoder\ninside? for every\npoint of a grid", "dense"),
        ("marching\ncubes", "op"),
        ("mesh\n(.obj / .ply)", "data"),
    ]
    w, gap, x = 2.1, 0.55, 0.25
    centres = []
    for text, kind in steps:
        centres.append(_box(ax, x, 1.6, w, 1.5, text, kind, fontsize=10))
        x += w + gap
    for a, b in zip(centres[:-1], centres[1:]):
        _arrow(ax, (a[0] + w / 2, a[1]), (b[0] - w / 2, b[1]))
    ax.text(centres[1][0], 1.15, "trained here: predict\nthe autoencoder's z", ha="center", fontsize=9, color="#1f4e79", va="top")
    ax.text(centres[3][0], 1.15, "frozen: the decoder\nof notebook 04", ha="center", fontsize=9, color="#1f4e79", va="top")
    ax.text(centres[4][0], 1.15, "surface where\ninside = 0.5", ha="center", fontsize=9, color="#1f4e79", va="top")
    ax.text(
        8, 0.1, "the encoder never sees 3D: it learns to land on the z that the voxel encoder gave the same shape", ha="center", fontsize=10, style="italic"
    )
    return fig


def lfd():
    """The light field descriptor: cameras on a dodecahedron's vertices, silhouettes, Zernike + Fourier coefficients."""
    from mpl_toolkits.mplot3d.art3d import Line3DCollection

    from tutorial_lib.metrics import lfd as lfd_module

    vertices = lfd_module.dodecahedron_vertices()
    views = vertices[: lfd_module.VIEWS]
    n_zernike = len(lfd_module.zernike_indices())  # Z_00 (the area) is not among them
    n_fourier = lfd_module.FOURIER_COEFFICIENTS
    # The dodecahedron's edges join vertices at the smallest distance.
    d = np.linalg.norm(vertices[:, None] - vertices[None], axis=-1)
    edge_length = np.min(d[d > 1e-6])
    edges = [(i, j) for i in range(len(vertices)) for j in range(i + 1, len(vertices)) if d[i, j] < edge_length * 1.01]

    fig = plt.figure(figsize=(14, 5.4))
    ax3 = fig.add_axes([0.0, 0.05, 0.36, 0.85], projection="3d")
    ax3.add_collection3d(Line3DCollection([vertices[[i, j]] for i, j in edges], colors="#999999", linewidths=0.8))
    ax3.scatter(*vertices[lfd_module.VIEWS :].T, color="#bbbbbb", s=20, depthshade=False)
    ax3.scatter(*views.T, color="#c0392b", s=45, depthshade=False)
    for v in views:
        ax3.plot([0, v[0]], [0, v[1]], [0, v[2]], color="#c0392b", lw=0.7, alpha=0.6)
    ax3.scatter([0], [0], [0], color="#1f4e79", s=60, marker="s")
    ax3.set_box_aspect((1, 1, 1))
    ax3.view_init(elev=18, azim=30)
    ax3.set_axis_off()
    ax3.set_title(f"{len(vertices)} vertices of a dodecahedron:\n{len(views)} cameras (red; the opposite vertex sees the mirror image)", fontsize=10)

    ax = fig.add_axes([0.37, 0.0, 0.63, 1.0])
    ax.set_xlim(0, 9)
    ax.set_ylim(0, 5.4)
    ax.axis("off")
    ax.text(4.5, 5.05, "The light field descriptor (Chen et al. 2003)", ha="center", fontsize=13, weight="bold")
    # a stylised silhouette: a chair seen from the side
    sil = _box(ax, 0.2, 2.0, 1.6, 1.6, "", "data")
    ax.add_patch(Rectangle((0.55, 2.7), 0.9, 0.15, color="#222222"))
    ax.add_patch(Rectangle((0.55, 2.85), 0.13, 0.6, color="#222222"))
    ax.add_patch(Rectangle((0.6, 2.2), 0.1, 0.5, color="#222222"))
    ax.add_patch(Rectangle((1.3, 2.2), 0.1, 0.5, color="#222222"))
    ax.text(sil[0], 1.7, "one silhouette\n(orthographic)", ha="center", va="top", fontsize=9)
    z = _box(ax, 2.6, 3.2, 2.3, 0.9, f"Zernike moments\n{n_zernike} numbers: the region", "conv", fontsize=9)
    f = _box(ax, 2.6, 1.5, 2.3, 0.9, f"Fourier of the contour\n{n_fourier} numbers: the outline", "conv", fontsize=9)
    _arrow(ax, (1.8, 3.0), (2.6, z[1]))
    _arrow(ax, (1.8, 2.6), (2.6, f[1]))
    lf = _box(ax, 5.5, 2.2, 1.5, 1.2, f"light field\n{len(views)} × {n_zernike + n_fourier}", "code", fontsize=10)
    _arrow(ax, (4.9, z[1]), (5.5, 3.1))
    _arrow(ax, (4.9, f[1]), (5.5, 2.5))
    rotations = len(lfd_module.dodecahedron_rotations())
    n_fields = lfd_module.LIGHT_FIELDS
    dist = _box(ax, 7.4, 2.0, 1.5, 1.6, f"distance:\nbest of\n{rotations} × {n_fields} × {n_fields}\nalignments", "loss", fontsize=9)
    _arrow(ax, (7.0, lf[1]), (7.4, dist[1]))
    ax.text(
        4.5,
        0.75,
        f"{n_fields} light fields from {n_fields} turned dodecahedra; two shapes are close when they look alike from every side",
        ha="center",
        fontsize=9.5,
        style="italic",
    )
    ax.text(
        4.5,
        0.3,
        "L1 distance of the coefficients, the best match over the rotations of the dodecahedron onto itself",
        ha="center",
        fontsize=9.5,
        style="italic",
    )
    return fig


def latent_gan():
    """The latent GAN: a generator makes z's, a critic tells them from the autoencoder's z's, the decoder makes shapes."""
    from tutorial_lib import config

    gan = config.get_profile("quick").gan
    z_dim = config.Z_DIM
    fig, ax = _canvas(15, 5.4)
    _title(ax, 7.5, 5.05, "A latent GAN: learn to make new z's, let the frozen decoder turn them into shapes")
    noise = _box(ax, 0.2, 3.0, 1.8, 1.0, "random noise", "data")
    gen = _box(ax, 2.7, 3.0, 2.2, 1.0, f"generator\nMLP (width {gan.width},\nquick profile)", "dense", fontsize=10)
    fake = _box(ax, 5.6, 3.0, 1.6, 1.0, f"fake z\n{z_dim}", "code")
    shapes = _box(ax, 0.2, 0.7, 1.8, 1.0, "training shapes\n(voxels)", "data", fontsize=9)
    enc = _box(ax, 2.7, 0.7, 2.2, 1.0, "voxel encoder\n(frozen, notebook 04)", "conv", fontsize=9)
    real = _box(ax, 5.6, 0.7, 1.6, 1.0, f"real z\n{z_dim}", "code")
    critic = _box(ax, 8.2, 1.85, 2.0, 1.0, "critic\nMLP", "loss")
    score = _box(ax, 11.0, 1.85, 1.7, 1.0, "score:\nreal or fake?", "loss", fontsize=9)
    dec = _box(ax, 8.2, 3.9, 2.0, 0.9, "decoder\n(frozen)", "dense", fontsize=9)
    mesh = _box(ax, 11.0, 3.9, 1.7, 0.9, "a new shape", "data", fontsize=10)
    _arrow(ax, (2.0, noise[1]), (2.7, gen[1]))
    _arrow(ax, (4.9, gen[1]), (5.6, fake[1]))
    _arrow(ax, (2.0, shapes[1]), (2.7, enc[1]))
    _arrow(ax, (4.9, enc[1]), (5.6, real[1]))
    _arrow(ax, (7.2, fake[1]), (8.2, critic[1] + 0.25))
    _arrow(ax, (7.2, real[1]), (8.2, critic[1] - 0.25))
    _arrow(ax, (10.2, critic[1]), (11.0, score[1]))
    _arrow(ax, (7.2, fake[1] + 0.3), (8.2, dec[1]), color="#1f4e79")
    _arrow(ax, (10.2, dec[1]), (11.0, mesh[1]), color="#1f4e79")
    ax.text(
        13.85, 2.35, "WGAN-GP: the critic\nlearns to score real z\nhigh, fake z low; the\ngenerator learns to\nfool it", fontsize=9, va="center", ha="center"
    )
    ax.text(
        7.5,
        0.15,
        f"the GAN never sees 3D: it works on the {z_dim} numbers of z; the autoencoder's decoder does the 3D",
        ha="center",
        fontsize=10,
        style="italic",
    )
    return fig


def gradient_ascent():
    """Training against dreaming (notebook 06): the same backward pass, stopping at the weights or going on to the pixels."""
    fig, ax = _canvas(13.0, 6.2)
    _title(ax, 6.5, 5.9, "Training changes the weights; dreaming changes the picture")
    rows = [
        (3.6, "training", "picture\n(fixed)", "ResNet-18\nweights w learn", "loss\n(cross-entropy)", "w ← w − η ∂loss/∂w", "net"),
        (0.9, "dreaming", "picture x\nlearns", "ResNet-18\nweights fixed", "score s_c\n(or a layer)", "x ← x + η ∂s_c/∂x", "picture"),
    ]
    for y, name, picture, network, out, update, target in rows:
        ax.text(0.15, y + 0.65, name, fontsize=12, weight="bold", rotation=90, va="center")
        p = _box(ax, 0.7, y, 2.2, 1.3, picture, "data", fontsize=10, weight="bold" if target == "picture" else "normal")
        n = _box(ax, 4.4, y, 2.6, 1.3, network, "conv", fontsize=10, weight="bold" if target == "net" else "normal")
        o = _box(ax, 8.5, y, 2.2, 1.3, out, "loss", fontsize=10)
        _arrow(ax, (2.9, p[1] + 0.2), (4.4, n[1] + 0.2))
        _arrow(ax, (7.0, n[1] + 0.2), (8.5, o[1] + 0.2))
        # the backward pass: red, from the output back to what learns
        _arrow(ax, (8.5, o[1] - 0.3), (7.0, n[1] - 0.3), color="#c0392b", linestyle="--")
        if target == "picture":
            _arrow(ax, (4.4, n[1] - 0.3), (2.9, p[1] - 0.3), color="#c0392b", linestyle="--")
        ax.text(11.85, y + 0.65, update, ha="center", va="center", fontsize=10, color="#c0392b")
    ax.text(6.5, 0.35, "forward pass: black; backpropagation: red, dashed", ha="center", fontsize=10, style="italic")
    return fig


DIAGRAMS = {
    "representations": representations,
    "neuron_mlp": neuron_mlp,
    "convolution": convolution,
    "cnn_02": cnn_02,
    "dataset_sample": dataset_sample,
    "imnet": imnet,
    "progressive_training": progressive_training,
    "residual_block": residual_block,
    "pipeline_2d_3d": pipeline_2d_3d,
    "lfd": lfd,
    "latent_gan": latent_gan,
    "gradient_ascent": gradient_ascent,
}


def draw(names, out: Path, svg: bool = False) -> list[Path]:
    """Draw the named diagrams into ``out``; returns the files written."""
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name in names:
        fig = DIAGRAMS[name]()
        path = out / f"{name}.png"
        # No date or software version in the metadata: the same code draws the same bytes.
        fig.savefig(path, dpi=DPI, facecolor="white", metadata={"Software": None})
        written.append(path)
        if svg:
            svg_path = out / f"{name}.svg"
            with matplotlib.rc_context({"svg.hashsalt": "diagrams", "svg.fonttype": "path"}):
                fig.savefig(svg_path, facecolor="white", metadata={"Date": None, "Creator": None})
            written.append(svg_path)
        plt.close(fig)
    return written


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="folder for the files (default figures/diagrams/)")
    parser.add_argument("--only", nargs="*", choices=sorted(DIAGRAMS), help="draw only these diagrams")
    parser.add_argument("--svg", action="store_true", help="also write SVG files")
    args = parser.parse_args(argv)
    for path in draw(args.only or list(DIAGRAMS), args.out, svg=args.svg):
        print(path.relative_to(REPO) if path.is_relative_to(REPO) else path)


if __name__ == "__main__":
    main()
