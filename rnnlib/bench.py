"""Benchmark: rnnlib.bptt against PyTorch, the textbook loop and the machine's floor; the gated
cells' fast paths (rnnlib.lstm_bptt, rnnlib.gru_bptt on token ids) against their textbook loops
and PyTorch.

    python -m rnnlib.bench                 # both workloads, float64 and float32 (a few minutes)
    python -m rnnlib.bench --repeats 15    # more runs per median (default 9)
    python -m rnnlib.bench --threads 1     # one thread each: steadier when the machine is busy
    python -m rnnlib.bench --threads 1 --cpu   # CPU time: steadier still on a busy machine

Each row is the median (and the minimum) wall time of ``--repeats`` calls after one warm-up call,
for the loss and every gradient of one minibatch; the rows take turns, one call each per round,
and the ratios are of medians:

- ``rnnlib.bptt``: on token ids (m, T_x), which it hands to the fast path, rnnlib.engine.bptt;
- ``PyTorch loop``: CPU autograd (2 threads) on the same math, a hand-written loop over t with an
  embedding gather for Wax x<t>; ``PyTorch nn.RNN``: Embedding + nn.RNN + Linear (nn.RNN's input
  weight held at the identity, so the two compute the same function). Both are checked against
  rnnlib.bptt before they are timed; the faster is the baseline. PyTorch is optional
  (``pip install -e ".[bench]"``); without it those rows are skipped;
- ``textbook loop``: ``rnnlib.bptt`` on the dense one-hot x (n_x, m, T_x): the textbook function
  of rnnlib/bptt.py, one step at a time forward and back, as notebook 4 derives it;
- ``floor``: what any implementation must do at these shapes, the output layer's forward product
  O = Wya H, one in-place exp over O, and its two backward products dO Hᵀ (as (H dOᵀ)ᵀ, the
  orientation rnnlib uses) and Wyaᵀ dO.

The gated cells (lessons 7 and 8) have a block each, the same rows for both (GATED_CELLS), the
ratios against the first:

- ``rnnlib LSTM`` / ``rnnlib GRU``: ``rnnlib.lstm_bptt`` / ``rnnlib.gru_bptt`` on token ids,
  which they hand to their fast paths, rnnlib.engine_gated;
- ``LSTM textbook`` / ``GRU textbook``: the same functions on the dense one-hot x (n_x, m, T_x):
  the textbook loops of rnnlib/lstm.py and rnnlib/gru.py on the stacked input, one step at a
  time forward and back;
- ``PyTorch nn.LSTM``: Embedding + nn.LSTM + Linear on the same weights (nn.LSTM's input weight
  held at the identity); for the GRU, ``PyTorch loop``: CPU autograd on a hand-written loop over
  t of the formulation rnnlib/gru.py teaches (reset gate applied to a<t-1> before the product),
  with Γr and Γu in one product and an embedding gather for the input parts. nn.GRU is not used:
  it applies the reset gate after the product, another cell. Each is checked against
  rnnlib.lstm_bptt / rnnlib.gru_bptt before it is timed; without torch they are skipped.

The peak memory is the largest amount numpy allocated during one bptt call (tracemalloc).
This module is not imported by ``import rnnlib``.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import time
import tracemalloc
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

import rnnlib

WORKLOADS = {  # name: (n_x = n_y, n_a, m, T_x)
    "seed": (10_000, 100, 32, 25),
    "char": (65, 128, 32, 50),
}
THREADS = 2  # PyTorch's threads, and numpy's BLAS threads when threadpoolctl is installed


def make_problem(n_x: int, n_a: int, m: int, T_x: int, dtype: Any, seed: int = 0) -> dict:
    """Random parameters (weights of scale 1/√n_a: logits of order 1), token ids x, labels y."""
    rng = np.random.default_rng(seed)
    parameters = {
        "Waa": rng.standard_normal((n_a, n_a)) / np.sqrt(n_a),
        "Wax": rng.standard_normal((n_a, n_x)) * 0.1,
        "Wya": rng.standard_normal((n_x, n_a)) / np.sqrt(n_a),
        "ba": rng.standard_normal((n_a, 1)) * 0.1,
        "by": rng.standard_normal((n_x, 1)) * 0.1,
    }
    return {
        "parameters": {k: v.astype(dtype) for k, v in parameters.items()},
        "x": rng.integers(0, n_x, (m, T_x)),
        "y": rng.integers(0, n_x, (m, T_x)),
        "a0": (rng.standard_normal((n_a, m)) * 0.1).astype(dtype),
        "dtype": np.dtype(dtype),
    }


def call_times(
    calls: dict[str, Callable[[], Any]],
    repeats: int,
    clock: Callable[[], float] = time.perf_counter,
) -> dict[str, list[float]]:
    """The times in seconds of each call, ``repeats`` rounds of them after a warm-up call.

    The calls take turns, one of each per round, so a change in the machine's load during the
    run (other processes, clock speed) falls on every row alike. ``clock`` is wall time, or
    time.process_time for the CPU time of all the process's threads.
    """
    for call in calls.values():
        call()
    times: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(repeats):
        for name, call in calls.items():
            start = clock()
            call()
            times[name].append(clock() - start)
    return times


def peak_memory(fn: Callable[[], Any]) -> int:
    """The peak bytes allocated (numpy arrays included) during one call of fn()."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        fn()
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


def rnnlib_call(problem: dict) -> Callable[[], Any]:
    """rnnlib.bptt on the problem's token ids: loss and every gradient."""
    p = problem
    return lambda: rnnlib.bptt(p["x"], p["y"], p["a0"], p["parameters"])


def one_hot(problem: dict, n_x: int) -> np.ndarray:
    """The problem's token ids as the dense one-hot x (n_x, m, T_x), in its dtype."""
    m, T_x = problem["x"].shape
    x_onehot = np.zeros((n_x, m, T_x), dtype=problem["dtype"])
    np.put_along_axis(x_onehot, problem["x"][None], 1, axis=0)
    return x_onehot


def textbook_call(problem: dict) -> Callable[[], Any]:
    """rnnlib.bptt on the dense one-hot x (n_x, m, T_x): the textbook loop, one step at a time."""
    p = problem
    x_onehot = one_hot(p, p["parameters"]["Wax"].shape[1])
    return lambda: rnnlib.bptt(x_onehot, p["y"], p["a0"], p["parameters"])


def floor_call(problem: dict) -> Callable[[], Any]:
    """The output layer's three products and one exp at the problem's shapes, nothing else."""
    p = problem
    Wya = p["parameters"]["Wya"]
    n_a, m = p["a0"].shape
    rng = np.random.default_rng(1)
    H = np.tanh(rng.standard_normal((n_a, m * p["x"].shape[1]))).astype(p["dtype"])  # (n_a, m T_x)

    def floor() -> None:
        O = Wya @ H  # (n_y, m T_x)
        np.exp(O, out=O)
        H @ O.T  # (O Hᵀ)ᵀ, (n_a, n_y): the orientation rnnlib uses, faster in float64 here
        Wya.T @ O  # (n_a, m T_x)

    return floor


def torch_calls(problem: dict, threads: int = THREADS) -> dict[str, Callable[[], Any]] | None:
    """The two PyTorch versions, each checked against rnnlib.bptt first; None without torch."""
    try:
        import torch
        import torch.nn.functional as F  # noqa: N812 (the usual name)
    except ImportError:
        return None
    torch.set_num_threads(threads)
    p = problem
    tdtype = torch.float64 if p["dtype"] == np.float64 else torch.float32
    P = {k: torch.tensor(v, dtype=tdtype) for k, v in p["parameters"].items()}
    n_y, n_a = P["Wya"].shape
    m, T_x = p["x"].shape
    x = torch.tensor(p["x"])
    y = torch.tensor(p["y"])
    # the loop: row-major (m, n_a) states; Wax x<t> is row x<t> of Waxᵀ, an embedding gather
    WaxT = P["Wax"].T.contiguous().requires_grad_()
    Waa, Wya = P["Waa"].requires_grad_(), P["Wya"].requires_grad_()
    ba, by = P["ba"].reshape(-1).requires_grad_(), P["by"].reshape(-1).requires_grad_()
    a0 = torch.tensor(p["a0"].T.copy(), dtype=tdtype, requires_grad=True)  # (m, n_a)

    def loss_of(logits: Any) -> Any:  # logits (m, T_x, n_y)
        return F.cross_entropy(logits.reshape(-1, n_y), y.reshape(-1), reduction="sum") / m

    def torch_loop() -> tuple:
        z_in = F.embedding(x, WaxT) + ba  # (m, T_x, n_a)
        a, states = a0, []
        for t in range(T_x):
            a = torch.tanh(a @ Waa.T + z_in[:, t])
            states.append(a)
        logits = torch.stack(states, 1) @ Wya.T + by  # (m, T_x, n_y)
        loss = loss_of(logits)
        return (loss, *torch.autograd.grad(loss, [Waa, WaxT, Wya, ba, by, a0]))

    embedding = torch.nn.Embedding(WaxT.shape[0], n_a).to(tdtype)
    rnn = torch.nn.RNN(n_a, n_a, nonlinearity="tanh", batch_first=True).to(tdtype)
    linear = torch.nn.Linear(n_a, n_y).to(tdtype)
    with torch.no_grad():
        embedding.weight.copy_(WaxT)
        rnn.weight_ih_l0.copy_(torch.eye(n_a, dtype=tdtype))
        rnn.weight_hh_l0.copy_(Waa)
        rnn.bias_ih_l0.copy_(ba)
        rnn.bias_hh_l0.zero_()
        linear.weight.copy_(Wya)
        linear.bias.copy_(by)
    rnn.weight_ih_l0.requires_grad_(False)
    rnn.bias_hh_l0.requires_grad_(False)
    h0 = a0.detach().clone()[None].requires_grad_()  # (1, m, n_a)

    def torch_nn() -> tuple:
        out, _ = rnn(embedding(x), h0)  # (m, T_x, n_a)
        loss = loss_of(linear(out))
        wrt = [rnn.weight_hh_l0, embedding.weight, linear.weight, rnn.bias_ih_l0, linear.bias, h0]
        return (loss, *torch.autograd.grad(loss, wrt))

    _check_same_math(problem, {"PyTorch loop": torch_loop, "PyTorch nn.RNN": torch_nn})
    return {"PyTorch loop": torch_loop, "PyTorch nn.RNN": torch_nn}


def _check_same_math(problem: dict, calls: dict[str, Callable[[], tuple]]) -> None:
    """Fail loudly if a PyTorch version does not compute rnnlib.bptt's loss and gradients."""
    loss, grads, _ = rnnlib_call(problem)()
    expected = [
        loss,
        grads["dWaa"],
        grads["dWax"].T,
        grads["dWya"],
        grads["dba"].ravel(),
        grads["dby"].ravel(),
        grads["da0"].T,
    ]
    tol = 1e-8 if problem["dtype"] == np.float64 else 1e-3
    for name, call in calls.items():
        got = call()
        for want, have in zip(expected, got, strict=True):
            err = rnnlib.relative_error(
                np.asarray(want), have.detach().numpy().reshape(np.shape(want))
            )
            if err > tol:
                raise AssertionError(f"{name} disagrees with rnnlib.bptt: relative error {err:.1e}")


def _gated_problem(
    problem: dict, gates: str, names: tuple[str, ...], seed: int, bias: dict
) -> dict:
    """The problem's x, y, a0 with a gated cell's weights of the vanilla problem's scales (gates:
    1/√n_a on a<t-1>, 0.1 on x<t>, biases 0.1 plus ``bias[gate]``; Wy = Wya, by)."""
    rng = np.random.default_rng(seed + 7)
    Wya = problem["parameters"]["Wya"]
    n_y, n_a = Wya.shape
    n_x = problem["parameters"]["Wax"].shape[1]
    parameters = {}
    for gate in gates:
        parameters["W" + gate] = np.hstack(
            [rng.standard_normal((n_a, n_a)) / np.sqrt(n_a), rng.standard_normal((n_a, n_x)) * 0.1]
        )
        parameters["b" + gate] = rng.standard_normal((n_a, 1)) * 0.1 + bias.get(gate, 0)
    parameters["Wy"], parameters["by"] = Wya.copy(), problem["parameters"]["by"].copy()
    dtype = problem["dtype"]
    return {**problem, "parameters": {k: parameters[k].astype(dtype) for k in names}}


def make_lstm_problem(problem: dict, seed: int = 0) -> dict:
    """The problem's x, y, a0 with LSTM weights of the same scales, forget bias 1."""
    return _gated_problem(problem, "fico", rnnlib.lstm.LSTM_PARAMETER_NAMES, seed, {"f": 1})


def make_gru_problem(problem: dict, seed: int = 0) -> dict:
    """The problem's x, y, a0 with GRU weights of the same scales."""
    return _gated_problem(problem, "ruc", rnnlib.gru.GRU_PARAMETER_NAMES, seed, {})


def lstm_call(problem: dict) -> Callable[[], Any]:
    """rnnlib.lstm_bptt on the LSTM problem's token ids (the fast path): loss and every gradient."""
    p = problem
    return lambda: rnnlib.lstm_bptt(p["x"], p["y"], p["a0"], p["parameters"])


def gru_call(problem: dict) -> Callable[[], Any]:
    """rnnlib.gru_bptt on the GRU problem's token ids (the fast path): loss and every gradient."""
    p = problem
    return lambda: rnnlib.gru_bptt(p["x"], p["y"], p["a0"], p["parameters"])


def gated_textbook_call(problem: dict, bptt: Callable[..., Any]) -> Callable[[], Any]:
    """``bptt`` (rnnlib.lstm_bptt or rnnlib.gru_bptt) on the dense one-hot x: the textbook loop."""
    p = problem
    x_onehot = one_hot(p, p["parameters"]["Wc"].shape[1] - p["a0"].shape[0])  # Wc: n_a + n_x
    return lambda: bptt(x_onehot, p["y"], p["a0"], p["parameters"])


def _assert_same(name: str, against: str, problem: dict, expected: list, got: tuple) -> None:
    """Fail loudly if a PyTorch version's loss and gradients are not rnnlib's (same order)."""
    tol = 1e-8 if problem["dtype"] == np.float64 else 1e-3
    for want, have in zip(expected, got, strict=True):
        err = rnnlib.relative_error(np.asarray(want), have.detach().numpy().reshape(np.shape(want)))
        if err > tol:
            raise AssertionError(f"{name} disagrees with {against}: relative error {err:.1e}")


def torch_lstm_call(problem: dict, threads: int = THREADS) -> Callable[[], Any] | None:
    """Embedding + nn.LSTM + Linear on the LSTM problem's weights, checked against
    rnnlib.lstm_bptt first; None without torch."""
    try:
        import torch
        import torch.nn.functional as F  # noqa: N812 (the usual name)
    except ImportError:
        return None
    torch.set_num_threads(threads)
    p = problem["parameters"]
    tdtype = torch.float64 if problem["dtype"] == np.float64 else torch.float32
    n_y, n_a = p["Wy"].shape
    n_x = p["Wf"].shape[1] - n_a
    m, T_x = problem["x"].shape
    order = ("i", "f", "c", "o")  # PyTorch's gate order i, f, g, o
    x, y = torch.tensor(problem["x"]), torch.tensor(problem["y"])
    embedding = torch.nn.Embedding(n_x, 4 * n_a).to(tdtype)  # row x<t>: the four gates' W x<t>
    lstm = torch.nn.LSTM(4 * n_a, n_a, batch_first=True).to(tdtype)
    linear = torch.nn.Linear(n_a, n_y).to(tdtype)

    def t(a: np.ndarray) -> Any:
        return torch.tensor(a, dtype=tdtype)

    with torch.no_grad():
        embedding.weight.copy_(t(np.vstack([p["W" + g][:, n_a:] for g in order]).T))
        lstm.weight_ih_l0.copy_(torch.eye(4 * n_a, dtype=tdtype))
        lstm.weight_hh_l0.copy_(t(np.vstack([p["W" + g][:, :n_a] for g in order])))
        lstm.bias_ih_l0.copy_(t(np.vstack([p["b" + g] for g in order]).ravel()))
        lstm.bias_hh_l0.zero_()
        linear.weight.copy_(t(p["Wy"]))
        linear.bias.copy_(t(p["by"].ravel()))
    lstm.weight_ih_l0.requires_grad_(False)
    lstm.bias_hh_l0.requires_grad_(False)
    h0 = t(problem["a0"].T.copy())[None].requires_grad_()  # (1, m, n_a)
    c0 = torch.zeros_like(h0)

    def torch_nn() -> tuple:
        out, _ = lstm(embedding(x), (h0, c0))  # (m, T_x, n_a)
        logits = linear(out)
        loss = F.cross_entropy(logits.reshape(-1, n_y), y.reshape(-1), reduction="sum") / m
        wrt = [lstm.weight_hh_l0, embedding.weight, lstm.bias_ih_l0, linear.weight, linear.bias]
        return (loss, *torch.autograd.grad(loss, [*wrt, h0]))

    loss, grads, _ = lstm_call(problem)()
    expected = [
        loss,
        np.vstack([grads["dW" + g][:, :n_a] for g in order]),
        np.vstack([grads["dW" + g][:, n_a:] for g in order]).T,
        np.vstack([grads["db" + g] for g in order]).ravel(),
        grads["dWy"],
        grads["dby"].ravel(),
        grads["da0"].T,
    ]
    _assert_same("PyTorch nn.LSTM", "rnnlib.lstm_bptt", problem, expected, torch_nn())
    return torch_nn


def torch_gru_call(problem: dict, threads: int = THREADS) -> Callable[[], Any] | None:
    """CPU autograd on a hand-written loop over t of rnnlib/gru.py's GRU (reset gate before the
    product; nn.GRU computes another cell), on the GRU problem's weights, checked against
    rnnlib.gru_bptt first; None without torch."""
    try:
        import torch
        import torch.nn.functional as F  # noqa: N812 (the usual name)
    except ImportError:
        return None
    torch.set_num_threads(threads)
    p = problem["parameters"]
    tdtype = torch.float64 if problem["dtype"] == np.float64 else torch.float32
    n_y, n_a = p["Wy"].shape
    m, T_x = problem["x"].shape
    x, y = torch.tensor(problem["x"]), torch.tensor(problem["y"])

    def t(a: np.ndarray) -> Any:
        return torch.tensor(a, dtype=tdtype).requires_grad_()

    # row-major (m, n_a) states; the three gates' W x<t> is row x<t> of WxT, an embedding gather
    Wrua = t(np.vstack([p["Wr"][:, :n_a], p["Wu"][:, :n_a]]))  # (2 n_a, n_a): Γr, Γu together
    Wca = t(p["Wc"][:, :n_a])  # (n_a, n_a), on Γr ⊙ a<t-1>
    WxT = t(np.vstack([p["W" + g][:, n_a:] for g in "ruc"]).T.copy())  # (n_x, 3 n_a)
    b = t(np.vstack([p["b" + g] for g in "ruc"]).ravel())
    Wy, by = t(p["Wy"]), t(p["by"].ravel())
    a0 = t(problem["a0"].T.copy())  # (m, n_a)

    def torch_loop() -> tuple:
        z_in = F.embedding(x, WxT) + b  # (m, T_x, 3 n_a)
        a, states = a0, []
        for step in range(T_x):
            z = z_in[:, step]
            ru = torch.sigmoid(a @ Wrua.T + z[:, : 2 * n_a])
            r, u = ru[:, :n_a], ru[:, n_a:]
            candidate = torch.tanh((r * a) @ Wca.T + z[:, 2 * n_a :])
            a = u * candidate + (1 - u) * a
            states.append(a)
        logits = torch.stack(states, 1) @ Wy.T + by  # (m, T_x, n_y)
        loss = F.cross_entropy(logits.reshape(-1, n_y), y.reshape(-1), reduction="sum") / m
        return (loss, *torch.autograd.grad(loss, [Wrua, Wca, WxT, b, Wy, by, a0]))

    loss, grads, _ = gru_call(problem)()
    expected = [
        loss,
        np.vstack([grads["dWr"][:, :n_a], grads["dWu"][:, :n_a]]),
        grads["dWc"][:, :n_a],
        np.vstack([grads["dW" + g][:, n_a:] for g in "ruc"]).T,
        np.vstack([grads["db" + g] for g in "ruc"]).ravel(),
        grads["dWy"],
        grads["dby"].ravel(),
        grads["da0"].T,
    ]
    _assert_same("PyTorch loop (GRU)", "rnnlib.gru_bptt", problem, expected, torch_loop())
    return torch_loop


class GatedCell(NamedTuple):
    """One gated cell's block of rows: its name in them, its problem, its rnnlib and PyTorch calls."""

    name: str  # "LSTM": the rows "rnnlib LSTM", "LSTM textbook"
    make_problem: Callable[[dict], dict]  # the cell's weights on a vanilla problem's x, y, a0
    fast_call: Callable[[dict], Callable[[], Any]]  # rnnlib's function on token ids
    bptt: str  # that function's name in rnnlib, for the textbook row on one-hot x
    torch_name: str
    torch_call: Callable[
        ..., Callable[[], Any] | None
    ]  # checked against rnnlib; None without torch


GATED_CELLS = {  # the key of each cell's entry in the results
    "lstm": GatedCell(
        "LSTM", make_lstm_problem, lstm_call, "lstm_bptt", "PyTorch nn.LSTM", torch_lstm_call
    ),
    "gru": GatedCell("GRU", make_gru_problem, gru_call, "gru_bptt", "PyTorch loop", torch_gru_call),
}


def gated_calls(key: str, problem: dict, threads: int = THREADS) -> dict[str, Callable[[], Any]]:
    """A gated cell's rows on the vanilla ``problem``'s sizes: ``rnnlib CELL`` (the fast path, the
    baseline of the block's ratios), ``CELL textbook`` and, with torch, its PyTorch row."""
    cell = GATED_CELLS[key]
    gated_problem = cell.make_problem(problem)
    calls = {
        f"rnnlib {cell.name}": cell.fast_call(gated_problem),
        f"{cell.name} textbook": gated_textbook_call(gated_problem, getattr(rnnlib, cell.bptt)),
    }
    torch_row = cell.torch_call(gated_problem, threads)
    if torch_row is not None:
        calls[cell.torch_name] = torch_row
    return calls


def machine() -> str:
    """The processor, core count and BLAS kernel, for the table's caption."""
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    blas = ""
    try:
        from threadpoolctl import threadpool_info

        info = [i for i in threadpool_info() if i.get("user_api") == "blas"]
        if info:
            blas = f", {info[0]['internal_api']} {info[0]['version']} {info[0].get('architecture', '')}"
            blas += f" ({info[0]['num_threads']} threads)"
    except ImportError:
        pass
    return f"{cpu}, numpy {np.__version__}{blas}"


def load() -> str:
    """The 1-minute load average, to show whether other work shared the cores during the run."""
    try:
        return f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores"
    except OSError:
        return "load average unknown"


def run(
    repeats: int = 9,
    workloads: tuple[str, ...] = tuple(WORKLOADS),
    dtypes: tuple[str, ...] = ("float64", "float32"),
    threads: int = THREADS,
    cpu: bool = False,
) -> list[dict]:
    """Time every row for every workload and dtype; print the table as it goes; return the rows.

    ``threads`` is PyTorch's thread count and, with threadpoolctl installed, numpy's BLAS's.
    ``cpu`` times CPU seconds (all threads) instead of wall time: steadier when other work shares
    the cores, and the same as wall time for one thread, but threads that spin while they wait
    for work count too.
    """
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # numpy's BLAS keeps its own thread count, shown in the first line
        return _run(repeats, workloads, dtypes, threads, cpu)
    with threadpool_limits(threads, user_api="blas"):
        return _run(repeats, workloads, dtypes, threads, cpu)


def _run(
    repeats: int, workloads: tuple[str, ...], dtypes: tuple[str, ...], threads: int, cpu: bool
) -> list:
    results = []
    torch_missing_said = False
    print(f"machine: {machine()}; PyTorch threads: {threads}; {load()}")
    what = "CPU time (all threads)" if cpu else "wall time"
    print(
        f"medians of {repeats} runs after a warm-up, {what}; ms per minibatch "
        "(the loss and all gradients)\n"
    )
    header = (
        f"{'workload':<9}{'dtype':<9}{'row':<16}{'median ms':>11}{'min ms':>10}"
        f"{'rnnlib / row':>14}{'(of mins)':>11}"
    )
    print(header)
    print("-" * len(header))
    clock = time.process_time if cpu else time.perf_counter
    for workload in workloads:
        n_x, n_a, m, T_x = WORKLOADS[workload]
        for dtype in dtypes:
            problem = make_problem(n_x, n_a, m, T_x, np.dtype(dtype))
            calls = {"rnnlib.bptt": rnnlib_call(problem)}
            torch_rows = torch_calls(problem, threads)
            if torch_rows is None and not torch_missing_said:
                print(
                    "(torch is not installed: the PyTorch rows are skipped; "
                    "pip install -e '.[bench]')"
                )
                torch_missing_said = True
            calls.update(torch_rows or {})
            calls["textbook loop"] = textbook_call(problem)
            calls["floor"] = floor_call(problem)
            rows, mins = _time_rows(workload, dtype, calls, "rnnlib.bptt", repeats, clock)
            peak = peak_memory(rnnlib_call(problem))
            logits = n_x * m * T_x * problem["dtype"].itemsize
            print(
                f"{workload:<9}{dtype:<9}{'peak memory':<16}{peak / 2**20:11.1f} MiB "
                f"(the logits alone: {logits / 2**20:.1f} MiB)"
            )
            gated = {}
            for key in GATED_CELLS:
                calls = gated_calls(key, problem, threads)
                baseline = next(iter(calls))
                seconds, minima = _time_rows(workload, dtype, calls, baseline, repeats, clock)
                gated[key] = {"seconds": seconds, "min": minima}
            results.append(
                {
                    "workload": workload,
                    "dtype": dtype,
                    "seconds": rows,
                    "min": mins,
                    "peak": peak,
                    **gated,
                }
            )
    print(
        f"\n{load()} at the end (well above 0, other work shared the cores: every row is "
        "slowed and scattered, the minima least)"
    )
    _print_goals(results)
    return results


def _time_rows(
    workload: str,
    dtype: str,
    calls: dict[str, Callable[[], Any]],
    baseline: str,
    repeats: int,
    clock: Callable[[], float],
) -> tuple[dict[str, float], dict[str, float]]:
    """Time the calls (call_times), print one line each with the baseline's ratio to it, and
    return the medians and the minima in seconds."""
    times = call_times(calls, repeats, clock)
    rows = {name: statistics.median(t) for name, t in times.items()}
    mins = {name: min(t) for name, t in times.items()}
    for name, seconds in rows.items():
        ratio = ratio_min = ""
        if name != baseline:
            ratio = f"{rows[baseline] / seconds:.2f}"
            ratio_min = f"{mins[baseline] / mins[name]:.2f}"
        print(
            f"{workload:<9}{dtype:<9}{name:<16}{seconds * 1e3:11.2f}"
            f"{mins[name] * 1e3:10.2f}{ratio:>14}{ratio_min:>11}"
        )
    return rows, mins


def _print_goals(results: list[dict]) -> None:
    """The issue's goals, each with its measured ratio of medians (and of minima)."""
    goals = [
        ("seed", "float64", "PyTorch", 0.5),
        ("seed", "float64", "floor", 1.3),
        ("char", "float64", "PyTorch", 1.0),
    ]
    for workload, dtype, against, bound in goals:
        for r in results:
            if r["workload"] != workload or r["dtype"] != dtype:
                continue
            goal = f"goal {workload} {dtype} rnnlib / {against} <= {bound}:"
            ratios = []
            for stat in ("seconds", "min"):  # the baseline is the faster PyTorch row
                rows = r[stat]
                names = [n for n in rows if n.startswith(against)]
                if names:
                    ratios.append(rows["rnnlib.bptt"] / min(rows[n] for n in names))
            if not ratios:
                print(f"{goal} not measured")
                continue
            verdict = "met" if ratios[0] <= bound else "NOT met"
            print(f"{goal} {ratios[0]:.2f} ({verdict}; of minima {ratios[1]:.2f})")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m rnnlib.bench",
        description=__doc__.replace("``", ""),  # the docstring's reST quotes are no help text
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--repeats", type=int, default=9, help="timed runs per median, at least 5 (default 9)"
    )
    parser.add_argument(
        "--workload",
        choices=WORKLOADS,
        action="append",
        help="only this workload (repeatable); default all",
    )
    parser.add_argument(
        "--dtype",
        choices=("float64", "float32"),
        action="append",
        help="only this dtype (repeatable); default both",
    )
    parser.add_argument(
        "--threads",
        type=int,
        default=THREADS,
        help=f"threads for PyTorch and numpy's BLAS (default {THREADS}; 1 is steadier on a busy "
        "machine)",
    )
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="time CPU seconds (all threads) instead of wall time: steadier on a busy machine "
        "(default: wall time)",
    )
    args = parser.parse_args(argv)
    run(
        max(args.repeats, 5),
        tuple(args.workload or WORKLOADS),
        tuple(args.dtype or ("float64", "float32")),
        max(args.threads, 1),
        args.cpu,
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
