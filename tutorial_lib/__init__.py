"""tutorial_lib: the library behind the "From 2D to 3D with neural nets" notebooks.

Modules are named after what they do: ``config`` (paths, profiles, device, seeding),
``geometry`` (normalisation, voxels, marching cubes, point clouds), ``rendering``
(ray-cast images and silhouettes), ``point_sampling`` (the talk's edge sampling), ``data``
(HDF5 dataset, builder, torch datasets), ``models``, ``training``, ``viz``, and
``provenance`` (shipped weights, their manifests, fingerprints). Two ideas are packages:

* ``shapes/`` – procedural ShapeNet-like categories: ``primitives`` (the parts and their
  union), ``registry`` (``CATEGORIES``, ``make_shape``), and the categories by kind
  (``vehicles``, ``seating``, ``furniture``, ``electronics``, ``rifle``);
* ``metrics/`` – ``voxel`` scores, ``surface`` distances, the light field descriptor
  (``lfd``) and ``generative`` scores (COV/MMD/1-NNA).

Both re-export their public names, so ``from tutorial_lib.metrics import iou`` and
``shapes.make_shape_from_seed`` work without naming the submodule.
"""

__version__ = "0.1.0"
