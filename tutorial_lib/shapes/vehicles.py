"""Vehicles: airplane, car, watercraft.

Each generator builds its object at roughly 1 unit (the result is rescaled anyway) and is
registered with its structural choices by ``@_category`` (see :mod:`.registry`).
"""

from __future__ import annotations

import numpy as np

from .primitives import _both_sides, _cut, _cylinder, _hull, _prism, _ring, _rounded_box, _slab
from .registry import _category


@_category(
    "airplane",
    wings=("straight_wings", "swept_wings", "delta_wings"),
    engines=("wing_engines", "rear_engines", "no_engines"),
    tail=("conventional_tail", "t_tail", "twin_tail"),
)
def _airplane(choice, p):
    """A fuselage along Z (nose at -Z) with wings along X.

    Variants: wings straight | swept | delta; engines in pods under the wings | on the rear
    fuselage | none (propeller or glider look); tail conventional | T-tail (stabiliser on top of
    the fin) | twin tail (two fins on the stabiliser).
    """
    length = 1.0
    radius = p.uniform("fuselage_radius", 0.04, 0.065)
    tail_length = p.uniform("tail_cone_length", 0.2, 0.3)
    tail_rise = radius * p.uniform("tail_upsweep", 0.3, 0.8)
    nose, tail = -length / 2, length / 2
    body_end = tail - tail_length
    # The fuselage: a lofted nose + cylinder, then an upswept tail cone. Two convex hulls.
    front = _hull(
        [
            _ring((0, 0, nose), radius * 0.15, radius * 0.15, 8),
            _ring((0, -radius * 0.05, nose + 0.04), radius * 0.7, radius * 0.65),
            _ring((0, 0, nose + 0.11), radius, radius),
            _ring((0, 0, body_end), radius, radius),
        ]
    )
    tail_cone = _hull(
        [
            _ring((0, 0, body_end), radius, radius),
            _ring((0, tail_rise, tail), radius * 0.3, radius * 0.3, 8),
        ]
    )
    parts = [front, tail_cone]

    # Wings: each is the hull of a root section (inside the fuselage) and a tip section.
    wing_y = radius * p.uniform("wing_height", -0.6, 0.5)  # low wing ... high wing
    wing_z = p.uniform("wing_position", -0.12, 0.02)  # leading edge at the root
    root_thickness = p.uniform("wing_root_thickness", 0.03, 0.045)
    tip_thickness = 0.028  # thin parts stay above ~2.5% of the largest side
    if choice["wings"] == "straight_wings":
        span = p.uniform("wingspan", 0.8, 1.1)
        root_chord = p.uniform("root_chord", 0.11, 0.17)
        tip_chord = root_chord * p.uniform("taper", 0.55, 0.95)
        sweep = p.uniform("tip_sweep_back", 0.0, 0.04)
    elif choice["wings"] == "swept_wings":
        span = p.uniform("wingspan", 0.75, 1.05)
        root_chord = p.uniform("root_chord", 0.15, 0.24)
        tip_chord = p.uniform("tip_chord", 0.05, 0.08)
        sweep = span / 2 * np.tan(np.radians(p.uniform("sweep_deg", 25, 40)))
    else:  # delta: a long root chord, a tiny tip, and a straight trailing edge
        span = p.uniform("wingspan", 0.5, 0.75)
        root_chord = p.uniform("root_chord", 0.4, 0.55)
        tip_chord = p.uniform("tip_chord", 0.03, 0.06)
        sweep = root_chord - tip_chord
        wing_z = min(wing_z, body_end - root_chord + 0.05)
    dihedral = span / 2 * np.tan(np.radians(p.uniform("dihedral_deg", 0, 6)))

    def wing_section(x, y, z_leading, chord, thickness):
        return [(x, y + s * thickness / 2, z) for s in (-1, 1) for z in (z_leading, z_leading + chord)]

    wing = _hull(
        wing_section(0, wing_y, wing_z, root_chord, root_thickness) + wing_section(span / 2, wing_y + dihedral, wing_z + sweep, tip_chord, tip_thickness)
    )
    parts += _both_sides(wing)

    # Engines: pods hanging on pylons under the wing, or on the sides of the rear fuselage.
    if choice["engines"] != "no_engines":
        pod_radius = p.uniform("engine_radius", 0.025, 0.04)
        pod_length = p.uniform("engine_length", 0.11, 0.17)
    if choice["engines"] == "wing_engines":
        per_side = p.integer("engines_per_wing", 1, 2)
        for k in range(per_side):
            x = span / 2 * (0.3 + 0.25 * k)
            fraction = x / (span / 2)
            y_wing = wing_y + dihedral * fraction
            z_lead = wing_z + sweep * fraction
            y = y_wing - root_thickness / 2 - pod_radius - 0.012
            z = z_lead - pod_length * 0.45
            pod = _cylinder((x, y, z), (x, y, z + pod_length), pod_radius, pod_radius * 0.8)
            pylon = _slab(x=(x - 0.014, x + 0.014), y=(y, y_wing), z=(z + 0.3 * pod_length, z_lead + 0.05))
            parts += _both_sides([pod, pylon])
    elif choice["engines"] == "rear_engines":
        x = radius + pod_radius + 0.012
        y = radius * 0.35
        z = body_end - pod_length * 0.7
        pod = _cylinder((x, y, z), (x, y, z + pod_length), pod_radius, pod_radius * 0.8)
        pylon = _slab(x=(0, x), y=(y - 0.014, y + 0.014), z=(z + 0.2 * pod_length, z + 0.8 * pod_length))
        parts += _both_sides([pod, pylon])

    # Tail: a vertical fin and a horizontal stabiliser (a small wing).
    fin_height = p.uniform("fin_height", 0.1, 0.18)
    fin_chord = p.uniform("fin_chord", 0.1, 0.16)
    stab_span = p.uniform("stabiliser_span", 0.24, 0.38)
    stab_chord = p.uniform("stabiliser_chord", 0.06, 0.1)
    fin_thickness = 0.028

    def fin(x, y_base, z_lead, height):
        return _hull(
            [
                (x + s * fin_thickness / 2, y, z)
                for s in (-1, 1)
                for y, z in (
                    (y_base, z_lead),
                    (y_base, z_lead + fin_chord),
                    (y_base + height, z_lead + fin_chord * 0.95),
                    (y_base + height, z_lead + fin_chord * 0.55),
                )
            ]
        )

    def stabiliser(y, z_lead):
        return _both_sides(
            _hull(
                wing_section(0, y, z_lead, stab_chord, fin_thickness)
                + wing_section(stab_span / 2, y, z_lead + stab_chord * 0.5, stab_chord * 0.55, fin_thickness)
            )
        )

    fin_z = tail - fin_chord - 0.01
    fin_base = tail_rise * 0.5  # inside the tail cone
    if choice["tail"] == "conventional_tail":
        parts += [fin(0, fin_base, fin_z, fin_height + radius), stabiliser(tail_rise * 0.6, tail - stab_chord - 0.03)]
    elif choice["tail"] == "t_tail":
        top = fin_base + fin_height + radius
        parts += [fin(0, fin_base, fin_z, fin_height + radius), stabiliser(top - fin_thickness / 2, fin_z + fin_chord * 0.45)]
    else:  # twin tail: two fins standing on the ends of the stabiliser
        y = tail_rise * 0.6
        z = tail - stab_chord - 0.03
        parts += stabiliser(y, z)
        parts += _both_sides(fin(stab_span * 0.3, y - 0.01, z + 0.01, fin_height * 0.8))
    return parts


@_category(
    "car",
    body=("sedan", "hatchback", "pickup", "suv"),
    extras=("plain", "roof_rack", "spoiler"),
)
def _car(choice, p):
    """A side-profile body extruded across X, a narrower cabin on top, four wheels (hood at -Z).

    Variants: body sedan (hood, cabin, trunk) | hatchback (short, steep rear) | pickup (cab and an
    open bed) | SUV (tall, boxy, big wheels); extras none | roof rack | rear spoiler.
    """
    body = choice["body"]
    length = 1.0
    width = p.uniform("width", 0.38, 0.46)
    big = body in ("suv", "pickup")  # bigger wheels, more ground clearance
    wheel_radius = p.uniform("wheel_radius", *((0.1, 0.13) if big else (0.08, 0.105)))
    wheel_width = p.uniform("wheel_width", 0.06, 0.09)
    clearance = wheel_radius * p.uniform("clearance", *((0.5, 0.8) if big else (0.3, 0.5)))
    belt = clearance + p.uniform("body_height", 0.14, 0.2)  # top of the lower body (the beltline)
    arch = wheel_radius * 1.12  # the wheel arches cut into the body are a little bigger than the wheels
    belt = max(belt, wheel_radius + arch + 0.04)  # arches stay below the beltline
    cabin_height = p.uniform("cabin_height", *((0.14, 0.2) if body == "suv" else (0.1, 0.15)))
    front, rear = -length / 2, length / 2
    axle_front = front + arch + p.uniform("front_overhang", 0.03, 0.09)
    axle_rear = rear - arch - p.uniform("rear_overhang", 0.03, 0.09)

    # Lower body seen from the side: bumper, rising hood line, flat deck, rear face.
    nose = p.uniform("nose_height", 0.45, 0.8)  # how high the front face reaches (fraction)
    lower = _prism(
        [
            (front + 0.02, clearance),
            (rear - 0.02, clearance),
            (rear, clearance + 0.03),
            (rear, belt),
            (front + 0.07, belt - 0.01),
            (front, clearance + (belt - clearance) * nose),
            (front, clearance + 0.02),
        ],
        -width / 2,
        width / 2,
    )

    # Cabin (the greenhouse): narrower than the body, windshield and rear window sloped.
    if body == "sedan":
        cab_front = front + p.uniform("hood_length", 0.3, 0.38)
        cab_rear = rear - p.uniform("trunk_length", 0.18, 0.26)
        windshield = p.uniform("windshield_run", 0.14, 0.2)  # how far the glass reaches along Z
        rear_window = p.uniform("rear_window_run", 0.1, 0.16)
    elif body == "hatchback":
        cab_front = front + p.uniform("hood_length", 0.22, 0.3)
        cab_rear = rear - 0.02
        windshield = p.uniform("windshield_run", 0.14, 0.2)
        rear_window = p.uniform("rear_window_run", 0.04, 0.1)
    elif body == "suv":
        cab_front = front + p.uniform("hood_length", 0.22, 0.3)
        cab_rear = rear - 0.02
        windshield = p.uniform("windshield_run", 0.1, 0.15)
        rear_window = p.uniform("rear_window_run", 0.0, 0.04)
    else:  # pickup: a short cab, then the bed
        cab_front = front + p.uniform("hood_length", 0.24, 0.32)
        cab_rear = cab_front + p.uniform("cab_length", 0.26, 0.34)
        windshield, rear_window = p.uniform("windshield_run", 0.1, 0.16), 0.01
    cab_half = width / 2 * p.uniform("cabin_width_fraction", 0.8, 0.92)
    top_half = cab_half - 0.03  # the sides lean in (tumblehome)
    roof = belt + cabin_height
    cabin = _hull(
        [
            (s * w, y, z)
            for s in (-1, 1)
            for w, y, z in (
                (cab_half, belt - 0.01, cab_front),
                (cab_half, belt - 0.01, cab_rear),
                (top_half, roof, cab_front + windshield),
                (top_half, roof, cab_rear - rear_window),
            )
        ]
    )
    shell = [lower, cabin]
    cuts = []
    if body == "pickup":  # hollow out the bed behind the cab, leaving walls 0.045 thick
        wall = 0.045
        cuts.append(_slab(x=(-width / 2 + wall, width / 2 - wall), y=(belt - 0.08, belt + 0.1), z=(cab_rear + wall, rear - wall)))

    # Wheels: arches are cut into the body's sides, the wheels sit in them on axles through the
    # middle of the car (so each wheel stays attached) and stick out 0.01 past the body.
    axles, wheels = [], []
    for z in (axle_front, axle_rear):
        outside = width / 2 + 0.01
        for x in (-1, 1):
            arch_from = x * (width / 2 - wheel_width - 0.02)
            arch_to = x * (width / 2 + 0.1)
            cuts.append(_cylinder((arch_from, wheel_radius, z), (arch_to, wheel_radius, z), arch))
            wheel_from, wheel_to = x * (outside - wheel_width), x * outside
            wheels.append(_cylinder((wheel_from, wheel_radius, z), (wheel_to, wheel_radius, z), wheel_radius))
        axle_end = width / 2
        axles.append(_cylinder((-axle_end, wheel_radius, z), (axle_end, wheel_radius, z), 0.03, sections=12))
    parts = [_cut(shell, cuts), wheels, axles]

    if choice["extras"] == "roof_rack":
        z0, z1 = cab_front + windshield + 0.02, cab_rear - rear_window - 0.02
        for x in (-1, 1):
            xc = x * (top_half - 0.04)
            parts.append(_slab(x=(xc - 0.015, xc + 0.015), y=(roof - 0.01, roof + 0.03), z=(z0, z1)))
        for z in (z0 + 0.03, z1 - 0.03):
            parts.append(
                _slab(
                    x=(-top_half + 0.02, top_half - 0.02),
                    y=(roof + 0.012, roof + 0.045),  # sunk well into the rails
                    z=(z - 0.015, z + 0.015),
                )
            )
    elif choice["extras"] == "spoiler":
        # on the trunk lid (sedan, pickup) or at the top of the tailgate (hatchback, SUV)
        if body in ("sedan", "pickup"):
            base_y, z = belt, rear - 0.035  # posts stand on the tailgate of a pickup
        else:
            base_y, z = roof - 0.02, cab_rear - rear_window - 0.03
        lift = p.uniform("spoiler_lift", 0.03, 0.06)
        for x in (-1, 1):
            xc = x * width * 0.3
            parts.append(_slab(x=(xc - 0.015, xc + 0.015), y=(base_y - 0.01, base_y + lift), z=(z - 0.02, z + 0.02)))
        parts.append(_slab(x=(-width / 2 + 0.02, width / 2 - 0.02), y=(base_y + lift, base_y + lift + 0.025), z=(z - 0.045, z + 0.035)))
    return parts


@_category(
    "watercraft",
    kind=("sailboat", "motorboat", "ship"),
    hull=("monohull", "catamaran"),
)
def _watercraft(choice, p):
    """A pointed hull along Z (bow at -Z) with things on deck.

    Variants: kind sailboat (mast, main sail, maybe a jib, keel fin) | motorboat (a cabin with a
    sloped windshield, an outboard motor) | ship (stacked superstructure, funnels, a mast);
    hull one V-shaped hull | catamaran (two slim hulls under a deck).
    """
    kind = choice["kind"]
    length = 1.0
    beam = p.uniform("beam", 0.14, 0.2) if kind == "ship" else p.uniform("beam", 0.22, 0.32)
    deck = p.uniform("hull_depth", 0.08, 0.14) if kind == "ship" else p.uniform("hull_depth", 0.06, 0.1)
    bow, stern = -length / 2, length / 2
    flare = p.uniform("bow_rake", 0.05, 0.12)  # the stem leans forward: the deck reaches further

    def hull(x_centre, half_beam):
        """Cross-sections from bow to stern, each a deck line, a chine and a keel point: their
        convex hull is a V-shaped hull with a raked stem and a raised transom."""
        points = []
        # (z, deck half-width as a fraction of half_beam, keel height as a fraction of deck)
        for z, w, k in ((bow, 0.02, 0.9), (bow + flare, 0.4, 0.2), (bow + 0.35, 0.92, 0.0), (stern - 0.25, 1.0, 0.0), (stern, 0.9, 0.3)):
            half = max(half_beam * w, 0.013)
            keel = k * deck
            chine = keel + (deck - keel) * 0.4
            points += [(x_centre + s * half, deck, z) for s in (-1, 1)]
            points += [(x_centre + s * half * 0.8, chine, z) for s in (-1, 1)]
            points.append((x_centre, keel, z))
        return _hull(points)

    if choice["hull"] == "monohull":
        parts = [hull(0.0, beam / 2)]
        deck_top = deck
    else:
        pontoon = beam * p.uniform("pontoon_fraction", 0.2, 0.3)
        parts = [hull(s * (beam / 2 + pontoon / 2), pontoon / 2) for s in (-1, 1)]
        deck_top = deck + 0.03
        parts.append(_slab(x=(-beam / 2 - pontoon / 2, beam / 2 + pontoon / 2), y=(deck - 0.01, deck_top), z=(bow + 0.25, stern - 0.02)))
    y = deck_top - 0.01  # things on deck start a little inside it

    if kind == "sailboat":
        mast_z = bow + p.uniform("mast_position", 0.3, 0.42)
        mast_height = p.uniform("mast_height", 0.6, 0.95)
        mast = 0.017  # the mast makes the boat ~1.2 tall: keep it 0.034 / 1.2 thick
        boom_y = y + p.uniform("boom_height", 0.06, 0.1)
        foot = p.uniform("sail_foot", 0.3, 0.45)
        sail = 0.015  # half thickness: the sail is a 0.03-thick slab
        parts += [_cylinder((0, y - 0.02, mast_z), (0, y + mast_height, mast_z), mast), _cylinder((0, boom_y, mast_z), (0, boom_y, mast_z + foot), 0.016)]
        parts.append(_hull([(sx * sail, yy, zz) for sx in (-1, 1) for yy, zz in ((boom_y, mast_z), (boom_y, mast_z + foot), (y + mast_height * 0.97, mast_z))]))
        if p.choice("jib", ("yes", "no")) == "yes":
            parts.append(
                _hull(
                    [
                        (sx * sail, yy, zz)
                        for sx in (-1, 1)
                        for yy, zz in ((y + 0.02, mast_z - 0.02), (y + 0.02, bow + flare + 0.04), (y + mast_height * 0.8, mast_z - 0.01))
                    ]
                )
            )
        if choice["hull"] == "monohull":  # a fin keel with a bulb
            keel_depth = p.uniform("keel_depth", 0.1, 0.2)
            parts.append(
                _hull(
                    [
                        (sx * 0.016, yy, zz)
                        for sx in (-1, 1)
                        for yy, zz in ((0.02, mast_z), (0.02, mast_z + 0.15), (-keel_depth, mast_z + 0.06), (-keel_depth, mast_z + 0.14))
                    ]
                )
            )
            parts.append(_cylinder((0, -keel_depth, mast_z + 0.03), (0, -keel_depth, mast_z + 0.18), 0.025))
        cabin_len = p.uniform("cabin_length", 0.12, 0.25)
        cabin_z = mast_z + 0.05 + cabin_len / 2
        parts.append(_rounded_box((0, y + 0.03, cabin_z), (beam * 0.55, 0.07, cabin_len), 0.02))
    elif kind == "motorboat":
        cabin_front = bow + p.uniform("cabin_position", 0.3, 0.42)
        cabin_len = p.uniform("cabin_length", 0.2, 0.35)
        cabin_h = p.uniform("cabin_height", 0.07, 0.13)
        half = beam * 0.38
        parts.append(
            _hull(
                [
                    (sx * w, yy, zz)
                    for sx in (-1, 1)
                    for w, yy, zz in (
                        (half, y, cabin_front),
                        (half, y, cabin_front + cabin_len),
                        (half * 0.85, y + cabin_h, cabin_front + cabin_h * 1.2),
                        (half * 0.85, y + cabin_h, cabin_front + cabin_len),
                    )
                ]
            )
        )
        if p.choice("outboard", ("yes", "no")) == "yes":
            parts.append(_slab(x=(-0.035, 0.035), y=(deck * 0.5, deck + 0.08), z=(stern - 0.02, stern + 0.07)))
            parts.append(_slab(x=(-0.015, 0.015), y=(-0.05, deck * 0.6), z=(stern + 0.02, stern + 0.05)))
        rail = p.uniform("windshield_lean", 0.0, 0.04)
        parts.append(
            _slab(x=(-half * 0.8, half * 0.8), y=(y + cabin_h - 0.01, y + cabin_h + 0.025), z=(cabin_front + cabin_len * 0.4 + rail, cabin_front + cabin_len))
        )
    else:  # ship: superstructure blocks stepping up, funnels behind them, a mast in front
        levels = p.integer("superstructure_levels", 2, 4)
        start = p.uniform("superstructure_position", 0.45, 0.65)  # fraction along the hull
        block_len = p.uniform("superstructure_length", 0.18, 0.3)
        level_h = p.uniform("deck_height", 0.04, 0.06)
        half = beam * 0.42
        z0 = bow + start * length - block_len / 2
        for k in range(levels):
            shrink = 1 - 0.18 * k
            parts.append(
                _slab(
                    x=(-half * shrink, half * shrink),
                    y=(y + k * level_h, y + (k + 1) * level_h + 0.005),
                    z=(z0 + block_len * 0.12 * k, z0 + block_len * shrink),
                )
            )
        funnels = p.integer("funnels", 1, 3)
        funnel_r = p.uniform("funnel_radius", 0.02, 0.035)
        funnel_h = p.uniform("funnel_height", 0.07, 0.13)
        behind = z0 + block_len + 0.03 + funnel_r
        for k in range(funnels):
            zc = min(behind + k * (2.6 * funnel_r), stern - 0.06)
            funnel_top = (0, y + level_h + funnel_h, zc + 0.02)  # raked back a little
            parts.append(_cylinder((0, y, zc), funnel_top, funnel_r * 1.15, funnel_r))
        top = y + levels * level_h
        mast_z, mast_top = z0 + block_len * 0.4, top + p.uniform("mast_height", 0.08, 0.16)
        parts.append(_cylinder((0, top - 0.01, mast_z), (0, mast_top, mast_z), 0.014))
        if p.choice("forward_cargo", ("containers", "none")) == "containers":
            fore = z0 - 0.02
            parts.append(_slab(x=(-half, half), y=(y, y + level_h), z=(max(bow + 0.2, fore - 0.25), fore)))
    return parts
