"""Furniture that is not for sitting on: cabinet, table.

Each generator builds its object at roughly 1 unit (the result is rescaled anyway) and is
registered with its structural choices by ``@_category`` (see :mod:`.registry`).
"""

from __future__ import annotations

import numpy as np

from .primitives import _box, _cylinder, _slab
from .registry import _category


@_category(
    "cabinet",
    form=("tall", "wide", "low"),
    fronts=("doors", "drawers", "doors_and_drawers"),
    base=("legs", "plinth"),
)
def _cabinet(choice, p):
    """A box whose front (-Z) carries doors and/or drawers as shallow raised panels with handles.

    Variants: tall (wardrobe) | wide (dresser) | low (sideboard); doors | drawers | a row of
    drawers above doors; on four legs | on a recessed plinth.
    """
    if choice["form"] == "tall":
        width, height = p.uniform("width", 0.4, 0.65), p.uniform("height", 0.85, 1.0)
    elif choice["form"] == "wide":
        width, height = p.uniform("width", 0.85, 1.0), p.uniform("height", 0.55, 0.8)
    else:
        width, height = p.uniform("width", 0.85, 1.0), p.uniform("height", 0.3, 0.45)
    depth = p.uniform("depth", 0.3, 0.45)
    base_height = p.uniform("base_height", 0.04, 0.14)
    y0, y1 = base_height, base_height + height
    parts = [_slab(x=(-width / 2, width / 2), y=(y0, y1), z=(-depth / 2, depth / 2))]
    # a top board that overhangs a little
    overhang = p.uniform("top_overhang", 0.0, 0.03)
    parts.append(_slab(x=(-width / 2 - overhang, width / 2 + overhang), y=(y1 - 0.01, y1 + 0.03), z=(-depth / 2 - overhang, depth / 2)))

    if choice["base"] == "legs":
        radius = p.uniform("leg_radius", 0.018, 0.03)
        for x in (-1, 1):
            for z in (-1, 1):
                xc, zc = x * (width / 2 - radius - 0.02), z * (depth / 2 - radius - 0.02)
                parts.append(_cylinder((xc, 0, zc), (xc, y0 + 0.01, zc), radius * 0.7, radius))
    else:
        recess = 0.03
        parts.append(_slab(x=(-width / 2 + recess, width / 2 - recess), y=(0, y0 + 0.01), z=(-depth / 2 + recess, depth / 2 - recess)))

    # The front: a grid of panels raised 0.02 from the face, 0.025 apart, each with a handle.
    margin, gap, raise_by = 0.025, 0.025, 0.02
    handle_style = p.choice("handle", ("bar", "knob"))
    face = -depth / 2
    x_lo, x_hi = -width / 2 + margin, width / 2 - margin
    y_lo, y_hi = y0 + margin, y1 - margin - 0.01

    def columns(n):
        w = (x_hi - x_lo - (n - 1) * gap) / n
        return [(x_lo + k * (w + gap), x_lo + k * (w + gap) + w) for k in range(n)]

    panels = []  # (x0, x1, y0, y1, kind)
    if choice["fronts"] == "doors_and_drawers":
        drawer_height = (y_hi - y_lo) * p.uniform("drawer_row_fraction", 0.15, 0.3)
        for xa, xb in columns(p.integer("top_drawers", 1, 2)):
            panels.append((xa, xb, y_hi - drawer_height, y_hi, "drawer"))
        y_hi -= drawer_height + gap
    if choice["fronts"] in ("doors", "doors_and_drawers"):
        most = 2 if choice["form"] == "tall" else 3
        for xa, xb in columns(p.integer("doors", 1, most)):
            panels.append((xa, xb, y_lo, y_hi, "door"))
    if choice["fronts"] == "drawers":
        rows = p.integer("drawer_rows", 2, 3 if choice["form"] == "low" else 5)
        cols = 1 if choice["form"] == "tall" else p.integer("drawer_columns", 1, 2)
        row_height = (y_hi - y_lo - (rows - 1) * gap) / rows
        for r in range(rows):
            ya = y_lo + r * (row_height + gap)
            for xa, xb in columns(cols):
                panels.append((xa, xb, ya, ya + row_height, "drawer"))

    for k, (xa, xb, ya, yb, kind) in enumerate(panels):
        parts.append(_slab(x=(xa, xb), y=(ya, yb), z=(face - raise_by, face + 0.01)))
        # handle: centred on drawers, near the inner edge on doors (doors alternate hinge sides)
        if kind == "drawer":
            hx = (xa + xb) / 2
            hy = (ya + yb) / 2 if yb - ya < 0.25 else yb - 0.08  # tall drawers: handle near the top
        else:
            hx = xb - 0.05 if k % 2 == 0 else xa + 0.05
            hy = (ya + yb) / 2
        hz = face - raise_by
        if handle_style == "knob":
            parts.append(_cylinder((hx, hy, hz + 0.005), (hx, hy, hz - 0.03), 0.017, 0.022, 12))
        elif kind == "drawer":
            half = min(0.08, (xb - xa) / 3)
            parts.append(_slab(x=(hx - half, hx + half), y=(hy - 0.013, hy + 0.013), z=(hz - 0.028, hz + 0.005)))
        else:
            half = min(0.1, (yb - ya) / 4)
            parts.append(_slab(x=(hx - 0.013, hx + 0.013), y=(hy - half, hy + half), z=(hz - 0.028, hz + 0.005)))
    return parts


@_category(
    "table",
    legs=("four_legs", "pedestal", "trestle"),
    top=("rectangular_top", "round_top"),
)
def _table(choice, p):
    """A flat top on supports; coffee-table to dining-table heights.

    Variants: legs four legs with an apron | one central pedestal (on a disc or a cross of feet)
    | trestle (an upright frame at each end joined by a stretcher); top rectangular | round.
    """
    height = p.uniform("height", 0.4, 0.78)
    thickness = p.uniform("top_thickness", 0.03, 0.06)
    round_top = choice["top"] == "round_top"
    if round_top:
        length = width = p.uniform("diameter", 0.6, 1.0)
        parts = [_cylinder((0, height - thickness, 0), (0, height, 0), length / 2, sections=32)]
    else:
        length, width = p.uniform("length", 0.75, 1.0), p.uniform("width", 0.4, 0.8)
        parts = [_slab(x=(-length / 2, length / 2), y=(height - thickness, height), z=(-width / 2, width / 2))]
    under = height - thickness + 0.01  # supports reach a little into the top

    if choice["legs"] == "four_legs":
        leg = p.uniform("leg_size", 0.035, 0.06)
        inset = p.uniform("leg_inset", 0.01, 0.07) + leg / 2
        if round_top:
            a = (length / 2 - inset) / np.sqrt(2)
            xs, zs = a, a
        else:
            xs, zs = length / 2 - inset, width / 2 - inset
        for x in (-1, 1):
            for z in (-1, 1):
                parts.append(_slab(x=(x * xs - leg / 2, x * xs + leg / 2), y=(0, under), z=(z * zs - leg / 2, z * zs + leg / 2)))
        apron = p.uniform("apron_height", 0.03, 0.1)
        for s in (-1, 1):
            parts.append(_slab(x=(-xs, xs), y=(under - apron, under), z=(s * zs - 0.015, s * zs + 0.015)))
            parts.append(_slab(x=(s * xs - 0.015, s * xs + 0.015), y=(under - apron, under), z=(-zs, zs)))
    elif choice["legs"] == "pedestal":
        column = p.uniform("column_radius", 0.035, 0.07)
        parts.append(_cylinder((0, 0.01, 0), (0, under, 0), column))
        parts.append(_cylinder((0, under - 0.03, 0), (0, under, 0), column * 2.2))
        foot = min(length, width) * p.uniform("foot_spread", 0.3, 0.45)
        if p.choice("pedestal_base", ("disc", "cross")) == "disc":
            disc = p.uniform("disc_thickness", 0.025, 0.05)
            parts.append(_cylinder((0, 0, 0), (0, disc, 0), foot, sections=28))
        else:
            for angle in (45, 135):
                parts.append(_box((0, 0.025, 0), (2 * foot, 0.05, 0.05), (0, angle, 0)))
    else:  # trestle
        post = p.uniform("post_thickness", 0.04, 0.07)
        end = (length / 2 - p.uniform("end_inset", 0.06, 0.14)) if not round_top else length * 0.3
        foot = (width if not round_top else length * 0.6) * 0.4
        for x in (-1, 1):
            xc = x * end
            parts.append(_slab(x=(xc - post / 2, xc + post / 2), y=(0, under), z=(-0.03, 0.03)))
            parts.append(_slab(x=(xc - post / 2, xc + post / 2), y=(0, 0.05), z=(-foot, foot)))
            parts.append(_slab(x=(xc - post / 2, xc + post / 2), y=(under - 0.04, under), z=(-foot * 0.9, foot * 0.9)))
        stretcher_y = height * p.uniform("stretcher_height", 0.2, 0.5)
        parts.append(_slab(x=(-end, end), y=(stretcher_y - 0.025, stretcher_y + 0.025), z=(-0.02, 0.02)))
    return parts
