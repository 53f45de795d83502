"""Accuracy measures: how good is a reconstruction, and how alike are two shapes?

The talk's "Accuracy measures" and "Light field descriptors (LFD)" slides, one module per group;
every name is importable from ``tutorial_lib.metrics`` itself
(``from tutorial_lib.metrics import iou, lfd_descriptor, generative_metrics``):

* :mod:`.voxel` – cell by cell on grids or point/value samples: :func:`confusion`, :func:`mse`,
  :func:`precision`, :func:`recall`, :func:`f1_score`, :func:`iou`, :func:`voxel_metrics`, and for thin parts
  :func:`thin_voxels` and :func:`thin_part_recall`.
* :mod:`.surface` – distances between surfaces sampled as point clouds: :func:`chamfer_distance`,
  :func:`chamfer_l1`, :func:`normal_consistency`, :func:`f_score`, :func:`surface_metrics`,
  :func:`chamfer_matrix`.
* :mod:`.lfd` – the light field descriptor (Chen et al. 2003): :func:`lfd_descriptor`,
  :class:`LightFieldDescriptor`, :func:`lfd_distance`, :func:`lfd_distance_matrix`,
  :func:`calibrate_scales`.
* :mod:`.generative` – sets of generated shapes against real ones (Achlioptas et al. 2018;
  Yang et al. 2019): :func:`coverage`, :func:`minimum_matching_distance`,
  :func:`one_nn_accuracy`, :func:`generative_metrics`, on a distance matrix (Chamfer or LFD).

Units: surface scores are in the units of the meshes (a normalised mesh fits the cube
[-0.5, 0.5]³, so 0.01 is 1% of the cube's side).
"""

from ..geometry import MeshError
from .generative import (
    coverage,
    generative_metrics,
    minimum_matching_distance,
    one_nn_accuracy,
)
from .lfd import (
    CONTOUR_SAMPLES,
    CONTOUR_SCALE,
    FOURIER_COEFFICIENTS,
    GOLDEN,
    LFD_RESOLUTION,
    LIGHT_FIELD_SEED,
    LIGHT_FIELDS,
    REGION_SCALE,
    SMOOTHING,
    VIEWS,
    ZERNIKE_ORDER,
    LightFieldDescriptor,
    calibrate_scales,
    coefficient_weights,
    contour_fourier,
    dodecahedron_rotations,
    dodecahedron_vertices,
    lfd_descriptor,
    lfd_descriptors,
    lfd_distance,
    lfd_distance_matrix,
    lfd_silhouettes,
    light_field_directions,
    light_field_rotations,
    load_descriptors,
    normalize_for_lfd,
    outer_contours,
    save_descriptors,
    view_permutations,
    zernike_indices,
    zernike_magnitudes,
)
from .surface import (
    DEFAULT_TAU,
    chamfer_distance,
    chamfer_l1,
    chamfer_matrix,
    f_score,
    nearest_neighbours,
    normal_consistency,
    surface_metrics,
    surface_precision_recall,
)
from .voxel import (
    THIN_THICKNESS,
    THRESHOLD,
    Confusion,
    confusion,
    f1_score,
    iou,
    mse,
    precision,
    recall,
    thin_part_recall,
    thin_voxels,
    voxel_metrics,
)

__all__ = [
    "THRESHOLD",
    "Confusion",
    "confusion",
    "mse",
    "precision",
    "recall",
    "f1_score",
    "iou",
    "voxel_metrics",
    "THIN_THICKNESS",
    "thin_voxels",
    "thin_part_recall",
    "nearest_neighbours",
    "chamfer_distance",
    "chamfer_l1",
    "normal_consistency",
    "surface_precision_recall",
    "f_score",
    "chamfer_matrix",
    "surface_metrics",
    "DEFAULT_TAU",
    "GOLDEN",
    "LFD_RESOLUTION",
    "LIGHT_FIELDS",
    "VIEWS",
    "ZERNIKE_ORDER",
    "CONTOUR_SAMPLES",
    "FOURIER_COEFFICIENTS",
    "LIGHT_FIELD_SEED",
    "REGION_SCALE",
    "CONTOUR_SCALE",
    "SMOOTHING",
    "dodecahedron_vertices",
    "dodecahedron_rotations",
    "view_permutations",
    "light_field_rotations",
    "light_field_directions",
    "normalize_for_lfd",
    "lfd_silhouettes",
    "zernike_indices",
    "zernike_magnitudes",
    "outer_contours",
    "contour_fourier",
    "LightFieldDescriptor",
    "lfd_descriptor",
    "lfd_descriptors",
    "save_descriptors",
    "load_descriptors",
    "lfd_distance_matrix",
    "lfd_distance",
    "calibrate_scales",
    "coefficient_weights",
    "coverage",
    "minimum_matching_distance",
    "one_nn_accuracy",
    "generative_metrics",
    "MeshError",
]
