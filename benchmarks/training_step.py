"""Where a training step of the quick autoencoder goes, in float32 and in bfloat16, side by side.

    python benchmarks/training_step.py [--threads 2] [--repeats 5]

On a real batch of the quick training split at 64³ (16 shapes × 2,048 points, a quarter of
them near thin parts as the fast recipe draws them), times: gathering the batch from the
arrays in memory; the encoder's forward and backward; the decoder's forward and backward (z
given); the whole step (both, the loss, Adam); and the whole step with the voxels in
channels-last layout. Each in float32 and in bfloat16 autocast, one after the other in the same
process, best of ``--repeats`` (after a warm-up). Prints a Markdown table with points per second.
"""

from __future__ import annotations

import argparse

import torch
import torch.nn.functional as F
from machine import best_of, machine_lines  # benchmarks/machine.py


def best(fn, repeats: int) -> float:
    fn()  # warm-up: allocations, oneDNN kernels
    return best_of(repeats, fn)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from tutorial_lib import autoencoder, config, data
    from tutorial_lib.training import EpochBatches

    settings = config.get_profile("quick").autoencoder
    recipe = autoencoder.get_recipe("fast")
    dataset = data.PointValueDataset(data.split_path(data.ensure_dataset("quick"), "train"), resolution=64,
                                     points_per_shape=settings.points_per_shape, thin_share=recipe.thin_share)  # fmt: skip
    batches = EpochBatches(dataset, settings.shapes_per_batch, seed=0)
    voxels, points, values = batches(0)
    points_per_step = points.shape[0] * points.shape[1]
    torch.manual_seed(0)
    model = autoencoder.make_autoencoder("quick")
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-5)  # small: the weights barely move between timings
    z = torch.rand(voxels.shape[0], 128)

    def autocast(precision):
        return torch.autocast("cpu", dtype=torch.bfloat16, enabled=precision == "bf16")

    def encoder(precision):
        def run():
            with autocast(precision):
                code = model.encoder.logits(voxels)
            code.float().pow(2).mean().backward()

        return run

    def decoder(precision):
        def run():
            with autocast(precision):
                logits = model.decoder(z, points)
            F.binary_cross_entropy_with_logits(logits.float(), values).backward()

        return run

    def whole(precision, channels_last=False):
        grid = voxels.contiguous(memory_format=torch.channels_last_3d) if channels_last else voxels

        def run():
            with autocast(precision):
                code = model.encoder.logits(grid)
                logits = model.decoder(torch.sigmoid(code), points)
                loss = F.binary_cross_entropy_with_logits(logits.float(), values) + recipe.code_penalty * code.float().pow(2).mean()
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

        return run

    print("\n".join(machine_lines()))
    print(f"- torch {torch.__version__}, {args.threads} thread(s), bfloat16 in hardware: {autoencoder.cpu_has_native_bf16()}\n")
    gather = best(lambda: batches(1), args.repeats)
    rows = [("gather the batch", gather, gather)]
    for name, make in (("encoder forward + backward", encoder), ("decoder forward + backward", decoder), ("whole step", whole)):
        rows.append((name, best(make("fp32"), args.repeats), best(make("bf16"), args.repeats)))
    rows.append(("whole step, voxels channels-last", best(whole("fp32", True), args.repeats), best(whole("bf16", True), args.repeats)))
    print("| part of a step | float32 s | bfloat16 s | bfloat16 speed-up |")
    print("| --- | ---: | ---: | ---: |")
    for name, fp32, bf16 in rows:
        print(f"| {name} | {fp32:.3f} | {bf16:.3f} | {fp32 / bf16:.2f}× |")
    _, fp32, bf16 = rows[3]
    print(f"\nwhole step: {points_per_step / fp32:,.0f} points/s in float32, {points_per_step / bf16:,.0f} points/s in bfloat16")


if __name__ == "__main__":
    main()
