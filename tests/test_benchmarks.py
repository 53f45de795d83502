"""Every script in benchmarks/ runs at toy size, and BENCHMARKS.md's generated parts are up to date.

Each script runs with ``--smoke`` in its own process (the committed quick models on the smoke
profile's dataset, a handful of shapes and steps, one torch thread), its results written to a
temporary folder; the test checks the exit status, what the output must contain (a known answer
where there is one) and the results file. The smoke dataset (65 shapes) is built once per
session under a temporary data root and shared. Timings are printed, never asserted.

A new script gets one entry in ``SMOKE``: its arguments, patterns its output must match, and
the results files it must write.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

# script: (arguments, patterns the output must match, results files it writes)
SMOKE = {
    "bench_autoencoder.py": (
        ["--smoke"],
        [r"\| quick \(16, 32\) \| 2,043,393 \|",  # the quick autoencoder's parameters
         r"\| dense \| 1\.0000 \| 1\.0000 ",  # the dense grid against itself
         r"\| training shapes, the encoder's z \| \d\.\d{4} \|"],
        ["autoencoder_speed.json", "extraction_quick.json", "thin_parts_quick.json", "fitted_codes_quick.json"],
    ),
    "bench_svr.py": (
        ["--smoke"],
        [r"\| ResNet-18 \(quick\) \| 32 … 256 \| 2 \| fp32 \| randomised \|", r"\| \*\*mean \(2 shapes\)\*\* \|", r"error in z \(mean squared\)"],
        ["svr_quick.json"],
    ),
    "bench_foreign.py": (
        ["--smoke"],
        [r"parts the cleaner drops \(min_fraction 0\.005\): 0", r"\| foreign \| network \| \d\.\d{3} \|"],
        ["foreign_quick.json"],
    ),
    "bench_metrics.py": (
        ["--smoke"],
        [r"\| IoU of a 32³ voxel grid with itself \| 1 \| 1\.000000 \|",
         r"\| Chamfer distance of 2,000 surface points to themselves \| 0 \| 0\.000000 \|",
         r"\| LFD distance of a chair to itself \| 0 \| 0\.000000 \|"],
        ["metrics.json"],
    ),
    "bench_gan.py": (
        ["--smoke"],
        [r"\| 16 \| 6,865 \| 3 \|",  # width 16: parameters of generator and critic, and its 3 steps
         r"\| training shapes \(decoded z\) \|( [^|]+ \|){7} 0\.00 \|"],  # training z are at distance 0 from the training z
        ["gan_widths_quick.json", "gan_scores.json"],
    ),
    "compare_training.py": (
        ["--smoke"],
        [r"\| `fast`: the shipped recipe \(fast\) \| 2,043,393 \| 3/3 \|", r"\| `paper`: IM-NET's recipe"],
        ["recipe_comparison_quick.json"],
    ),
    "bench_dataset.py": (
        ["--smoke"],
        [r"\| category \| shapes \| ms per shape \(mean\) \| triangles \(mean\) \|\n.*\n\| airplane \| 1 \| \d+ \| [\d,]+ \|",
         r"\| \(b\) edge sampling 64³ \(incl\. max-pooling\) \| \d+\.\d\d \|",
         r"The kernel's voxels are Embree's on 5 of 5 shapes",  # the compiled kernel voxelises as Embree's rays do
         r"\| IoU with the closed shape's voxels \| 0\.9\d{3} \|",  # a shape with holes fills nearly as the closed one
         r"\| shapes built \| failed \| workers \|.*\n.*\n\| 26 \| 0 \| 2 \| \d+\.\d \|"],  # 2 shapes of each of the 13 categories
        ["dataset_build.json"],
    ),
    "bench_search.py": (
        ["--smoke"],
        [r"index build \(2 workers\): 65 shapes in",
         r"warm_seconds at 130 rows: picture \(z\) \d+\.\d ms",
         r"\| method \| precision@1 \| precision@5 \| mAP \| nDCG \| queries \|",
         r"\| z by picture \| [01]\.\d{3} \| [01]\.\d{3} \| [01]\.\d{3} \| [01]\.\d{3} \| 78 \|",  # 2 views of each of the 39 test shapes
         r"\| LFD by shape \| [01]\.\d{3} \| [01]\.\d{3} \| [01]\.\d{3} \| [01]\.\d{3} \| 39 \|",
         r"\| 2,000 \| [\d,]+, [\d,]+ \| \d+\.\d\d \|",  # the query meshes simplified to 2,000 faces, and their LFD distance
         r"\| turned files: z, automatic \(default\) \| [01]\.\d{3} \| [012]/2 \|",  # two test meshes turned by a quarter turn
         r"\| sketch encoder \(z\) \| [01]\.\d{3} \| [0-3]/3 \|",  # a drawing of each of three test shapes
         r"\| LFD sketch \(2003\) \| [01]\.\d{3} \| [0-3]/3 \|",
         r"the automatic guess: [0-3]/3 drawings read as drawings; [0-3]/3 renderings read as pictures"],
        ["search_quick.json"],
    ),
}  # fmt: skip


def notebook_04_reads_fitted_codes(folder: Path) -> None:
    """fitted_codes_quick.json as notebook 04 draws it."""
    fitted = json.loads((folder / "fitted_codes_quick.json").read_text())["by_steps"]
    assert "0" in fitted and all({"per_category", "mean_iou", "thin_recall", "rod_recall"} <= set(r) for r in fitted.values())


def notebook_04_reads_recipe_comparison(folder: Path) -> None:
    """recipe_comparison_quick.json as notebook 04 draws it."""
    comparison = json.loads((folder / "recipe_comparison_quick.json").read_text())
    assert {"minutes", "threads_per_run", "date"} <= set(comparison)
    for name in ("fast", "paper"):
        run = comparison["runs"][name]
        assert run["test_iou_64"] >= 0 and all(len(point) == 3 for point in run["sample_iou_curve"])


# script: what its results files must hold besides being JSON
LAYOUTS = {"bench_autoencoder.py": notebook_04_reads_fitted_codes, "compare_training.py": notebook_04_reads_recipe_comparison}


@pytest.fixture(scope="session")
def smoke_data(tmp_path_factory):
    """A data root holding the smoke profile's dataset, built once for every script."""
    from tutorial_lib import config, data

    root = tmp_path_factory.mktemp("benchmark_data")
    data.build_dataset(config.get_profile("smoke"), out=root / "smoke", progress=False)
    return root


def run_script(script: str, arguments: list[str], data_root: Path, results: Path) -> str:
    env = {**os.environ, "TUTORIAL_DATA": str(data_root), "TUTORIAL_FIGURES": str(results / "figures"), "OMP_NUM_THREADS": "1",
           "MPLBACKEND": "Agg", "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}  # fmt: skip
    done = subprocess.run([sys.executable, f"benchmarks/{script}", *arguments, "--results", str(results)], cwd=ROOT, env=env,
                          capture_output=True, text=True)  # fmt: skip
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"{script} failed:\n{output[-4000:]}"
    return output


@pytest.mark.parametrize("script", sorted(SMOKE))
def test_every_benchmark_runs_at_toy_size(script, smoke_data, tmp_path):
    arguments, patterns, files = SMOKE[script]
    output = run_script(script, arguments, smoke_data, tmp_path)
    assert "- load average (1, 5, 15 min) at start:" in output  # every script says how busy the machine was
    for pattern in patterns:
        assert re.search(pattern, output), f"{script}: no match for {pattern!r} in:\n{output[-4000:]}"
    for name in files:
        assert (tmp_path / name).is_file(), f"{script} did not write {name}"
        json.loads((tmp_path / name).read_text())
    if script in LAYOUTS:
        LAYOUTS[script](tmp_path)


def test_smoke_never_writes_into_the_repository():
    """Toy numbers must not land beside the real ones: ``--smoke --results`` inside the checkout is refused before any work."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    done = subprocess.run([sys.executable, "benchmarks/bench_dataset.py", "--smoke", "--results", "benchmarks/results"], cwd=ROOT, env=env,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode != 0 and "inside the repository" in done.stderr, done.stdout + done.stderr


def test_benchmarks_keep_at_most_ten_scripts_each_with_a_smoke_test():
    scripts = sorted(p.name for p in (ROOT / "benchmarks").glob("*.py"))
    assert len(scripts) <= 10, scripts
    helpers = {"machine.py", "report.py"}
    assert set(scripts) - helpers <= set(SMOKE), sorted(set(scripts) - helpers - set(SMOKE))


def test_the_committed_results_notebook_04_reads_keep_their_layout():
    for check in LAYOUTS.values():
        check(ROOT / "benchmarks" / "results")


def test_benchmarks_md_is_what_its_sources_give():
    """BENCHMARKS.md's generated parts (the shipped models' tables) agree with the manifests and results files."""
    done = subprocess.run([sys.executable, "benchmarks/report.py", "--check"], cwd=ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stdout + done.stderr
