"""Bad input raises ValueError (KeyError for a missing parameter) with a message that names the
argument, what it got and what was expected; extreme but finite logits stay finite."""

from __future__ import annotations

import numpy as np
import pytest

import rnnlib

pytestmark = pytest.mark.usefixtures("one_blas_thread")

# sizes chosen distinct so a message's numbers say which dimension it means
N_X, N_A, N_Y, M, T_X = 3, 4, 5, 2, 6


@pytest.fixture
def problem(make_problem):
    return make_problem(N_X, N_A, N_Y, M, T_X, seed=0)


def with_value(array, index, value):
    """A copy of ``array`` with one entry replaced."""
    array = np.array(array, dtype=np.float64)
    array[index] = value
    return array


def cell(problem, **changes):
    """rnn_cell_forward on step 0 of the problem, with some arguments replaced."""
    args = {
        "xt": problem["x"][:, :, 0],
        "a_prev": problem["a0"],
        "parameters": problem["parameters"],
    }
    return rnnlib.rnn_cell_forward(**{**args, **changes})


def forward(problem, **changes):
    args = {"x": problem["x"], "a0": problem["a0"], "parameters": problem["parameters"]}
    return rnnlib.rnn_forward(**{**args, **changes})


def bptt(problem, **changes):
    return rnnlib.bptt(**{**problem, **changes})


def params(problem, **changes):
    return {**problem["parameters"], **changes}


def cache(problem):
    return cell(problem)[2]


def caches(problem):
    return forward(problem)[2]


# fmt: off
# (id, call, the fragments the message must contain: argument, what it got, what was expected)
VALUE_ERRORS = [
    # wrong shapes, one argument at a time
    ("xt-wrong-n_x", lambda p: cell(p, xt=np.zeros((4, M))), ["xt", "(4, 2)", "n_x = 3"]),
    ("xt-a-sequence", lambda p: cell(p, xt=p["x"]), ["xt", "(3, 2, 6)", "2 axes"]),
    ("a_prev-wrong-n_a", lambda p: cell(p, a_prev=np.zeros((3, M))), ["a_prev", "(3, 2)", "n_a = 4"]),
    ("x-wrong-n_x", lambda p: forward(p, x=np.zeros((2, M, T_X))), ["x", "(2, 2, 6)", "n_x = 3"]),
    ("x-one-step", lambda p: forward(p, x=p["x"][:, :, 0]), ["x", "(3, 2)", "3 axes"]),
    ("a0-wrong-n_a", lambda p: bptt(p, a0=np.zeros((5, M))), ["a0", "(5, 2)", "n_a = 4"]),
    ("a0-transposed", lambda p: forward(p, a0=p["a0"].T), ["a0", "(2, 4)", "n_a = 4"]),
    ("y-wrong-T_x", lambda p: bptt(p, y=p["y"][:, :3]), ["y", "(2, 3)", "T_x = 6"]),
    ("y-one-hot", lambda p: bptt(p, y=np.zeros((N_Y, M, T_X), int)), ["y", "(5, 2, 6)", "2 axes"]),
    ("Waa-not-square", lambda p: forward(p, parameters=params(p, Waa=np.zeros((4, 3)))),
     ["parameters['Waa']", "(4, 3)", "n_a = 4"]),
    ("Wax-wrong-n_a", lambda p: forward(p, parameters=params(p, Wax=np.zeros((5, 3)))),
     ["parameters['Wax']", "(5, 3)", "n_a = 4"]),
    ("Wya-wrong-n_a", lambda p: forward(p, parameters=params(p, Wya=np.zeros((5, 3)))),
     ["parameters['Wya']", "(5, 3)", "n_a = 4"]),
    ("ba-one-axis", lambda p: forward(p, parameters=params(p, ba=np.zeros(4))),
     ["parameters['ba']", "(4,)", "(n_a, 1)"]),
    ("by-two-columns", lambda p: forward(p, parameters=params(p, by=np.zeros((5, 2)))),
     ["parameters['by']", "(5, 2)", "(n_y, 1)"]),
    ("da_next-wrong-m", lambda p: rnnlib.rnn_cell_backward(np.zeros((N_A, 3)), cache(p)),
     ["da_next", "(4, 3)", "m = 2"]),
    ("da-wrong-T_x", lambda p: rnnlib.rnn_backward(np.zeros((N_A, M, 2)), caches(p)),
     ["da", "(4, 2, 2)", "T_x = 6"]),
    ("Wax-for-stacking", lambda p: rnnlib.stack_weights(np.zeros((4, 4)), np.zeros((3, 3))),
     ["Wax", "(3, 3)", "n_a = 4"]),
    ("Wa-without-inputs", lambda p: rnnlib.rnn_cell_forward_stacked(
        np.zeros((0, M)), p["a0"], np.zeros((4, 4)), np.zeros((4, 1)), np.zeros((5, 4)), np.zeros((5, 1))),
     ["Wa", "(4, 4)", "n_x >= 1"]),
    ("split-n_a-mismatch", lambda p: rnnlib.split_weights(np.zeros((4, 7)), 3),
     ["n_a", "got 3", "4"]),
    ("empty-sequence", lambda p: forward(p, x=np.zeros((N_X, M, 0))), ["x", "T_x = 0", "T_x >= 1"]),
    ("y_pred-out-of-range", lambda p: rnnlib.cross_entropy(np.full((N_Y, M), 1.5), np.zeros(M, int)),
     ["y_pred", "1.5", "[0, 1]"]),
    # m of x and a0 disagree: the data sets m, so the state is blamed, and the message names both
    ("m-of-a0-vs-x", lambda p: bptt(p, a0=p["a0"][:, :1]), ["a0:", "(4, 1)", "m = 2", "as in x"]),
    ("m-of-a_prev-vs-xt", lambda p: cell(p, a_prev=p["a0"][:, :1]),
     ["a_prev:", "(4, 1)", "m = 2", "as in xt"]),
    ("m-of-a0-vs-ids", lambda p: bptt(p, x=np.zeros((M, T_X), int), a0=p["a0"][:, :1]),
     ["a0:", "(4, 1)", "m = 2", "as in x (token ids)"]),
    ("m-of-ids-vs-a0", lambda p: forward(p, x=np.zeros((3, T_X), int)),
     ["a0:", "(4, 2)", "m = 3", "as in x (token ids)"]),
    # float token ids: told that ids must be integers
    ("token-ids-float", lambda p: bptt(p, x=np.zeros((M, T_X))),
     ["x", "(2, 6)", "float64", "token ids of shape (m, T_x) must be integers"]),
    ("token-ids-float-one-step", lambda p: cell(p, xt=np.zeros(M)),
     ["xt", "(2,)", "float64", "token ids of shape (m) must be integers"]),
    ("extra-parameter", lambda p: forward(p, parameters=params(p, Wy=np.zeros((5, 4)))),
     ["parameters", "'Wy'", "exactly"]),
    ("parameters-a-list", lambda p: forward(p, parameters=list(p["parameters"].values())),
     ["parameters", "list", "dict"]),
    # unknown activation names
    ("hidden-sigmoid", lambda p: cell(p, hidden_activation="sigmoid"),
     ["hidden_activation", "'sigmoid'", "'tanh', 'relu'"]),
    ("hidden-capitalised", lambda p: forward(p, hidden_activation="Tanh"),
     ["hidden_activation", "'Tanh'", "'tanh', 'relu'"]),
    ("output-relu", lambda p: bptt(p, output_activation="relu"),
     ["output_activation", "'relu'", "'softmax', 'sigmoid'"]),
    ("output-none", lambda p: forward(p, output_activation=None),
     ["output_activation", "None", "'softmax', 'sigmoid'"]),
    # labels and token ids
    ("label-too-large", lambda p: bptt(p, y=with_value(p["y"], (0, 3), N_Y).astype(int)),
     ["y", "label 5", "[0, n_y = 5)"]),
    ("label-negative", lambda p: bptt(p, y=with_value(p["y"], (1, 0), -1).astype(int)),
     ["y", "label -1", "[0, n_y = 5)"]),
    ("label-out-of-range-cross-entropy",
     lambda p: rnnlib.cross_entropy(np.full((N_Y, M, T_X), 0.2), np.full((M, T_X), 7)),
     ["y", "label 7", "[0, n_y = 5)"]),
    ("labels-float", lambda p: bptt(p, y=p["y"].astype(np.float64)),
     ["y", "float64", "integer class labels"]),
    ("targets-not-0-1", lambda p: bptt(p, y=np.full((N_Y, M, T_X), 0.5), output_activation="sigmoid"),
     ["y", "0.5", "0/1 targets"]),
    ("token-id-too-large", lambda p: forward(p, x=np.full((M, T_X), N_X)),
     ["x", "token id 3", "[0, n_x = 3)"]),
    ("token-id-negative", lambda p: bptt(p, x=np.full((M, T_X), -2)), ["x", "token id -2", "[0, n_x = 3)"]),
    ("token-id-too-large-one-step", lambda p: cell(p, xt=np.array([0, 9])),
     ["xt", "token id 9", "[0, n_x = 3)"]),
    # NaN and inf
    ("x-nan", lambda p: forward(p, x=with_value(p["x"], (0, 0, 2), np.nan)), ["x", "nan", "finite"]),
    ("x-inf", lambda p: bptt(p, x=with_value(p["x"], (1, 1, 0), np.inf)), ["x", "inf", "finite"]),
    ("xt-nan", lambda p: cell(p, xt=with_value(p["x"][:, :, 0], (0, 0), np.nan)), ["xt", "nan", "finite"]),
    ("a0-nan", lambda p: forward(p, a0=with_value(p["a0"], (0, 0), np.nan)), ["a0", "nan", "finite"]),
    ("a0-inf", lambda p: bptt(p, a0=with_value(p["a0"], (3, 1), -np.inf)), ["a0", "-inf", "finite"]),
    ("a_prev-inf", lambda p: cell(p, a_prev=with_value(p["a0"], (2, 0), np.inf)),
     ["a_prev", "inf", "finite"]),
    ("da-nan", lambda p: rnnlib.rnn_backward(np.full((N_A, M, T_X), np.nan), caches(p)),
     ["da", "nan", "finite"]),
    ("targets-nan", lambda p: bptt(p, y=np.full((N_Y, M, T_X), np.nan), output_activation="sigmoid"),
     ["y", "nan", "finite"]),
    *[
        (f"{name}-{bad}", lambda p, name=name, bad=bad: bptt(
            p, parameters=params(p, **{name: with_value(p["parameters"][name], (0, 0), bad)})),
         [f"parameters['{name}']", str(bad), "finite"])
        for name, bad in [("Waa", np.nan), ("Wax", np.inf), ("Wya", -np.inf), ("ba", np.nan), ("by", np.inf)]
    ],
    # truncate
    ("truncate-float", lambda p: bptt(p, truncate=2.0), ["truncate", "2.0", "integer >= 0"]),
    ("truncate-fraction", lambda p: rnnlib.gradient_check(**p, truncate=1.5),
     ["truncate", "1.5", "integer >= 0"]),
    ("truncate-string", lambda p: bptt(p, truncate="3"), ["truncate", "'3'", "integer >= 0"]),
    ("truncate-bool", lambda p: bptt(p, truncate=True), ["truncate", "True", "integer >= 0"]),
    ("truncate-negative", lambda p: bptt(p, truncate=-1), ["truncate", "-1", "integer >= 0"]),
]
# fmt: on


@pytest.mark.parametrize(
    "call, fragments", [c[1:] for c in VALUE_ERRORS], ids=[c[0] for c in VALUE_ERRORS]
)
def test_bad_input_raises_a_value_error_naming_argument_value_and_expectation(
    problem, call, fragments
):
    with pytest.raises(ValueError) as excinfo:
        call(problem)
    message = str(excinfo.value)
    missing = [f for f in fragments if f not in message]
    assert not missing, f"the message {message!r} does not mention {missing}"


@pytest.mark.parametrize("key", rnnlib.PARAMETER_NAMES)
@pytest.mark.parametrize("function", ["rnn_cell_forward", "rnn_forward", "bptt"])
def test_a_missing_parameter_raises_a_key_error_naming_it(problem, key, function):
    incomplete = {k: v for k, v in problem["parameters"].items() if k != key}
    call = {"rnn_cell_forward": cell, "rnn_forward": forward, "bptt": bptt}[function]
    with pytest.raises(KeyError) as excinfo:
        call(problem, parameters=incomplete)
    message = excinfo.value.args[0]
    assert "parameters" in message and repr(key) in message, f"{message!r} should name {key!r}"
    assert "expected the keys" in message, f"{message!r} should list the expected keys"


def test_good_input_is_not_rejected(problem):
    """The checks above reject only bad input: the same problem, unchanged, runs everywhere."""
    a, y_pred, _ = forward(problem)
    loss, gradients, _ = bptt(problem, truncate=2)
    assert np.isfinite(loss), f"bptt's loss is {loss} on a valid problem"
    assert a.shape == (N_A, M, T_X) and y_pred.shape == (N_Y, M, T_X), (a.shape, y_pred.shape)
    assert set(gradients) == {"dWaa", "dWax", "dWya", "dba", "dby", "da0"}, sorted(gradients)


# -------------------------------------------------------------- extreme but finite logits


@pytest.mark.parametrize("big", [1e4, -1e4])
def test_softmax_stays_finite_for_extreme_logits(big):
    z = np.array([[big, 0.0, big], [-big, big, big], [0.0, -big, big]])
    p = rnnlib.softmax(z)
    assert np.isfinite(p).all(), f"softmax of ±1e4 logits gave {p.tolist()}"
    assert (p >= 0).all(), f"softmax gave a negative probability: {p.tolist()}"
    np.testing.assert_allclose(p.sum(axis=0), 1.0, rtol=1e-12, err_msg="columns must sum to 1")
    np.testing.assert_allclose(p[:, 2], 1 / 3, rtol=1e-12, err_msg="equal logits: uniform column")


@pytest.mark.parametrize("output", ["softmax", "sigmoid"])
def test_bptt_loss_and_gradients_stay_finite_for_logits_of_1e4(make_problem, output):
    problem = make_problem(N_X, N_A, N_Y, M, T_X, seed=0, output_activation=output)
    by = np.where(np.arange(N_Y)[:, None] % 2 == 0, 1e4, -1e4)  # logits ±1e4 at every step
    parameters = params(problem, Wya=np.zeros((N_Y, N_A)), by=by)
    y = problem["y"]
    if output == "softmax":
        y = np.ones_like(y)  # label 1 has logit -1e4: the model is confidently wrong
    loss, gradients, _ = rnnlib.bptt(
        problem["x"], y, problem["a0"], parameters, output_activation=output
    )
    assert np.isfinite(loss), f"the {output} loss is {loss} for logits of ±1e4"
    if output == "softmax":  # per step: log(3 e^1e4) - (-1e4), three classes have logit +1e4
        expected = T_X * (2e4 + np.log(3))
        assert loss == pytest.approx(expected, rel=1e-12), f"loss {loss}, expected {expected}"
    for name, g in gradients.items():
        assert np.isfinite(g).all(), f"{name} is not finite for logits of ±1e4"


def test_cross_entropy_of_softmax_stays_finite_for_logits_of_1e4():
    z = np.array([[1e4, -1e4], [-1e4, 1e4]])[:, :, None]  # (n_y, m, T_x) = (2, 2, 1)
    y = np.array([[1], [0]])  # each column's true class has probability e^-2e4, 0 in float64
    loss = rnnlib.cross_entropy(rnnlib.softmax(z), y)
    assert np.isfinite(loss) and loss > 100, (
        f"a confident wrong answer should cost a large finite loss, got {loss}"
    )
    right = rnnlib.cross_entropy(rnnlib.softmax(z), np.array([[0], [1]]))
    assert np.isfinite(right) and right < 1e-12, (
        f"a confident right answer should cost ~0, got {right}"
    )
