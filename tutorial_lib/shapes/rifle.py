"""The rifle (the one category of its kind).

Each generator builds its object at roughly 1 unit (the result is rescaled anyway) and is
registered with its structural choices by ``@_category`` (see :mod:`.registry`).
"""

from __future__ import annotations

import numpy as np

from .primitives import _cylinder, _prism, _slab, _tilted
from .registry import _category


@_category(
    "rifle",
    stock=("classic_stock", "skeleton_stock", "bullpup"),
    magazine=("box_magazine", "curved_magazine", "no_magazine"),
    sight=("scope", "iron_sights", "carry_handle"),
)
def _rifle(choice, p):
    """A barrel along Z with the muzzle at -Z, a receiver, a stock at +Z.

    Variants: stock classic wooden (one piece with the grip) | skeleton (open frame, pistol grip)
    | bullpup (the action sits in the stock, grip in front of the magazine); magazine straight box
    | curved | none; sight scope | iron sights | carry handle.
    """
    length = 1.0
    barrel_radius = p.uniform("barrel_radius", 0.013, 0.018)
    receiver_height = p.uniform("receiver_height", 0.07, 0.1)
    receiver_width = p.uniform("receiver_width", 0.04, 0.055)
    stock_length = p.uniform("stock_length", 0.22, 0.3)
    receiver_length = p.uniform("receiver_length", 0.2, 0.28)
    muzzle, butt = -length / 2, length / 2
    bullpup = choice["stock"] == "bullpup"
    half_w = receiver_width / 2
    # receiver: directly in front of the stock (or inside it, for a bullpup)
    rec_rear = butt - stock_length if not bullpup else butt - 0.02
    rec_front = rec_rear - receiver_length if not bullpup else butt - stock_length - receiver_length * 0.6
    rec_top = 0.0 + receiver_height * 0.35  # the barrel axis is y = 0
    rec_bottom = rec_top - receiver_height
    parts = [_slab(x=(-half_w, half_w), y=(rec_bottom, rec_top), z=(rec_front, rec_rear + 0.01))]
    # barrel, muzzle device and a fore-end around the barrel
    parts.append(_cylinder((0, 0, rec_front + 0.02), (0, 0, muzzle + 0.04), barrel_radius))
    parts.append(_cylinder((0, 0, muzzle + 0.045), (0, 0, muzzle), barrel_radius * 1.4))
    fore_length = p.uniform("fore_end_length", 0.18, 0.32)
    fore_drop = p.uniform("fore_end_drop", 0.0, 0.025)
    parts.append(_slab(x=(-half_w * 0.9, half_w * 0.9), y=(rec_bottom + fore_drop, rec_top - 0.01), z=(rec_front - fore_length, rec_front + 0.01)))

    grip_z = rec_rear - 0.05 if not bullpup else rec_front - 0.02
    grip_angle = p.uniform("grip_angle_deg", 10, 25)
    grip_length = p.uniform("grip_length", 0.1, 0.14)

    def pistol_grip(z):
        # a box hanging under the receiver, raked back (its bottom towards +Z)
        return _tilted([_slab(x=(-half_w * 0.85, half_w * 0.85), y=(-grip_length, 0.02), z=(-0.025, 0.025))], -grip_angle, (0, rec_bottom, z))

    drop = p.uniform("stock_drop", 0.02, 0.08)
    butt_height = p.uniform("butt_height", 0.1, 0.14)
    if choice["stock"] == "classic_stock":
        # side view: receiver height at the front, a narrow wrist, then the butt dropping down
        wrist = rec_rear + stock_length * 0.3
        parts.append(
            _prism(
                [
                    (rec_rear - 0.01, rec_top - 0.01),
                    (butt, rec_top - drop),
                    (butt, rec_top - drop - butt_height),
                    (wrist, rec_bottom - 0.01),
                    (rec_rear - 0.06, rec_bottom - 0.05),
                    (rec_rear - 0.09, rec_bottom),
                ],
                -half_w,
                half_w,
            )
        )
    elif choice["stock"] == "skeleton_stock":
        tube = 0.016
        top_front = (0, rec_top - 0.02, rec_rear - 0.01)
        bottom_front = (0, rec_bottom + 0.02, rec_rear - 0.01)
        top_back = (0, rec_top - drop, butt - 0.02)
        bottom_back = (0, rec_top - drop - butt_height + 0.02, butt - 0.02)
        parts += [
            _cylinder(top_front, top_back, tube, sections=12),
            _cylinder(bottom_front, bottom_back, tube, sections=12),
            _slab(x=(-half_w, half_w), y=(bottom_back[1] - 0.02, top_back[1] + 0.02), z=(butt - 0.03, butt)),
            pistol_grip(grip_z),
        ]
    else:  # bullpup: the receiver is already the stock; add a butt pad and the forward grip
        parts.append(_slab(x=(-half_w, half_w), y=(rec_bottom - 0.03, rec_top), z=(butt - 0.04, butt)))
        parts.append(pistol_grip(grip_z))

    # magazine: in front of the grip (behind it for a bullpup)
    mag_z = rec_front + receiver_length * 0.3 if not bullpup else rec_rear - receiver_length * 0.45
    mag_length = p.uniform("magazine_length", 0.1, 0.18)
    mag_depth = 0.05
    if choice["magazine"] == "box_magazine":
        parts.append(
            _tilted(
                [_slab(x=(-half_w * 0.7, half_w * 0.7), y=(-mag_length, 0.02), z=(-mag_depth / 2, mag_depth / 2))],
                -p.uniform("magazine_rake_deg", 0, 12),
                (0, rec_bottom, mag_z),
            )
        )
    elif choice["magazine"] == "curved_magazine":
        # three segments, each raked a little more forward (-Z) than the last
        bend = p.uniform("magazine_curve_deg", 10, 18)
        point = np.array([0, rec_bottom + 0.02, mag_z])
        segment = mag_length / 3
        for k in range(3):
            angle = np.radians(bend * (k + 0.5))
            parts.append(
                _tilted([_slab(x=(-half_w * 0.7, half_w * 0.7), y=(-segment - 0.02, 0.0), z=(-mag_depth / 2, mag_depth / 2))], np.degrees(angle), point)
            )
            point = point + segment * np.array([0, -np.cos(angle), -np.sin(angle)])
    # a trigger guard block between grip and magazine keeps the lower outline readable
    parts.append(_slab(x=(-half_w * 0.5, half_w * 0.5), y=(rec_bottom - 0.03, rec_bottom + 0.01), z=(grip_z - 0.07, grip_z)))

    if choice["sight"] == "scope":
        scope_radius = p.uniform("scope_radius", 0.017, 0.026)
        scope_length = p.uniform("scope_length", 0.2, 0.3)
        sy = rec_top + 0.02 + scope_radius
        z0 = (rec_front + rec_rear) / 2 - scope_length / 2
        parts.append(_cylinder((0, sy, z0), (0, sy, z0 + scope_length), scope_radius))
        parts.append(_cylinder((0, sy, z0 + 0.02), (0, sy, z0 - 0.05), scope_radius, scope_radius * 1.5))
        z1 = z0 + scope_length
        parts.append(_cylinder((0, sy, z1 - 0.02), (0, sy, z1 + 0.03), scope_radius, scope_radius * 1.3))
        for z in (z0 + scope_length * 0.25, z0 + scope_length * 0.75):
            parts.append(_slab(x=(-0.014, 0.014), y=(rec_top - 0.01, sy), z=(z - 0.015, z + 0.015)))
    elif choice["sight"] == "iron_sights":
        front_z = muzzle + 0.1
        parts.append(_slab(x=(-0.014, 0.014), y=(0, barrel_radius + 0.04), z=(front_z - 0.015, front_z + 0.015)))
        parts.append(_slab(x=(-half_w * 0.7, half_w * 0.7), y=(rec_top - 0.01, rec_top + 0.03), z=(rec_front + 0.02, rec_front + 0.06)))
    else:  # carry handle: a bridge over the receiver
        h = p.uniform("handle_height", 0.04, 0.06)
        for z in (rec_front + 0.02, rec_front + receiver_length * 0.7):
            parts.append(_slab(x=(-0.013, 0.013), y=(rec_top - 0.01, rec_top + h), z=(z, z + 0.03)))
        parts.append(_slab(x=(-0.013, 0.013), y=(rec_top + h - 0.005, rec_top + h + 0.025), z=(rec_front + 0.02, rec_front + receiver_length * 0.7 + 0.03)))
    return parts
