"""graders.checks and graders.wire: the references pass, wrong answers fail with a message that
names the mistake, hostile return values never pass, and cases cross a process boundary intact."""

from __future__ import annotations

import collections
import copy
import inspect
import json
import re
import zipfile

import numpy as np
import pytest

import rnnlib
from graders import checks, course, wire
from rnnlib.engine import bptt as engine_bptt

NAMES = list(checks.EXERCISES)


def verdict(name: str, fn, seed: int = 0) -> checks.Verdict:
    cases = checks.make_cases(name, np.random.default_rng(seed))
    return checks.check(name, cases, [checks.call(name, fn, case) for case in cases])


def reference(name: str):
    return getattr(rnnlib, name)


def returning(name: str, change):
    """The reference of ``name`` with ``change(result, *args, **kwargs)`` applied to its result."""
    ref = reference(name)

    def fn(*args, **kwargs):
        return change(ref(*args, **kwargs), *args, **kwargs)

    return fn


# --- the table and the references ------------------------------------------------------------


def test_the_table_holds_every_graded_exercise_of_the_notebooks_and_no_other():
    graded = {}
    for assignment, notebooks in course.assignments(course.NOTEBOOKS).items():
        for notebook in notebooks:
            src = course.read_notebook(course.NOTEBOOKS / assignment / f"{notebook}.ipynb")
            graded |= {e.name: assignment for e in course.exercises_of(src)}
    table = {name: ex.assignment for name, ex in checks.EXERCISES.items()}
    assert table == graded, (
        f"the notebooks grade {sorted(set(graded) - set(table))} without hidden checks, and the "
        f"table has {sorted(set(table) - set(graded))} that no notebook grades (or a lesson is "
        f"filed under another assignment: {sorted(n for n in table if graded.get(n, table[n]) != table[n])})"
    )


@pytest.mark.parametrize("name", NAMES)
def test_each_exercise_has_a_reference_and_at_least_two_typical_mistakes(name: str):
    ex = checks.EXERCISES[name]
    assert callable(ex.reference), f"{name}: no rnnlib reference"
    assert len(ex.mistakes) >= 2, f"{name}: {len(ex.mistakes)} typical mistakes, at least 2 wanted"


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reference_passes_wrapped_and_bare(name: str, seed: int):
    for fn in (reference(name), inspect.unwrap(reference(name))):
        v = verdict(name, fn, seed)
        assert v.passed, f"rnnlib's {name} fails its own hidden checks (seed {seed}): {v.message}"


@pytest.mark.parametrize("name", NAMES)
def test_run_hidden_checks_accepts_the_reference_and_rejects_zeros(name: str):
    checks.run_hidden_checks(name, inspect.unwrap(reference(name)))  # fresh os.urandom seed

    def zeros(value):
        if type(value) is np.ndarray:
            return np.zeros_like(value)
        if type(value) in (float, int):
            return type(value)(0)
        if type(value) is dict:
            return {k: zeros(v) for k, v in value.items()}
        if type(value) in (list, tuple):
            return type(value)(zeros(v) for v in value)
        return value

    with pytest.raises(AssertionError, match=name):
        checks.run_hidden_checks(name, returning(name, lambda r, *a, **k: zeros(r)), seed=3)


# --- randomisation and determinism ------------------------------------------------------------


def _shapes(obj) -> list:
    if type(obj) is np.ndarray:
        return [obj.shape]
    if type(obj) in (list, tuple):
        return [s for item in obj for s in _shapes(item)]
    if type(obj) is dict:
        return [s for item in obj.values() for s in _shapes(item)]
    return []


def _equal(a, b) -> bool:
    if type(a) is np.ndarray:
        return type(b) is np.ndarray and a.dtype == b.dtype and np.array_equal(a, b)
    if type(a) in (list, tuple):
        return type(a) is type(b) and len(a) == len(b) and all(map(_equal, a, b))
    if type(a) is dict:
        return type(b) is dict and a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    return type(a) is type(b) and a == b


@pytest.mark.parametrize("name", NAMES)
def test_two_seeds_give_different_shapes_and_one_seed_the_same_cases(name: str):
    first = checks.make_cases(name, np.random.default_rng(10))
    again = checks.make_cases(name, np.random.default_rng(10))
    other = checks.make_cases(name, np.random.default_rng(11))
    assert _equal(first, again), f"{name}: the same seed gave different cases"
    assert _shapes(first) != _shapes(other), f"{name}: seeds 10 and 11 gave the same shapes"
    assert len(first) >= 3, f"{name}: only {len(first)} cases"


def test_cases_include_the_options_and_edge_cases():
    labels = " | ".join(
        c["label"] for n in NAMES for c in checks.make_cases(n, np.random.default_rng(0))
    )
    for needle in (
        "hidden_activation='relu'",
        "output_activation='sigmoid'",
        "truncate=2",
        "a few tokens repeated",
        "m=1",
        "T_x=1",
        "temperature=0.5",
        "±1e4",
    ):
        assert needle in labels, f"no hidden case with {needle}"


# --- the wire format --------------------------------------------------------------------------


@pytest.mark.parametrize("name", NAMES)
def test_cases_and_outputs_round_trip_through_wire(name: str, tmp_path):
    cases = checks.make_cases(name, np.random.default_rng(5))
    wire.dump(cases, tmp_path / "cases.npz")
    loaded = wire.load(tmp_path / "cases.npz")
    assert _equal(loaded, cases), f"{name}: the cases changed on the way through wire"
    outputs = [checks.call(name, reference(name), case) for case in loaded]
    wire.dump(outputs, tmp_path / "out.npz")
    v = checks.check(name, cases, wire.load(tmp_path / "out.npz"))
    assert v.passed, f"{name}: outputs that crossed the wire fail: {v.message}"


def test_wire_round_trips_every_plain_type(tmp_path):
    obj = {
        "none": None,
        "flag": True,
        "n": 3,
        "x": 2.5,
        "nan": float("nan"),
        "s": "é",
        "t": (1, [2.0, (None,)]),
        "empty": [],
        "a": np.arange(6, dtype=np.int32).reshape(2, 3),
        "f32": np.ones(2, np.float32),
        "np_scalar": np.float64(1.5),
        "b": np.array([True]),
    }
    wire.dump(obj, tmp_path / "o.npz")
    back = wire.load(tmp_path / "o.npz")
    assert type(back["t"]) is tuple and type(back["t"][1]) is list, "tuple/list kinds were lost"
    assert back["a"].dtype == np.int32 and back["a"].shape == (2, 3), "array dtype/shape lost"
    assert back["s"] == "é" and back["n"] == 3 and np.isnan(back["nan"]), "scalars changed"
    assert type(back["np_scalar"]) is float and back["np_scalar"] == 1.5, "numpy scalar lost"


class _AlwaysEqual:
    def __eq__(self, other):
        return True


@pytest.mark.parametrize(
    "bad",
    [
        _AlwaysEqual(),
        np.array([object()], dtype=object),
        {1: "int key"},
        np.array(["text"]),
        [lambda: 0],
        np.ones(3).view(np.recarray),
        1 + 2j,
    ],
    ids=["object", "object-array", "int-key", "str-array", "function", "subclass", "complex"],
)
def test_wire_refuses_what_is_not_plain_data(bad, tmp_path):
    with pytest.raises(wire.WireError):
        wire.dump({"x": bad}, tmp_path / "bad.npz")


def test_wire_load_refuses_pickles_objects_garbage_and_floods(tmp_path):
    pickled = tmp_path / "pickled.npz"
    with open(pickled, "wb") as f:  # what a hostile child could write: an object array
        np.savez(
            f,
            structure=np.frombuffer(b'{"array": "a0"}', np.uint8),
            a0=np.array([object()], dtype=object),
        )
    with pytest.raises(wire.WireError):
        wire.load(pickled)
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"\x80\x04not a zip")
    with pytest.raises(wire.WireError, match="not a dump"):
        wire.load(garbage)
    big = tmp_path / "big.npz"
    wire.dump({"x": np.zeros(1000)}, big)
    with pytest.raises(wire.WireError, match="limit"):
        wire.load(big, max_bytes=4000)
    bomb = tmp_path / "bomb.npz"  # tiny on disk, large when inflated
    with open(bomb, "wb") as f:
        np.savez_compressed(f, structure=np.frombuffer(b"null", np.uint8), a0=np.zeros(10**6))
    assert bomb.stat().st_size < 100_000
    with pytest.raises(wire.WireError, match="limit"):
        wire.load(bomb, max_bytes=10**6)


@pytest.mark.parametrize(
    "structure",
    [
        b'{"array": "a9"}',
        b'{"eval": "1"}',
        b'{"dict": [[1, 2]]}',
        b"not json",
        b'{"list": 3}',
    ],
)
def test_wire_load_refuses_malformed_structures(structure: bytes, tmp_path):
    path = tmp_path / "s.npz"
    with open(path, "wb") as f:
        np.savez(f, structure=np.frombuffer(structure, np.uint8), a0=np.zeros(2))
    with pytest.raises(wire.WireError):
        wire.load(path)


def test_wire_dump_writes_exactly_the_named_file(tmp_path):
    wire.dump([1], tmp_path / "out.bin")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.bin"], "dump wrote other files"
    assert zipfile.is_zipfile(tmp_path / "out.bin"), "the dump is not a zip of .npy members"
    with zipfile.ZipFile(tmp_path / "out.bin") as zf:
        text = np.load(zf.open("structure.npy")).tobytes()
    assert json.loads(text) == {"list": [1]}, "unexpected structure encoding"


# --- hostile and broken return values ----------------------------------------------------------


_Triple = collections.namedtuple("_Triple", "a_next yt_pred cache")


class _Dict(dict):
    def __getitem__(self, key):  # a subclass's own methods are never what the grader reads
        raise KeyError(key)


class _List(list):
    pass


class _Sneaky(np.ndarray):
    def __eq__(self, other):
        return np.ones(np.shape(other), dtype=bool)


@pytest.mark.parametrize(
    "make",
    [
        lambda r: _AlwaysEqual(),
        lambda r: (_AlwaysEqual(), _AlwaysEqual(), []),
        lambda r: ((r[0] + 1).view(_Sneaky), r[1], r[2]),  # wrong values, an __eq__ that lies
        lambda r: (np.asmatrix(r[0] + 1), r[1], r[2]),
        lambda r: (r[0].astype(object), r[1], r[2]),
        lambda r: (r[0], r[1]),
        lambda r: [r[0].tolist(), "yt_pred", r[2]],
        lambda r: (r[0] + 0j, r[1], r[2]),
        lambda r: None,
    ],
    ids=[
        "always-equal",
        "always-equal-items",
        "ndarray-subclass",
        "matrix",
        "object-dtype",
        "short-tuple",
        "string",
        "complex",
        "none",
    ],
)
def test_hostile_or_wrong_results_never_pass(make):
    v = verdict("rnn_cell_forward", returning("rnn_cell_forward", lambda r, *a, **k: make(r)))
    assert not v.passed, "a hostile result passed"
    assert v.message, "no feedback message"


SUBCLASSED = [  # a right answer held by a subclass of the type the exercise returns
    ("namedtuple", "rnn_cell_forward", lambda r: _Triple(*r)),
    ("matrix", "rnn_cell_forward", lambda r: (np.asmatrix(r[0]), r[1], r[2])),
    ("ndarray-subclass", "rnn_cell_forward", lambda r: (r[0].view(_Sneaky), r[1], r[2])),
    ("OrderedDict", "rnn_cell_backward", lambda r: collections.OrderedDict(r)),
    ("dict-subclass", "rnn_cell_backward", lambda r: _Dict(r)),
    ("list-subclass", "sample", lambda r: _List(r)),
]


@pytest.mark.parametrize("name, make", [s[1:] for s in SUBCLASSED], ids=[s[0] for s in SUBCLASSED])
def test_a_right_answer_in_a_subclass_of_its_type_passes(name, make):
    v = verdict(name, returning(name, lambda r, *a, **k: make(r)))
    assert v.passed, f"a right answer as a subclass of its type failed: {v.message}"


def test_always_equal_object_message_names_the_type():
    v = verdict("softmax", lambda z: _AlwaysEqual())
    assert not v.passed and "_AlwaysEqual" in v.message, v.message


def test_forged_outputs_from_an_untrusted_process_do_not_pass():
    case = checks.make_cases("softmax", np.random.default_rng(0))[0]
    good = checks.call("softmax", rnnlib.softmax, case)
    for forged in (
        {},
        {"softmax": good["softmax"].astype(np.float32)},
        {"softmax": good["softmax"].tolist()},
        "ok",
        None,
        [good],
        {"softmax": good["softmax"][:, :1]},
    ):
        assert not checks.compare("softmax", case, forged).passed, f"forged {forged!r:.60} passed"


def test_transposed_output_names_the_swapped_axes():
    v = verdict(
        "rnn_cell_forward", returning("rnn_cell_forward", lambda r, *a, **k: (r[0].T, r[1], r[2]))
    )
    assert not v.passed and "a_next has shape" in v.message and "axes swapped" in v.message, (
        v.message
    )
    assert "expected (n_a, m) = " in v.message, v.message


def test_wrong_length_names_the_axis():
    v = verdict("backprop_norms", returning("backprop_norms", lambda r, *a, **k: r[:-1]))
    assert not v.passed and "should be T_x" in v.message, v.message


def test_nan_outputs_fail_with_a_message():
    v = verdict(
        "stack_inputs",
        lambda a_prev, xt: np.full((a_prev.shape[0] + xt.shape[0], a_prev.shape[1]), np.nan),
    )
    assert not v.passed and "NaN" in v.message, v.message


def test_an_exception_becomes_feedback_and_is_chained_in_the_kernel():
    def broken(z):
        raise ZeroDivisionError("oops")

    v = verdict("softmax", broken)
    assert not v.passed and "softmax raised ZeroDivisionError: oops" in v.message, v.message
    with pytest.raises(AssertionError) as info:
        checks.run_hidden_checks("softmax", broken, seed=0)
    assert isinstance(info.value.__cause__, ZeroDivisionError), "the student's traceback is lost"


def test_hardcoded_answers_fail_the_randomised_cases():
    case = checks.make_cases("softmax", np.random.default_rng(0))[0]
    remembered = rnnlib.softmax(case["args"][0])
    v = verdict("softmax", lambda z: remembered, seed=1)
    assert not v.passed, "a hard-coded answer passed fresh cases"


def test_changing_an_input_in_place_is_reported():
    def in_place(parameters, gradients, learning_rate):
        for k in parameters:
            parameters[k] -= learning_rate * gradients["d" + k]
        return parameters

    v = verdict("sgd_step", in_place)
    assert not v.passed and "changed its argument parameters in place" in v.message, v.message


def test_a_small_but_real_error_fails():
    """1e-5 relative is far above float64 rounding: the tolerance (1e-6) must catch it."""

    def off(result, *args, **kwargs):
        loss, gradients, a_last = result
        return loss, {**gradients, "dWaa": gradients["dWaa"] * (1 + 1e-5)}, a_last

    v = verdict("bptt", returning("bptt", off))
    assert not v.passed and "dWaa has wrong values" in v.message, v.message


def test_rounding_differences_pass():
    def nudged(result, *args, **kwargs):
        loss, gradients, a_last = result
        return loss * (1 + 1e-12), {k: g * (1 - 1e-12) for k, g in gradients.items()}, a_last

    v = verdict("bptt", returning("bptt", nudged))
    assert v.passed, f"a 1e-12 relative difference failed: {v.message}"


def test_the_engine_bptt_passes_the_one_hot_cases():
    """rnnlib.engine.bptt (the fast path: another summation order) passes bptt's one-hot cases."""
    cases = list(checks.make_cases("bptt", np.random.default_rng(0)))
    for case in cases:
        v = checks.compare("bptt", case, checks.call("bptt", engine_bptt, case))
        assert v.passed, f"engine.bptt fails {case['label']}: {v.message}"


def test_case_is_not_changed_by_the_call():
    case = checks.make_cases("sgd_step", np.random.default_rng(0))[0]
    before = copy.deepcopy(case)

    def vandal(parameters, gradients, learning_rate):
        for v in parameters.values():
            v[...] = 0
        return parameters

    checks.call("sgd_step", vandal, case)
    assert _equal(case, before), "the student's function changed the case the parent compares with"


def test_messages_start_with_the_case_and_do_not_print_values():
    v = verdict("rnn_forward", returning("rnn_forward", lambda r, *a, **k: (r[0] * 2, r[1], r[2])))
    assert v.message.startswith("rnn_forward, hidden test with n_x="), v.message
    assert "[[" not in v.message, f"the message prints arrays: {v.message}"


# --- diagnosis: a mistake written another way is named ----------------------------------------


def _forward_with(**changes):
    """rnn_forward written out, with a mistake: changes may replace pre / g1 / g2 / store."""
    from rnnlib.forward import ACTIVATIONS

    def rnn_forward(x, a0, parameters, hidden_activation="tanh", output_activation="softmax"):
        p = parameters
        g1 = changes.get("g1", ACTIVATIONS[hidden_activation])
        g2 = changes.get("g2", ACTIVATIONS[output_activation])
        a, ys, caches, a_prev = [], [], [], a0
        for t in range(x.shape[2]):
            z = changes.get("pre", lambda p, a, xt: p["Waa"] @ a + p["Wax"] @ xt + p["ba"])(
                p, a_prev, x[:, :, t]
            )
            a_next = g1(z)
            ys.append(g2(p["Wya"] @ a_next + p["by"]))
            a.append(changes.get("store", lambda a_prev, a_next: a_next)(a_prev, a_next))
            caches.append(None)
            a_prev = a0 if changes.get("reset") else a_next
        return np.stack(a, axis=2), np.stack(ys, axis=2), caches

    return rnn_forward


def _softmax_all(z):
    e = np.exp(z - z.max())
    return e / e.sum()


def _norms_after_each_step(da_next, caches, transposed=True):
    """backprop_norms recording each norm after the step back (or with Waa, not Waaᵀ)."""
    from rnnlib.forward import activation_derivative

    norms, delta = [], da_next
    for a_next, _, _, p, g1 in reversed(caches):
        dz = delta * activation_derivative(g1, a_next)
        delta = (p["Waa"].T if transposed else p["Waa"]) @ dz
        norms.append(np.linalg.norm(delta))
    return np.array(norms if transposed else [np.linalg.norm(da_next), *norms[:-1]])


DIAGNOSES = [
    (
        "rnn_forward",
        _forward_with(pre=lambda p, a, x: p["Waa"].T @ a + p["Wax"] @ x + p["ba"]),
        "waa_transposed",
    ),
    (
        "rnn_forward",
        _forward_with(pre=lambda p, a, x: p["Waa"] @ a + p["Wax"] @ x),
        "ba_missing",
    ),
    ("rnn_forward", _forward_with(g1=rnnlib.relu), "relu_for_tanh"),
    ("rnn_forward", _forward_with(g2=rnnlib.sigmoid), "sigmoid_for_softmax"),
    ("rnn_forward", _forward_with(g2=_softmax_all), "softmax_all_entries"),
    ("rnn_forward", _forward_with(reset=True), "state_not_carried"),
    (
        "rnn_cell_forward",
        returning(
            "rnn_cell_forward",
            lambda r, xt, a_prev, p, *a, **k: (r[0], p["Wya"] @ r[0] + p["by"], r[2]),
        ),
        "no_output_activation",
    ),
    (
        "split_weights",
        returning("split_weights", lambda r, *a, **k: r[::-1]),
        "split_swapped",
    ),
    ("split_weights", lambda Wa, n_a: (Wa[:, : n_a + 1], Wa[:, n_a + 1 :]), "split_off_by_one"),
    (
        "softmax",
        lambda z: rnnlib.softmax(z.T).T if z.ndim == 2 else rnnlib.softmax(z),
        "softmax_wrong_axis",
    ),
    ("softmax", rnnlib.sigmoid, "sigmoid_for_softmax"),
    ("cross_entropy", returning("cross_entropy", lambda r, *a, **k: -r), "loss_sign"),
    (
        "cross_entropy",
        lambda y_pred, y: (
            float(-np.sum(y * np.log(y_pred)) / y_pred.shape[1])
            if y.dtype.kind == "f"
            else rnnlib.cross_entropy(y_pred, y)
        ),
        "bce_missing_term",
    ),
    (
        "cross_entropy",
        lambda y_pred, y: (
            float(-np.log(y_pred).sum() / y_pred.shape[1])
            if y.dtype.kind in "iu"
            else rnnlib.cross_entropy(y_pred, y)
        ),
        "loss_all_classes",
    ),
    (
        "rnn_cell_backward",
        returning(
            "rnn_cell_backward",
            lambda r, *a, **k: {
                **r,
                "dba": r["dba"] * 0
                + (a[0] * (1 - a[1][0] ** 2) if a[1][4] == "tanh" else a[0] * (a[1][0] > 0)),
            },
        ),
        "dba_not_summed",
    ),
    (
        "rnn_cell_backward",
        returning(
            "rnn_cell_backward",
            lambda r, da, cache: {
                **r,
                "da_prev": cache[3]["Waa"]
                @ (da * (1 - cache[0] ** 2 if cache[4] == "tanh" else cache[0] > 0)),
            },
        ),
        "waa_not_transposed",
    ),
    ("rnn_backward", lambda da, caches: rnnlib.rnn_backward(da, caches[::-1]), "time_index"),
    (
        "rnn_backward",
        lambda da, caches: rnnlib.rnn_backward(da, caches[-1:] + caches[:-1]),
        "time_index",
    ),
    (
        "numerical_gradient",
        lambda f, theta, epsilon=1e-5, entries=None: (
            2 * rnnlib.numerical_gradient(f, theta, epsilon, entries)
        ),
        "wrong_divisor",
    ),
    (
        "bptt",
        returning("bptt", lambda r, x, *a, **k: (r[0] / x.shape[-1], r[1], r[2])),
        "loss_mean_over_time",
    ),
    (
        "bptt",
        lambda x, y, a0, p, truncate=None, **k: rnnlib.bptt(x, y, a0, p, None, **k),
        "truncate_ignored",
    ),
    (
        "bptt",
        lambda x, y, a0, p, truncate=None, **k: rnnlib.bptt(
            x, y, a0, p, None if truncate is None else truncate + 1, **k
        ),
        "truncate_off_by_one",
    ),
    (
        "bptt",
        lambda x, y, a0, p, truncate=None, **k: rnnlib.bptt(x, y, a0, p, 0, **k),
        "not_carried",
    ),
    (
        "bptt",
        returning("bptt", lambda r, *a, **k: (r[0], rnnlib.clip_by_value(r[1], 0.05), r[2])),
        "gradients_clipped",
    ),
    (
        "bptt",
        returning(
            "bptt",
            lambda r, x, y, a0, *a, **k: (
                r[0],
                {key: g * a0.shape[1] for key, g in r[1].items()},
                r[2],
            ),
        ),
        "gradients_missing_1_over_m",
    ),
    (
        "sgd_step",
        lambda p, g, lr: {k: p[k] - g["d" + k] for k in p},
        "sgd_no_learning_rate",
    ),
    ("clip_by_global_norm", lambda g, c: rnnlib.clip_by_value(g, c), "clip_by_value"),
    (
        "clip_by_global_norm",
        lambda g, c: {
            k: v * c / np.sqrt(sum(np.sum(g[q] ** 2) for q in checks.GRADS))
            if k in checks.GRADS
            else v
            for k, v in g.items()
        },
        "clip_always_scales",
    ),
    (
        "sample",
        lambda p, s, n, temperature=1.0, **k: rnnlib.sample(p, s, n, 1 / temperature, **k),
        "temperature_multiplied",
    ),
    (
        "sample",
        lambda p, s, n, temperature=1.0, **k: rnnlib.sample(p, s, n, 1e-9, **k),
        "argmax_not_sampled",
    ),
    ("sample", lambda p, s, n, **k: [s, *rnnlib.sample(p, s, n, **k)][:n], "start_included"),
    ("backprop_norms", lambda da, caches: _norms_after_each_step(da, caches), "norms_off_by_one"),
    (
        "backprop_norms",
        lambda da, caches: _norms_after_each_step(da, caches, transposed=False),
        "waa_not_transposed",
    ),
]


@pytest.mark.parametrize(
    "name, fn, key", DIAGNOSES, ids=[f"{n}-{k}-{i}" for i, (n, _, k) in enumerate(DIAGNOSES)]
)
def test_a_mistake_written_another_way_is_named(name: str, fn, key: str):
    """The same typical mistakes as graders/lessons/ registers, written as a student might (on top
    of rnnlib's answer, or a loop of their own): the feedback names the registered mistake."""
    keys = {m.key for m in checks.EXERCISES[name].mistakes}
    assert key in keys, f"{key!r} is not a registered mistake of {name}: {sorted(keys)}"
    v = verdict(name, fn)
    assert not v.passed, f"a wrong {name} passed"
    assert v.mistake == key, (
        f"expected the feedback to name {key!r}, got {v.mistake!r}: {v.message}"
    )


def test_an_unanswered_exercise_is_called_unwritten_not_an_empty_error():
    rng = np.random.default_rng(0)
    case = checks.make_cases("softmax", rng)[0]

    def softmax(z):
        raise NotImplementedError()

    message = checks.call("softmax", softmax, case)["__error__"]
    assert message == "softmax is not written yet (it raised NotImplementedError)", message


EXACT = [name for name in NAMES if checks.EXERCISES[name].exact]


def _noisy(name: str, relative: float, seed: int = 0) -> list[checks.Verdict]:
    """The reference's outputs on each hidden case, every float entry moved by about
    ``relative`` times its output's largest entry (centred differences come to ~1e-10)."""
    from graders.lessons.base import run

    rng = np.random.default_rng(seed)
    verdicts = []
    for case in checks.make_cases(name, np.random.default_rng(seed)):
        outputs = run(name, reference(name), case)
        for key, value in outputs.items():
            if value.dtype.kind == "f" and value.size:
                scale = max(float(np.max(np.abs(value))), 1e-3)
                noise = relative * scale * rng.standard_normal(value.shape)
                outputs[key] = np.array(value + noise, dtype=value.dtype)
        verdicts.append(checks.compare(name, case, outputs))
    return verdicts


def test_every_exercise_that_computes_gradients_is_graded_as_exact():
    """Every backward pass; not the finite differences themselves, nor clipping given gradients."""
    grads = [n for n in NAMES if any(k.startswith("d") for k in checks.EXERCISES[n].shapes)]
    computed = set(grads) - {"numerical_gradient", "clip_by_global_norm"}
    assert sorted(computed | {"backprop_norms"}) == sorted(EXACT), (
        f"exercises returning gradients {grads}, graded as exact {EXACT}"
    )


@pytest.mark.parametrize("name", EXACT)
def test_gradients_as_close_as_finite_differences_are_named_approximate(name: str):
    failed = [v for v in _noisy(name, 1e-10) if not v.passed]
    assert failed, f"{name}: gradients 1e-10 off the exact ones pass"
    assert all(v.mistake == "approximate_gradient" for v in failed), (
        f"{name}: gradients 1e-10 off are told {[v.message for v in failed]}"
    )
    assert "finite differences" in failed[0].message and re.search(
        r"\de-1[01]", failed[0].message
    ), f"{name}: the message should say how close the gradients came: {failed[0].message}"


@pytest.mark.parametrize("name", EXACT)
def test_gradients_within_float64_rounding_pass(name: str):
    failed = [v.message for v in _noisy(name, 1e-14) if not v.passed]
    assert not failed, f"{name}: gradients 1e-14 off the exact ones fail: {failed}"


@pytest.mark.parametrize("name", [n for n in NAMES if not checks.EXERCISES[n].exact])
def test_other_outputs_keep_the_looser_tolerance(name: str):
    failed = [v.message for v in _noisy(name, 1e-10) if not v.passed]
    assert not failed, f"{name}: outputs 1e-10 off fail: {failed}"
