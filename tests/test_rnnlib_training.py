"""Training tools (lesson 5) and the vanishing-gradient tools (lesson 6), and the float32 option."""

from __future__ import annotations

import numpy as np
import pytest

import rnnlib

pytestmark = pytest.mark.usefixtures("one_blas_thread")

GRADIENT_NAMES = ("dWaa", "dWax", "dWya", "dba", "dby")


def random_gradients(seed=0, n_a=4, n_x=3, n_y=5, scale=1.0):
    rng = np.random.default_rng(seed)
    shapes = {"dWaa": (n_a, n_a), "dWax": (n_a, n_x), "dWya": (n_y, n_a), "dba": (n_a, 1)}
    gradients = {name: rng.normal(0, scale, shape) for name, shape in shapes.items()}
    gradients["dby"] = rng.normal(0, scale, (n_y, 1))
    gradients["da0"] = rng.normal(0, scale, (n_a, 2))
    return gradients


def global_norm(gradients):
    return np.sqrt(sum(np.sum(gradients[name] ** 2) for name in GRADIENT_NAMES))


# ----------------------------------------------------------------------- initialisation


def test_initialize_parameters_shapes_zero_biases_and_seed():
    p = rnnlib.initialize_parameters(n_a=6, n_x=4, n_y=3, seed=7, scale=0.1)
    shapes = {name: value.shape for name, value in p.items()}
    expected = {"Waa": (6, 6), "Wax": (6, 4), "Wya": (3, 6), "ba": (6, 1), "by": (3, 1)}
    assert shapes == expected, f"parameter shapes {shapes}, expected {expected}"
    assert not p["ba"].any() and not p["by"].any(), "the biases should start at zero"
    again = rnnlib.initialize_parameters(n_a=6, n_x=4, n_y=3, seed=7, scale=0.1)
    other = rnnlib.initialize_parameters(n_a=6, n_x=4, n_y=3, seed=8, scale=0.1)
    for name in p:
        np.testing.assert_array_equal(p[name], again[name], err_msg=f"seed 7 twice: {name} differs")
    assert not np.array_equal(p["Waa"], other["Waa"]), "seeds 7 and 8 gave the same Waa"
    assert np.abs(p["Wax"]).max() < 1.0, "scale 0.1 should give small weights"


@pytest.mark.parametrize(
    "kwargs, fragment",
    [
        ({"n_a": 0, "n_x": 3, "n_y": 3}, "n_a: expected a positive integer, got 0"),
        ({"n_a": 3, "n_x": 2.5, "n_y": 3}, "n_x: expected a positive integer, got 2.5"),
        ({"n_a": 3, "n_x": 3, "n_y": 3, "dtype": np.int64}, "dtype: expected float64 or float32"),
    ],
)
def test_initialize_parameters_rejects_bad_sizes(kwargs, fragment):
    with pytest.raises(ValueError) as excinfo:
        rnnlib.initialize_parameters(**kwargs)
    assert fragment in str(excinfo.value), f"{excinfo.value} should say {fragment!r}"


# ------------------------------------------------------------------- SGD and clipping


def test_sgd_step_moves_against_the_gradient_and_leaves_its_inputs_alone():
    p = rnnlib.initialize_parameters(4, 3, 5, seed=0, scale=1.0)
    gradients = random_gradients()
    before = {k: v.copy() for k, v in p.items()}
    updated = rnnlib.sgd_step(p, gradients, learning_rate=0.1)
    for name in rnnlib.PARAMETER_NAMES:
        np.testing.assert_allclose(
            updated[name],
            before[name] - 0.1 * gradients["d" + name],
            rtol=1e-15,
            err_msg=f"{name}: θ - η dθ expected",
        )
        np.testing.assert_array_equal(p[name], before[name], err_msg=f"sgd_step changed {name}")


@pytest.mark.parametrize("learning_rate", [0.0, -0.1, float("nan")])
def test_sgd_step_rejects_a_learning_rate_that_is_not_positive(learning_rate):
    p = rnnlib.initialize_parameters(4, 3, 5)
    with pytest.raises(ValueError, match="learning_rate: expected a positive number"):
        rnnlib.sgd_step(p, random_gradients(), learning_rate)


def test_clip_by_global_norm_caps_the_length_and_keeps_the_direction():
    gradients = random_gradients(scale=10.0)
    norm = global_norm(gradients)
    clipped = rnnlib.clip_by_global_norm(gradients, max_norm=1.0)
    assert global_norm(clipped) == pytest.approx(1.0, rel=1e-12), "clipped norm should be 1"
    for name in GRADIENT_NAMES:
        np.testing.assert_allclose(
            clipped[name] * norm, gradients[name], rtol=1e-12, err_msg=f"{name} changed direction"
        )
    np.testing.assert_array_equal(clipped["da0"], gradients["da0"], err_msg="da0 is not clipped")


def test_clip_by_global_norm_leaves_a_short_gradient_unchanged():
    gradients = random_gradients(scale=0.01)
    clipped = rnnlib.clip_by_global_norm(gradients, max_norm=global_norm(gradients) * 2)
    for name in GRADIENT_NAMES:
        np.testing.assert_array_equal(clipped[name], gradients[name], err_msg=name)


def test_clip_by_value_bounds_every_entry():
    gradients = random_gradients(scale=10.0)
    clipped = rnnlib.clip_by_value(gradients, max_value=2.0)
    for name in GRADIENT_NAMES:
        g, c = gradients[name], clipped[name]
        assert np.abs(c).max() <= 2.0, f"{name}: an entry beyond ±2 survived"
        np.testing.assert_array_equal(c[np.abs(g) <= 2], g[np.abs(g) <= 2], err_msg=name)
        np.testing.assert_array_equal(c[g > 2], 2.0, err_msg=f"{name}: entries > 2 become 2")


def test_clipping_reports_a_missing_gradient():
    gradients = random_gradients()
    del gradients["dWya"]
    with pytest.raises(KeyError, match="dWya"):
        rnnlib.clip_by_global_norm(gradients, 1.0)


# ------------------------------------------------------------------ perplexity, sampling


def test_perplexity_of_a_uniform_model_is_the_vocabulary_size(make_problem):
    problem = make_problem(n_x=4, n_a=3, n_y=7, m=3, T_x=5)
    uniform = {**problem["parameters"], "Wya": np.zeros((7, 3)), "by": np.zeros((7, 1))}
    loss, _, _ = rnnlib.bptt(problem["x"], problem["y"], problem["a0"], uniform)
    assert loss == pytest.approx(5 * np.log(7), rel=1e-12), "uniform loss should be T_x ln n_y"
    assert rnnlib.perplexity(loss, 5) == pytest.approx(7, rel=1e-12), "perplexity should be 7"


def state_free_model(logits):
    """A model whose next-token distribution is softmax(logits) whatever came before."""
    n = len(logits)
    p = rnnlib.initialize_parameters(2, n, n, seed=0)
    return {
        **p,
        "Waa": np.zeros((2, 2)),
        "Wax": np.zeros((2, n)),
        "Wya": np.zeros((n, 2)),
        "by": np.array(logits, dtype=float)[:, None],
    }


LOGITS = [2.0, 1.0, 0.0, -1.0]


@pytest.mark.parametrize("temperature", [0.5, 1.0, 2.0])
def test_sampling_draws_from_softmax_of_logits_over_temperature(temperature):
    drawn = rnnlib.sample(state_free_model(LOGITS), 0, 4000, temperature, seed=0)
    frequencies = np.bincount(drawn, minlength=4) / len(drawn)
    expected = np.exp(np.array(LOGITS) / temperature)
    expected /= expected.sum()
    # 4000 draws: each frequency is within 0.04 (five standard deviations) of its probability
    np.testing.assert_allclose(
        frequencies,
        expected,
        atol=0.04,
        err_msg=f"τ = {temperature}: frequencies vs softmax(o / τ)",
    )


def test_lower_temperature_gives_lower_entropy():
    entropies = []
    for temperature in (0.3, 0.7, 1.0, 2.0):
        drawn = rnnlib.sample(state_free_model(LOGITS), 0, 3000, temperature, seed=1)
        f = np.bincount(drawn, minlength=4) / len(drawn)
        entropies.append(-np.sum(f[f > 0] * np.log(f[f > 0])))
    assert entropies == sorted(entropies), f"entropy should grow with τ: {entropies}"


def test_sampling_is_reproducible_and_stops_at_stop_id():
    p = rnnlib.initialize_parameters(5, 6, 6, seed=3, scale=1.0)
    first = rnnlib.sample(p, 0, 50, seed=11)
    assert first == rnnlib.sample(p, 0, 50, seed=11), "the same seed gave different samples"
    others = {tuple(rnnlib.sample(p, 0, 50, seed=s)) for s in range(5)}
    assert len(others) > 1, "five different seeds gave the same sample"
    assert len(first) == 50 and all(0 <= t < 6 for t in first), f"bad sample {first}"
    stopped = rnnlib.sample(p, 0, 200, seed=11, stop_id=first[3])
    assert stopped == first[: first.index(first[3])], "sampling should stop before stop_id"


def test_sampling_rejects_a_non_positive_temperature():
    with pytest.raises(ValueError, match="temperature: expected a positive number, got 0"):
        rnnlib.sample(state_free_model(LOGITS), 0, 5, temperature=0)


# ----------------------------------------------------------------------------- float32


def test_float32_runs_end_to_end_and_agrees_with_float64(make_problem):
    problem = make_problem(n_x=5, n_a=6, n_y=5, m=3, T_x=8, ids=True)
    p32 = rnnlib.initialize_parameters(6, 5, 5, seed=0, scale=0.5, dtype=np.float32)
    p64 = {name: value.astype(np.float64) for name, value in p32.items()}
    a0 = np.zeros((6, 3), dtype=np.float32)
    loss32, g32, last32 = rnnlib.bptt(problem["x"], problem["y"], a0, p32)
    loss64, g64, _ = rnnlib.bptt(problem["x"], problem["y"], a0.astype(np.float64), p64)
    assert last32.dtype == np.float32, f"a_last is {last32.dtype} with float32 parameters"
    for name, g in g32.items():
        assert g.dtype == np.float32, f"{name} is {g.dtype} with float32 parameters"
        np.testing.assert_allclose(
            g,
            g64[name],
            rtol=1e-3,
            atol=1e-3 * np.abs(g64[name]).max(),
            err_msg=f"{name}: float32 far from float64",
        )
    assert loss32 == pytest.approx(loss64, rel=1e-5), f"loss {loss32} (float32) vs {loss64}"
    updated = rnnlib.sgd_step(p32, rnnlib.clip_by_global_norm(g32, 1.0), 0.1)
    assert all(v.dtype == np.float32 for v in updated.values()), "SGD left float32"


def test_float32_parameters_keep_float64_one_hot_inputs_in_float32(make_problem):
    """np.eye makes float64 one-hot vectors; they must not silently turn the run into float64."""
    problem = make_problem(n_x=5, n_a=6, n_y=5, m=3, T_x=4)  # one-hot float64 x, float64 a0
    p32 = {k: v.astype(np.float32) for k, v in problem["parameters"].items()}
    _, gradients, a_last = rnnlib.bptt(problem["x"], problem["y"], problem["a0"], p32)
    a, y_pred, _ = rnnlib.rnn_forward(problem["x"], problem["a0"], p32)
    dtypes = {name: g.dtype.name for name, g in gradients.items()}
    dtypes.update(a_last=a_last.dtype.name, a=a.dtype.name, y_pred=y_pred.dtype.name)
    assert set(dtypes.values()) == {"float32"}, f"float32 parameters gave {dtypes}"


# ---------------------------------------------------------------------------- vanishing


def test_with_spectral_radius_sets_the_largest_eigenvalue_magnitude():
    W = np.random.default_rng(0).normal(size=(6, 6))
    for radius in (0.5, 1.0, 3.0):
        scaled = rnnlib.with_spectral_radius(W, radius)
        got = np.abs(np.linalg.eigvals(scaled)).max()
        assert got == pytest.approx(radius, rel=1e-10), f"asked for {radius}, got {got}"


def test_backprop_norms_follow_the_backward_pass(make_problem):
    problem = make_problem(n_a=5, T_x=6)
    _, _, caches = rnnlib.rnn_forward(problem["x"], problem["a0"], problem["parameters"])
    da_next = np.random.default_rng(4).normal(size=problem["a0"].shape)
    norms = rnnlib.backprop_norms(da_next, caches)
    delta, expected = da_next, []
    for cache in reversed(caches):  # ∂L<T>/∂a<t> by repeated single-step backward passes
        expected.append(np.linalg.norm(delta))
        delta = rnnlib.rnn_cell_backward(delta, cache)["da_prev"]
    np.testing.assert_allclose(norms, expected, rtol=1e-12, err_msg="backprop_norms")


def test_gradients_vanish_geometrically_below_spectral_radius_one(make_problem):
    """With a symmetric Waa, ‖Waaᵀ v‖ ≤ ρ ‖v‖ and tanh' ≤ 1, so each step back shrinks by ρ."""
    problem = make_problem(n_a=6, T_x=10)
    rng = np.random.default_rng(5)
    S = rng.normal(size=(6, 6))
    p = {**problem["parameters"], "Waa": rnnlib.with_spectral_radius(S + S.T, 0.5)}
    _, _, caches = rnnlib.rnn_forward(problem["x"], problem["a0"], p)
    norms = rnnlib.backprop_norms(rng.normal(size=(6, 2)), caches)
    ratios = norms[1:] / norms[:-1]
    assert (ratios <= 0.5 + 1e-12).all(), f"a step back grew the gradient: ratios {ratios}"
