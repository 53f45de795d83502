"""tutorial_lib: the library behind the "From 2D to 3D with neural nets" notebooks.

Modules are named after what they do: ``config`` (paths, profiles, device, seeding),
``geometry`` (normalisation, voxels, marching cubes, point clouds), ``rendering``
(ray-cast images and silhouettes), ``shapes`` (procedural ShapeNet-like categories),
``point_sampling`` (the talk's edge sampling), ``data`` (HDF5 dataset, builder, torch
datasets), ``models``, ``training``, ``metrics``, ``viz``.
"""

__version__ = "0.1.0"
