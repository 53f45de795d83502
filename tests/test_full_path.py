"""The paper-scale path (`make full`) at toy size, on the CPU.

``scripts/run_notebooks.py --profile smoke`` is what ``make full`` runs (``--profile full``)
with the ``smoke`` profile: the full profile's network widths, 5 shapes per category, a few
steps per model. One notebook runs (07, whose last section needs the trained autoencoder);
notebooks 04 and 05 load their models through the same ``shipping.ensure`` calls but evaluate
paper-width models on many 64³ grids, minutes on a CPU, so the smoke path leaves them out.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from tutorial_lib import autoencoder, config, shipping
from tutorial_lib.training import RunOptions, TrainingInterrupted

ROOT = Path(__file__).resolve().parents[1]


def _listing(folder: Path) -> dict:
    return {p.name: p.stat().st_mtime_ns for p in folder.glob("*")} if folder.is_dir() else {}


def _run(args, env):
    result = subprocess.run([sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-1500:]
    return result.stdout + result.stderr


def test_make_full_at_toy_size_trains_what_is_missing_resumes_and_runs_the_notebook(tmp_path, monkeypatch):
    env = {**os.environ, "TUTORIAL_DATA": str(tmp_path / "data"), "TUTORIAL_FIGURES": str(tmp_path / "figures"),
           "OMP_NUM_THREADS": "2", "MPLBACKEND": "Agg"}  # fmt: skip
    committed = {folder: _listing(ROOT / folder) for folder in ("data/checkpoints", "figures")}
    smoke, full = config.get_profile("smoke"), config.get_profile("full")
    runs, models = tmp_path / "data" / "runs", tmp_path / "data" / "models"

    # The autoencoder's run (the one `train ae` and the notebooks share) interrupted after its first step...
    monkeypatch.setenv("TUTORIAL_DATA", env["TUTORIAL_DATA"])
    torch.set_num_threads(2)

    def ctrl_c(history, step):
        raise KeyboardInterrupt

    with pytest.raises(TrainingInterrupted):
        run = RunOptions(checkpoint=shipping.training_checkpoint("autoencoder", smoke), progress=False, callback=ctrl_c, callback_every=1)
        autoencoder.train_autoencoder(smoke, run)
    assert json.loads((runs / "autoencoder_smoke_fast.pt.history.json").read_text())["step"] == [1]

    # ... is continued by the pipeline, which then trains the image encoder and runs notebook 07.
    out = _run(["scripts/run_notebooks.py", "--profile", "smoke", "--out", str(tmp_path / "notebooks"), "--only", "07"], env)
    order = [line.split(":")[0] for line in out.splitlines() if line.startswith("[") and "]: " in line or line.startswith("07_metrics.ipynb: ")]
    assert order == [
        "[dataset]",
        "[autoencoder]",
        "[image encoder]",
        "[category classifier]",
        "[latent GAN]",
        "[sketch encoder]",
        "[search index]",
        "07_metrics.ipynb",
    ]
    assert "no smoke autoencoder" in out and "no smoke image encoder" in out
    history = json.loads((runs / "autoencoder_smoke_fast.pt.history.json").read_text())
    assert history["step"] == list(range(1, smoke.autoencoder.steps + 1))  # one run, resumed: every step once
    assert json.loads((runs / "image_encoder_smoke.pt.history.json").read_text())["step"] == list(range(1, smoke.image_encoder.steps + 1))

    # The models went to the data root, at the full profile's widths, with manifests.
    manifest = json.loads((models / "autoencoder_smoke.json").read_text())
    assert manifest["profile"] == "smoke" and manifest["architecture"]["encoder_width"] == full.autoencoder.encoder_width
    assert manifest["architecture"]["decoder_width"] == full.autoencoder.decoder_width
    assert manifest["test_metrics"]["shapes"] == smoke.evaluation_shapes
    assert json.loads((models / "image_encoder_smoke.json").read_text())["architecture"]["width"] == full.image_encoder.width
    assert (models / "autoencoder_smoke_z.npz").is_file()

    # The notebook ran with the profile as its parameter and used the trained model.
    notebook = json.loads((tmp_path / "notebooks" / "07_metrics.ipynb").read_text())
    injected = [c for c in notebook["cells"] if "injected-parameters" in c.get("metadata", {}).get("tags", [])]
    assert 'PROFILE = "smoke"' in "".join(injected[0]["source"])
    printed = "".join(o.get("text", "") if isinstance(o.get("text", ""), str) else "".join(o["text"])
                      for c in notebook["cells"] if c["cell_type"] == "code" for o in c.get("outputs", []))  # fmt: skip
    assert "skipped: no shipped autoencoder" not in printed

    # A second run finds everything done: nothing is trained or rewritten.
    written = _listing(models)
    again = _run(["scripts/run_notebooks.py", "--profile", "smoke", "--no-notebooks"], env)
    assert "training it now" not in again and "[image encoder]" in again
    assert _listing(models) == written

    # The figures went to $TUTORIAL_FIGURES, and nothing this run makes was written into the
    # committed checkpoints or figures (other files there may change meanwhile: the tree is shared).
    assert any((tmp_path / "figures").glob("07_*.png"))
    ours = {"data/checkpoints": "*smoke*", "figures": "07_*"}
    for folder, pattern in ours.items():
        now = {p.name: p.stat().st_mtime_ns for p in (ROOT / folder).glob(pattern)}
        assert now == {name: mtime for name, mtime in committed[folder].items() if Path(name).match(pattern)}
