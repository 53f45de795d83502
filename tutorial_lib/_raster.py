"""Compiled kernels (numba) behind the voxeliser, the renderer and the light field silhouettes.

Each kernel replaces one cast of many rays through a general ray tracer by the structure the
rays share: the columns of a voxel grid are axis-aligned and lie on a regular lattice, the
pixels of a pinhole camera are the regular lattice of directions from one point, and the
shadow rays of one view all run towards one light. So a triangle is projected once, its
bounding box tells which rays can meet it, and only those are tested exactly. The public
functions that use them (:func:`tutorial_lib.geometry.voxelize`,
:func:`tutorial_lib.rendering.render_views`)
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
    # Sort by (ray, coordinate) with the same number line as geometry._parity_along_axis: ray r on [4r, 4r + 4).
    keys = ray[:count] * 4.0 + (loc[:count] + 2.0)
    order = np.argsort(keys, kind="mergesort")
    inside = np.zeros((n, n, n), dtype=np.bool_)
    query = np.empty(n)
    position = 0
    for r in range(n * n):
        start = position
        while position < count and ray[order[position]] == r:
            position += 1
        # Walk this ray's crossings in order, as the tracer sees them.
        kept = np.empty(position - start)
        m = 0
        last = -np.inf
        for p in range(start, position):
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


def warm_up() -> None:
    """Compile (first use after an install or a change of this file) or load from the cache the
    kernels of the dataset builder, on a tetrahedron: done once in the parent before worker
    processes start, so that they inherit the compiled code instead of each compiling it."""
    vertices = np.array([[0.1, 0.1, 0.1], [-0.1, -0.1, 0.1], [-0.1, 0.1, -0.1], [0.1, -0.1, -0.1]])
    faces = np.array([[0, 1, 2], [0, 3, 1], [0, 2, 3], [1, 3, 2]], dtype=np.int64)
    edges = np.cross(vertices[faces[:, 1]] - vertices[faces[:, 0]], vertices[faces[:, 2]] - vertices[faces[:, 0]])
    normals = edges / np.linalg.norm(edges, axis=1, keepdims=True)
    _column_parity(vertices, faces, normals, 4, 0, 0.01, 0.02, 1e-6)
    camera = np.array([[0.0, 0.0, -1.5]])
    forward, right, up = np.array([[0.0, 0.0, 1.0]]), np.array([[1.0, 0.0, 0.0]]), np.array([[0.0, 1.0, 0.0]])
    _render(vertices, faces, normals, camera, forward, right, up, camera.copy(), np.linspace(-0.1, 0.1, 4), True, 0.2, 0.7, 0.5, 1)
