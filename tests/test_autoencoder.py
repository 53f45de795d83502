import pytest
import torch

from tutorial_lib import autoencoder, config, provenance, shipping
from tutorial_lib.models import Autoencoder
from tutorial_lib.training import RunOptions, load_checkpoint, save_checkpoint

QUICK = config.get_profile("quick")


def test_stages_split_the_steps_and_end_at_64():
    boundaries = autoencoder.stage_boundaries(100, (0.1, 0.2, 0.7))
    assert boundaries == [(16, 10), (32, 30), (64, 100)]
    resolutions = [autoencoder.resolution_at(step, boundaries) for step in range(100)]
    assert resolutions.count(16) == 10 and resolutions.count(32) == 20 and resolutions.count(64) == 70
    assert autoencoder.resolution_at(500, boundaries) == 64  # past the end: the last stage


def test_interrupted_training_resumes_mid_stage_with_the_same_result(tmp_path, box_dataset):
    folder = box_dataset(tmp_path / "tiny")
    settings = dict(recipe="fast", dataset=folder, shapes_per_batch=2)

    def run(checkpoint, **options):
        return RunOptions(steps=20, checkpoint=checkpoint, progress=False, **options)

    torch.manual_seed(0)
    whole, _ = autoencoder.train_autoencoder(QUICK, run(tmp_path / "whole.pt"), model=Autoencoder(4, 4), **settings)

    def stop_in_the_32_stage(history, step):
        if step == 5:  # the stages end at steps 2, 6 and 20: step 5 is inside the 32³ stage
            raise KeyboardInterrupt

    torch.manual_seed(0)
    with pytest.raises(KeyboardInterrupt):
        autoencoder.train_autoencoder(QUICK, run(tmp_path / "split.pt", callback=stop_in_the_32_stage, callback_every=1), model=Autoencoder(4, 4), **settings)
    assert load_checkpoint(tmp_path / "split.pt")["step"] == 5
    torch.manual_seed(123)  # a new process: other initial weights, overwritten by the checkpoint
    resumed, history = autoencoder.train_autoencoder(QUICK, run(tmp_path / "split.pt"), model=Autoencoder(4, 4), **settings)

    assert history.step == list(range(1, 21))
    for a, b in zip(whole.state_dict().values(), resumed.state_dict().values()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_a_training_checkpoint_loads_back_as_an_autoencoder_in_float32(tmp_path):
    model = Autoencoder(4, 8).eval()
    save_checkpoint(tmp_path / "ae.pt", model)
    loaded = shipping.load("autoencoder", QUICK, tmp_path / "ae.pt")
    assert loaded.config == model.config
    voxels = torch.zeros(1, 1, 64, 64, 64)
    voxels[..., 20:40, 20:40, 20:40] = 1
    points = torch.rand(1, 30, 3) - 0.5
    with torch.no_grad():
        torch.testing.assert_close(loaded(voxels, points), model(voxels, points))


def test_evaluate_iou_scores_thin_parts_beside_the_iou(tmp_path, box_dataset, monkeypatch):
    # The test boxes get a rod one voxel across in the first shape; the "decoded" shapes are the
    # true ones without that rod. Only the first shape has a thin part, and it is lost.
    folder = box_dataset(tmp_path / "tiny", shapes=3)
    read_split = autoencoder.data.read_split

    def with_a_rod(path, keys=()):
        arrays = read_split(path, keys)
        arrays["voxels"][0, 60, 10:20, 60, 0] = 1
        return arrays

    truth = with_a_rod(autoencoder.data.split_path(folder, "test"), ("voxels",))["voxels"][..., 0].astype(bool)
    without_rod = truth.copy()
    without_rod[0, 60, 10:20, 60] = False
    monkeypatch.setattr(autoencoder.data, "read_split", with_a_rod)
    monkeypatch.setattr(autoencoder, "encode", lambda model, voxels: torch.arange(len(voxels))[:, None])
    monkeypatch.setattr(autoencoder, "reconstruct", lambda model, z, resolution: (without_rod[int(z[0])].astype("float32"), 0))

    result = autoencoder.evaluate_iou(Autoencoder(4, 4), autoencoder.data.split_path(folder, "test"), progress=False)
    assert result["iou"][0] == pytest.approx(1 - 10 / truth[0].sum()) and result["iou"][1:] == [1.0, 1.0]
    for key in ("thin_recall", "rod_recall"):
        assert result[key][0] == 0.0 and all(s != s for s in result[key][1:])  # boxes have no thin part: NaN
        assert result[f"mean_{key}"] == 0.0 and result[f"per_category_{key}"] == {"chair": 0.0}
    assert set(result) >= {"iou", "names", "categories", "mean_iou", "per_category"}


@pytest.mark.parametrize("native", [True, False])
def test_auto_precision_is_bfloat16_only_on_a_cpu_that_has_it(tmp_path, box_dataset, monkeypatch, native):
    folder = box_dataset(tmp_path / "boxes", shapes=2)
    from tutorial_lib import training

    monkeypatch.setattr(training, "cpu_has_native_bf16", lambda: native)
    torch.manual_seed(0)
    _, history = autoencoder.train_autoencoder(QUICK, RunOptions(steps=2, progress=False), "fast", dataset=folder, shapes_per_batch=2,
                                               model=Autoencoder(4, 4))  # fmt: skip
    assert history.record["precision"] == ("bf16" if native else "fp32")
    _, history = autoencoder.train_autoencoder(QUICK, RunOptions(steps=2, progress=False, precision="fp32"), "fast", dataset=folder,
                                               shapes_per_batch=2, model=Autoencoder(4, 4))  # fmt: skip
    assert history.record["precision"] == "fp32"  # asked for explicitly: kept
    assert provenance.base_manifest("autoencoder", "quick", "cpu", history)["training_precision"] == "fp32"


def test_augmented_shapes_keep_their_points_values_and_are_mirrored_and_shrunk_as_asked():
    """An off-centre box: after the transform, every point's value is still right for the new voxels,
    mirrored boxes sit on the other side of x = 0, and no axis grows."""
    import torch

    from tutorial_lib import autoencoder, geometry

    n = 32
    centres = torch.from_numpy(geometry.grid_points(n)).reshape(n, n, n, 3)
    low, high = torch.tensor([0.05, -0.3, -0.2]), torch.tensor([0.4, 0.3, 0.1])
    inside = lambda p: ((p >= low) & (p <= high)).all(dim=-1)  # noqa: E731
    voxels = inside(centres).float()[None, None].repeat(64, 1, 1, 1, 1)
    points = torch.rand(64, 500, 3, generator=torch.Generator().manual_seed(0)) - 0.5
    values = inside(points)
    torch.manual_seed(1)
    new_voxels, new_points = autoencoder.augment_shapes(voxels, points, shrink=0.2, mirror=True)
    assert set(new_voxels.unique().tolist()) <= {0.0, 1.0}
    # the value of each moved point, read from the moved voxels (nearest cell), is its old value,
    # except within a cell of the box's faces, where nearest-cell resampling may round either way
    cell = ((new_points + 0.5) * n).floor().long().clamp(0, n - 1)
    read = new_voxels[torch.arange(64)[:, None], 0, cell[..., 0], cell[..., 1], cell[..., 2]] > 0.5
    scale = new_points / points
    box_low = torch.minimum(low * scale[:, :1], high * scale[:, :1])
    box_high = torch.maximum(low * scale[:, :1], high * scale[:, :1])
    near_face = ((new_points - box_low).abs().min(dim=-1).values < 1.5 / n) | ((new_points - box_high).abs().min(dim=-1).values < 1.5 / n)
    assert (read == values)[~near_face].all()
    mirrored = scale[:, 0, 0] < 0
    assert 10 < mirrored.sum() < 54  # about half
    assert (scale.abs() <= 1.0 + 1e-6).all() and (scale.abs() >= 0.8 - 1e-6).all()
    x_of_voxels = (new_voxels[:, 0].sum(dim=(2, 3)) * centres[:, 0, 0, 0]).sum(dim=1) / new_voxels[:, 0].sum(dim=(1, 2, 3))
    assert (x_of_voxels[mirrored] < 0).all() and (x_of_voxels[~mirrored] > 0).all()  # the box's centre changed side
    again = autoencoder.augment_shapes(voxels, points, shrink=0.0, mirror=False)
    assert torch.equal(again[0], voxels) and torch.equal(again[1], points)  # no change asked, none made


def test_stretched_shapes_grow_only_as_far_as_the_padded_cube_has_room():
    """A centred box of known size: its room along each axis is the padded cube's half-width over the box's;
    stretched copies grow by at most that (and by at most 1 + stretch), never leave the padded cube, and
    every moved point keeps its value."""
    import torch

    from tutorial_lib import autoencoder, config, geometry

    n = 64
    centres = torch.from_numpy(geometry.grid_points(n)).reshape(n, n, n, 3)
    half = torch.tensor([28, 10, 20]) / n  # the box covers 56, 20 and 40 cells, centred
    inside = lambda p: (p.abs() <= half).all(dim=-1)  # noqa: E731
    voxels = inside(centres).float()[None, None].repeat(32, 1, 1, 1, 1)
    limit = 0.5 - config.VOXEL_PADDING / n  # 30 cells from the centre
    room = autoencoder.room_to_grow(voxels)
    assert torch.allclose(room[0], limit / half, atol=1e-5)  # 30/28, 30/10, 30/20

    points = torch.rand(32, 500, 3, generator=torch.Generator().manual_seed(0)) - 0.5
    torch.manual_seed(2)
    new_voxels, new_points = autoencoder.augment_shapes(voxels, points, stretch=0.5)
    scale = new_points / points
    assert (scale >= 1 - 1e-6).all()  # nothing shrinks
    assert (scale[:, 0, 0] <= limit / half[0] + 1e-5).all()  # the long side has little room
    assert (scale[:, 0, 1] <= 1.5 + 1e-5).all() and scale[:, 0, 1].max() > 1.3  # room for 3×: capped by the stretch asked
    outside = new_voxels[:, 0].bool() & ~(centres.abs() <= limit).all(dim=-1)
    assert not outside.any()  # inside the padded cube
    # the value of each moved point, read from the moved voxels, is its old value (away from the faces)
    cell = ((new_points + 0.5) * n).floor().long().clamp(0, n - 1)
    read = new_voxels[torch.arange(32)[:, None], 0, cell[..., 0], cell[..., 1], cell[..., 2]] > 0.5
    near_face = ((new_points.abs() - half * scale[:, :1]).abs() < 1.5 / n).any(dim=-1)
    assert (read == inside(points))[~near_face].all()


def test_code_noise_reaches_the_decoder_in_training_only():
    """With noise on the code, two training losses of the same batch differ; in eval mode they do not, and without noise neither do."""
    import dataclasses

    import torch

    from tutorial_lib import autoencoder
    from tutorial_lib.models import Autoencoder

    torch.manual_seed(0)
    model = Autoencoder(4, 4)
    batch = ((torch.rand(2, 1, 64, 64, 64) > 0.5).float(), torch.rand(2, 64, 3) - 0.5, (torch.rand(2, 64, 1) > 0.5).float())
    noisy = autoencoder.occupancy_loss(dataclasses.replace(autoencoder.get_recipe("fast"), code_noise=0.5))
    plain = autoencoder.occupancy_loss(autoencoder.get_recipe("fast"))
    assert noisy(model, batch)[0] != noisy(model, batch)[0]
    assert plain(model, batch)[0] == plain(model, batch)[0]
    model.eval()
    assert noisy(model, batch)[0] == noisy(model, batch)[0] == plain(model, batch)[0]


class _SphereAutoencoder:
    """An autoencoder whose decoder draws a ball of radius 0.4 · z[0] about the centre, and whose encoder answers z = 0.5 for any grid."""

    @staticmethod
    def make():
        import torch
        from torch import nn

        class ConstantEncoder(nn.Module):
            def __init__(self):
                super().__init__()
                self.unused = nn.Parameter(torch.zeros(1))

            def forward(self, voxels):
                return torch.full((len(voxels), 128), 0.5) + 0 * self.unused

        class BallDecoder(nn.Module):
            def forward(self, z, points):
                return 40.0 * (0.4 * z[:, :1, None] - points.norm(dim=-1, keepdim=True))

        model = nn.Module()
        model.encoder, model.decoder = ConstantEncoder(), BallDecoder()
        return model


def test_fitted_codes_find_the_code_of_a_shape_the_decoder_can_draw():
    """A ball of radius 0.3 is z[0] = 0.75 for this decoder; the encoder says 0.5 (radius 0.2). Fitting finds 0.75,
    leaves the dimensions the decoder ignores where the encoder put them, and gives the model back as it was."""
    import numpy as np
    import torch

    from tutorial_lib import autoencoder, geometry, metrics

    model = _SphereAutoencoder.make()
    model.train()
    centres = geometry.grid_points(64).reshape(64, 64, 64, 3)
    ball = (np.linalg.norm(centres, axis=-1) <= 0.3).astype(np.float32)
    assert torch.equal(autoencoder.fit_codes(model, ball[None], steps=0), autoencoder.encode(model, ball[None]))
    z = autoencoder.fit_codes(model, ball[None], steps=100, seed=3)
    assert abs(float(z[0, 0]) - 0.75) < 0.01
    assert torch.equal(z[0, 1:], torch.full((127,), 0.5))
    assert torch.equal(z, autoencoder.fit_codes(model, ball[None], steps=100, seed=3))  # same seed, same z
    model.train()  # encode() left it in eval mode; fitting must give back the mode it found
    autoencoder.fit_codes(model, ball[None], steps=2)
    assert model.training and model.encoder.unused.requires_grad
    with torch.no_grad():
        decoded = [model.decoder(code, torch.from_numpy(centres.reshape(1, -1, 3)))[0, :, 0].reshape(64, 64, 64).numpy() > 0
                   for code in (autoencoder.encode(model, ball[None]), z)]  # fmt: skip
    assert metrics.iou(decoded[0], ball > 0.5) < 0.35  # radius 0.2 in a ball of 0.3: (2/3)³
    assert metrics.iou(decoded[1], ball > 0.5) > 0.95
    with pytest.raises(ValueError, match=r"voxels must be grids \[N, n, n, n\].*got shape \(64, 64, 64\)"):
        autoencoder.fit_codes(model, ball)  # one grid without its batch axis
