"""Things with a cable: display, lamp, loudspeaker, telephone.

Each generator builds its object at roughly 1 unit (the result is rescaled anyway) and is
registered with its structural choices by ``@_category`` (see :mod:`.registry`).
"""

from __future__ import annotations

import numpy as np

from .primitives import (
    _cut,
    _cylinder,
    _dome,
    _hull,
    _lathe,
    _prism,
    _rounded_box,
    _rounded_plate,
    _slab,
    _sphere,
    _tilted,
    _union,
)
from .registry import _category


@_category(
    "display",
    mount=("stand", "foot", "tv_legs"),
    back=("flat_panel", "crt"),
)
def _display(choice, p):
    """A screen panel facing -Z with a recessed screen inside a bezel.

    Variants: mount a neck on a base plate | one bent foot (a slanted support and a plate) | two
    feet near the ends (a TV); back a thin flat panel | a deep tapering CRT housing.
    """
    width = 1.0
    height = width / p.uniform("aspect_ratio", 1.25, 1.9)
    thickness = p.uniform("panel_thickness", 0.03, 0.055)
    bezel = p.uniform("bezel", 0.02, 0.05)
    if choice["mount"] == "tv_legs":
        bottom = p.uniform("lift", 0.03, 0.1)
    else:
        bottom = p.uniform("lift", 0.08, 0.22)
    top = bottom + height
    panel = _slab(x=(-width / 2, width / 2), y=(bottom, top), z=(-thickness / 2, thickness / 2))
    screen = _slab(x=(-width / 2 + bezel, width / 2 - bezel), y=(bottom + bezel, top - bezel), z=(-thickness / 2 - 0.01, -thickness / 2 + 0.012))
    parts = [_cut(panel, screen)]

    back_z = thickness / 2
    if choice["back"] == "crt":  # a big tapered box behind the screen
        deep = p.uniform("housing_depth", 0.3, 0.5)
        shrink = p.uniform("housing_taper", 0.35, 0.6)
        mid_y = (bottom + top) / 2
        parts.append(
            _hull(
                [
                    (sx * w, mid_y + sy * h, z)
                    for sx in (-1, 1)
                    for sy in (-1, 1)
                    for w, h, z in ((width * 0.47, height * 0.47, back_z - 0.01), (width * 0.47 * shrink, height * 0.47 * shrink, back_z + deep))
                ]
            )
        )
        # a CRT's weight sits on its housing: drop the housing bottom onto the mount's height
    else:  # a shallow box for the electronics
        parts.append(_slab(x=(-width * 0.3, width * 0.3), y=(bottom + height * 0.2, bottom + height * 0.7), z=(back_z - 0.01, back_z + 0.03)))
        back_z += 0.03

    if choice["mount"] == "stand":
        neck = p.uniform("neck_width", 0.06, 0.12)
        plate_depth = p.uniform("base_depth", 0.18, 0.3)
        plate_width = p.uniform("base_width", 0.25, 0.45)
        z_neck = back_z + 0.02
        parts.append(_slab(x=(-neck / 2, neck / 2), y=(0.02, bottom + height * 0.5), z=(z_neck - 0.035, z_neck + 0.035)))
        parts.append(_slab(x=(-neck / 2, neck / 2), y=(bottom + height * 0.3, bottom + height * 0.45), z=(back_z - 0.03, z_neck + 0.02)))
        if p.choice("base_shape", ("round", "rectangular")) == "round":
            disc = plate_depth / 2 + 0.04
            parts.append(_cylinder((0, 0, z_neck - 0.02), (0, 0.03, z_neck - 0.02), disc, sections=28))
        else:
            parts.append(_slab(x=(-plate_width / 2, plate_width / 2), y=(0, 0.03), z=(z_neck - plate_depth * 0.6, z_neck + plate_depth * 0.4)))
    elif choice["mount"] == "foot":
        foot_width = p.uniform("foot_width", 0.15, 0.3)
        lean = p.uniform("foot_lean", 0.08, 0.18)
        plate = p.uniform("plate_depth", 0.12, 0.22)
        z_top = back_z - 0.01
        # side view: an L whose upright leans back from the panel down to the plate
        parts.append(
            _prism(
                [
                    (z_top, bottom + height * 0.55),
                    (z_top + 0.04, bottom + height * 0.55),
                    (z_top + lean + 0.04, 0.0),
                    (z_top - plate, 0.0),
                    (z_top - plate, 0.03),
                    (z_top + lean - 0.01, 0.03),
                ],
                -foot_width / 2,
                foot_width / 2,
            )
        )
    else:  # two TV feet near the ends, each a short post on a bar along Z
        spread = p.uniform("feet_spread", 0.3, 0.42)
        foot_depth = p.uniform("foot_depth", 0.18, 0.28)
        for x in (-1, 1):
            xc = x * width * spread
            parts.append(_slab(x=(xc - 0.02, xc + 0.02), y=(0, 0.03), z=(-foot_depth / 2, foot_depth / 2)))
            parts.append(_slab(x=(xc - 0.02, xc + 0.02), y=(0.02, bottom + 0.03), z=(-0.02, 0.02)))
    return parts


@_category(
    "lamp",
    kind=("desk_arm", "floor", "table"),
    shade=("cone_shade", "dome_shade", "cylinder_shade"),
    base=("round_base", "square_base"),
)
def _lamp(choice, p):
    """An upright lamp. Shades are solid (a voxel grid cannot hold a hollow paper shade anyway).

    Variants: kind desk lamp (base, two-part arm bent forward, head looking down) | floor lamp
    (tall pole, shade on top) | table lamp (a vase-like body, big shade); shade cone | dome |
    cylinder; base round | square.
    """
    kind = choice["kind"]
    base_size = p.uniform("base_size", *((0.22, 0.36) if kind == "floor" else (0.2, 0.32)))
    base_height = p.uniform("base_height", 0.03, 0.06)
    if choice["base"] == "round_base":
        radius = base_size / 2
        parts = [_cylinder((0, 0, 0), (0, base_height, 0), radius, radius * 0.9, sections=28)]
    else:
        parts = [_slab(x=(-base_size / 2, base_size / 2), y=(0, base_height), z=(-base_size / 2, base_size / 2))]

    def shade(rim_center, axis, radius, length):
        """A solid shade whose wide rim is at ``rim_center`` and which narrows along ``axis``."""
        rim_center, axis = np.asarray(rim_center, float), np.asarray(axis, float)
        if choice["shade"] == "cone_shade":
            return _cylinder(rim_center, rim_center + axis * length, radius, radius * 0.45)
        if choice["shade"] == "cylinder_shade":
            return _cylinder(rim_center, rim_center + axis * length, radius)
        return _dome(rim_center, axis, radius, length)

    shade_radius = p.uniform("shade_radius", *((0.07, 0.11) if kind == "desk_arm" else (0.1, 0.2)))
    shade_length = shade_radius * p.uniform("shade_length_ratio", 0.8, 1.4)
    up = np.array([0.0, 1.0, 0.0])
    if kind == "floor":
        height = 1.0
        pole = p.uniform("pole_radius", 0.014, 0.02)
        torchiere = choice["shade"] == "cone_shade"  # a cone on a floor lamp opens upwards
        top = height - shade_length
        parts.append(_cylinder((0, base_height - 0.01, 0), (0, top + 0.02, 0), pole))
        if torchiere:
            parts.append(_cylinder((0, top, 0), (0, height, 0), shade_radius * 0.35, shade_radius))
        else:
            parts.append(shade((0, top, 0), up, shade_radius, shade_length))
    elif kind == "table":
        body_height = p.uniform("body_height", 0.2, 0.35)
        belly = p.uniform("body_radius", 0.05, 0.1)
        neck = p.uniform("neck_radius", 0.02, 0.035)
        y0 = base_height - 0.01
        parts.append(
            _lathe(
                [
                    (0, y0),
                    (belly * 0.7, y0),
                    (belly, y0 + body_height * 0.35),
                    (belly * 0.8, y0 + body_height * 0.75),
                    (neck, y0 + body_height),
                    (0, y0 + body_height),
                ]
            )
        )
        stem_top = y0 + body_height + p.uniform("stem_length", 0.05, 0.15)
        parts.append(_cylinder((0, y0 + body_height - 0.01, 0), (0, stem_top + 0.02, 0), neck * 0.6))
        parts.append(shade((0, stem_top - shade_length * 0.3, 0), up, shade_radius * 1.3, shade_length * 1.2))
    else:  # desk lamp: lower arm leans back, upper arm reaches forward (-Z), head looks down
        arm = p.uniform("arm_radius", 0.014, 0.02)
        lower_length = p.uniform("lower_arm_length", 0.3, 0.45)
        upper_length = p.uniform("upper_arm_length", 0.3, 0.45)
        lean = np.radians(p.uniform("lower_arm_lean_deg", 5, 35))
        reach = np.radians(p.uniform("upper_arm_angle_deg", 0, 30))  # above horizontal: head clears the desk
        shoulder = np.array([0.0, base_height, base_size * 0.2])
        elbow = shoulder + lower_length * np.array([0, np.cos(lean), np.sin(lean)])
        wrist = elbow + upper_length * np.array([0, np.sin(reach), -np.cos(reach)])
        parts += [_cylinder(shoulder - (0, 0.02, 0), elbow, arm), _sphere(elbow, arm * 1.8), _cylinder(elbow, wrist, arm), _sphere(wrist, arm * 1.5)]
        look = np.radians(p.uniform("head_tilt_deg", 10, 45))  # 0 = straight down
        axis_down = np.array([0, -np.cos(look), -np.sin(look)])
        rim = wrist + axis_down * shade_length * 0.9
        parts.append(shade(rim, -axis_down, shade_radius, shade_length))
    return parts


@_category(
    "loudspeaker",
    body=("bookshelf", "tower", "cylinder"),
    drivers=("bulging_cones", "recessed_cones"),
    base=("no_base", "feet", "plinth"),
)
def _loudspeaker(choice, p):
    """A cabinet with round drivers on its front (-Z).

    Variants: body bookshelf box | tall narrow tower | upright cylinder; drivers bulge out of the
    front | sit in round recesses; base none | four feet | a plinth.
    """
    body = choice["body"]
    if body == "bookshelf":
        width, height, depth = p.uniform("width", 0.5, 0.65), 1.0, p.uniform("depth", 0.5, 0.8)
        drivers = 2
    elif body == "tower":
        width, height, depth = p.uniform("width", 0.22, 0.32), 1.0, p.uniform("depth", 0.3, 0.42)
        drivers = p.integer("drivers", 3, 4)
    else:
        width = depth = 2 * p.uniform("radius", 0.2, 0.3)
        height = p.uniform("height", 0.7, 1.0)
        drivers = p.integer("drivers", 1, 3)
    base_height = 0.0
    parts = []
    if choice["base"] == "feet":
        base_height = p.uniform("foot_height", 0.03, 0.06)
        for x in (-1, 1):
            for z in (-1, 1):
                xc, zc = x * width * 0.35, z * depth * 0.35
                parts.append(_cylinder((xc, 0, zc), (xc, base_height + 0.01, zc), 0.025, 0.035, 12))
    elif choice["base"] == "plinth":
        base_height = p.uniform("plinth_height", 0.03, 0.06)
        grow = p.uniform("plinth_overhang", 0.0, 0.04)
        if body == "cylinder":
            parts.append(_cylinder((0, 0, 0), (0, base_height + 0.01, 0), width / 2 + grow, sections=28))
        else:
            parts.append(_slab(x=(-width / 2 - grow, width / 2 + grow), y=(0, base_height + 0.01), z=(-depth / 2 - grow, depth / 2 + grow)))
    y0, y1 = base_height, base_height + height
    if body == "cylinder":
        cabinet = _cylinder((0, y0, 0), (0, y1, 0), width / 2, sections=28)
        if p.choice("top", ("flat", "dome")) == "dome":
            parts.append(_dome((0, y1 - 0.01, 0), (0, 1, 0), width / 2, p.uniform("dome_height", 0.05, 0.15)))
    else:
        cabinet = _slab(x=(-width / 2, width / 2), y=(y0, y1), z=(-depth / 2, depth / 2))

    # Drivers stacked on the front: a small tweeter at the top, bigger woofers below, maybe a
    # round bass port at the bottom.
    margin = 0.04
    port = p.choice("bass_port", ("yes", "no")) == "yes"
    port_room = 0.1 if port else 0.0
    usable = height - 2 * margin - port_room
    size = p.uniform("woofer_size", 0.22, 0.3) if body == "cylinder" else p.uniform("woofer_size", 0.3, 0.42)
    woofer = min(width * size, usable / (2 * drivers - 0.8))
    radii = [woofer] if drivers == 1 else [woofer * 0.45] + [woofer] * (drivers - 1)
    top_centre = y1 - margin - radii[0]
    lowest_centre = y0 + margin + port_room + radii[-1]
    centres = np.linspace(top_centre, lowest_centre, drivers) if drivers > 1 else [top_centre - usable * 0.15]
    face = -depth / 2

    def into_face(r):
        """How deep the front is behind z = face at distance r from its middle (curved for a cylinder)."""
        if body != "cylinder":
            return 0.0
        return width / 2 - np.sqrt(max((width / 2) ** 2 - r**2, 0.0))

    cuts, cones = [], []
    for cy, r in zip(centres, radii, strict=True):
        sink = face + into_face(r * 1.12) + 0.02
        if choice["drivers"] == "bulging_cones":
            cones.append(_cylinder((0, cy, sink), (0, cy, face - 0.012), r * 1.12))  # surround
            bulge = min(r * 0.3, 0.035)
            cones.append(_cylinder((0, cy, face - 0.01), (0, cy, face - 0.01 - bulge), r, r * 0.3))  # cone
        else:
            cuts.append(_cylinder((0, cy, sink + 0.015), (0, cy, face - 0.05), r))
            cones.append(_cylinder((0, cy, sink + 0.02), (0, cy, sink - 0.01), r * 0.35))  # dust cap
    if port:
        port_radius = min(0.04, width * 0.12)
        port_y = y0 + margin + port_room / 2
        port_back = face + into_face(port_radius) + 0.1
        cuts.append(_cylinder((0, port_y, port_back), (0, port_y, face - 0.05), port_radius))
    parts.append(_cut(cabinet, cuts) if cuts else cabinet)
    return parts + cones


@_category(
    "telephone",
    kind=("smartphone", "flip_phone", "bar_phone", "desk_phone"),
)
def _telephone(choice, p):
    """A phone standing upright with its screen/keys facing -Z (a desk phone lies on its base).

    Variants: smartphone (a rounded slab, recessed screen, camera bump) | open flip phone (keypad
    half, hinge, screen half leaned back) | bar phone (thick candy bar, small screen, keypad,
    antenna) | desk phone (a wedge base with a sloped keypad and a handset across the top).
    """
    kind = choice["kind"]
    parts = []

    def keypad(x_span, y_span, z_face, rows=4, cols=3):
        """Raised key caps on a face at ``z_face`` (keys stick out towards -Z)."""
        keys = []
        kw = (x_span[1] - x_span[0]) / cols
        kh = (y_span[1] - y_span[0]) / rows
        for r in range(rows):
            for c in range(cols):
                x0 = x_span[0] + c * kw + kw * 0.15
                y0 = y_span[0] + r * kh + kh * 0.15
                keys.append(_slab(x=(x0, x0 + kw * 0.7), y=(y0, y0 + kh * 0.7), z=(z_face - 0.02, z_face + 0.01)))
        return keys

    if kind == "smartphone":
        width = p.uniform("width", 0.45, 0.55)
        depth = p.uniform("thickness", 0.05, 0.08)
        corner = p.uniform("corner_radius", 0.03, 0.08)
        height = 1.0
        body = _rounded_plate((0, height / 2, 0), (width, height, depth), corner)
        border = p.uniform("screen_border", 0.025, 0.05)
        screen = _slab(x=(-width / 2 + border, width / 2 - border), y=(border * 1.5, height - border * 1.5), z=(-depth / 2 - 0.01, -depth / 2 + 0.012))
        parts.append(_cut(body, screen))
        bump = p.uniform("camera_bump", 0.1, 0.2)
        bump_centre = (-width / 2 + 0.05 + bump / 2, height - 0.05 - bump / 2, depth / 2)  # on the back
        parts.append(_rounded_box(bump_centre, (bump, bump, 0.05), 0.015))
    elif kind == "flip_phone":
        width = p.uniform("width", 0.38, 0.46)
        depth = p.uniform("thickness", 0.06, 0.09)
        lower = p.uniform("lower_half_height", 0.42, 0.5)
        upper = p.uniform("upper_half_height", 0.4, 0.48)
        lean = p.uniform("open_lean_deg", 10, 25)
        parts.append(_rounded_box((0, lower / 2, 0), (width, lower, depth), 0.025))
        parts += keypad((-width / 2 + 0.05, width / 2 - 0.05), (0.05, lower * 0.75), -depth / 2)
        hinge_y = lower + depth / 2 * 0.5
        hinge_x = width / 2 - 0.02
        parts.append(_cylinder((-hinge_x, hinge_y, 0.0), (hinge_x, hinge_y, 0.0), depth / 2 + 0.005))
        screen_half = [
            _cut(
                _rounded_box((0, upper / 2, 0), (width, upper, depth * 0.8), 0.025),
                [_slab(x=(-width / 2 + 0.04, width / 2 - 0.04), y=(0.06, upper - 0.05), z=(-depth * 0.4 - 0.01, -depth * 0.4 + 0.012))],
            )
        ]
        parts.append(_tilted(screen_half, lean, (0, hinge_y, 0.0)))
    elif kind == "bar_phone":
        width = p.uniform("width", 0.38, 0.46)
        depth = p.uniform("thickness", 0.09, 0.14)
        height = 1.0 - p.uniform("antenna_length", 0.08, 0.16)
        parts.append(
            _cut(
                _rounded_box((0, height / 2, 0), (width, height, depth), 0.04),
                [_slab(x=(-width / 2 + 0.06, width / 2 - 0.06), y=(height * 0.55, height - 0.08), z=(-depth / 2 - 0.01, -depth / 2 + 0.015))],
            )
        )
        rows = p.integer("key_rows", 4, 5)
        parts += keypad((-width / 2 + 0.05, width / 2 - 0.05), (0.06, height * 0.48), -depth / 2, rows)
        ax = width * 0.3
        parts.append(_cylinder((ax, height - 0.03, 0), (ax, 1.0, 0), 0.025, 0.018, 12))
    else:  # desk phone: a wedge base, a sloped keypad, a handset lying across the top
        width = p.uniform("width", 0.75, 1.0)
        depth = p.uniform("depth", 0.55, 0.8)
        front_h = p.uniform("front_height", 0.06, 0.1)
        back_h = p.uniform("back_height", 0.2, 0.3)
        slope = np.degrees(np.arctan2(back_h - front_h, depth * 0.7))
        parts.append(
            _hull(
                [
                    (sx * width / 2, y, z)
                    for sx in (-1, 1)
                    for y, z in ((0, -depth / 2), (0, depth / 2), (front_h, -depth / 2), (back_h, depth * 0.2), (back_h, depth / 2))
                ]
            )
        )
        # keys on the sloped face, drawn flat (facing +Y) then tilted to match the slope
        pad = []
        for r in range(4):
            for c in range(3):
                x0 = -0.15 + c * 0.1
                z0 = -0.1 + r * 0.075
                pad.append(_slab(x=(x0, x0 + 0.07), y=(-0.01, 0.02), z=(z0, z0 + 0.05)))
        mid_z = -depth / 2 + depth * 0.35
        mid_y = front_h + (back_h - front_h) * 0.5
        parts.append(_union(pad).rotate((-slope, 0.0, 0.0)).translate((-width * 0.15, mid_y, mid_z)))
        # handset: two ear/mouth pieces joined by a bar, across X at the back
        hz = depth * 0.28
        hy = back_h + 0.04
        span = width * p.uniform("handset_length", 0.75, 0.9)
        for x in (-1, 1):
            parts.append(_rounded_box((x * (span / 2 - 0.07), hy, hz), (0.14, 0.1, 0.2), 0.03))
        parts.append(_cylinder((-span / 2 + 0.1, hy + 0.03, hz), (span / 2 - 0.1, hy + 0.03, hz), 0.035))
        # cradle posts under the ends of the handset
        for x in (-1, 1):
            parts.append(_slab(x=(x * (span / 2 - 0.07) - 0.04, x * (span / 2 - 0.07) + 0.04), y=(back_h - 0.03, hy), z=(hz - 0.05, hz + 0.05)))
    return parts
