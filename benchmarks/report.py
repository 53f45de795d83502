"""Writes the generated parts of BENCHMARKS.md from the committed manifests and results files.

    python benchmarks/report.py            # rewrite the generated parts of BENCHMARKS.md in place
    python benchmarks/report.py --check    # exit 1 when they are not what their sources give

A generated part lies between ``<!-- report.py: NAME -->`` and ``<!-- /report.py: NAME -->``;
everything outside the markers is written by hand and left alone. The sources: the shipped
models' manifests (``data/checkpoints/*_quick.json``) and the results files the benchmarks
write (``benchmarks/results/*.json``). So after a model is re-shipped or a benchmark rerun, one
run of this script brings the tables up to date, and a unit test (``--check``) fails while they
are not. Each part also says when a results file was measured on another model than the one
shipped now (the results record the weights' fingerprint), and when a shipped model was
trained on other data or z than the shipped autoencoder's: numbers to measure again.

Reads JSON, and the z file through ``tutorial_lib.shipping``: a few seconds.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # this checkout's tutorial_lib, whose models it reports on
CHECKPOINTS = ROOT / "data" / "checkpoints"
RESULTS = ROOT / "benchmarks" / "results"
PROFILE = "quick"
MARKER = re.compile(r"<!-- report\.py: (?P<name>[a-z_]+) -->\n(?P<body>.*?)<!-- /report\.py: (?P=name) -->", re.S)


# --------------------------------------------------------------------------------------------
# Reading the sources
# --------------------------------------------------------------------------------------------


def read(path: Path) -> dict | None:
    return json.loads(path.read_text()) if path.is_file() else None


def manifest(kind: str) -> dict:
    path = CHECKPOINTS / f"{kind}_{PROFILE}.json"
    found = read(path)
    if found is None:
        raise SystemExit(f"{path}: no manifest: the shipped {kind} is missing")
    return found


def weights_fingerprint(kind: str) -> str:
    """16 hex digits of the SHA-256 of the shipped weights file (as ``benchmarks/machine.py`` records it)."""
    return hashlib.sha256((CHECKPOINTS / f"{kind}_{PROFILE}.pt").read_bytes()).hexdigest()[:16]


def duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 120:
        return f"{seconds} s"
    minutes, rest = divmod(seconds, 60)
    if minutes >= 60:
        return f"{minutes // 60} h {minutes % 60} min"
    return f"{minutes} min {rest} s" if rest else f"{minutes} min"


def load_line(machine) -> str:
    """The load average a results file recorded at its start (its ``machine`` lines), or ''."""
    for line in machine if isinstance(machine, list) else []:
        if line.startswith("- load average"):
            return "load average " + line.split(":", 1)[1].strip()
    return ""


def date_of(machine) -> str:
    for line in machine if isinstance(machine, list) else []:
        if line.startswith("- date:"):
            return line.split(":", 1)[1].strip()[:10]
    return "date not recorded"


def measured_on(results: dict, kind: str, rerun: str) -> str:
    """'' when ``results`` measured the shipped model of ``kind``, else a sentence saying what to rerun."""
    record = results.get("model") or {}
    if record.get("weights_sha256") == weights_fingerprint(kind):
        return ""
    if record.get("weights_sha256"):
        return f" **Measured on another {kind.replace('_', ' ')} (weights {record['weights_sha256']}), not the shipped one: rerun `{rerun}`.**"
    return f" **The file does not record which {kind.replace('_', ' ')} it measured: rerun `{rerun}`.**"


def stale(kind: str) -> str:
    """Why the shipped model of ``kind`` no longer matches what the present code would train it on
    (``shipping.stale_reasons``: its data, its generator versions, the autoencoder's z), or ''."""
    from tutorial_lib import config, shipping

    reasons = [r.replace(f"{config.REPO_ROOT}/", "") for r in shipping.stale_reasons(kind, config.get_profile(PROFILE))]
    return "\n\n**To be re-shipped** (`shipping.stale_reasons`):\n\n" + "\n".join(f"- {r}" for r in reasons) if reasons else ""


def trained(found: dict, what: str) -> str:
    precision = f", {found['training_precision']}" if found.get("training_precision") else ""
    return (f"{found['steps']:,} {what} in {duration(found['wall_time_seconds'])} of training ({found['device']}{precision}), "
            f"{found['date']}, commit {found['commit']}")  # fmt: skip


def table(header: list[str], rows: list[list], left: int = 1) -> str:
    lines = ["| " + " | ".join(header) + " |", "| " + " | ".join("---" if i < left else "---:" for i in range(len(header))) + " |"]
    return "\n".join(lines + ["| " + " | ".join(str(c) for c in row) + " |" for row in rows])


def f3(value) -> str:
    return "–" if value is None else f"{value:.3f}"


# --------------------------------------------------------------------------------------------
# The parts
# --------------------------------------------------------------------------------------------


def autoencoder_part() -> str:
    ae = manifest("autoencoder")
    metrics = ae["test_metrics"]
    builder = (ae.get("dataset") or {}).get("builder") or {}
    lines = [
        f"**Shipped:** `data/checkpoints/autoencoder_{PROFILE}.pt`, recipe `{ae['recipe']['name']}`, encoder width "
        f"{ae['architecture']['encoder_width']} and decoder width {ae['architecture']['decoder_width']}, {trained(ae, 'steps')}; "
        f"dataset {builder.get('shapes', '?'):,} shapes (train {ae['dataset']['train']}, test {ae['dataset']['test']}). "
        f"**Mean test IoU at 64³: {metrics['mean_iou_64']:.4f}** on {metrics['shapes']} test shapes.{stale('autoencoder')}",
        "",
    ]  # fmt: skip
    thin = read(RESULTS / f"thin_parts_{PROFILE}.json")
    fitted = read(RESULTS / f"fitted_codes_{PROFILE}.json")
    steps = sorted(int(n) for n in (fitted or {}).get("by_steps", {}) if int(n) > 0)
    header = ["category", "test IoU at 64³", "thin recall", "rod recall (shapes with rods)", *(f"IoU, z fitted {n} steps" for n in steps)]
    rows = []
    for category, iou in [*metrics["per_category_iou_64"].items(), ("**all**", metrics["mean_iou_64"])]:
        key = "all" if category == "**all**" else category
        t = (thin or {}).get("per_category", {}).get(key, {})
        fits = [fitted["by_steps"][str(n)]["mean_iou" if key == "all" else "per_category"] for n in steps]
        rows.append([category, f"{iou:.3f}", f3(t.get("thin_recall")), f"{f3(t.get('rod_recall'))} ({t.get('shapes_with_rods', '–')})",
                     *(f3(v if key == "all" else v.get(key)) for v in fits)])  # fmt: skip
    lines.append(table(header, rows))
    lines.append("")
    command = "python benchmarks/bench_autoencoder.py quality"
    if thin:
        lines.append(f"- Thin parts (`{command}` → `benchmarks/results/thin_parts_{PROFILE}.json`, commit {thin.get('commit')}): the share of the "
                     f"true voxels in parts at most {thin.get('thickness')} voxels across (rods: without the plates) that the decoded "
                     f"shape keeps.{measured_on(thin, 'autoencoder', command)}")  # fmt: skip
    if fitted:
        base = fitted["by_steps"]["0"]
        shapes = len(base["iou"])
        added = ", ".join(f"{n} steps {(fitted['by_steps'][str(n)]['seconds'] - base['seconds']) / shapes:.2f} s" for n in steps)
        lines.append(f"- Fitted codes (same command → `benchmarks/results/fitted_codes_{PROFILE}.json`, {date_of(fitted.get('machine'))}, "
                     f"commit {fitted.get('commit')}, {load_line(fitted.get('machine'))}): z fitted to each test shape with the decoder "
                     f"fixed (`autoencoder.fit_codes`); mean IoU from the encoder's z {base['mean_iou']:.3f}, fitted "
                     + ", ".join(f"{n} steps {fitted['by_steps'][str(n)]['mean_iou']:.3f}" for n in steps)
                     + f"; time added per shape: {added}.{measured_on(fitted, 'autoencoder', command)}")  # fmt: skip
        train = fitted.get("train")
        if train:
            lines.append(f"- Generalisation: {train['shapes']} training shapes from the encoder's z {train['mean_iou']:.3f}, the test shapes "
                         f"{base['mean_iou']:.3f}, the test shapes from z fitted for {steps[-1]} steps {fitted['by_steps'][str(steps[-1])]['mean_iou']:.3f}.")  # fmt: skip
        else:
            lines.append("- Generalisation (training shapes against test shapes, from the encoder's z): not measured on this model; "
                         f"`{command}` writes it into the same file.")  # fmt: skip
    return "\n".join(lines)


def image_encoder_part() -> str:
    found = manifest("image_encoder")
    metrics = found["test_metrics"]
    methods = [m for m in ("network", "retrieval", "category_mean") if m in metrics["mean"]]

    def cells(values: dict) -> list[str]:
        return [f"{values[m]['iou']:.3f}" for m in methods] + [
            f"{1e3 * values[m]['chamfer']:.2f}" if values[m]["chamfer"] is not None else "–" for m in methods
        ]

    rows = [[c, *cells(v)] for c, v in metrics["per_category"].items()] + [[f"**mean ({metrics['shapes']} shapes)**", *cells(metrics["mean"])]]
    names = {"network": "network", "retrieval": "retrieval", "category_mean": "category mean"}
    better = {k: sum(v["network"][k] < v["retrieval"][k] if k == "chamfer" else v["network"][k] > v["retrieval"][k] for v in metrics["per_category"].values())
              for k in ("iou", "chamfer")}  # fmt: skip
    z = found.get("test_z_mse") or {}
    return "\n".join([
        f"**Shipped:** `data/checkpoints/image_encoder_{PROFILE}.pt`, ResNet-18 at width {found['architecture']['width']}, "
        f"{trained(found, 'steps')}, on the z of the autoencoder {found.get('autoencoder_z_fingerprint', found.get('autoencoder_z'))}. "
        f"View {found.get('evaluated_view', 0)} of every test shape; IoU at 64³ against the true voxels, Chamfer distance (mean squared "
        f"nearest-neighbour distance both ways, 10,000 surface points, shapes in [−0.5, 0.5]³).{stale('image_encoder')}",
        "",
        table(["category", *(f"{names[m]} IoU" for m in methods), *(f"{names[m]} Chamfer ×10³" for m in methods)], rows),
        "",
        f"The network beats retrieval on IoU in {better['iou']} of {len(metrics['per_category'])} categories and on Chamfer distance in "
        f"{better['chamfer']}. Error in z (mean squared) on the same pictures: {z.get('network', float('nan')):.4f}; always answering the mean "
        f"training z: {z.get('mean_training_z', float('nan')):.4f}.",
    ])  # fmt: skip


def classifier_part() -> str:
    found = manifest("classifier")
    metrics = found["test_metrics"]
    adversarial = metrics.get("adversarial_accuracy") or {}
    categories = list(metrics["per_category"])
    attack = (f"; **{100 * adversarial['accuracy']:.1f}%** on the worst picture within an L2 radius of {adversarial['epsilon']:g} of view 0 of "
              f"each test shape ({adversarial['attack_steps']} attack steps, {adversarial['images']} pictures)") if adversarial else ""  # fmt: skip
    return "\n".join([
        f"**Shipped:** `data/checkpoints/classifier_{PROFILE}.pt`, ResNet-18 at width {found['architecture']['width']}, "
        f"{trained(found, 'steps')}. **Test accuracy {100 * metrics['accuracy']:.1f}%** on {metrics['images']:,} views of the test shapes "
        f"(chance: {100 / len(categories):.1f}%){attack}.{stale('classifier')}",
        "",
        table(categories, [[f"{metrics['per_category'][c]:.2f}" for c in categories]], left=0),
    ])  # fmt: skip


def gan_part() -> str:
    found = manifest("gan")
    recipe = found.get("recipe") or {}
    wasserstein = found.get("final_wasserstein_estimate")
    lines = [
        f"**Shipped:** `data/checkpoints/gan_{PROFILE}.pt` (the generator), width {recipe.get('width')}, {trained(found, 'generator steps')}, "
        f"on {found.get('training_shapes', 0):,} training z of the autoencoder {found.get('autoencoder_z_fingerprint', found.get('autoencoder_z'))}"
        + (f"; final Wasserstein estimate {wasserstein:.2f}" if wasserstein is not None else "") + f".{stale('gan')}",
        "",
    ]  # fmt: skip
    scores = read(RESULTS / "gan_scores.json")
    if scores is None:
        return "\n".join([*lines, "No scores yet: `python benchmarks/bench_gan.py scores` writes `benchmarks/results/gan_scores.json`."])
    command = "python benchmarks/bench_gan.py scores"
    if "model" in scores:
        note = measured_on(scores, "gan", command)
    else:  # written before results recorded their model: it names the generator's commit
        recorded = (scores.get("gan_manifest") or {}).get("commit")
        note = "" if recorded == found["commit"] else f" **Measured on the generator shipped at commit {recorded}, not the shipped one: rerun `{command}`.**"
    rows = []
    for name, r in scores["scores"].items():
        nearest = r.get("nearest_training_chamfer") or []
        z = scores.get("median_nearest_training_z", {}).get(name)
        rows.append([name, *((f"{r[d][k]:.3g}" if k == "mmd" else f"{r[d][k]:.3f}") if d in r else "–" for d in ("chamfer", "lfd") for k in ("cov", "mmd", "1-nna")),
                     f"{sorted(nearest)[len(nearest) // 2]:.5f}" if nearest else "–", f"{z:.2f}" if z is not None else "–", r.get("empty_meshes", "–")])  # fmt: skip
    lines += [
        f"Scores: `{re.sub(r' --(command|out) [^ ]+', '', scores['command'])}` → `benchmarks/results/gan_scores.json`, {date_of(scores.get('machine'))}, "
        f"{duration(scores['seconds'])}, {load_line(scores.get('machine'))}.{note} Each set against the true test meshes; COV / MMD / 1-NNA by "
        "Chamfer distance (CD) and light field distance (LFD); nearest train: the median distance to the nearest decoded training shape, "
        "and of each z to the nearest training z; empty: samples whose mesh was empty.",
        "",
        table(["set", "COV-CD", "MMD-CD", "1-NNA-CD", "COV-LFD", "MMD-LFD", "1-NNA-LFD", "nearest train (CD)", "nearest train z", "empty"], rows),
    ]  # fmt: skip
    return "\n".join(lines)


def training_part() -> str:
    lines = []
    comparison = read(RESULTS / f"recipe_comparison_{PROFILE}.json")
    if comparison:
        rows = []
        for name, r in comparison["runs"].items():
            curve = " ".join(f"{v:.2f}" for _, _, v in r["sample_iou_curve"])
            rows.append([f"`{name}`", f"{r['steps_done']}/{r['steps_planned']}", f"{r['seconds']:.0f}", f"{r['test_iou_64']:.3f}", curve])
        budget = f"{comparison['minutes']:g} minutes" if comparison.get("minutes") else f"{comparison.get('steps')} steps"
        lines += [
            f"The fast recipe against IM-NET's (`python benchmarks/compare_training.py recipes --minutes {comparison.get('minutes') or 10:g}` → "
            f"`benchmarks/results/recipe_comparison_{PROFILE}.json`, which notebook 04 draws): {comparison['date']}, commit {comparison['commit']} "
            f"(the recipes as they were there), "
            f"{comparison.get('cores', '?')} cores, {comparison['threads_per_run']} thread each, {budget} each, side by side.",
            "",
            table(["recipe", "steps done/planned", "seconds", "test IoU at 64³", "probe IoU along the run (16 test shapes)"], rows),
            "",
        ]  # fmt: skip
    changes = read(RESULTS / f"training_changes_{PROFILE}.json")
    if changes:
        rows = [[f"`{name}`: {r['change']}", f"{r['parameters']:,}", f"{r['steps_done']:,}", f"{r['step_seconds']:.2f}", f"{r['points_per_second']:,}",
                 f"{r['test_iou_64']:.3f}", f"{r['thin_recall']:.3f}", f"{r['rod_recall']:.3f}"] for name, r in changes["runs"].items()]  # fmt: skip
        lines += [
            f"The fast recipe's changes one at a time, each against the row above it (`python benchmarks/compare_training.py changes --minutes "
            f"{changes['minutes']:g}` → `benchmarks/results/training_changes_{PROFILE}.json`): {changes['date']}, commit {changes['commit']} "
            f"(the variants as they were there), "
            f"{changes.get('cores', '?')} cores, {changes['threads_per_run']} thread each, {changes['minutes']:g} minutes each, side by side; load "
            f"average {changes.get('load_average_before', '?')} before.",
            "",
            table(["variant", "parameters", f"steps in {changes['minutes']:g} min", "s per step", "points/s", "test IoU at 64³", "thin recall",
                   "rod recall"], rows),
        ]  # fmt: skip
    return "\n".join(lines).rstrip()


PARTS = {"autoencoder": autoencoder_part, "image_encoder": image_encoder_part, "classifier": classifier_part, "gan": gan_part,
         "training": training_part}  # fmt: skip


# --------------------------------------------------------------------------------------------
# BENCHMARKS.md
# --------------------------------------------------------------------------------------------


def render(text: str, path: Path) -> str:
    """``text`` with every generated part rewritten; an unknown part, or a part missing from the file, is an error."""
    found = [m.group("name") for m in MARKER.finditer(text)]
    unknown, missing = sorted(set(found) - set(PARTS)), sorted(set(PARTS) - set(found))
    if unknown or missing:
        raise SystemExit(f"{path}: " + "; ".join(filter(None, [unknown and f"unknown generated parts {unknown}", missing and f"no place for {missing}"])))
    return MARKER.sub(lambda m: f"<!-- report.py: {m.group('name')} -->\n{PARTS[m.group('name')]()}\n<!-- /report.py: {m.group('name')} -->", text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="exit 1 when the generated parts are out of date (write nothing)")
    parser.add_argument("--file", type=Path, default=ROOT / "BENCHMARKS.md")
    args = parser.parse_args()
    text = args.file.read_text()
    new = render(text, args.file)
    if args.check:
        if new != text:
            changed = [m.group("name") for m, n in zip(MARKER.finditer(text), MARKER.finditer(new)) if m.group("body") != n.group("body")]
            print(f"{args.file}: out of date ({', '.join(changed)}): run `python benchmarks/report.py`", file=sys.stderr)
            sys.exit(1)
        print(f"{args.file}: up to date")
        return
    if new != text:
        args.file.write_text(new)
        print(f"{args.file}: rewritten")
    else:
        print(f"{args.file}: already up to date")


if __name__ == "__main__":
    main()
