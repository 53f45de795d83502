"""Compiled kernels (numba) behind the voxeliser, the renderer and the light field silhouettes.

Each kernel replaces one cast of many rays through a general ray tracer by the structure the
rays share: the columns of a voxel grid are axis-aligned and lie on a regular lattice, the
pixels of a pinhole camera are the regular lattice of directions from one point, and the
shadow rays of one view all run towards one light. So a triangle is projected once, its
bounding box tells which rays can meet it, and only those are tested exactly. The public
functions that use them (:func:`tutorial_lib.geometry.voxelize`,
:func:`tutorial_lib.rendering.render_views`, :func:`tutorial_lib.metrics.lfd_silhouettes`)
document what they compute; this module says how.

The kernels are compiled on first use and cached on disk (numba's ``cache=True``), so a
fresh process pays only the loading of the cache (a fraction of a second), not the compile.
"""

from __future__ import annotations

import numpy as np
from numba import njit

#: trimesh's ray tracer drops a hit whose ray runs within this |cos| of the hit face's plane
#: (``trimesh.intersections.planes_lines``); a ray that grazes a face counts as missing it.
GRAZING = 1e-5


# --------------------------------------------------------------------------------------------
# 2-D edge functions with an exact tie rule
# --------------------------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def _edge(ax, ay, bx, by, px, py):
    """Twice the signed area of (a, b, p), computed the same way whichever way round the edge is
    given (the endpoints are put in a fixed order first), so that the two triangles sharing an
    edge see exactly opposite values and a point on it is inside exactly one of them."""
    if ax < bx or (ax == bx and ay < by):
        return (bx - ax) * (py - ay) - (by - ay) * (px - ax)
    return -((ax - bx) * (py - by) - (ay - by) * (px - bx))


@njit(cache=True, error_model="numpy")
def _owns_edge(ax, ay, bx, by):
    """Tie rule for a point exactly on the edge a→b of a counter-clockwise triangle: the edge
    owns it when it runs downwards, or horizontally to the left. The neighbour across the edge
    runs it the other way and does not."""
    return (by - ay) < 0 or ((by - ay) == 0 and (bx - ax) < 0)


@njit(cache=True, error_model="numpy")
def _inside(x0, y0, x1, y1, x2, y2, px, py):
    """Is p inside the 2-D triangle (0, 1, 2) (either orientation), with exact ties: +1 inside,
    0 outside or degenerate."""
    area = _edge(x0, y0, x1, y1, x2, y2)
    if area == 0.0:
        return False
    if area < 0.0:  # make it counter-clockwise
        x1, y1, x2, y2 = x2, y2, x1, y1
    e0 = _edge(x1, y1, x2, y2, px, py)
    if e0 < 0.0 or (e0 == 0.0 and not _owns_edge(x1, y1, x2, y2)):
        return False
    e1 = _edge(x2, y2, x0, y0, px, py)
    if e1 < 0.0 or (e1 == 0.0 and not _owns_edge(x2, y2, x0, y0)):
        return False
    e2 = _edge(x0, y0, x1, y1, px, py)
    if e2 < 0.0 or (e2 == 0.0 and not _owns_edge(x0, y0, x1, y1)):
        return False
    return True


# --------------------------------------------------------------------------------------------
# Voxelisation: crossings of axis-aligned columns
# --------------------------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def _first_at_or_after(start, step, count, value):
    """Smallest i in [0, count] with start + i * step >= value (an estimate, then corrected)."""
    i = int(np.ceil((value - start) / step))
    i = min(max(i, 0), count)
    while i > 0 and start + (i - 1) * step >= value:
        i -= 1
    while i < count and start + i * step < value:
        i += 1
    return i


@njit(cache=True, error_model="numpy")
def _column_parity(vertices, faces, normals, n, axis, jitter_u, jitter_v, offset):
    """Inside/outside ``[n, n, n]`` (axes: u, v, along ``axis``) of every voxel centre, by the
    parity of the surface crossings of one ray per column, cast along +``axis`` from -1.

    The column of (i, j) passes through (centre_i + jitter_u / n, centre_j + jitter_v / n) on
    the two other axes. A crossing is where the column meets a triangle (2-D point in
    triangle on those axes, exact ties), at the coordinate of the triangle's plane. As in the
    ray tracer this replaces, crossings closer than ``offset`` after the previous one are not
    seen (the ray restarts that far past each hit), and a crossing of a face that the column
    grazes (|normal| along the axis <= GRAZING) ends the column there.
    """
    u_axis = 1 if axis == 0 else 0
    v_axis = 1 if axis == 2 else 2
    centres = (np.arange(n) + 0.5) / n - 0.5
    cu = centres + jitter_u / n
    cv = centres + jitter_v / n
    step = 1.0 / n
    capacity = 4 * n * n
    ray = np.empty(capacity, dtype=np.int64)
    loc = np.empty(capacity, dtype=np.float64)
    grazing = np.empty(capacity, dtype=np.bool_)
    count = 0
    o = np.empty(3)
    o[axis] = -1.0
    for f in range(faces.shape[0]):
        a, b, c = faces[f, 0], faces[f, 1], faces[f, 2]
        x0, y0 = vertices[a, u_axis], vertices[a, v_axis]
        x1, y1 = vertices[b, u_axis], vertices[b, v_axis]
        x2, y2 = vertices[c, u_axis], vertices[c, v_axis]
        i_lo = _first_at_or_after(cu[0], step, n, min(x0, x1, x2))
        i_hi = _first_at_or_after(cu[0], step, n, np.nextafter(max(x0, x1, x2), np.inf))
        j_lo = _first_at_or_after(cv[0], step, n, min(y0, y1, y2))
        j_hi = _first_at_or_after(cv[0], step, n, np.nextafter(max(y0, y1, y2), np.inf))
        if i_lo >= i_hi or j_lo >= j_hi:
            continue
        nx, ny, nz = normals[f, 0], normals[f, 1], normals[f, 2]
        n_axis = normals[f, axis]
        for i in range(i_lo, i_hi):
            for j in range(j_lo, j_hi):
                if not _inside(x0, y0, x1, y1, x2, y2, cu[i], cv[j]):
                    continue
                if count == capacity:
                    capacity *= 2
                    ray2 = np.empty(capacity, dtype=np.int64)
                    loc2 = np.empty(capacity, dtype=np.float64)
                    grazing2 = np.empty(capacity, dtype=np.bool_)
                    ray2[:count] = ray[:count]
                    loc2[:count] = loc[:count]
                    grazing2[:count] = grazing[:count]
                    ray, loc, grazing = ray2, loc2, grazing2
                ray[count] = i * n + j
                grazing[count] = abs(n_axis) <= GRAZING
                if grazing[count]:
                    # Where the column meets the (nearly parallel) face: interpolated from the corners.
                    area = _edge(x0, y0, x1, y1, x2, y2)
                    w0 = _edge(x1, y1, x2, y2, cu[i], cv[j]) / area
                    w1 = _edge(x2, y2, x0, y0, cu[i], cv[j]) / area
                    loc[count] = w0 * vertices[a, axis] + w1 * vertices[b, axis] + (1.0 - w0 - w1) * vertices[c, axis]
                else:
                    # The plane of the face, met by the line from o (-1 on the axis) along the axis.
                    o[u_axis] = cu[i]
                    o[v_axis] = cv[j]
                    along = ((vertices[a, 0] - o[0]) * nx + (vertices[a, 1] - o[1]) * ny + (vertices[a, 2] - o[2]) * nz) / n_axis
                    loc[count] = -1.0 + along
                count += 1
    # Group the crossings by ray (a counting sort), then order each ray's few crossings along it
    # (an insertion sort; stable) by the number line of geometry._parity_along_axis: ray r on [4r, 4r + 4).
    keys = np.empty(count)
    for h in range(count):
        keys[h] = ray[h] * 4.0 + (loc[h] + 2.0)
    first = np.zeros(n * n + 1, dtype=np.int64)
    for h in range(count):
        first[ray[h] + 1] += 1
    for r in range(n * n):
        first[r + 1] += first[r]
    order = np.empty(count, dtype=np.int64)
    fill = first[:-1].copy()
    for h in range(count):
        order[fill[ray[h]]] = h
        fill[ray[h]] += 1
    inside = np.zeros((n, n, n), dtype=np.bool_)
    query = np.empty(n)
    kept = np.empty(count)
    for r in range(n * n):
        start, stop = first[r], first[r + 1]
        for p in range(start + 1, stop):
            h = order[p]
            q = p
            while q > start and keys[order[q - 1]] > keys[h]:
                order[q] = order[q - 1]
                q -= 1
            order[q] = h
        # Walk this ray's crossings in order, as the tracer sees them.
        m = 0
        last = -np.inf
        for p in range(start, stop):
            h = order[p]
            if loc[h] < last + offset:
                continue  # too close behind the previous hit: the restarted ray is already past it
            if grazing[h]:
                break  # the tracer drops a grazing hit, and the ray with it
            kept[m] = keys[h]
            last = loc[h]
            m += 1
        for k in range(n):
            query[k] = r * 4.0 + (centres[k] + 2.0)
        crossed = 0
        p = 0
        for k in range(n):
            while p < m and kept[p] < query[k]:
                p += 1
                crossed += 1
            inside[r // n, r % n, k] = crossed % 2 == 1
    return inside


# --------------------------------------------------------------------------------------------
# Voxelisation: the voxels a surface passes through
# --------------------------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def _separated(p0, p1, p2, reach):
    """Do the projections p0, p1, p2 of a triangle's corners on an axis all lie beyond ``reach``
    (the projected half-size of the voxel, whose centre projects to 0) on one side?"""
    return min(p0, min(p1, p2)) > reach or max(p0, max(p1, p2)) < -reach


@njit(cache=True, error_model="numpy")
def _surface_voxels(vertices, faces, n, slack):
    """Every voxel of the ``[n, n, n]`` grid over [-0.5, 0.5]³ that a triangle meets, touching included.

    The separating axis test of a triangle and a box (T. Akenine-Möller, *Fast 3D triangle-box
    overlap testing*, 2001), on the voxels of the triangle's bounding box: they overlap unless
    the triangle's plane or one of the nine products of a box axis and a triangle edge
    separates them (the box axes themselves are the bounding box). The voxel is grown by
    ``slack`` (in voxels) on every side, so that a triangle lying on a voxel face counts for
    the voxels on both sides despite rounding.
    """
    out = np.zeros((n, n, n), dtype=np.bool_)
    v = np.empty((3, 3))  # corners in voxel units: voxel (i, j, k) spans [i, i + 1] x [j, j + 1] x [k, k + 1]
    e = np.empty((3, 3))  # edges: corner a to corner a + 1
    lo = np.empty(3, dtype=np.int64)
    hi = np.empty(3, dtype=np.int64)
    half = 0.5 + slack
    for f in range(faces.shape[0]):
        for a in range(3):
            for d in range(3):
                v[a, d] = (vertices[faces[f, a], d] + 0.5) * n
        for d in range(3):
            lo[d] = max(int(np.floor(min(v[0, d], min(v[1, d], v[2, d])) - slack)), 0)
            hi[d] = min(int(np.floor(max(v[0, d], max(v[1, d], v[2, d])) + slack)), n - 1)
        for a in range(3):
            for d in range(3):
                e[a, d] = v[(a + 1) % 3, d] - v[a, d]
        nx = e[0, 1] * e[1, 2] - e[0, 2] * e[1, 1]
        ny = e[0, 2] * e[1, 0] - e[0, 0] * e[1, 2]
        nz = e[0, 0] * e[1, 1] - e[0, 1] * e[1, 0]
        plane_reach = half * (abs(nx) + abs(ny) + abs(nz))
        for i in range(lo[0], hi[0] + 1):
            for j in range(lo[1], hi[1] + 1):
                for k in range(lo[2], hi[2] + 1):
                    cx, cy, cz = i + 0.5, j + 0.5, k + 0.5
                    if abs(nx * (v[0, 0] - cx) + ny * (v[0, 1] - cy) + nz * (v[0, 2] - cz)) > plane_reach:
                        continue
                    apart = False
                    for a in range(3):
                        for axis in range(3):
                            # axis x, y or z crossed with edge a: (0, -ez, ey), (ez, 0, -ex), (-ey, ex, 0)
                            px = 0.0 if axis == 0 else (e[a, 2] if axis == 1 else -e[a, 1])
                            py = -e[a, 2] if axis == 0 else (0.0 if axis == 1 else e[a, 0])
                            pz = e[a, 1] if axis == 0 else (-e[a, 0] if axis == 1 else 0.0)
                            p0 = px * (v[0, 0] - cx) + py * (v[0, 1] - cy) + pz * (v[0, 2] - cz)
                            p1 = px * (v[1, 0] - cx) + py * (v[1, 1] - cy) + pz * (v[1, 2] - cz)
                            p2 = px * (v[2, 0] - cx) + py * (v[2, 1] - cy) + pz * (v[2, 2] - cz)
                            if _separated(p0, p1, p2, half * (abs(px) + abs(py) + abs(pz))):
                                apart = True
                                break
                        if apart:
                            break
                    if not apart:
                        out[i, j, k] = True
    return out


# --------------------------------------------------------------------------------------------
# Rendering: a z-buffer for the camera's rays, a binned exact test for the shadow rays
# --------------------------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def _ray_triangle(ox, oy, oz, dx, dy, dz, vertices, a, b, c):
    """Distance along the ray o + t d to the triangle (a, b, c) (Möller–Trumbore, both sides),
    or -1 when it misses."""
    e1x, e1y, e1z = vertices[b, 0] - vertices[a, 0], vertices[b, 1] - vertices[a, 1], vertices[b, 2] - vertices[a, 2]
    e2x, e2y, e2z = vertices[c, 0] - vertices[a, 0], vertices[c, 1] - vertices[a, 1], vertices[c, 2] - vertices[a, 2]
    px, py, pz = dy * e2z - dz * e2y, dz * e2x - dx * e2z, dx * e2y - dy * e2x
    det = e1x * px + e1y * py + e1z * pz
    if det == 0.0:
        return -1.0
    inv = 1.0 / det
    sx, sy, sz = ox - vertices[a, 0], oy - vertices[a, 1], oz - vertices[a, 2]
    u = (sx * px + sy * py + sz * pz) * inv
    if u < 0.0 or u > 1.0:
        return -1.0
    qx, qy, qz = sy * e1z - sz * e1y, sz * e1x - sx * e1z, sx * e1y - sy * e1x
    v = (dx * qx + dy * qy + dz * qz) * inv
    if v < 0.0 or u + v > 1.0:
        return -1.0
    return (e2x * qx + e2y * qy + e2z * qz) * inv


@njit(cache=True, error_model="numpy")
def _along_ray(starts, directions, q, vertices, a, b, c):
    """:func:`_ray_triangle` for ray ``q`` of ``starts`` and ``directions``."""
    return _ray_triangle(starts[q, 0], starts[q, 1], starts[q, 2], directions[q, 0], directions[q, 1], directions[q, 2], vertices, a, b, c)


@njit(cache=True, error_model="numpy")
def _turned_away(vertices, normals, f, a, x, y, z, outward):
    """Does face f (corner a) turn its outside away from the point (x, y, z)? A face seen almost
    edge-on (|cos| < 1e-4) counts as turned towards it."""
    wx, wy, wz = x - vertices[a, 0], y - vertices[a, 1], z - vertices[a, 2]
    facing = outward * (normals[f, 0] * wx + normals[f, 1] * wy + normals[f, 2] * wz)
    return facing < -1e-4 * np.sqrt(wx * wx + wy * wy + wz * wz)


@njit(cache=True, error_model="numpy")
def _nearest_hits_towards(point, starts, directions, limits, vertices, faces, normals, out_blocked, outward):
    """For rays that all run (nearly) towards ``point`` — shadow rays towards a light — whether
    the nearest surface along each, before ``limits``, is met squarely (not grazed).

    Exact per ray and triangle (Möller–Trumbore); which rays can meet a triangle is decided by
    projecting both from ``point`` onto a grid of cells (the rays start a hair off the surface
    and so miss ``point`` by as much: the triangles' boxes are grown to cover it).
    """
    nq = starts.shape[0]
    nf = faces.shape[0]
    if nq == 0:
        return
    # The light's frame: axis towards the origin (the object's centre), two axes across it.
    norm = np.sqrt(point[0] ** 2 + point[1] ** 2 + point[2] ** 2)
    ax, ay, az = -point[0] / norm, -point[1] / norm, -point[2] / norm
    # Any vector not parallel to the axis gives the two others.
    if abs(ay) < 0.9:
        hx, hy, hz = 0.0, 1.0, 0.0
    else:
        hx, hy, hz = 1.0, 0.0, 0.0
    e1x, e1y, e1z = ay * hz - az * hy, az * hx - ax * hz, ax * hy - ay * hx
    length = np.sqrt(e1x * e1x + e1y * e1y + e1z * e1z)
    e1x, e1y, e1z = e1x / length, e1y / length, e1z / length
    e2x, e2y, e2z = ay * e1z - az * e1y, az * e1x - ax * e1z, ax * e1y - ay * e1x
    # Project the vertices; the nearest vertex bounds how far a ray may pass from the point.
    nv = vertices.shape[0]
    vx = np.empty(nv)
    vy = np.empty(nv)
    vz = np.empty(nv)
    nearest = np.inf
    for i in range(nv):
        wx, wy, wz = vertices[i, 0] - point[0], vertices[i, 1] - point[1], vertices[i, 2] - point[2]
        z = wx * ax + wy * ay + wz * az
        vz[i] = z
        if z > 1e-9:
            vx[i] = (wx * e1x + wy * e1y + wz * e1z) / z
            vy[i] = (wx * e2x + wy * e2y + wz * e2z) / z
        nearest = min(nearest, z)
    # Queries on the grid (a query behind the point, which a normalised mesh never has, is tested against everything).
    qx = np.empty(nq)
    qy = np.empty(nq)
    valid = np.zeros(nq, dtype=np.bool_)
    lo_x, hi_x, lo_y, hi_y = np.inf, -np.inf, np.inf, -np.inf
    offset = 0.0
    for q in range(nq):
        wx, wy, wz = starts[q, 0] - point[0], starts[q, 1] - point[1], starts[q, 2] - point[2]
        z = wx * ax + wy * ay + wz * az
        # The ray runs parallel to (point - its surface point), shifted by the start's offset.
        sx = starts[q, 0] - (point[0] - directions[q, 0] * limits[q])
        sy = starts[q, 1] - (point[1] - directions[q, 1] * limits[q])
        sz = starts[q, 2] - (point[2] - directions[q, 2] * limits[q])
        offset = max(offset, np.sqrt(sx * sx + sy * sy + sz * sz))
        if z > 1e-9:
            valid[q] = True
            qx[q] = (wx * e1x + wy * e1y + wz * e1z) / z
            qy[q] = (wx * e2x + wy * e2y + wz * e2z) / z
            lo_x, hi_x = min(lo_x, qx[q]), max(hi_x, qx[q])
            lo_y, hi_y = min(lo_y, qy[q]), max(hi_y, qy[q])
    best_t = np.full(nq, np.inf)
    best_f = np.full(nq, -1, dtype=np.int64)
    cells = max(1, min(256, int(np.sqrt(nq) / 2)))
    width_x = max(hi_x - lo_x, 1e-12) / cells
    width_y = max(hi_y - lo_y, 1e-12) / cells
    # Counting sort of the valid queries into cells.
    cell_of = np.full(nq, -1, dtype=np.int64)
    counts = np.zeros(cells * cells + 1, dtype=np.int64)
    for q in range(nq):
        if valid[q]:
            cx = min(cells - 1, int((qx[q] - lo_x) / width_x))
            cy = min(cells - 1, int((qy[q] - lo_y) / width_y))
            cell_of[q] = cy * cells + cx
            counts[cell_of[q] + 1] += 1
    for i in range(cells * cells):
        counts[i + 1] += counts[i]
    members = np.empty(max(1, counts[cells * cells]), dtype=np.int64)
    fill = counts[:-1].copy()
    for q in range(nq):
        if cell_of[q] >= 0:
            members[fill[cell_of[q]]] = q
            fill[cell_of[q]] += 1
    # How far (in the grid's units) a ray's meeting with a triangle may lie from its start's projection.
    margin = 4.0 * (offset + 1e-9) / max(nearest, 1e-12) * 4.0 + 1e-9
    for f in range(nf):
        a, b, c = faces[f, 0], faces[f, 1], faces[f, 2]
        # A shadow ray starts outside (off the surface, on the camera's side) and runs towards the point:
        # on a closed surface it first meets a face that turns away from the point.
        if outward != 0 and not _turned_away(vertices, normals, f, a, point[0], point[1], point[2], outward):
            continue
        everything = vz[a] <= max(1e-9, 16.0 * offset) or vz[b] <= max(1e-9, 16.0 * offset) or vz[c] <= max(1e-9, 16.0 * offset)
        if everything:
            for q in range(nq):
                t = _along_ray(starts, directions, q, vertices, a, b, c)
                if 0.0 < t < best_t[q]:
                    best_t[q] = t
                    best_f[q] = f
            continue
        x_lo = min(vx[a], vx[b], vx[c]) - margin
        x_hi = max(vx[a], vx[b], vx[c]) + margin
        y_lo = min(vy[a], vy[b], vy[c]) - margin
        y_hi = max(vy[a], vy[b], vy[c]) + margin
        if x_hi < lo_x or x_lo > hi_x or y_hi < lo_y or y_lo > hi_y:
            continue
        c0 = max(0, int((x_lo - lo_x) / width_x))
        c1 = min(cells - 1, int((x_hi - lo_x) / width_x))
        r0 = max(0, int((y_lo - lo_y) / width_y))
        r1 = min(cells - 1, int((y_hi - lo_y) / width_y))
        for cy in range(r0, r1 + 1):
            for cx in range(c0, c1 + 1):
                cell = cy * cells + cx
                for m in range(counts[cell], counts[cell + 1]):
                    q = members[m]
                    if qx[q] < x_lo or qx[q] > x_hi or qy[q] < y_lo or qy[q] > y_hi:
                        continue
                    t = _along_ray(starts, directions, q, vertices, a, b, c)
                    if 0.0 < t < best_t[q]:
                        best_t[q] = t
                        best_f[q] = f
    for q in range(nq):
        if not valid[q]:  # behind the point: every triangle
            for f in range(nf):
                t = _along_ray(starts, directions, q, vertices, faces[f, 0], faces[f, 1], faces[f, 2])
                if 0.0 < t < best_t[q]:
                    best_t[q] = t
                    best_f[q] = f
        f = best_f[q]
        if f >= 0:
            square = abs(normals[f, 0] * directions[q, 0] + normals[f, 1] * directions[q, 1] + normals[f, 2] * directions[q, 2]) > GRAZING
            out_blocked[q] = square and best_t[q] < limits[q]


@njit(cache=True, error_model="numpy")
def _render(vertices, faces, normals, positions, forwards, rights, ups, lights, coords, shadows, ambient, diffuse_share, shadow_share, outward):
    """Grey values (0-255, unrounded) ``[views, size * size]`` of a mesh seen by pinhole cameras.

    ``coords[k]`` is the image-plane offset (at unit distance) of pixel centre k along the
    camera's right axis (columns) and, negated, along its up axis (rows), as
    :func:`tutorial_lib.rendering.perspective_rays` lays them out. Visibility is a z-buffer:
    every triangle is projected, the pixel centres inside it (exact 2-D test, ties to one
    side) keep the nearest; that is the first hit of each pixel's ray. Shading follows
    :func:`tutorial_lib.rendering.render_views` step by step, shadow rays included.

    ``outward``: +1 (-1) when the mesh is closed with consistently outward (inward) normals,
    else 0. A ray from outside a closed surface first meets it where it enters, on a face that
    turns towards the ray's origin; so when the camera is outside the mesh's box (and the
    shadow rays, which start on its side of the surface, outside the solid) the other faces
    are skipped (a face seen almost edge-on is kept).
    """
    n_views = positions.shape[0]
    size = coords.shape[0]
    nv = vertices.shape[0]
    nf = faces.shape[0]
    out = np.full((n_views, size * size), 255.0)
    step = coords[1] - coords[0] if size > 1 else 1.0
    px = np.empty(nv)
    py = np.empty(nv)
    pz = np.empty(nv)
    depth = np.empty(size * size)
    face_at = np.empty(size * size, dtype=np.int64)
    low = np.empty(3)
    high = np.empty(3)
    for d in range(3):
        low[d] = vertices[:, d].min()
        high[d] = vertices[:, d].max()
    for view in range(n_views):
        cx, cy, cz = positions[view, 0], positions[view, 1], positions[view, 2]
        # Faces may be skipped only when the camera is outside the solid: outside its box, say.
        inside_box = low[0] <= cx <= high[0] and low[1] <= cy <= high[1] and low[2] <= cz <= high[2]
        cull = 0 if inside_box else outward
        f0, f1, f2 = forwards[view, 0], forwards[view, 1], forwards[view, 2]
        r0, r1, r2 = rights[view, 0], rights[view, 1], rights[view, 2]
        u0, u1, u2 = ups[view, 0], ups[view, 1], ups[view, 2]
        for i in range(nv):
            wx, wy, wz = vertices[i, 0] - cx, vertices[i, 1] - cy, vertices[i, 2] - cz
            z = wx * f0 + wy * f1 + wz * f2
            pz[i] = z
            if z > 1e-12:
                px[i] = (wx * r0 + wy * r1 + wz * r2) / z
                py[i] = (wx * u0 + wy * u1 + wz * u2) / z
        depth[:] = np.inf
        face_at[:] = -1
        for f in range(nf):
            a, b, c = faces[f, 0], faces[f, 1], faces[f, 2]
            if cull != 0 and _turned_away(vertices, normals, f, a, cx, cy, cz, cull):
                continue
            if pz[a] <= 1e-12 or pz[b] <= 1e-12 or pz[c] <= 1e-12:
                # Behind or beside the camera: the exact ray test on every pixel (never for a normalised mesh).
                for k in range(size * size):
                    row, col = k // size, k % size
                    dx = f0 + coords[col] * r0 + (-coords[row]) * u0
                    dy = f1 + coords[col] * r1 + (-coords[row]) * u1
                    dz = f2 + coords[col] * r2 + (-coords[row]) * u2
                    t = _ray_triangle(cx, cy, cz, dx, dy, dz, vertices, a, b, c)
                    if t > 0.0:
                        z = t * (dx * f0 + dy * f1 + dz * f2)
                        if z < depth[k]:
                            depth[k] = z
                            face_at[k] = f
                continue
            x0, y0, x1, y1, x2, y2 = px[a], py[a], px[b], py[b], px[c], py[c]
            area = _edge(x0, y0, x1, y1, x2, y2)
            if area == 0.0:
                continue
            c_lo = _first_at_or_after(coords[0], step, size, min(x0, x1, x2))
            c_hi = _first_at_or_after(coords[0], step, size, np.nextafter(max(x0, x1, x2), np.inf))
            # Rows run down: row k sits at -coords[k] on the up axis.
            r_lo = _first_at_or_after(coords[0], step, size, -max(y0, y1, y2))
            r_hi = _first_at_or_after(coords[0], step, size, np.nextafter(-min(y0, y1, y2), np.inf))
            for row in range(r_lo, r_hi):
                y = -coords[row]
                for col in range(c_lo, c_hi):
                    x = coords[col]
                    if not _inside(x0, y0, x1, y1, x2, y2, x, y):
                        continue
                    # Depth by perspective-correct interpolation: 1/z is linear on the image plane.
                    w0 = _edge(x1, y1, x2, y2, x, y) / area
                    w1 = _edge(x2, y2, x0, y0, x, y) / area
                    w2 = 1.0 - w0 - w1
                    z = 1.0 / (w0 / pz[a] + w1 / pz[b] + w2 / pz[c])
                    k = row * size + col
                    if z < depth[k]:
                        depth[k] = z
                        face_at[k] = f
        # Shading, as render_views does it.
        count = 0
        for k in range(size * size):
            if face_at[k] >= 0:
                count += 1
        pixel = np.empty(count, dtype=np.int64)
        hit = np.empty((count, 3))
        normal = np.empty((count, 3))
        to_light = np.empty((count, 3))
        light_distance = np.empty(count)
        diffuse = np.zeros(count)
        m = 0
        for k in range(size * size):
            f = face_at[k]
            if f < 0:
                continue
            row, col = k // size, k % size
            dx = (f0 + coords[col] * r0) + (-coords[row]) * u0
            dy = (f1 + coords[col] * r1) + (-coords[row]) * u1
            dz = (f2 + coords[col] * r2) + (-coords[row]) * u2
            length = np.sqrt(dx * dx + dy * dy + dz * dz)
            dx, dy, dz = dx / length, dy / length, dz / length
            nx, ny, nz = normals[f, 0], normals[f, 1], normals[f, 2]
            along = nx * dx + ny * dy + nz * dz
            if abs(along) <= GRAZING:
                continue  # the tracer drops a grazing hit: the pixel stays background
            a = faces[f, 0]
            t = ((vertices[a, 0] - cx) * nx + (vertices[a, 1] - cy) * ny + (vertices[a, 2] - cz) * nz) / along
            hx, hy, hz = dx * t + cx, dy * t + cy, dz * t + cz
            if along > 0.0:  # lit from whichever side the camera sees
                nx, ny, nz = -nx, -ny, -nz
            lx, ly, lz = lights[view, 0] - hx, lights[view, 1] - hy, lights[view, 2] - hz
            dist = np.sqrt(lx * lx + ly * ly + lz * lz)
            lx, ly, lz = lx / dist, ly / dist, lz / dist
            pixel[m] = k
            hit[m, 0], hit[m, 1], hit[m, 2] = hx, hy, hz
            normal[m, 0], normal[m, 1], normal[m, 2] = nx, ny, nz
            to_light[m, 0], to_light[m, 1], to_light[m, 2] = lx, ly, lz
            light_distance[m] = dist
            diffuse[m] = min(max(nx * lx + ny * ly + nz * lz, 0.0), 1.0)
            m += 1
        if shadows:
            lit = 0
            for i in range(m):
                if diffuse[i] > 0.0:
                    lit += 1
            which = np.empty(lit, dtype=np.int64)
            starts = np.empty((lit, 3))
            directions = np.empty((lit, 3))
            limits = np.empty(lit)
            j = 0
            for i in range(m):
                if diffuse[i] > 0.0:
                    which[j] = i
                    for d in range(3):
                        starts[j, d] = hit[i, d] + normal[i, d] * 1e-4
                        directions[j, d] = to_light[i, d]
                    limits[j] = light_distance[i]
                    j += 1
            blocked = np.zeros(lit, dtype=np.bool_)
            _nearest_hits_towards(lights[view], starts, directions, limits, vertices, faces, normals, blocked, cull)
            for j in range(lit):
                if blocked[j]:
                    diffuse[which[j]] *= shadow_share
        for i in range(m):
            out[view, pixel[i]] = 255.0 * (ambient + diffuse_share * diffuse[i])
    return out


# --------------------------------------------------------------------------------------------
# Light field descriptor: silhouettes, their outer contours, framing
# --------------------------------------------------------------------------------------------


@njit(cache=True, error_model="numpy")
def _silhouettes(column, row, faces, face_index, view_index, n_views, size):
    """Orthographic silhouettes ``[views, size, size]`` by scan conversion: what
    :func:`tutorial_lib.metrics.lfd._rasterize` computes with numpy, run by run, the same
    floating-point operations in the same order (so the same pixels).

    ``column``, ``row``: each vertex's pixel coordinates in each view ``[vertices, views]``;
    ``face_index``, ``view_index``: the (triangle, view) pairs to draw. A triangle covers a
    pixel when the pixel's centre lies between its long edge (top to bottom corner) and the
    short edge beside it, on each pixel row whose centre lies in [top, bottom).
    """
    image = np.zeros((n_views, size, size), dtype=np.bool_)
    ty = np.empty(3)
    tx = np.empty(3)
    for p in range(face_index.shape[0]):
        f, v = face_index[p], view_index[p]
        for k in range(3):
            ty[k] = row[faces[f, k], v]
            tx[k] = column[faces[f, k], v]
        # Sort the corners top to bottom (a stable sort, as numpy's argsort of three numbers).
        for i in range(1, 3):
            j = i
            while j > 0 and ty[j - 1] > ty[j]:
                ty[j - 1], ty[j] = ty[j], ty[j - 1]
                tx[j - 1], tx[j] = tx[j], tx[j - 1]
                j -= 1
        first = max(np.ceil(ty[0] - 0.5), 0.0)
        last = min(np.ceil(ty[2] - 0.5) - 1.0, size - 1.0)
        if last < first:
            continue
        slope_long = (tx[2] - tx[0]) / (ty[2] - ty[0])
        slope_upper = (tx[1] - tx[0]) / (ty[1] - ty[0])
        slope_lower = (tx[2] - tx[1]) / (ty[2] - ty[1])
        for r in range(int(first), int(last) + 1):
            y = r + 0.5
            x_long = tx[0] + (y - ty[0]) * slope_long
            if y >= ty[1]:
                x_short = tx[1] + (y - ty[1]) * slope_lower
            else:
                x_short = tx[0] + (y - ty[0]) * slope_upper
            if x_long != x_long or x_short != x_short:
                continue  # a degenerate triangle's run (NaN): nothing
            start = max(np.ceil(min(x_long, x_short) - 0.5), 0.0)
            stop = min(np.ceil(max(x_long, x_short) - 0.5) - 1.0, size - 1.0)
            for c in range(int(start), int(stop) + 1):
                image[v, r, c] = True
    return image


# Directions on the pixel-corner lattice, clockwise on screen (rows grow downwards): E, S, W, N.
_STEP_ROW = np.array([0, 1, 0, -1])
_STEP_COL = np.array([1, 0, -1, 0])


@njit(cache=True, error_model="numpy")
def _outer_contours(images):
    """The outer contour of each binary image ``[V, H, W]``, exactly as
    :func:`tutorial_lib.metrics.lfd._outer_contours_flat` finds it with numpy, one image at a time.

    Returns (points ``[K, 2]``: the contours' crack midpoints (row, col) laid end to end,
    bounds ``[V, 2]``: each image's (start, stop) in them; start == stop when it has none).
    A crack is the side shared by an inside and an outside pixel, directed with the inside on
    its right; cracks are numbered in the order of (corner row, corner column, direction);
    each crack is followed by the one that turns left at its end, else straight on, else right.
    A cycle starts at its lowest-numbered crack. The contour of an image is its longest
    clockwise (outer) cycle, the later-starting one of equally long ones.
    """
    n_images, h, w = images.shape
    width = w + 1
    table = np.full((h + 1) * (w + 1) * 4, -1, dtype=np.int64)
    chunks = []
    bounds = np.zeros((n_images, 2), dtype=np.int64)
    total = 0
    capacity = 4 * (h + 1) * (w + 1)
    keys = np.empty(capacity, dtype=np.int64)
    rows = np.empty(capacity, dtype=np.int64)
    cols = np.empty(capacity, dtype=np.int64)
    dirs = np.empty(capacity, dtype=np.int64)
    padded = np.zeros((h + 2, w + 2), dtype=np.bool_)
    for v in range(n_images):
        r_lo, r_hi, c_lo, c_hi = h, -1, w, -1
        for r in range(h):
            for c in range(w):
                if images[v, r, c]:
                    r_lo, r_hi, c_lo, c_hi = min(r_lo, r), max(r_hi, r), min(c_lo, c), max(c_hi, c)
        if r_hi < 0:
            bounds[v, 0] = total
            bounds[v, 1] = total
            continue
        # Pixel (r, c) is padded[r + 1, c + 1]; outside the image everything is outside.
        padded[:, :] = False
        for r in range(r_lo, r_hi + 1):
            for c in range(c_lo, c_hi + 1):
                padded[r + 1, c + 1] = images[v, r, c]
        # The cracks leaving each corner (r, c), in the order of (r, c, direction): that is the
        # order of their numbers. Around the corner: a = pixel (r-1, c-1), b = (r-1, c),
        # d = (r, c-1), e = (r, c).
        count = 0
        for r in range(r_lo, r_hi + 2):
            for c in range(c_lo, c_hi + 2):
                a, b, d, e = padded[r, c], padded[r, c + 1], padded[r + 1, c], padded[r + 1, c + 1]
                if a == b and b == d and d == e:
                    continue
                for direction in range(4):
                    if direction == 0:
                        there = e and not b  # east along row r, inside (r, c) below
                    elif direction == 1:
                        there = d and not e  # south along column c, inside (r, c-1) on the left... of the pixel pair
                    elif direction == 2:
                        there = a and not d  # west along row r, inside (r-1, c-1) above
                    else:
                        there = b and not a  # north along column c, inside (r-1, c) on the right
                    if there:
                        keys[count] = (r * width + c) * 4 + direction
                        rows[count] = r
                        cols[count] = c
                        dirs[count] = direction
                        count += 1
        for i in range(count):
            table[keys[i]] = i
        successor = np.full(count, -1, dtype=np.int64)
        for i in range(count):
            end = ((rows[i] + _STEP_ROW[dirs[i]]) * width + cols[i] + _STEP_COL[dirs[i]]) * 4
            for turn in (3, 0, 1):  # left, straight on, right: the first that exists
                wanted = end + (dirs[i] + turn) % 4
                if 0 <= wanted < table.shape[0] and table[wanted] >= 0:
                    successor[i] = table[wanted]
                    break
        for i in range(count):
            table[keys[i]] = -1
        # Walk the cycles from their lowest-numbered cracks; keep the best outer one.
        visited = np.zeros(count, dtype=np.bool_)
        cycle = np.empty(count, dtype=np.int64)
        best_start, best_length = -1, -1
        for i in range(count):
            if visited[i]:
                continue
            length = 0
            j = i
            while j >= 0 and not visited[j]:
                visited[j] = True
                cycle[length] = j
                length += 1
                j = successor[j]
            # Signed area (shoelace over consecutive midpoints, wrapping round), summed in chain order.
            area = 0.0
            for p in range(length):
                a, b = cycle[p], cycle[(p + 1) % length]
                r0 = rows[a] + _STEP_ROW[dirs[a]] / 2.0 - 0.5
                c0 = cols[a] + _STEP_COL[dirs[a]] / 2.0 - 0.5
                r1 = rows[b] + _STEP_ROW[dirs[b]] / 2.0 - 0.5
                c1 = cols[b] + _STEP_COL[dirs[b]] / 2.0 - 0.5
                area += c0 * r1 - c1 * r0
            if area / 2.0 > 0 and length >= best_length:
                best_start, best_length = i, length
        if best_start < 0:
            bounds[v, 0] = total
            bounds[v, 1] = total
            continue
        points = np.empty((best_length, 2))
        j = best_start
        for p in range(best_length):
            points[p, 0] = rows[j] + _STEP_ROW[dirs[j]] / 2.0 - 0.5
            points[p, 1] = cols[j] + _STEP_COL[dirs[j]] / 2.0 - 0.5
            j = successor[j]
        chunks.append(points)
        bounds[v, 0] = total
        bounds[v, 1] = total + best_length
        total += best_length
    out_points = np.empty((total, 2))
    at = 0
    for points in chunks:
        out_points[at : at + points.shape[0]] = points
        at += points.shape[0]
    return out_points, bounds


@njit(cache=True, error_model="numpy")
def _resample_contours(points, starts, lengths, samples, half_width):
    """The arithmetic of :func:`tutorial_lib.metrics.contour_fourier` between the contours and
    their signatures, in the same order of operations as its numpy code (the same numbers).

    Each contour (``points[start : start + length]``, closed) is smoothed by a circular moving
    average of ``2 * half_width + 1`` points; the smoothed contours are closed (first point
    repeated) and laid end to end, their arc length summed over all of them in one running
    sum, and each resampled at ``samples`` points equally spaced along its length. Returns the
    resampled points ``[C, samples, 2]`` and, per contour, the shoelace sums: twice the signed
    area ``[C]`` and the two first moments ``[C, 2]``.
    """
    n_contours = starts.shape[0]
    size = 0
    for c in range(n_contours):
        size += lengths[c] + 1
    closed = np.empty((size, 2))
    closing = np.empty(n_contours, dtype=np.int64)
    at = 0
    for c in range(n_contours):
        s, length = starts[c], lengths[c]
        for p in range(length):
            t0 = 0.0
            t1 = 0.0
            for shift in range(-half_width, half_width + 1):
                q = s + (p + shift) % length
                t0 += points[q, 0]
                t1 += points[q, 1]
            closed[at + p, 0] = t0 / (2 * half_width + 1)
            closed[at + p, 1] = t1 / (2 * half_width + 1)
        closed[at + length, 0] = closed[at, 0]
        closed[at + length, 1] = closed[at, 1]
        at += length + 1
        closing[c] = at - 1
    step = np.zeros(max(size - 1, 0))
    for i in range(size - 1):
        d0 = closed[i + 1, 0] - closed[i, 0]
        d1 = closed[i + 1, 1] - closed[i, 1]
        step[i] = np.sqrt(d0 * d0 + d1 * d1)
    for c in range(n_contours - 1):
        step[closing[c]] = 0.0  # no step from one contour to the next
    arc = np.empty(size)
    arc[0] = 0.0
    for i in range(size - 1):
        arc[i + 1] = arc[i] + step[i]
    resampled = np.empty((n_contours, samples, 2))
    area = np.zeros(n_contours)
    moments = np.zeros((n_contours, 2))
    for c in range(n_contours):
        end = closing[c]
        begin = end - lengths[c]
        total = arc[end] - arc[begin]
        segment = begin
        for j in range(samples):
            where = arc[begin] + total * (j / samples)
            # The last point at or before `where` along the arc, kept inside this contour.
            while segment + 1 <= end and arc[segment + 1] <= where:
                segment += 1
            k = min(max(segment, begin), end - 1)
            fraction = (where - arc[k]) / max(step[k], 1e-12)
            resampled[c, j, 0] = closed[k, 0] + fraction * (closed[k + 1, 0] - closed[k, 0])
            resampled[c, j, 1] = closed[k, 1] + fraction * (closed[k + 1, 1] - closed[k, 1])
        # Shoelace sums over the closed polygon (the step past its end counts zero).
        for i in range(begin, end + 1):
            if i == end:
                cross = 0.0
                if c == n_contours - 1:
                    break
            else:
                cross = closed[i, 0] * closed[i + 1, 1] - closed[i + 1, 0] * closed[i, 1]
            area[c] += cross
            moments[c, 0] += (closed[i, 0] + closed[i + 1, 0]) * cross
            moments[c, 1] += (closed[i, 1] + closed[i + 1, 1]) * cross
    return resampled, area, moments


@njit(cache=True, error_model="numpy")
def _frame(masks, size, reach):
    """:func:`tutorial_lib.search.frame_silhouettes`: each binary image ``[B, H, W]`` centred on
    its area centroid and scaled so that its farthest pixel lies at ``reach`` of the half-width,
    resampled at ``size``² pixels. The centroid and reach are summed in the order numpy sums
    them; the resampling is bilinear in float32, with the weights and sums in the order of
    torch's ``grid_sample`` (zeros outside, align_corners=False), then thresholded at 0.5.
    """
    batch, height, width = masks.shape
    out = np.zeros((batch, size, size), dtype=np.bool_)
    u = np.empty(size)
    for k in range(size):
        u[k] = (k + 0.5) / (size / 2.0) - 1.0
    gx = np.empty(size, dtype=np.float32)
    gy = np.empty(size, dtype=np.float32)
    one = np.float32(1.0)
    half_w = np.float32(width) / np.float32(2.0)
    half_h = np.float32(height) / np.float32(2.0)
    # The image with a border of one outside pixel: every sample below reads inside it.
    padded = np.zeros((height + 2, width + 2), dtype=np.float32)
    col0 = np.empty(size, dtype=np.int64)
    west = np.empty(size, dtype=np.float32)
    east = np.empty(size, dtype=np.float32)
    for b in range(batch):
        area = 0
        sum_r = 0.0
        sum_c = 0.0
        r_lo, r_hi, c_lo, c_hi = height, -1, width, -1
        for r in range(height):
            for c in range(width):
                if masks[b, r, c]:
                    area += 1
                    sum_r += r + 0.5
                    sum_c += c + 0.5
                    r_lo, r_hi, c_lo, c_hi = min(r_lo, r), max(r_hi, r), min(c_lo, c), max(c_hi, c)
        if area == 0:
            continue
        centre_r = sum_r / area
        centre_c = sum_c / area
        # The farthest inside pixel lies on the boundary (a step away from the centre along the
        # larger offset goes farther), so only pixels with an outside neighbour are measured.
        radius = 0.0
        for r in range(r_lo, r_hi + 1):
            for c in range(c_lo, c_hi + 1):
                if masks[b, r, c] and (
                    r == 0
                    or c == 0
                    or r == height - 1
                    or c == width - 1
                    or not masks[b, r - 1, c]
                    or not masks[b, r + 1, c]
                    or not masks[b, r, c - 1]
                    or not masks[b, r, c + 1]
                ):
                    radius = max(radius, np.hypot(r + 0.5 - centre_r, c + 0.5 - centre_c))
        radius += 0.5
        scale = radius / reach
        padded[:, :] = 0.0
        for r in range(r_lo, r_hi + 1):
            for c in range(c_lo, c_hi + 1):
                if masks[b, r, c]:
                    padded[r + 1, c + 1] = 1.0
        for k in range(size):
            gx[k] = np.float32(2.0 * (centre_c + u[k] * scale) / width - 1.0)
            gy[k] = np.float32(2.0 * (centre_r + u[k] * scale) / height - 1.0)
        # Per output column: its source column and weights (the same for every row).
        for j in range(size):
            x = (gx[j] + one) * half_w - np.float32(0.5)
            x_w = np.floor(x)
            col0[j] = int(x_w)
            west[j] = x - x_w
            east[j] = one - west[j]
        j_lo, j_hi = size, 0
        for j in range(size):
            if not (col0[j] + 1 < c_lo or col0[j] > c_hi):
                j_lo, j_hi = min(j_lo, j), max(j_hi, j + 1)
        for i in range(size):
            y = (gy[i] + one) * half_h - np.float32(0.5)
            y_n = np.floor(y)
            r0 = int(y_n)
            if r0 + 1 < r_lo or r0 > r_hi:
                continue  # both source rows outside the image's inside pixels: zero
            n = y - y_n
            s = one - n
            for j in range(j_lo, j_hi):
                c0 = col0[j]
                if c0 + 1 < c_lo or c0 > c_hi:
                    continue
                w_ = west[j]
                e = east[j]
                value = (
                    padded[r0 + 1, c0 + 1] * (s * e) + padded[r0 + 1, c0 + 2] * (s * w_) + padded[r0 + 2, c0 + 1] * (n * e) + padded[r0 + 2, c0 + 2] * (n * w_)
                )
                out[b, i, j] = value >= np.float32(0.5)
    return out


@njit(cache=True, error_model="numpy")
def _zernike_moments(images, index, basis):
    """``images[:, index] @ basis`` for images ``[B, P]`` (boolean or numbers) and a basis
    ``[K, M]``: each image's pixels at ``index`` weigh the basis's rows, summed in float64 in
    pixel order and rounded to float32 at the end. The same numbers on every machine and with
    any number of threads (a BLAS matrix product's last bits depend on both), and quick on
    silhouettes, whose empty pixels are skipped."""
    n_images, rows, columns = images.shape[0], index.shape[0], basis.shape[1]
    out = np.empty((n_images, columns), dtype=np.float32)
    total = np.empty(columns)
    for b in range(n_images):
        total[:] = 0.0
        for k in range(rows):
            value = images[b, index[k]] * 1.0
            if value != 0.0:
                for m in range(columns):
                    total[m] += value * basis[k, m]
        for m in range(columns):
            out[b, m] = total[m]
    return out


def warm_up(kernels: str = "dataset") -> None:
    """Compile (first use after an install or a change of this file) or load from the cache the
    kernels of the dataset builder (``"dataset"``) or of the light field descriptor (``"lfd"``),
    on a tetrahedron: done once in the parent before worker processes start, so that they
    inherit the compiled code instead of each compiling it."""
    vertices = np.array([[0.1, 0.1, 0.1], [-0.1, -0.1, 0.1], [-0.1, 0.1, -0.1], [0.1, -0.1, -0.1]])
    faces = np.array([[0, 1, 2], [0, 3, 1], [0, 2, 3], [1, 3, 2]], dtype=np.int64)
    edges = np.cross(vertices[faces[:, 1]] - vertices[faces[:, 0]], vertices[faces[:, 2]] - vertices[faces[:, 0]])
    normals = edges / np.linalg.norm(edges, axis=1, keepdims=True)
    if kernels == "dataset":
        _column_parity(vertices, faces, normals, 4, 0, 0.01, 0.02, 1e-6)
        _surface_voxels(vertices, faces, 4, 1e-9)
        basis = np.eye(3)
        one = np.array([[0.0, 0.0, -1.5]])
        _render(
            vertices,
            faces,
            normals,
            one,
            basis[2:3].copy(),
            basis[0:1].copy(),
            basis[1:2].copy(),
            one.copy(),
            np.linspace(-0.1, 0.1, 4),
            True,
            0.2,
            0.7,
            0.5,
            1,
        )
    elif kernels == "lfd":
        pixels = (vertices[:, :2] + 0.2) * 10.0
        images = _silhouettes(pixels[:, :1].copy(), pixels[:, 1:].copy(), faces, np.arange(4), np.zeros(4, dtype=np.int64), 1, 4)
        _outer_contours(images)
        _frame(images, 4, 0.9)
        _zernike_moments(images.reshape(1, -1), np.arange(4), np.ones((4, 2), dtype=np.float32))
    else:
        raise ValueError(f"unknown kernels {kernels!r}: use 'dataset' or 'lfd'")
