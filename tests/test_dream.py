"""Known answers of tutorial_lib.dream: gradient ascent on pictures, layers, hooks, regularisers."""

import math

import pytest
import torch
from torch import nn

from tutorial_lib import dream
from tutorial_lib.models import CategoryCNN, CategoryResNet, ImageEncoder

RAW = dream.DreamSettings(steps=1, step_size=0.1).plain()  # one plain gradient step, no regulariser


class LinearScore(nn.Module):
    """score = w · pixels + b: its gradient with respect to the picture is w, everywhere."""

    def __init__(self, size=6):
        super().__init__()
        self.fc = nn.Linear(size * size, 1)

    def forward(self, images):
        return self.fc(images.flatten(1))


def small_cnn(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 8, 3, padding=1, stride=2), nn.ReLU(),
                         nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, 3))  # fmt: skip


def test_on_a_linear_model_the_ascent_direction_is_the_weight_vector():
    torch.manual_seed(0)
    model = LinearScore()
    start = torch.rand(1, 1, 6, 6)
    result = dream.dream(model, start, dream.objective("unit", 0), settings=RAW)
    weights = model.fc.weight.detach().view(1, 1, 6, 6)
    torch.testing.assert_close(result.image - start, 0.1 * weights)
    # normalised: the same direction, scaled so the mean absolute step is step_size
    result = dream.dream(model, start, dream.objective("unit", 0), settings=dream.replace(RAW, normalise=True))
    torch.testing.assert_close(result.image - start, 0.1 * weights / weights.abs().mean())
    # and the score rose by exactly step_size · |w|² (raw step on a linear function)
    raw = dream.dream(model, start, dream.objective("unit", 0), settings=RAW)
    assert raw.scores[-1] - raw.scores[0] == pytest.approx(0.1 * float(weights.pow(2).sum()), rel=1e-5)


def test_the_target_activation_rises_at_every_step_on_a_small_cnn():
    model = small_cnn()
    start = torch.full((1, 1, 16, 16), 0.5) + 0.01 * torch.randn(1, 1, 16, 16, generator=torch.Generator().manual_seed(1))
    settings = dream.DreamSettings(steps=25, step_size=0.01, jitter=0, blur=0.0, clamp=False)
    for layer, target in ((None, dream.objective("class", 2)), ("2", dream.objective("channel", 5)), ("3", dream.objective("energy"))):
        scores = dream.dream(model, start, target, layer=layer, settings=settings).scores
        assert len(scores) == 26
        assert all(later > earlier for earlier, later in zip(scores, scores[1:])), (layer, scores)


def test_same_seed_same_picture_and_another_seed_another():
    model = small_cnn()
    start = torch.rand(1, 1, 24, 24, generator=torch.Generator().manual_seed(3))
    settings = dream.DreamSettings(steps=6, jitter=3, octaves=2, octave_scale=1.5)
    a = dream.dream(model, start, dream.objective("class", 0), settings=settings, seed=5)
    b = dream.dream(model, start, dream.objective("class", 0), settings=settings, seed=5)
    c = dream.dream(model, start, dream.objective("class", 0), settings=settings, seed=6)
    assert torch.equal(a.image, b.image) and a.scores == b.scores
    assert not torch.equal(a.image, c.image)  # the jitter really is random
    assert a.image.shape == start.shape  # the octaves end at the picture's own size
    assert 0 <= a.image.min() and a.image.max() <= 1  # clamped to the image range


def _hook_count(model):
    return sum(len(m._forward_hooks) for m in model.modules())


def test_hooks_are_removed_after_every_call_and_after_an_error():
    model = CategoryCNN(width=4).eval()
    images = torch.rand(2, 1, 32, 32)
    with dream.record_activations(model, ["features.2", "features.6"]) as seen:
        model(images)
        assert _hook_count(model) == 2
    assert seen["features.2"].shape == (2, 4, 32, 32) and seen["features.6"].shape == (2, 8, 16, 16)
    assert _hook_count(model) == 0
    with pytest.raises(RuntimeError, match="inside"):
        with dream.record_activations(model, "features.2"):
            raise RuntimeError("an error inside the block")
    assert _hook_count(model) == 0
    for _ in range(2):  # a second call finds the model as the first left it
        dream.dream(model, images[:1], dream.objective("energy"), layer="features.6", settings=dream.DreamSettings(steps=2))
        assert _hook_count(model) == 0
    with dream.record_activations(model, "features.6") as seen:
        model(images[:1])
    assert list(seen) == ["features.6"]  # nothing left over from earlier calls


def test_the_model_is_given_back_unchanged():
    model = small_cnn().train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    dream.dream(model, torch.rand(1, 1, 16, 16), dream.objective("class", 1), settings=dream.DreamSettings(steps=3))
    assert model.training and all(p.requires_grad and p.grad is None for p in model.parameters())
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_unknown_layers_and_objectives_are_named():
    model = CategoryCNN(width=4)
    with pytest.raises(ValueError, match="no layer 'features.99'"):
        dream.get_layer(model, "features.99")
    with pytest.raises(ValueError, match="unknown objective 'loud'"):
        dream.objective("loud")
    with pytest.raises(ValueError, match="needs an index"):
        dream.objective("channel")
    assert "features.0" in dream.layer_names(model)


def test_one_class_per_picture_dreams_each_picture_for_its_own_class():
    model = small_cnn()
    batch = dream.visualise_class(model, [0, 2], size=16, settings=dream.DreamSettings(steps=4, jitter=0), seed=3)
    alone = [dream.visualise_class(model, c, size=16, settings=dream.DreamSettings(steps=4, jitter=0), seed=3, start=batch_start)
             for c, batch_start in zip([0, 2], [dream.noise_picture(16, 3), dream.noise_picture(16, 4)])]  # fmt: skip
    for i in range(2):  # the batch's pictures do not influence each other (eval mode)
        torch.testing.assert_close(batch.image[i : i + 1], alone[i].image)
    log_p = dream.objective("log_probability", [1, 0])(torch.tensor([[0.0, 0.0], [2.0, 0.0]]))
    torch.testing.assert_close(log_p, torch.log(torch.tensor([0.5, 1 / (1 + torch.exp(torch.tensor(-2.0)))])))


def test_closeness_pulls_the_output_towards_the_target():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(16, 3))
    target = torch.tensor([1.0, -2.0, 0.5])
    assert dream.closeness(target)(target[None]).item() == 0.0
    assert dream.closeness(target)(torch.zeros(1, 3)).item() == pytest.approx(-(1 + 4 + 0.25))
    result = dream.dream(model, torch.rand(1, 1, 4, 4), dream.closeness(target), settings=dream.DreamSettings(steps=300, step_size=0.05).plain())
    assert result.scores[-1] > 1e-3 * result.scores[0]  # within 0.1% of the start's squared distance: reached


def test_decay_pulls_untouched_pixels_back_to_the_background():
    """With an objective that no pixel changes, only the decay acts: x_n = 1 - (1 - x_0)(1 - d)^n."""
    model = small_cnn()
    start = torch.rand(1, 1, 8, 8, generator=torch.Generator().manual_seed(0))
    settings = dream.DreamSettings(steps=5, jitter=0, blur=0.0, decay=0.1, background=1.0)
    result = dream.dream(model, start, lambda output: 0.0 * output[:, 0], settings=settings)
    torch.testing.assert_close(result.image, 1 - (1 - start) * 0.9**5)


def test_seen_at_full_size_gives_the_network_the_full_size_picture():
    sizes = []
    model = nn.Sequential(nn.Conv2d(1, 2, 3, padding=1), nn.AdaptiveAvgPool2d(1), nn.Flatten())
    model[0].register_forward_pre_hook(lambda module, inputs: sizes.append(tuple(inputs[0].shape[-2:])))
    settings = dream.DreamSettings(steps=1, octaves=3, octave_scale=2.0, jitter=0)
    dream.dream(model, torch.rand(1, 1, 32, 32), dream.objective("unit", 0), settings=settings)
    assert sizes[:3] == [(8, 8), (16, 16), (32, 32)]  # the original DeepDream: each octave at its own size
    sizes.clear()
    dream.dream(model, torch.rand(1, 1, 32, 32), dream.objective("unit", 0), settings=dream.replace(settings, seen_at_full_size=True))
    assert set(sizes) == {(32, 32)}


def test_blur_keeps_a_constant_picture_and_total_variation_of_a_step_edge():
    flat = torch.full((1, 1, 9, 9), 0.3)
    torch.testing.assert_close(dream.gaussian_blur(flat, 1.0), flat)
    edge = torch.zeros(1, 1, 4, 4)
    edge[..., 2:] = 1.0  # one jump of 1 in each of the 4 rows: 4 of the 12 horizontal differences
    assert dream.total_variation(edge).item() == pytest.approx(4 / 12)
    blurred = dream.gaussian_blur(torch.rand(1, 1, 12, 12, generator=torch.Generator().manual_seed(0)), 1.0)
    assert dream.total_variation(blurred) < dream.total_variation(torch.rand(1, 1, 12, 12, generator=torch.Generator().manual_seed(0)))


@pytest.mark.parametrize(("model", "kind"), [(CategoryResNet(width=8), "log_probability"), (ImageEncoder(width=8), "unit")],
                         ids=["classifier", "image_encoder"])  # fmt: skip
def test_visualisation_and_deep_dream_run_on_the_tutorial_networks(model, kind):
    """A class of the classifier, one number of the image encoder's z: both rise.

    Jitter, blur and octaves make single steps noisy (a step may lower the score a little),
    so the rise is checked on small normalised gradient steps alone; the fully regularised
    run only has to give a picture of the right size with finite scores.
    """
    model.eval()
    torch.manual_seed(0)
    ascent = dream.DreamSettings(steps=5, step_size=0.01, jitter=0, blur=0.0, octaves=1)
    result = dream.visualise_class(model, 3, size=64, settings=ascent, seed=0, kind=kind)
    assert result.image.shape == (1, 1, 64, 64) and result.scores[-1] > result.scores[0]
    picture = torch.rand(1, 1, 64, 64, generator=torch.Generator().manual_seed(2))
    deep = dream.deep_dream(model, picture, "net.layer1", settings=ascent, seed=0)
    assert deep.image.shape == picture.shape and deep.scores[-1] > deep.scores[0]
    regularised = dream.DreamSettings(steps=3, octaves=2)
    result = dream.visualise_class(model, 3, size=64, settings=regularised, seed=0, kind=kind)
    assert tuple(result.image.shape) == (1, 1, 64, 64) and all(math.isfinite(score) for score in result.scores)


class Darkness(nn.Module):
    """Two classes: class 0's score is how much of the picture is dark, class 1's how much is white."""

    def forward(self, images):
        darkness = 10.0 * (1.0 - images).flatten(1).mean(dim=1)
        return torch.stack([darkness, -darkness], dim=1)


def test_zprior_distance_is_zero_at_the_mean_and_averages_n_minus_1_over_n_on_the_training_z():
    """With the unbiased covariance, the mean squared Mahalanobis distance of its own N samples is (N − 1)/N · d."""
    train_z = torch.rand(50, 4, generator=torch.Generator().manual_seed(0))
    prior = dream.ZPrior(train_z, ridge=0.0)
    assert prior.distance(prior.mean[None]).item() == pytest.approx(0.0, abs=1e-9)
    assert prior.distance(train_z).mean().item() == pytest.approx(49 / 50, rel=1e-4)


def test_dreaming_a_shape_for_darkness_grows_it_and_for_whiteness_shrinks_it():
    """A known answer through decoder, renderer and classifier: class 0 wants more dark pixels, so the
    decoded shape must cover more of the picture than the start (the mean z); class 1 less. Same seed, same z."""
    from tutorial_lib.models import ImplicitDecoder

    torch.manual_seed(0)
    decoder = ImplicitDecoder(width=4, z_dim=8)
    train_z = torch.rand(40, 8, generator=torch.Generator().manual_seed(1))
    settings = dream.ShapeDreamSettings(steps=15, learning_rate=0.2, prior=0.0, grid=8, pixels=16, samples=16, precision="fp32")
    classifier = Darkness()
    result = dream.dream_shapes(classifier, decoder, [0, 1], train_z, settings=settings, seed=0)
    assert result.z.shape == (2, 8) and result.scores[-1] > result.scores[0]
    views = [(30.0, 20.0)] * 3
    with torch.no_grad():
        start = dream.ZPrior(train_z).mean[None]
        pictures = dream.picture_of_z(decoder, torch.cat([start, result.z]), views, grid=8, pixels=16, samples=16)
    covered = (1.0 - pictures).flatten(1).mean(dim=1)
    assert covered[1] > covered[0] > covered[2]
    again = dream.dream_shapes(classifier, decoder, [0, 1], train_z, settings=settings, seed=0)
    torch.testing.assert_close(again.z, result.z)
    assert all(p.requires_grad for p in decoder.parameters()) and decoder.training  # given back as it came
