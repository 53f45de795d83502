"""Seating: bench, chair, sofa.

Each generator builds its object at roughly 1 unit (the result is rescaled anyway) and is
registered with its structural choices by ``@_category`` (see :mod:`.registry`).
"""

from __future__ import annotations

import numpy as np

from .primitives import _cylinder, _rounded_box, _slab, _sphere, _tilted
from .registry import _category


@_category(
    "bench",
    legs=("four_legs", "panel_legs", "frame_legs"),
    seat=("slatted_seat", "solid_seat"),
    back=("backrest", "backless"),
)
def _bench(choice, p):
    """A long seat along X (front edge at -Z).

    Variants: legs four square legs | two solid end panels | two metal frames (rectangular loops);
    seat made of slats on cross supports | one solid board; with a slatted back rest at +Z |
    backless.
    """
    length = p.uniform("length", 0.8, 1.0)
    depth = p.uniform("depth", 0.3, 0.45)
    seat_top = p.uniform("seat_height", 0.38, 0.48)
    thickness = p.uniform("seat_thickness", 0.035, 0.06)
    end_inset = p.uniform("leg_inset", 0.04, 0.12)  # how far the supports sit in from the ends
    parts = []
    seat_bottom = seat_top - thickness
    if choice["seat"] == "solid_seat":
        parts.append(_slab(x=(-length / 2, length / 2), y=(seat_bottom, seat_top), z=(-depth / 2, depth / 2)))
    else:
        slats = p.integer("seat_slats", 3, 5)
        gap = p.uniform("slat_gap", 0.02, 0.03)
        slat_width = (depth - (slats - 1) * gap) / slats
        for k in range(slats):
            z0 = -depth / 2 + k * (slat_width + gap)
            parts.append(_slab(x=(-length / 2, length / 2), y=(seat_bottom, seat_top), z=(z0, z0 + slat_width)))
        # cross supports under the slats hold them together (and make the bench one solid)
        seat_bottom -= 0.035
        for x in (-1, 1):
            xc = x * (length / 2 - end_inset)
            parts.append(_slab(x=(xc - 0.025, xc + 0.025), y=(seat_bottom, seat_bottom + 0.04), z=(-depth / 2, depth / 2)))

    support_x = length / 2 - end_inset
    top = seat_bottom + 0.01  # legs reach slightly into the seat
    if choice["legs"] == "four_legs":
        leg = p.uniform("leg_size", 0.04, 0.065)
        for x in (-1, 1):
            for z in (-1, 1):
                xc, zc = x * support_x, z * (depth / 2 - leg / 2 - 0.01)
                parts.append(_slab(x=(xc - leg / 2, xc + leg / 2), y=(0, top), z=(zc - leg / 2, zc + leg / 2)))
    elif choice["legs"] == "panel_legs":
        panel = p.uniform("panel_thickness", 0.035, 0.06)
        panel_depth = depth * p.uniform("panel_depth_fraction", 0.75, 1.0)
        for x in (-1, 1):
            xc = x * support_x
            parts.append(_slab(x=(xc - panel / 2, xc + panel / 2), y=(0, top), z=(-panel_depth / 2, panel_depth / 2)))
    else:  # a rectangular loop of round tube at each end
        tube = p.uniform("tube_radius", 0.014, 0.022)
        for x in (-1, 1):
            xc = x * support_x
            z_front, z_back = -depth / 2 + 0.04, depth / 2 - 0.04
            corners = [(xc, tube, z_front), (xc, tube, z_back), (xc, top, z_back), (xc, top, z_front)]
            for a, b in zip(corners, corners[1:] + corners[:1], strict=True):
                parts.append(_cylinder(a, b, tube))
            parts += [_sphere(c, tube, 12) for c in corners]

    if choice["back"] == "backrest":
        back_height = p.uniform("back_height", 0.25, 0.4)
        tilt = p.uniform("back_tilt_deg", 5, 20)
        boards = p.integer("back_boards", 1, 3)
        post = 0.045
        # drawn upright with the origin at the rear edge of the seat, then leaned back
        back = []
        for x in (-1, 1):
            back.append(_slab(x=(x * support_x - post / 2, x * support_x + post / 2), y=(0, back_height + thickness), z=(-post / 2, post / 2)))
        board_height = (back_height - 0.04) / boards - 0.03
        for k in range(boards):
            y0 = thickness + 0.04 + k * (board_height + 0.03)
            back.append(_slab(x=(-length / 2, length / 2), y=(y0, y0 + board_height), z=(-0.015, 0.015)))
        parts.append(_tilted(back, tilt, (0, seat_bottom, depth / 2 - post / 2)))
    return parts


@_category(
    "chair",
    legs=("four_legs", "swivel_base", "sled_base"),
    arms=("arms", "no_arms"),
    back=("solid_back", "slatted_back"),
)
def _chair(choice, p):
    """A seat slab with a back rest at +Z (the seat's front edge faces -Z).

    Variants: legs four legs | swivel base (column and a star of five feet on casters) | sled
    base (two runners); arms | no arms; back solid panel | slatted (posts, top rail, spindles).
    """
    width = p.uniform("seat_width", 0.42, 0.56)
    depth = p.uniform("seat_depth", 0.4, 0.52)
    seat_top = p.uniform("seat_height", 0.4, 0.5)
    thickness = p.uniform("seat_thickness", 0.04, 0.08)
    leg_radius = p.uniform("leg_radius", 0.016, 0.028)
    seat_bottom = seat_top - thickness
    parts = [_slab(x=(-width / 2, width / 2), y=(seat_bottom, seat_top), z=(-depth / 2, depth / 2))]

    if choice["legs"] == "four_legs":
        inset = leg_radius + p.uniform("leg_inset", 0.0, 0.04)
        splay = p.uniform("leg_splay", 0.0, 0.03)  # feet a little further out than the tops
        for x in (-1, 1):
            for z in (-1, 1):
                top = (x * (width / 2 - inset), seat_bottom + 0.01, z * (depth / 2 - inset))
                foot = (top[0] + x * splay, 0, top[2] + z * splay)
                parts.append(_cylinder(foot, top, leg_radius))
    elif choice["legs"] == "swivel_base":
        column = p.uniform("column_radius", 0.025, 0.04)
        reach = p.uniform("foot_length", 0.24, 0.32)
        hub_y = 0.07
        parts.append(_cylinder((0, hub_y - 0.02, 0), (0, seat_bottom + 0.01, 0), column))
        parts.append(_cylinder((0, hub_y - 0.03, 0), (0, hub_y + 0.04, 0), column * 1.6))
        parts.append(_slab(x=(-0.1, 0.1), y=(seat_bottom - 0.03, seat_bottom + 0.01), z=(-0.1, 0.1)))
        for k in range(5):
            angle = -np.pi / 2 + 2 * np.pi * k / 5  # one foot points straight to the front
            end = np.array([reach * np.cos(angle), 0.04, reach * np.sin(angle)])
            parts.append(_cylinder((0, hub_y, 0), end, 0.018))
            parts.append(_sphere((end[0], 0.025, end[2]), 0.025, 12))  # a caster
    else:  # sled: a runner on each side, bent up at front and back to hold the seat
        tube = leg_radius
        run = p.uniform("runner_overhang", 0.0, 0.05)
        for x in (-1, 1):
            xc = x * (width / 2 - tube - 0.01)
            corners = [
                (xc, seat_bottom + 0.01, -depth / 2 + 0.05),
                (xc, tube, -depth / 2 - run),
                (xc, tube, depth / 2 + run),
                (xc, seat_bottom + 0.01, depth / 2 - 0.05),
            ]
            for a, b in zip(corners, corners[1:], strict=False):
                parts.append(_cylinder(a, b, tube))
            parts += [_sphere(c, tube, 12) for c in corners[1:3]]

    # The back, drawn upright with the origin at the seat's rear bottom edge, then leaned back.
    back_height = p.uniform("back_height", 0.35, 0.52)
    tilt = p.uniform("back_tilt_deg", 0, 15)
    back_width = width * p.uniform("back_width_fraction", 0.75, 1.0)
    back_thickness = p.uniform("back_thickness", 0.035, 0.07)
    total = thickness + back_height
    half_t = back_thickness / 2
    if choice["back"] == "solid_back":
        back = [_slab(x=(-back_width / 2, back_width / 2), y=(0, total), z=(-half_t, half_t))]
    else:
        post = p.uniform("post_width", 0.035, 0.05)
        rail = p.uniform("top_rail_height", 0.05, 0.12)
        back = [
            _slab(x=(-back_width / 2, -back_width / 2 + post), y=(0, total), z=(-half_t, half_t)),
            _slab(x=(back_width / 2 - post, back_width / 2), y=(0, total), z=(-half_t, half_t)),
        ]
        back.append(_slab(x=(-back_width / 2, back_width / 2), y=(total - rail, total), z=(-half_t, half_t)))
        inner = back_width - 2 * post
        most = max(1, int((inner - 0.03) / 0.065))  # spindles 0.035 wide with gaps of >= 0.03
        spindles = p.integer("spindles", 1, min(5, most))
        for x in np.linspace(-inner / 2, inner / 2, spindles + 2)[1:-1]:
            back.append(_slab(x=(x - 0.0175, x + 0.0175), y=(thickness - 0.01, total - rail + 0.01), z=(-half_t * 0.7, half_t * 0.7)))
    parts.append(_tilted(back, tilt, (0, seat_bottom, depth / 2 - half_t)))

    if choice["arms"] == "arms":
        arm_height = p.uniform("arm_height", 0.17, 0.25)
        arm_width = p.uniform("arm_width", 0.04, 0.07)
        for x in (-1, 1):
            xc = x * (width / 2 - arm_width / 2 + 0.01)
            rest_y = seat_top + arm_height
            parts.append(_slab(x=(xc - arm_width / 2, xc + arm_width / 2), y=(rest_y, rest_y + 0.035), z=(-depth / 2 + 0.02, depth / 2)))
            for zc in (-depth / 2 + 0.06, depth / 2 - 0.06):
                parts.append(_slab(x=(xc - 0.018, xc + 0.018), y=(seat_bottom, rest_y + 0.01), z=(zc - 0.018, zc + 0.018)))
    return parts


@_category(
    "sofa",
    arms=("boxy_arms", "rolled_arms", "no_arms"),
    layout=("straight", "l_shape"),
    cushions=("seat_cushions", "bench_seat"),
)
def _sofa(choice, p):
    """A base with cushions, a thick back at +Z and arms at the sides (seats face -Z).

    Variants: arms boxy | rolled (a round bolster on top) | none; layout straight | L-shape with
    a chaise sticking out to the front on one side; cushions one per seat | one long bench seat.
    """
    width = p.uniform("width", 0.8, 1.0)
    depth = p.uniform("depth", 0.35, 0.45)
    legs = p.uniform("leg_height", 0.0, 0.06)  # under 0.02 means a skirted base down to the floor
    base_top = legs + p.uniform("base_height", 0.1, 0.16)
    cushion = p.uniform("cushion_thickness", 0.06, 0.1)
    back_height = p.uniform("back_height", 0.2, 0.32)  # above the seat cushions
    back_depth = p.uniform("back_depth", 0.08, 0.14)
    arm_width = p.uniform("arm_width", 0.06, 0.12) if choice["arms"] != "no_arms" else 0.0
    arm_height = p.uniform("arm_height", 0.06, 0.16) if choice["arms"] != "no_arms" else 0.0
    seats = p.integer("seats", 2, 3)
    gap = 0.012  # between cushions (shows in renderings, closes up in voxels)
    seat_top = base_top + cushion

    chaise = 0.0
    if choice["layout"] == "l_shape":
        chaise = p.uniform("chaise_length", 0.25, 0.45)
        side = 1 if p.choice("chaise_side", ("right", "left")) == "right" else -1
        chaise_width = (width - 2 * arm_width) / seats

    # the frame: base, back, arms (the back is the full width at +Z)
    base_bottom = legs if legs >= 0.02 else 0.0
    front = -depth / 2
    parts = [
        _slab(x=(-width / 2, width / 2), y=(base_bottom, base_top), z=(front, depth / 2)),
        _rounded_box(
            (0, (base_bottom + seat_top + back_height) / 2, depth / 2 - back_depth / 2), (width, seat_top + back_height - base_bottom, back_depth), 0.03
        ),
    ]
    inner_left, inner_right = -width / 2 + arm_width, width / 2 - arm_width
    if chaise:
        x_in = side * (width / 2 - arm_width - chaise_width)
        x_out = side * width / 2
        parts.append(_slab(x=sorted((x_in, x_out)), y=(base_bottom, base_top), z=(front - chaise, front + 0.02)))
    for x in (-1, 1):
        if choice["arms"] == "no_arms":
            continue
        z0 = front - (chaise if chaise and x == side else 0.0)
        xc = x * (width / 2 - arm_width / 2)
        top = seat_top + arm_height
        if choice["arms"] == "boxy_arms":
            parts.append(_rounded_box((xc, (base_bottom + top) / 2, (z0 + depth / 2) / 2), (arm_width, top - base_bottom, depth / 2 - z0), 0.02))
        else:  # a lower arm with a bolster that rolls outward
            bolster = arm_width * 0.65
            parts.append(_slab(x=(xc - arm_width / 2, xc + arm_width / 2), y=(base_bottom, top - bolster * 0.5), z=(z0, depth / 2 - 0.01)))
            axis_x = xc + x * (bolster - arm_width / 2) * 0.5
            axis_y = top - bolster
            parts.append(_cylinder((axis_x, axis_y, z0 - 0.01), (axis_x, axis_y, depth / 2 - 0.01), bolster))

    # cushions, rounded, sitting on the base (and on the chaise)
    seat_front, seat_back = front + 0.01, depth / 2 - back_depth + 0.01
    if choice["cushions"] == "bench_seat":
        spans = [(inner_left, inner_right)]
    else:
        w = (inner_right - inner_left - (seats - 1) * gap) / seats
        spans = [(inner_left + k * (w + gap), inner_left + k * (w + gap) + w) for k in range(seats)]
    back_tilt = p.uniform("back_cushion_tilt_deg", 8, 16)
    for xa, xb in spans:
        seat_centre = ((xa + xb) / 2, base_top + cushion / 2 - 0.005, (seat_front + seat_back) / 2)
        parts.append(_rounded_box(seat_centre, (xb - xa, cushion + 0.01, seat_back - seat_front), 0.025))
        # back cushions leaning on the back
        back_cushion = _rounded_box((0, back_height * 0.45, 0), (xb - xa, back_height * 0.9, 0.08), 0.025)
        parts.append(_tilted([back_cushion], back_tilt, ((xa + xb) / 2, seat_top - 0.01, seat_back + 0.03)))
    if chaise:
        xa, xb = sorted((x_in, side * (width / 2 - arm_width)))
        chaise_centre = ((xa + xb) / 2, base_top + cushion / 2 - 0.005, front - chaise / 2 + 0.005)
        parts.append(_rounded_box(chaise_centre, (xb - xa, cushion + 0.01, chaise + 0.01), 0.025))
    if legs >= 0.02:
        for x in (-1, 1):
            for z in (-1, 1):
                xc, zc = x * (width / 2 - 0.04), z * (depth / 2 - 0.04)
                parts.append(_cylinder((xc, 0, zc), (xc, legs + 0.01, zc), 0.02, 0.025, 12))
        if chaise:
            xc = side * (width / 2 - 0.04)
            zc = front - chaise + 0.04
            parts.append(_cylinder((xc, 0, zc), (xc, legs + 0.01, zc), 0.02, 0.025, 12))
    return parts
