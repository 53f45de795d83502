"""The library's layout: metrics and shapes are packages, and every name the old single-file
modules offered is still importable from the package, defined in the submodule of its idea."""

import importlib

import pytest

from tutorial_lib import metrics, shapes

# Every public name of the old tutorial_lib/metrics.py (its __all__ and its constants), and the
# ones added since (the thin-part scores), by the submodule that holds it now.
METRICS_NAMES = {
    "voxel": ["THRESHOLD", "Confusion", "confusion", "mse", "precision", "recall", "f1_score", "iou", "voxel_metrics",
              "THIN_THICKNESS", "thin_voxels", "thin_part_recall"],
    "surface": ["nearest_neighbours", "chamfer_distance", "chamfer_l1", "normal_consistency", "surface_precision_recall",
                "f_score", "chamfer_matrix", "surface_metrics", "DEFAULT_TAU"],
    "lfd": ["GOLDEN", "LFD_RESOLUTION", "LIGHT_FIELDS", "VIEWS", "ZERNIKE_ORDER", "CONTOUR_SAMPLES",
            "FOURIER_COEFFICIENTS", "LIGHT_FIELD_SEED", "REGION_SCALE", "CONTOUR_SCALE", "SMOOTHING",
            "dodecahedron_vertices", "dodecahedron_rotations", "view_permutations", "light_field_rotations",
            "light_field_directions", "normalize_for_lfd", "lfd_silhouettes", "zernike_indices", "zernike_magnitudes",
            "outer_contours", "contour_fourier", "LightFieldDescriptor", "lfd_descriptor", "lfd_descriptors",
            "save_descriptors", "load_descriptors", "lfd_distance_matrix", "lfd_distance", "calibrate_scales", "coefficient_weights"],
    "generative": ["coverage", "minimum_matching_distance", "one_nn_accuracy", "generative_metrics"],
}  # fmt: skip

# Every name of the old tutorial_lib/shapes.py that other code uses (tests use _draw_structure).
SHAPES_NAMES = ["CATEGORIES", "SECTIONS", "Shape", "make_shape", "make_shape_from_seed", "variants", "_draw_structure"]

# Which module of the shapes package draws each category.
CATEGORY_MODULES = {
    "vehicles": ["airplane", "car", "watercraft"],
    "seating": ["bench", "chair", "sofa"],
    "furniture": ["cabinet", "table"],
    "electronics": ["display", "lamp", "loudspeaker", "telephone"],
    "rifle": ["rifle"],
}


@pytest.mark.parametrize("submodule", sorted(METRICS_NAMES))
def test_every_old_metrics_name_is_importable_from_the_package(submodule):
    part = importlib.import_module(f"tutorial_lib.metrics.{submodule}")
    for name in METRICS_NAMES[submodule]:
        assert getattr(metrics, name) is getattr(part, name), name
        assert name in metrics.__all__, name


def test_the_import_lines_notebooks_use_still_work():
    from tutorial_lib.metrics import MeshError, generative_metrics, iou, lfd_descriptor  # noqa: F401
    from tutorial_lib.shapes import CATEGORIES, make_shape_from_seed  # noqa: F401

    assert MeshError.__module__ == "tutorial_lib.geometry"


def test_metrics_all_names_exist_and_nothing_else():
    exported = set(metrics.__all__)
    assert exported == {name for names in METRICS_NAMES.values() for name in names} | {"MeshError"}
    for name in exported:
        assert hasattr(metrics, name), name


def test_every_old_shapes_name_is_importable_from_the_package():
    for name in SHAPES_NAMES:
        assert hasattr(shapes, name), name
    assert len(shapes.CATEGORIES) == 13


def test_each_category_is_drawn_by_the_module_of_its_kind():
    from tutorial_lib.shapes.registry import _GENERATORS

    assert sorted(c for group in CATEGORY_MODULES.values() for c in group) == sorted(shapes.CATEGORIES)
    for module, categories in CATEGORY_MODULES.items():
        for category in categories:
            generator, _ = _GENERATORS[category]
            assert generator.__module__ == f"tutorial_lib.shapes.{module}", category
