"""scripts/draw_diagrams.py: every concept diagram draws, and the sizes it writes come from the real modules."""

import importlib.util
from pathlib import Path

import pytest
import torch
from torch import nn

from tutorial_lib import models

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "draw_diagrams.py"


@pytest.fixture(scope="module")
def diagrams():
    spec = importlib.util.spec_from_file_location("draw_diagrams", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_output_shapes_follow_the_module(diagrams):
    # CategoryCNN halves a 128×128 picture four times (2×2 max-pools) while the channels grow width×(1, 2, 4, 8).
    model = models.CategoryCNN(num_classes=13, width=8).eval()
    shapes = [shape for _, shape in diagrams._output_shapes(model, torch.zeros(1, 1, 128, 128), nn.MaxPool2d)]
    assert shapes == [(1, 8, 64, 64), (1, 16, 32, 32), (1, 32, 16, 16), (1, 64, 8, 8)]
    assert diagrams._shape_text(shapes[0]) == "8 × 64 × 64"


def test_every_diagram_draws_a_png(diagrams, tmp_path):
    written = diagrams.draw(list(diagrams.DIAGRAMS), tmp_path)
    assert [p.name for p in written] == [f"{name}.png" for name in diagrams.DIAGRAMS]
    for path in written:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_drawing_is_deterministic(diagrams, tmp_path):
    first = diagrams.draw(["convolution"], tmp_path / "a")[0].read_bytes()
    second = diagrams.draw(["convolution"], tmp_path / "b")[0].read_bytes()
    assert first == second
