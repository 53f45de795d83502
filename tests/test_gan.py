import numpy as np
import pytest
import torch
import trimesh

from tutorial_lib import config, gan, metrics, shipping
from tutorial_lib.models import NOISE_STD, Critic, Generator, LatentGan
from tutorial_lib.training import RunOptions

QUICK = config.get_profile("quick")


def test_gradient_penalty_of_a_linear_critic_is_norm_minus_one_squared():
    # critic(x) = w·x + b has the same gradient w everywhere, so the penalty is (‖w‖ − 1)² exactly.
    torch.manual_seed(0)
    critic = torch.nn.Linear(5, 1)
    w = critic.weight.detach()[0]
    real, fake = torch.randn(16, 5), torch.randn(16, 5)
    penalty = gan.gradient_penalty(critic, real, fake)
    assert penalty.item() == pytest.approx((w.norm().item() - 1) ** 2, rel=1e-5)
    with torch.no_grad():
        critic.weight.copy_(torch.tensor([[0.6, 0.8, 0.0, 0.0, 0.0]]))  # ‖w‖ = 1: a 1-Lipschitz critic pays nothing
    assert gan.gradient_penalty(critic, real, fake).item() == pytest.approx(0.0, abs=1e-12)
    # and the penalty's gradient reaches the critic's weights (create_graph)
    gan.gradient_penalty(torch.nn.Linear(5, 1), real, fake).backward()


def test_interpolation_follows_the_talks_formula():
    z1, z2 = torch.rand(128), torch.rand(128)
    rows = gan.interpolate(z1, z2, n=3)
    assert rows.shape == (5, 128)
    np.testing.assert_allclose(gan.interpolation_weights(3), [0, 0.25, 0.5, 0.75, 1.0])
    for i, alpha in enumerate([0, 1 / 4, 2 / 4, 3 / 4, 1]):  # z_i = α_i z1 + (1 − α_i) z2, α_i = i/(n+1)
        torch.testing.assert_close(rows[i], alpha * z1 + (1 - alpha) * z2)
    assert torch.equal(rows[0], z2) and torch.equal(rows[-1], z1)  # the endpoints exactly
    assert gan.interpolate(z1, z2, n=0).shape == (2, 128)
    with pytest.raises(ValueError, match="n must be"):
        gan.interpolate(z1, z2, n=-1)
    with pytest.raises(ValueError, match="unknown interpolation"):
        gan.interpolate(z1, z2, method="cubic")


def test_spherical_interpolation_stays_on_the_circle_between_two_unit_vectors():
    z1, z2 = torch.tensor([1.0, 0.0, 0.0]), torch.tensor([0.0, 1.0, 0.0])
    rows = gan.interpolate(z1, z2, n=3, method="spherical")
    torch.testing.assert_close(rows.norm(dim=1), torch.ones(5))  # the chord's midpoint has norm 0.707; the arc keeps 1
    angles = torch.rad2deg(torch.atan2(rows[:, 1], rows[:, 0]))  # from z2 (90°) to z1 (0°) in equal angle steps
    torch.testing.assert_close(angles, torch.tensor([90.0, 67.5, 45.0, 22.5, 0.0]), atol=1e-4, rtol=0)
    torch.testing.assert_close(gan.interpolate(z1, 2 * z1, n=1, method="spherical"), gan.interpolate(z1, 2 * z1, n=1))  # parallel: linear


def test_a_set_against_itself_has_full_coverage_and_zero_mmd():
    rng = np.random.default_rng(0)
    z = rng.random((40, 8))
    scores = gan.z_scores(z, z)
    assert scores["cov"] == 1.0 and scores["mmd"] == 0.0
    assert scores["1-nna"] == 0.0  # every shape's nearest other shape is its twin: a perfect copy, not 0.5


def test_one_nn_accuracy_is_one_half_for_one_distribution_and_one_for_two_far_apart():
    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(300, 2)), rng.normal(size=(300, 2))
    assert gan.z_scores(a, b)["1-nna"] == pytest.approx(0.5, abs=0.06)
    assert gan.z_scores(a, b + 100.0)["1-nna"] == 1.0


def test_gaussian_baseline_matches_the_training_moments_inside_the_unit_cube():
    rng = np.random.default_rng(2)
    mixing = rng.normal(size=(4, 4)) * 0.05
    train_z = 0.5 + rng.normal(size=(5000, 4)) @ mixing
    samples = gan.gaussian_baseline(train_z, 20000, seed=3)
    assert samples.shape == (20000, 4) and samples.min() > 0 and samples.max() < 1
    np.testing.assert_allclose(samples.mean(0), train_z.mean(0), atol=0.01)
    np.testing.assert_allclose(np.cov(samples, rowvar=False), np.cov(train_z, rowvar=False), atol=0.002)


def test_generator_outputs_live_in_the_unit_interval_and_critic_gives_one_score():
    model = gan.make_gan(QUICK, width=32)
    z = model.generator.sample(100, seed=0)
    assert z.shape == (100, 128) and float(z.min()) > 0 and float(z.max()) < 1
    assert torch.equal(z, model.generator.sample(100, seed=0))  # a seed gives the same samples
    assert model.critic(z).shape == (100,)
    noise = model.generator.noise(20000)
    assert float(noise.std()) == pytest.approx(NOISE_STD, rel=0.02)  # IM-GAN's N(0, 0.2²)


@pytest.fixture
def one_thread():
    """Small networks train faster on one thread, and much faster when the CPU is shared."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _two_mode_data(count=512, seed=0):
    rng = np.random.default_rng(seed)
    centres = rng.choice([-1.0, 1.0], size=count)
    return (centres + 0.05 * rng.normal(size=count)).astype(np.float32)[:, None]


def test_a_tiny_gan_learns_a_one_dimensional_two_mode_mixture(one_thread):
    torch.manual_seed(0)
    model = LatentGan(Generator(noise_dim=2, width=64, out_dim=1, sigmoid=False, noise_std=1.0), Critic(1, 64))
    assert isinstance(model.generator, Generator) and isinstance(model.critic, Critic)
    before = model.generator.sample(2000, seed=1).numpy()[:, 0]
    # λ = 0.1 as in the WGAN-GP authors' low-dimensional examples: in one dimension it converges in a few hundred steps
    gan.train_gan_on(_two_mode_data(), model, RunOptions(steps=300, progress=False), batch_size=64, n_critic=5, learning_rate=1e-3, penalty_weight=0.1)
    samples = model.generator.sample(2000, seed=1).numpy()[:, 0]
    near_left, near_right = np.mean(np.abs(samples + 1) < 0.3), np.mean(np.abs(samples - 1) < 0.3)
    assert np.mean(np.abs(before + 1) < 0.3) + np.mean(np.abs(before - 1) < 0.3) < 0.2  # untrained: not there
    assert near_left > 0.25 and near_right > 0.25  # both modes, none collapsed
    assert near_left + near_right > 0.7  # and most samples on a mode, not in the gap between


def test_training_resumes_exactly(tmp_path, one_thread):
    data = np.random.default_rng(0).random((100, 128)).astype(np.float32)

    def run(steps, checkpoint):
        torch.manual_seed(0)
        model = gan.make_gan(QUICK, width=16)
        gan.train_gan_on(data, model, RunOptions(steps=steps, checkpoint=checkpoint, progress=False, seed=5), batch_size=16, n_critic=2)
        return model

    straight = run(6, tmp_path / "straight.pt")
    run(3, tmp_path / "stopped.pt")
    resumed = run(6, tmp_path / "stopped.pt")
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name


def test_judge_gives_perfect_scores_to_the_reference_set_itself():
    meshes = [trimesh.creation.box([0.2 + 0.1 * i, 0.3, 0.4]) for i in range(3)] + [trimesh.creation.icosphere(2, radius=0.3)]
    results = gan.judge({"copy": list(meshes), "empty": [trimesh.Trimesh()] * 4}, meshes, points=512, training={"meshes": meshes[:2]})
    for distance in ("chamfer", "lfd"):
        assert results["copy"][distance]["cov"] == 1.0  # each copy's nearest reference is its original
        assert results["empty"][distance]["cov"] == 0.25  # all four empty shapes match the same reference shape
        assert results["empty"][distance]["mmd"] > 10 * results["copy"][distance]["mmd"]
    assert results["copy"]["lfd"]["mmd"] == pytest.approx(0.0, abs=1e-6)  # the same mesh has the same descriptor
    # Chamfer compares two independent samplings of each surface, so a copy is close to 0, not at 0
    assert results["copy"]["chamfer"]["mmd"] < 1e-3
    assert results["empty"]["empty_meshes"] == 4 and results["copy"]["empty_meshes"] == 0
    # copies of training shapes sit at distance 0 from them: a memoriser shows in the nearest-training distances
    np.testing.assert_allclose(results["copy"]["nearest_training_lfd"][:2], 0.0, atol=1e-6)
    assert min(results["copy"]["nearest_training_lfd"][2:]) > 0.1
    assert "COV-lfd" in gan.scores_table(results)


def test_nearest_z_distances_finds_the_nearest_training_code():
    train_z = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 2.0]])
    distances, indices = gan.nearest_z_distances(np.array([[0.9, 0.1], [0.0, 1.5]]), train_z)
    np.testing.assert_allclose(distances, [np.hypot(0.1, 0.1), 0.5])
    assert indices.tolist() == [1, 2]


def test_metrics_generative_scores_used_by_judge_are_the_library_ones():
    d = np.array([[0.0, 2.0], [2.0, 0.0]])
    assert metrics.generative_metrics(d, d, d) == {"cov": 1.0, "mmd": 0.0, "1-nna": 0.0}


def test_ensure_returns_the_shipped_generator_when_there_is_one():
    files = shipping.paths("gan", QUICK)
    if not files.manifest.is_file():
        pytest.skip(f"{files.manifest}: no shipped quick GAN in this checkout")
    loaded, ensured = shipping.load("gan", QUICK), shipping.ensure("gan", QUICK)
    noise = torch.zeros(2, 128)
    torch.testing.assert_close(ensured(noise), loaded(noise))
    assert shipping.training_checkpoint("gan", QUICK).name == "gan_quick.pt"
