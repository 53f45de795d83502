"""scripts/gpu_check.py's dry run: every stage for a few steps on the CPU, on a tiny box dataset."""

import importlib.util
import json
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]


def _gpu_check():
    spec = importlib.util.spec_from_file_location("gpu_check", ROOT / "scripts" / "gpu_check.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_dry_run_goes_through_every_stage_and_reports_consistent_numbers(tmp_path, box_dataset, capsys, monkeypatch):
    monkeypatch.setenv("TUTORIAL_DATA", str(tmp_path / "data"))
    threads = torch.get_num_threads()
    folder = box_dataset(tmp_path / "boxes", shapes=4)
    try:
        assert _gpu_check().main(["--cpu-dry-run", "--dataset", str(folder), "--json", str(tmp_path / "check.json")]) == 0
    finally:
        torch.set_num_threads(threads)
    printed = capsys.readouterr().out
    assert [line[:3] for line in printed.splitlines() if line.startswith("[")] == ["[1]", "[1]", "[2]", "[3]", "[4]", "[5]"]

    results = json.loads((tmp_path / "check.json").read_text())
    assert results["dry_run"] is True
    for precision in ("fp32", "bf16"):
        run = results[f"autoencoder_{precision}"]
        # points/s is what was trained over the time it took
        assert run["points_per_s"] * run["seconds"] == pytest.approx(run["steps"] * run["shapes"] * run["points"])
    image = results["image_encoder"]
    assert image["images_per_s"] * image["seconds"] == pytest.approx(image["steps"] * image["batch_size"])
    assert results["timed_run"]["steps"] == 2 and 0 <= results["timed_run"]["test_iou_64"] <= 1
    assert results["timed_run"]["iou_shapes"] == 2
    assert results["extraction"]["resolution"] == 128 and results["extraction"]["points_per_shape"] > 0


def test_without_a_gpu_the_real_check_says_so_in_one_line(capsys):
    if torch.cuda.is_available():
        pytest.skip("this machine has a GPU")
    with pytest.raises(RuntimeError, match="torch sees no CUDA device"):
        _gpu_check().main([])
