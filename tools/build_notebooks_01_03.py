"""Write the first three course notebooks (forward, stacking, loss) from the cells below.

    python tools/build_notebooks_01_03.py            # write the notebooks, fill the answers from rnnlib
    python tools/build_notebooks_01_03.py --execute  # ... and run them to store their outputs

The prose, figures and tests live here; the solution of every exercise does not: each answer cell
is a placeholder with its nbgrader metadata, filled by tools/sync_notebooks.py from the rnnlib
function of the same name (so the notebooks cannot drift from rnnlib). The shared machinery (cells,
ids, writing, the command line) is in tools/notebook_builder.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import notebook_builder  # noqa: E402  (tools/ is not a package)
from notebook_builder import answer, code, import_cell, md, test  # noqa: E402

BUILDER = (
    "tools/build_notebooks_01_03.py"  # named in an import cell if it must list more from rnnlib
)


# ---------------------------------------------------------------------------------------------
# 01-forward/forward.ipynb
# ---------------------------------------------------------------------------------------------

FORWARD = [
    md(r"""
# 1. Forward propagation in a recurrent neural network

A feed-forward network sees one fixed-size input and forgets it. Text, speech, prices and DNA
arrive as **sequences** whose length varies and whose meaning depends on order: the next letter
of `"hell"` depends on every letter before it. A recurrent neural network (RNN) reads a sequence
one step at a time and carries a **hidden state** from each step to the next: a running summary of
everything it has read so far. At every step it uses *the same* weights.

**After this notebook you will be able to**

- compute one step of an RNN, $a^{\langle 1 \rangle}$ from $a^{\langle 0 \rangle} = 0$ and
  $x^{\langle 1 \rangle}$, by hand and in numpy;
- unroll the network over a whole sequence, for a minibatch of sequences at once;
- choose the activations $g_1$ (tanh or ReLU) and $g_2$ (softmax or sigmoid) and say why;
- give the shape of every array involved, and find a shape bug from the shapes alone.

**How the exercises work.** Each exercise is a function with its signature and docstring already
written. Replace `raise NotImplementedError()` with your code, run the cell, then run the test cell
below it. A failing test says what to look at. When your work is graded, more (hidden) tests run
on random inputs of other sizes, so do not tailor your code to the visible examples. The finished
code of this notebook lives in the course package, in `rnnlib/forward.py`: look there only after
you have tried.
"""),
    md(r"""
## Notation

| symbol | meaning |
|---|---|
| $x^{\langle t \rangle}$ | the input at time step $t$, e.g. the one-hot vector of the $t$-th character |
| $T_x$ | the number of time steps (the length of the sequence) |
| $a^{\langle t \rangle}$ | the hidden state ("activation") after step $t$; $a^{\langle 0 \rangle}$ is the initial state |
| $\hat y^{\langle t \rangle}$ | the prediction at step $t$, e.g. a probability for every possible next character |
| $n_x, n_a, n_y$ | the sizes of an input, a hidden state and an output |
| $m$ | the number of sequences processed together (the minibatch) |
| $W_{aa}, W_{ax}, W_{ya}, b_a, b_y$ | the parameters: the same at every time step |

The angle brackets $\langle t \rangle$ index time; later a subscript $j$ will index the examples of
a minibatch. Run the next cell to import what this notebook uses.
"""),
    import_cell(
        r"""
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from rnnlib.forward import ACTIVATIONS

np.set_printoptions(precision=4, suppress=True)
""",
        ["rnn_cell_forward", "rnn_forward"],
        BUILDER,
    ),
    md(r"""
## 1. One step, by hand

One step of the RNN takes the previous hidden state and the current input, and produces the new
hidden state and a prediction:

$$a^{\langle t \rangle} = g_1\left(W_{aa}\, a^{\langle t-1 \rangle} + W_{ax}\, x^{\langle t \rangle} + b_a\right)$$

$$\hat y^{\langle t \rangle} = g_2\left(W_{ya}\, a^{\langle t \rangle} + b_y\right)$$

Read the first line term by term: $W_{aa}\, a^{\langle t-1 \rangle}$ is what the network
*remembers*, $W_{ax}\, x^{\langle t \rangle}$ is what it *sees* now, $b_a$ is a bias, and the
non-linearity $g_1$ (usually $\tanh$) mixes them into the new state. The second line reads a
prediction off the new state.

The picture below shows one step as a computation: the previous state enters from the left, the
input from below, and the new state leaves to the right, towards the next step, while the
prediction leaves at the top. (The next cell only draws the picture; its code is hidden, and you
can skip it.)
"""),
    code(
        r"""
from matplotlib.patches import FancyBboxPatch


def draw_cell():
    # One step as a computation graph: what goes in, what is computed in order, what comes out.
    fig, ax = plt.subplots(figsize=(10, 4.2))
    ax.add_patch(FancyBboxPatch((1.3, -0.35), 7.0, 3.9, boxstyle="round,pad=0.15",
                                fc="whitesmoke", ec="gray", ls="--", lw=1.2))
    ax.text(1.45, 3.3, "one RNN cell", color="gray", fontsize=10, va="top")
    style = {"boxstyle": "round,pad=0.4", "fc": "white", "lw": 1.5}

    def node(x, y, text, ec="black", size=13):
        ax.text(x, y, text, ha="center", va="center", fontsize=size, bbox={**style, "ec": ec})

    def arrow(x0, y0, x1, y1, label="", colour="black", dx=0.0, dy=0.0, shrink=(18, 18)):
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0), arrowprops={
            "arrowstyle": "-|>", "color": colour, "lw": 2, "shrinkA": shrink[0], "shrinkB": shrink[1]})
        if label:
            ax.text((x0 + x1) / 2 + dx, (y0 + y1) / 2 + dy, label, color=colour, fontsize=12,
                    ha="center", va="center")

    node(0, 0.6, r"$a^{\langle t-1 \rangle}$")
    node(3.3, -1.4, r"$x^{\langle t \rangle}$", "gray")
    node(3.3, 0.6, r"$z = W_{aa}\,a^{\langle t-1 \rangle} + W_{ax}\,x^{\langle t \rangle} + b_a$", size=11)
    node(6.3, 0.6, r"$g_1(z)$")
    node(9.6, 0.6, r"$a^{\langle t \rangle}$")
    node(7.4, 2.5, r"$g_2(W_{ya}\,a^{\langle t \rangle} + b_y)$", size=11)
    node(7.4, 4.4, r"$\hat y^{\langle t \rangle}$", "gray")
    arrow(0, 0.6, 1.55, 0.6, r"$W_{aa}$", "tab:orange", dy=0.3, shrink=(20, 2))
    arrow(3.3, -1.4, 3.3, 0.35, r"$W_{ax}$", "tab:green", dx=0.45, dy=-0.35, shrink=(14, 2))
    arrow(5.05, 0.6, 6.3, 0.6, shrink=(2, 24))
    arrow(6.3, 0.6, 9.6, 0.6, shrink=(24, 16))
    arrow(7.4, 0.6, 7.4, 2.5, r"$W_{ya}$", "tab:blue", dx=0.4, shrink=(0, 12))
    arrow(7.4, 2.5, 7.4, 4.4, shrink=(12, 16))
    ax.text(9.6, 0.1, "to step $t+1$", ha="center", va="top", fontsize=10, color="gray")
    ax.text(0, 0.1, "from step $t-1$", ha="center", va="top", fontsize=10, color="gray")
    ax.set_xlim(-0.8, 10.4)
    ax.set_ylim(-1.9, 4.8)
    ax.axis("off")
    ax.set_title("One step of the RNN")
    plt.show()


draw_cell()
""",
        collapsed=True,
    ),
    md(r"""
At the very first step there is nothing to remember yet: we start from $a^{\langle 0 \rangle} = 0$,
so $W_{aa}\, a^{\langle 0 \rangle} = 0$ and

$$a^{\langle 1 \rangle} = \tanh\left(W_{ax}\, x^{\langle 1 \rangle} + b_a\right).$$

Let us do it with numbers small enough to check on paper: a vocabulary of three characters
`h`, `i`, `!` ($n_x = 3$), a hidden state of two numbers ($n_a = 2$), and a prediction of the next
character ($n_y = 3$). The input is the one-hot vector of a character: a 1 in its row, 0 elsewhere.
"""),
    code(r"""
vocab = ["h", "i", "!"]
Wax = np.array([[0.5, -1.0, 0.2],
                [1.0, 0.3, -0.4]])         # (n_a, n_x) = (2, 3): one column per character
Waa = np.array([[0.5, -0.4],
                [0.3, 0.2]])               # (n_a, n_a)
ba = np.array([[0.1], [-0.2]])             # (n_a, 1)
Wya = np.array([[1.0, -1.0],
                [0.5, 0.5],
                [-1.0, 2.0]])              # (n_y, n_a)
by = np.zeros((3, 1))                      # (n_y, 1)

x1 = np.array([[1.0], [0.0], [0.0]])       # one-hot "h", (n_x, 1)
a0 = np.zeros((2, 1))                      # a<0> = 0

z1 = Waa @ a0 + Wax @ x1 + ba              # the pre-activation, (n_a, 1)
a1 = np.tanh(z1)
o1 = Wya @ a1 + by                         # the output scores ("logits"), (n_y, 1)
y1 = np.exp(o1) / np.exp(o1).sum()         # softmax: probabilities of the next character

print("Wax @ x1 =", (Wax @ x1).ravel(), " <- the column of Wax that belongs to 'h'")
print("z1       =", z1.ravel())
print("a1       =", a1.ravel())
print("y1       =", y1.ravel(), " for", vocab, " sums to", round(float(y1.sum()), 12))
"""),
    md(r"""
Two things to notice.

- **A one-hot input selects a column.** $W_{ax}\, x^{\langle 1 \rangle}$ is just the column of
  $W_{ax}$ that belongs to `h`: the product with all those zeros does no useful work. Notebook 2
  measures what that costs at realistic sizes.
- **The prediction is a probability distribution.** The softmax turns the three scores into three
  positive numbers that sum to 1: the network's belief about the next character.

Now the second step, reading `i`. This time $a^{\langle 1 \rangle} \ne 0$, so $W_{aa}\,
a^{\langle 1 \rangle}$ contributes: the state after `i` depends on the `h` that came before it.
Compare it with the state the network would have after reading `i` with nothing before it.
"""),
    code(r"""
x2 = np.array([[0.0], [1.0], [0.0]])       # one-hot "i"
a2 = np.tanh(Waa @ a1 + Wax @ x2 + ba)     # after "h", "i"
a2_alone = np.tanh(Wax @ x2 + ba)          # after "i" with nothing before it
print("a<2> after 'h','i':   ", a2.ravel())
print("a<1> after 'i' alone: ", a2_alone.ravel())
"""),
    md(r"""
The difference between those two vectors is the network's memory of the `h`.

## 2. The activations $g_1$ and $g_2$

| | function | range | used for |
|---|---|---|---|
| $g_1 = \tanh$ | $\tanh(z) = \dfrac{e^{z} - e^{-z}}{e^{z} + e^{-z}}$ | $(-1, 1)$ | the hidden state (the default): bounded, zero-centred, so the state cannot blow up |
| $g_1 = \mathrm{ReLU}$ | $\max(z, 0)$ | $[0, \infty)$ | the hidden state, sometimes: cheap and does not saturate for $z > 0$, but unbounded; repeated over many steps it can explode (notebook 6) |
| $g_2 = \mathrm{softmax}$ | $\mathrm{softmax}(o)_i = \dfrac{e^{o_i}}{\sum_{k=1}^{n_y} e^{o_k}}$ | $(0, 1)$, sums to 1 | **one** correct class out of $n_y$: the next character or word |
| $g_2 = \sigma$ | $\sigma(o) = \dfrac{1}{1 + e^{-o}}$, per entry | $(0, 1)$ each | **independent** yes/no outputs: "is this step the end of a sentence?", or several labels at once |

The tanh, ReLU and sigmoid act on each number separately. The softmax does not: it acts on a whole
column of $n_y$ scores at once. In this course the columns are the examples, so softmax works
**over axis 0**. (You will write your own softmax in notebook 3; here it is provided.)

All four live in the dictionary `ACTIVATIONS`, so the code can pick one by name:
"""),
    code(r"""
print(sorted(ACTIVATIONS))
z = np.linspace(-4, 4, 201)
fig, ax = plt.subplots(figsize=(6.5, 3.2))
for name in ("tanh", "relu", "sigmoid"):
    _ = ax.plot(z, ACTIVATIONS[name](z), label=name, lw=2)
ax.set(xlabel="$z$", ylabel="$g(z)$", ylim=(-1.3, 2.3), title="Element-wise activations")
ax.axhline(0, color="gray", lw=0.5)
ax.axvline(0, color="gray", lw=0.5)
ax.legend(loc="upper left")
plt.show()
"""),
    md(r"""
## 3. Shapes, and the minibatch

Training on one sequence at a time wastes the machine. Instead we process $m$ sequences side by
side: every vector becomes a matrix with **one column per example**, and the whole minibatch goes
through each matrix product at once. Time is the last axis. These shapes hold everywhere in the
course:

| quantity | symbol | shape |
|---|---|---|
| input at step $t$ | $x^{\langle t \rangle}$ | $(n_x, m)$ |
| all inputs | $x$ | $(n_x, m, T_x)$ |
| hidden state at step $t$ | $a^{\langle t \rangle}$ | $(n_a, m)$ |
| all hidden states | $a$ | $(n_a, m, T_x)$ |
| prediction at step $t$ | $\hat y^{\langle t \rangle}$ | $(n_y, m)$ |
| all predictions | $\hat y$ | $(n_y, m, T_x)$ |
| recurrent weights | $W_{aa}$ | $(n_a, n_a)$ |
| input weights | $W_{ax}$ | $(n_a, n_x)$ |
| output weights | $W_{ya}$ | $(n_y, n_a)$ |
| biases | $b_a$, $b_y$ | $(n_a, 1)$, $(n_y, 1)$ |

A quick check that the products fit: $W_{aa} a^{\langle t-1 \rangle}$ is $(n_a, n_a)(n_a, m)
\to (n_a, m)$ and $W_{ax} x^{\langle t \rangle}$ is $(n_a, n_x)(n_x, m) \to (n_a, m)$. The bias
$b_a$ has one column; numpy **broadcasts** it, adding it to each of the $m$ columns. The parameters
do not depend on $m$ or on $t$: one set of weights serves every example and every step.
"""),
    code(r"""
rng = np.random.default_rng(0)
n_x, n_a, n_y, m = 3, 2, 3, 5
xt = np.eye(n_x)[:, rng.integers(0, n_x, size=m)]   # m one-hot columns, (n_x, m)
a_prev = rng.standard_normal((n_a, m))
z = Waa @ a_prev + Wax @ xt + ba
print("xt", xt.shape, " a_prev", a_prev.shape, " ba", ba.shape, " ->  z", z.shape)

# A classic bug: a bias of shape (n_a,) instead of (n_a, 1) broadcasts along the wrong axis.
try:
    Waa @ a_prev + Wax @ xt + ba.ravel()
except ValueError as err:
    print("bias of shape (n_a,):", err)
"""),
    md(r"""
Worse, when $n_a = m$ that bug raises no error at all: numpy reads the $(n_a,)$ vector as a row,
so example $k$ gets $b_{a,k}$ added to every one of its hidden units, instead of unit $i$ getting
$b_{a,i}$ in every example. Keep biases as columns, $(n_a, 1)$.

## 4. Exercise: one RNN cell

Write `rnn_cell_forward`, one time step for a whole minibatch:

1. take `Waa`, `Wax`, `Wya`, `ba`, `by` out of the `parameters` dictionary;
2. look up $g_1$ and $g_2$ by name in `ACTIVATIONS` (`hidden_activation`, `output_activation`);
3. compute $a^{\langle t \rangle} = g_1(W_{aa} a^{\langle t-1 \rangle} + W_{ax} x^{\langle t \rangle} + b_a)$;
4. compute $\hat y^{\langle t \rangle} = g_2(W_{ya} a^{\langle t \rangle} + b_y)$;
5. return them with `cache = (a_next, a_prev, xt, parameters, hidden_activation)`: the values the
   backward pass of notebook 4 will need.

Use the matrix product `@` (not `*`, which multiplies entry by entry). Write the input term as
`Wax @ xt`: some hidden tests pass `xt` as token ids wrapped in an object that behaves like the
one-hot array under `@` (notebook 2 explains why), and `Wax @ xt` handles both.

<details><summary><b>Hint</b> (click)</summary>

`g1 = ACTIVATIONS[hidden_activation]` gives a function; `g1(z)` applies it. The whole cell is
four or five lines.
</details>
"""),
    answer("rnn_cell_forward"),
    test(
        "rnn_cell_forward",
        2,
        r'''
"""rnn_cell_forward: shapes, the "h" step worked out above, the minibatch, the activations, the cache."""
p_small = {
    "Waa": np.array([[0.5, -0.4], [0.3, 0.2]]),
    "Wax": np.array([[0.5, -1.0, 0.2], [1.0, 0.3, -0.4]]),
    "Wya": np.array([[1.0, -1.0], [0.5, 0.5], [-1.0, 2.0]]),
    "ba": np.array([[0.1], [-0.2]]),
    "by": np.zeros((3, 1)),
}
x_h = np.array([[1.0], [0.0], [0.0]])
a_next_t, yt_pred_t, cache_t = rnn_cell_forward(x_h, np.zeros((2, 1)), p_small)
assert np.shape(a_next_t) == (2, 1), f"a_next has shape {np.shape(a_next_t)}, expected (n_a, m) = (2, 1)"
assert np.shape(yt_pred_t) == (3, 1), f"yt_pred has shape {np.shape(yt_pred_t)}, expected (n_y, m) = (3, 1)"
expected_a1 = np.tanh([[0.6], [0.8]])  # a<0> = 0, so z = (column "h" of Wax) + ba = [0.6, 0.8]
assert np.allclose(a_next_t, expected_a1), (
    f"a_next = {np.ravel(a_next_t)}, expected tanh([0.6, 0.8]) = {expected_a1.ravel()}: "
    "with a_prev = 0, a_next is tanh(Wax @ xt + ba)"
)
o_t = p_small["Wya"] @ expected_a1
assert np.allclose(yt_pred_t, np.exp(o_t) / np.exp(o_t).sum()), (
    "yt_pred should be the softmax of Wya @ a_next + by (use a_next, not a_prev)"
)

# the previous state counts: the "i" step after "h"
a2_t, _, _ = rnn_cell_forward(np.array([[0.0], [1.0], [0.0]]), expected_a1, p_small)
expected_a2 = np.tanh(p_small["Waa"] @ expected_a1 + p_small["Wax"][:, [1]] + p_small["ba"])
assert np.allclose(a2_t, expected_a2), "with a_prev != 0, a_next must include Waa @ a_prev"

# a minibatch of m = 4 columns: each column is computed as if it were alone
rng_t = np.random.default_rng(1)
n_x_t, n_a_t, n_y_t, m_t = 4, 5, 3, 4
p_t = {"Waa": rng_t.standard_normal((n_a_t, n_a_t)), "Wax": rng_t.standard_normal((n_a_t, n_x_t)),
       "Wya": rng_t.standard_normal((n_y_t, n_a_t)), "ba": rng_t.standard_normal((n_a_t, 1)),
       "by": rng_t.standard_normal((n_y_t, 1))}
xt_t = rng_t.standard_normal((n_x_t, m_t))
a_prev_t = rng_t.standard_normal((n_a_t, m_t))
a_next_t, yt_pred_t, cache_t = rnn_cell_forward(xt_t, a_prev_t, p_t)
assert np.shape(a_next_t) == (n_a_t, m_t), f"a_next: shape {np.shape(a_next_t)}, expected (n_a, m) = {(n_a_t, m_t)}"
assert np.shape(yt_pred_t) == (n_y_t, m_t), f"yt_pred: shape {np.shape(yt_pred_t)}, expected (n_y, m) = {(n_y_t, m_t)}"
assert np.allclose(yt_pred_t.sum(axis=0), 1), "each column of yt_pred (one example) should sum to 1"
a_col, y_col, _ = rnn_cell_forward(xt_t[:, [2]], a_prev_t[:, [2]], p_t)
assert np.allclose(a_next_t[:, [2]], a_col) and np.allclose(yt_pred_t[:, [2]], y_col), (
    "column 2 of a minibatch should give the same result as example 2 alone: "
    "are you mixing the examples (axis 1) somewhere?"
)

# the activations are chosen by name
a_relu, y_sig, cache_relu = rnn_cell_forward(5 * xt_t, a_prev_t, p_t, "relu", "sigmoid")
assert np.all(a_relu >= 0) and a_relu.max() > 1, "with hidden_activation='relu', a_next = max(z, 0)"
assert np.all((y_sig > 0) & (y_sig < 1)) and not np.allclose(y_sig.sum(axis=0), 1), (
    "with output_activation='sigmoid', each entry of yt_pred is sigmoid(o), not a softmax"
)

# the cache
assert isinstance(cache_t, tuple) and len(cache_t) == 5, "cache should be (a_next, a_prev, xt, parameters, hidden_activation)"
assert all(np.array_equal(c, v) for c, v in zip(cache_t[:3], (a_next_t, a_prev_t, xt_t))), (
    "cache should start with a_next, a_prev, xt, in that order"
)
assert isinstance(cache_t[3], dict) and all(np.array_equal(cache_t[3][k], p_t[k]) for k in p_t), (
    "the fourth entry of the cache should be the parameters dict"
)
assert cache_relu[4] == "relu", "the last entry of the cache is the name of the hidden activation"
print("rnn_cell_forward: visible tests passed")
''',
    ),
    md(r"""
## 5. Unrolling the network in time

Running the cell $T_x$ times, each step handing its hidden state to the next, is the **unrolled**
network: one copy of the cell per time step, every copy with the same weights. Drawn out, it looks
like a deep feed-forward network laid on its side, except that the layers share their parameters.
The colours below mark the three weight matrices: each is used once per step, and it is the same
matrix every time. (The next cell only draws the picture; its code is hidden, and you can skip it.)
"""),
    code(
        r"""
def draw_unrolled(steps=("1", "2", "3", "T_x")):
    # Boxes for x<t>, a<t>, y<t>, arrows coloured by the weight matrix they apply.
    colours = {"Wax": "tab:green", "Waa": "tab:orange", "Wya": "tab:blue"}
    fig, ax = plt.subplots(figsize=(10, 4.4))
    box = {"boxstyle": "round,pad=0.45", "fc": "white", "lw": 1.5}

    def node(x, y, text, ec):
        ax.text(x, y, text, ha="center", va="center", fontsize=14, bbox={**box, "ec": ec})

    def arrow(x0, y0, x1, y1, colour, label, dx=0.0, dy=0.0):
        ax.annotate("", xy=(x1, y1), xytext=(x0, y0),
                    arrowprops={"arrowstyle": "-|>", "color": colour, "lw": 2, "shrinkA": 16, "shrinkB": 16})
        ax.text((x0 + x1) / 2 + dx, (y0 + y1) / 2 + dy, label, color=colour, fontsize=12,
                ha="center", va="center")

    node(0, 1.5, r"$a^{\langle 0 \rangle}$", "black")
    prev = 0
    for i, t in enumerate(steps):
        x = 2.4 * (i + 1) + (1.4 if t == "T_x" else 0)
        node(x, 0, rf"$x^{{\langle {t} \rangle}}$", "gray")
        node(x, 1.5, rf"$a^{{\langle {t} \rangle}}$", "black")
        node(x, 3, rf"$\hat y^{{\langle {t} \rangle}}$", "gray")
        arrow(x, 0, x, 1.5, colours["Wax"], r"$W_{ax}$", dx=0.42)
        arrow(x, 1.5, x, 3, colours["Wya"], r"$W_{ya}$", dx=0.42)
        if t == "T_x":
            ax.text(prev + 1.5, 1.5, r"$\cdots$", fontsize=18, ha="center", va="center")
            arrow(prev + 1.4, 1.5, x, 1.5, colours["Waa"], r"$W_{aa}$", dy=0.3)
        else:
            arrow(prev, 1.5, x, 1.5, colours["Waa"], r"$W_{aa}$", dy=0.3)
        prev = x
    ax.text(prev + 0.9, 1.5, r"$g_1$: tanh / ReLU", fontsize=10, va="center", color="black")
    ax.text(prev + 0.9, 3, r"$g_2$: softmax / sigmoid", fontsize=10, va="center", color="gray")
    ax.set_xlim(-0.8, prev + 3.2)
    ax.set_ylim(-0.7, 3.7)
    ax.axis("off")
    ax.set_title("The unrolled RNN: the same $W_{ax}$, $W_{aa}$, $W_{ya}$ at every step")
    plt.show()


draw_unrolled()
""",
        collapsed=True,
    ),
    md(r"""
In equations, for $t = 1, \dots, T_x$:

$$a^{\langle t \rangle} = g_1\left(W_{aa}\, a^{\langle t-1 \rangle} + W_{ax}\, x^{\langle t \rangle} + b_a\right), \qquad
\hat y^{\langle t \rangle} = g_2\left(W_{ya}\, a^{\langle t \rangle} + b_y\right).$$

The arrows only go right and up: $a^{\langle t \rangle}$ depends on $x^{\langle 1 \rangle}, \dots,
x^{\langle t \rangle}$ and on nothing later. That is why the loop cannot be parallelised over
time: step $t$ must wait for step $t-1$.

## 6. Exercise: the forward pass over a sequence

Write `rnn_forward`, which runs your `rnn_cell_forward` over all $T_x$ steps:

1. read $n_x, m, T_x$ from `x.shape`, $n_a$ from `a0.shape` and $n_y$ from `parameters["Wya"]`;
2. create `a` of shape $(n_a, m, T_x)$ and `y_pred` of shape $(n_y, m, T_x)$, filled with zeros;
3. start from `a_next = a0`; for each `t`, call `rnn_cell_forward` on `x[:, :, t]` and the current
   state, passing the two activation names on, and store the results in `a[:, :, t]` and
   `y_pred[:, :, t]`;
4. collect the caches in a list, in time order, and return `a, y_pred, caches`.

Index the step as `x[:, :, t]` (the token-id form of the hidden tests supports exactly that).
Note that `a` holds $a^{\langle 1 \rangle}, \dots, a^{\langle T_x \rangle}$: index `t` (from 0) holds
$a^{\langle t+1 \rangle}$, and $a^{\langle 0 \rangle}$ is not in it.
"""),
    answer("rnn_forward"),
    test(
        "rnn_forward",
        3,
        r'''
"""rnn_forward: shapes, the "h", "i" sequence worked out above, a0, caches, and causality."""
p_small = {
    "Waa": np.array([[0.5, -0.4], [0.3, 0.2]]),
    "Wax": np.array([[0.5, -1.0, 0.2], [1.0, 0.3, -0.4]]),
    "Wya": np.array([[1.0, -1.0], [0.5, 0.5], [-1.0, 2.0]]),
    "ba": np.array([[0.1], [-0.2]]),
    "by": np.zeros((3, 1)),
}
expected_a1 = np.tanh([[0.6], [0.8]])  # after "h" (see the test of rnn_cell_forward)
expected_a2 = np.tanh(p_small["Waa"] @ expected_a1 + p_small["Wax"][:, [1]] + p_small["ba"])  # then "i"
x_hi = np.zeros((3, 1, 2))
x_hi[0, 0, 0] = 1.0  # "h" at step 1
x_hi[1, 0, 1] = 1.0  # "i" at step 2
a_t, y_pred_t, caches_t = rnn_forward(x_hi, np.zeros((2, 1)), p_small)
assert np.shape(a_t) == (2, 1, 2), f"a has shape {np.shape(a_t)}, expected (n_a, m, T_x) = (2, 1, 2)"
assert np.shape(y_pred_t) == (3, 1, 2), f"y_pred has shape {np.shape(y_pred_t)}, expected (n_y, m, T_x) = (3, 1, 2)"
assert np.allclose(a_t[:, :, 0], expected_a1), "a[:, :, 0] should be a<1> = tanh(Wax x<1> + ba) when a0 = 0"
assert np.allclose(a_t[:, :, 1], expected_a2), (
    "a[:, :, 1] should be a<2>, computed from a<1> (the state after step 1), not from a0"
)
assert isinstance(caches_t, list) and len(caches_t) == 2, "caches should be a list with one cache per time step"
assert np.allclose(caches_t[1][1], expected_a1), "the cache of step 2 should hold a_prev = a<1>"

# a minibatch over several steps, with a non-zero a0
rng_t = np.random.default_rng(1)
n_x_t, n_a_t, n_y_t, m_t, T_t = 4, 5, 3, 4, 6
p_t = {"Waa": rng_t.standard_normal((n_a_t, n_a_t)), "Wax": rng_t.standard_normal((n_a_t, n_x_t)),
       "Wya": rng_t.standard_normal((n_y_t, n_a_t)), "ba": rng_t.standard_normal((n_a_t, 1)),
       "by": rng_t.standard_normal((n_y_t, 1))}
x_seq = rng_t.standard_normal((n_x_t, m_t, T_t))
a0_t = rng_t.standard_normal((n_a_t, m_t))
a_t, y_pred_t, caches_t = rnn_forward(x_seq, a0_t, p_t)
assert np.shape(a_t) == (n_a_t, m_t, T_t) and np.shape(y_pred_t) == (n_y_t, m_t, T_t), (
    f"a: {np.shape(a_t)}, y_pred: {np.shape(y_pred_t)}; expected {(n_a_t, m_t, T_t)} and {(n_y_t, m_t, T_t)}"
)
assert len(caches_t) == T_t, f"{len(caches_t)} caches for {T_t} time steps"
expected_first = np.tanh(p_t["Waa"] @ a0_t + p_t["Wax"] @ x_seq[:, :, 0] + p_t["ba"])
assert np.allclose(a_t[:, :, 0], expected_first), "step 1 should start from a0 (not from zeros)"
assert np.allclose(y_pred_t.sum(axis=0), 1), "every column of every y_pred[:, :, t] should sum to 1"

# causality: changing x<4> changes a<4>, a<5>, a<6> but not a<1>, a<2>, a<3>
x_changed = x_seq.copy()
x_changed[:, :, 3] += 1.0
a_changed = rnn_forward(x_changed, a0_t, p_t)[0]
assert np.allclose(a_changed[:, :, :3], a_t[:, :, :3]), "the states before step 4 cannot depend on x<4>"
assert not np.allclose(a_changed[:, :, 3:], a_t[:, :, 3:]), "a<4>, ... should depend on x<4>"

# the activation names are passed on to the cell
a_relu = rnn_forward(x_seq, a0_t, p_t, "relu", "sigmoid")[0]
assert np.all(a_relu >= 0), "pass hidden_activation on to rnn_cell_forward"
print("rnn_forward: visible tests passed")
''',
    ),
    md(r"""
## 7. Watching the hidden state

Let us run your `rnn_forward` on a random sequence and look at the hidden state. The left plot
follows three of the six hidden units while the network reads a sequence of 40 random characters:
each unit stays in $(-1, 1)$ (tanh) and jumps as new characters arrive. The right plot asks *how long does the
network remember?* It reads a single character at step 1 and then silence ($x^{\langle t \rangle}
= 0$, $b_a = 0$), and we plot the size $\lVert a^{\langle t \rangle} \rVert$ of the state. We scale
$W_{aa}$ so that its largest eigenvalue (in absolute value, the *spectral radius* $\rho$) is 0.5 or
0.9. The memory fades roughly like $\rho^{\,t}$: a straight line on a log scale. Notebook 6 shows
that the gradients fade the same way, which is why plain RNNs struggle with long-range memory.
"""),
    code(r"""
rng = np.random.default_rng(7)
n_x, n_a, n_y, T_x = 10, 6, 10, 40
params = {
    "Waa": rng.standard_normal((n_a, n_a)) / np.sqrt(n_a),
    "Wax": rng.standard_normal((n_a, n_x)),
    "Wya": rng.standard_normal((n_y, n_a)),
    "ba": np.zeros((n_a, 1)),
    "by": np.zeros((n_y, 1)),
}
tokens = rng.integers(0, n_x, size=T_x)
x = np.zeros((n_x, 1, T_x))
x[tokens, 0, np.arange(T_x)] = 1.0                 # one sequence (m = 1) of one-hot characters
a, y_pred, caches = rnn_forward(x, np.zeros((n_a, 1)), params)

x_impulse = np.zeros((n_x, 1, T_x))
x_impulse[3, 0, 0] = 1.0                           # one character, then nothing
rho = np.max(np.abs(np.linalg.eigvals(params["Waa"])))

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.6))
steps = np.arange(1, T_x + 1)
for i in range(3):
    _ = ax1.plot(steps, a[i, 0, :], "o-", ms=3, lw=1.5, label=f"unit {i}")
ax1.set(xlabel="time step $t$", ylabel=r"$a^{\langle t \rangle}_i$", ylim=(-1.15, 1.45),
        title="Three hidden units on a random sequence")
ax1.legend(fontsize=9, ncol=3, loc="upper center")
for target in (0.5, 0.9):
    scaled = dict(params, Waa=params["Waa"] * target / rho)
    a_imp = rnn_forward(x_impulse, np.zeros((n_a, 1)), scaled)[0]
    _ = ax2.semilogy(steps, np.linalg.norm(a_imp[:, 0, :], axis=0), "o-", ms=3, label=rf"$\rho = {target}$")
ax2.set(xlabel="time step $t$", ylabel=r"$\Vert a^{\langle t \rangle} \Vert$", title="Memory of one input, then silence")
ax2.legend()
fig.tight_layout()
plt.show()
print("shapes: x", x.shape, " a", a.shape, " y_pred", y_pred.shape, " caches", len(caches))
"""),
    md(r"""
## Check yourself

1. With $n_x = n_y = 27$ characters and $n_a = 50$ hidden units, how many numbers are in the
   parameters? Does the count change for longer sequences?
2. You write `Wax @ a_prev` where you meant `Waa @ a_prev`. When does numpy raise an error, and
   when does it silently compute nonsense?
3. Softmax or sigmoid? (a) predicting the next character; (b) at every word of a sentence, "is this
   word part of a person's name?"; (c) at every second of audio, which of 5 instruments are
   playing (several can play at once).

<details><summary><b>Answers</b> (click)</summary>

1. $W_{aa}$: $50 \cdot 50 = 2500$, $W_{ax}$: $50 \cdot 27 = 1350$, $W_{ya}$: $27 \cdot 50 = 1350$,
   $b_a$: 50, $b_y$: 27; in all 5277. The count does not depend on $T_x$: every step uses the
   same parameters.
2. `Wax` is $(n_a, n_x)$ and `a_prev` is $(n_a, m)$: the product fails unless $n_x = n_a$. When the
   sizes happen to be equal it runs and gives wrong numbers, which is why the hidden tests include
   a case with $n_x = n_a$.
3. (a) softmax over the $n_y$ characters: exactly one is next. (b) sigmoid with one output unit
   (or a softmax over two classes). (c) sigmoid with 5 output units: the answers are independent.
</details>

## Summary

- One RNN step: $a^{\langle t \rangle} = g_1(W_{aa} a^{\langle t-1 \rangle} + W_{ax} x^{\langle t
  \rangle} + b_a)$ and $\hat y^{\langle t \rangle} = g_2(W_{ya} a^{\langle t \rangle} + b_y)$; the
  first step starts from $a^{\langle 0 \rangle} = 0$.
- The unrolled network applies **the same** parameters at every step; the hidden state carries
  what the network has read, and its memory fades with time.
- $g_1$ is tanh (bounded, the default) or ReLU; $g_2$ is softmax for one class out of $n_y$, or
  sigmoid for independent yes/no outputs.
- Shapes: columns are examples, time is last: $x$ $(n_x, m, T_x)$, $a$ $(n_a, m, T_x)$, $\hat y$
  $(n_y, m, T_x)$; biases are columns $(n, 1)$ that broadcast over the minibatch.
- A one-hot input multiplies $W_{ax}$ by mostly zeros: it only selects a column.

The finished code is in `rnnlib/forward.py` (`rnn_cell_forward`, `rnn_forward`); the rnnlib
versions also accept token ids instead of one-hot vectors and check their inputs' shapes. **Next**,
notebook 2 stacks $W_{aa}$ and $W_{ax}$ into one matrix and measures what that, and the one-hot
input, really cost.
"""),
]


# ---------------------------------------------------------------------------------------------
# 02-stacking/stacking.ipynb
# ---------------------------------------------------------------------------------------------

STACKING = [
    md(r"""
# 2. Weight-matrix stacking: one product instead of two

In notebook 1 the hidden state came from two matrix products and a sum,
$W_{aa}\, a^{\langle t-1 \rangle} + W_{ax}\, x^{\langle t \rangle}$. Many texts write the same
thing as **one** product with a stacked matrix $W_a = [W_{aa} : W_{ax}]$. This notebook shows why
the two are the same computation, what the stacked form buys, and what it costs when the input is
one-hot, measured.

**After this notebook you will be able to**

- stack $W_{aa}$ and $W_{ax}$ into $W_a$ and split it back, and stack $a^{\langle t-1 \rangle}$ on
  top of $x^{\langle t \rangle}$;
- prove, on paper and numerically, that $W_a [a^{\langle t-1 \rangle}; x^{\langle t \rangle}] =
  W_{aa} a^{\langle t-1 \rangle} + W_{ax} x^{\langle t \rangle}$;
- write the RNN cell in stacked form;
- explain, with timings, why a fast implementation keeps $W_{ax}$ apart and **gathers a column**
  for a one-hot input, and why it computes the output layer for all time steps in one product.

The finished code of this notebook is in `rnnlib/stacking.py`.
"""),
    import_cell(
        r"""
import timeit
from typing import Any

import matplotlib.pyplot as plt
import numpy as np

from rnnlib import rnn_cell_forward
from rnnlib.forward import ACTIVATIONS

np.set_printoptions(precision=4, suppress=True)
""",
        ["stack_weights", "split_weights", "stack_inputs", "rnn_cell_forward_stacked"],
        BUILDER,
    ),
    md(r"""
## 1. Two products are one product of stacked blocks

Put the two weight matrices side by side and the two vectors on top of each other:

$$W_a = \begin{bmatrix} W_{aa} & W_{ax} \end{bmatrix} \in \mathbb{R}^{n_a \times (n_a + n_x)},
\qquad
\begin{bmatrix} a^{\langle t-1 \rangle} \\ x^{\langle t \rangle} \end{bmatrix} \in \mathbb{R}^{(n_a + n_x) \times m}.$$

Row $i$ of $W_a$ times a column of the stacked input is a sum over $n_a + n_x$ terms; the first
$n_a$ of them pair row $i$ of $W_{aa}$ with $a^{\langle t-1 \rangle}$, the remaining $n_x$ pair row
$i$ of $W_{ax}$ with $x^{\langle t \rangle}$:

$$\left(W_a \begin{bmatrix} a^{\langle t-1 \rangle} \\ x^{\langle t \rangle} \end{bmatrix}\right)_i
= \sum_{k=1}^{n_a} (W_{aa})_{ik}\, a^{\langle t-1 \rangle}_k + \sum_{k=1}^{n_x} (W_{ax})_{ik}\, x^{\langle t \rangle}_k
= \left(W_{aa}\, a^{\langle t-1 \rangle} + W_{ax}\, x^{\langle t \rangle}\right)_i .$$

So the cell can be written with a single weight matrix:

$$a^{\langle t \rangle} = g_1\left(W_a \begin{bmatrix} a^{\langle t-1 \rangle} \\ x^{\langle t \rangle} \end{bmatrix} + b_a\right).$$

The sizes that motivate it: a hidden state of $n_a = 100$ and a vocabulary of $n_x = 10\,000$ words.
Then $W_{aa}$ is $100 \times 100$, $W_{ax}$ is $100 \times 10\,000$, and $W_a$ is
$100 \times 10\,100$; the stacked input has $10\,100$ rows. Here is the block structure on a small
example ($n_a = 4$, $n_x = 7$, one example), with the input `x` the one-hot vector of token 5:
"""),
    code(r"""
rng = np.random.default_rng(0)
n_a, n_x = 4, 7
Waa_small = rng.standard_normal((n_a, n_a))
Wax_small = rng.standard_normal((n_a, n_x))
Wa_small = np.concatenate([Waa_small, Wax_small], axis=1)          # (4, 11)
column = np.concatenate([rng.standard_normal((n_a, 1)), np.eye(n_x)[:, [5]]], axis=0)  # (11, 1)

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.6), gridspec_kw={"width_ratios": [11, 2.2]})
limit = np.abs(Wa_small).max()
ax1.imshow(Wa_small, cmap="RdBu_r", vmin=-limit, vmax=limit)
ax1.axvline(n_a - 0.5, color="black", lw=3)
ax1.add_patch(plt.Rectangle((n_a + 5 - 0.5, -0.5), 1, n_a, fill=False, ec="gold", lw=3))
ax1.set_xticks(range(n_a + n_x))
ax1.set_yticks(range(n_a))
ax1.set_title(r"$W_a = [\,W_{aa} : W_{ax}\,]$, shape $(n_a, n_a + n_x)$")
ax1.text((n_a - 1) / 2, n_a + 0.3, r"$W_{aa}$: $n_a$ columns", ha="center", va="top", fontsize=11)
ax1.text(n_a + (n_x - 1) / 2, n_a + 0.3, r"$W_{ax}$: $n_x$ columns", ha="center", va="top", fontsize=11)
ax2.imshow(column, cmap="RdBu_r", vmin=-limit, vmax=limit)
ax2.axhline(n_a - 0.5, color="black", lw=3)
ax2.add_patch(plt.Rectangle((-0.5, n_a + 5 - 0.5), 1, 1, fill=False, ec="gold", lw=3))
ax2.set_xticks([])
ax2.set_yticks(range(n_a + n_x))
ax2.set_title(r"$[a^{\langle t-1 \rangle} ; x^{\langle t \rangle}]$")
ax2.text(0.8, (n_a - 1) / 2, r"$a^{\langle t-1 \rangle}$", va="center", fontsize=11)
ax2.text(0.8, n_a + 3, r"$x^{\langle t \rangle}$ (one-hot)", va="center", fontsize=11)
fig.tight_layout()
plt.show()
"""),
    md(r"""
The thick black line is the boundary between the blocks. The gold boxes show what the one-hot
input does: of the $n_x$ columns of $W_{ax}$, only the one facing the single 1 of
$x^{\langle t \rangle}$ contributes. Section 5 measures what that means at full size.

## 2. Exercises: stacking and splitting

Three small functions. Each is one or two lines of numpy; `np.concatenate` with the right `axis`
does most of the work (axis 1 joins side by side, axis 0 on top of each other).

**`stack_weights(Waa, Wax)`** returns $W_a = [W_{aa} : W_{ax}]$, shape $(n_a, n_a + n_x)$.
"""),
    answer("stack_weights"),
    test(
        "stack_weights",
        1,
        r'''
"""stack_weights: the shape, and which block goes where."""
Waa_t = np.arange(4.0).reshape(2, 2)          # [[0, 1], [2, 3]]
Wax_t = 10 + np.arange(6.0).reshape(2, 3)     # [[10, 11, 12], [13, 14, 15]]
Wa_t = stack_weights(Waa_t, Wax_t)
assert np.shape(Wa_t) == (2, 5), f"Wa has shape {np.shape(Wa_t)}, expected (n_a, n_a + n_x) = (2, 5)"
assert np.array_equal(Wa_t, [[0, 1, 10, 11, 12], [2, 3, 13, 14, 15]]), (
    f"Wa =\n{Wa_t}\nexpected Waa's columns first, then Wax's: [[0, 1, 10, 11, 12], [2, 3, 13, 14, 15]]"
)
assert np.shape(stack_weights(np.ones((3, 3)), np.ones((3, 7)))) == (3, 10), "n_a = 3, n_x = 7 gives (3, 10)"
print("stack_weights: visible tests passed")
''',
    ),
    md(r"""
**`split_weights(Wa, n_a)`** undoes it: the first $n_a$ columns are $W_{aa}$, the rest $W_{ax}$.
Slicing (`Wa[:, :n_a]`) is enough; the results may be views of `Wa`.
"""),
    answer("split_weights"),
    test(
        "split_weights",
        1,
        r'''
"""split_weights: the shapes, the blocks, and that it undoes stack_weights."""
Waa_back, Wax_back = split_weights(np.array([[0.0, 1, 10, 11, 12], [2, 3, 13, 14, 15]]), 2)
assert np.shape(Waa_back) == (2, 2) and np.shape(Wax_back) == (2, 3), (
    f"got shapes {np.shape(Waa_back)} and {np.shape(Wax_back)}, expected (n_a, n_a) = (2, 2) and (n_a, n_x) = (2, 3)"
)
assert np.array_equal(Waa_back, [[0, 1], [2, 3]]) and np.array_equal(Wax_back, [[10, 11, 12], [13, 14, 15]]), (
    "Waa is the first n_a columns of Wa, Wax the remaining n_x columns"
)
rng_t = np.random.default_rng(2)
Waa_t, Wax_t = rng_t.standard_normal((5, 5)), rng_t.standard_normal((5, 9))
Waa_back, Wax_back = split_weights(stack_weights(Waa_t, Wax_t), 5)
assert np.array_equal(Waa_back, Waa_t) and np.array_equal(Wax_back, Wax_t), "split_weights(stack_weights(Waa, Wax), n_a) should give back Waa, Wax"
print("split_weights: visible tests passed")
''',
    ),
    md(r"""
**`stack_inputs(a_prev, xt)`** returns $[a^{\langle t-1 \rangle} ; x^{\langle t \rangle}]$, shape
$(n_a + n_x, m)$: the state on top, the input below, one column per example. The input may arrive
as integers (a one-hot array of 0s and 1s); convert it to the dtype of `a_prev` so that the result
is a float array.
"""),
    answer("stack_inputs"),
    test(
        "stack_inputs",
        1,
        r'''
"""stack_inputs: the shape, the order (state on top), the columns, and the dtype."""
a_prev_t = np.array([[0.5, -0.5, 2.0], [1.5, 0.0, -1.0]])      # n_a = 2, m = 3
xt_t = np.array([[1, 0, 0], [0, 0, 1], [0, 1, 0], [0, 0, 0]])  # n_x = 4, one-hot integer columns
stacked_t = stack_inputs(a_prev_t, xt_t)
assert np.shape(stacked_t) == (6, 3), f"shape {np.shape(stacked_t)}, expected (n_a + n_x, m) = (6, 3)"
assert np.array_equal(stacked_t[:2], a_prev_t), "the first n_a rows should be a_prev (the state goes on top)"
assert np.array_equal(stacked_t[2:], xt_t), "the last n_x rows should be xt"
assert np.asarray(stacked_t).dtype == a_prev_t.dtype, (
    f"the result has dtype {np.asarray(stacked_t).dtype}; convert xt to a_prev's dtype ({a_prev_t.dtype})"
)
print("stack_inputs: visible tests passed")
''',
    ),
    md(r"""
## 3. The same computation, numerically

With your three functions we can check the identity of section 1 at the motivating sizes:
$n_a = 100$, $n_x = 10\,000$ and a minibatch of $m = 8$ one-hot inputs. The two results agree to
rounding error (about $10^{-15}$; the order of the additions differs, so the last bits may too).
"""),
    code(r"""
rng = np.random.default_rng(1)
n_a, n_x, m = 100, 10_000, 8
Waa = rng.standard_normal((n_a, n_a)) * 0.1
Wax = rng.standard_normal((n_a, n_x)) * 0.1
a_prev = rng.standard_normal((n_a, m))
ids = rng.integers(0, n_x, size=m)                   # the token of each example
xt = np.zeros((n_x, m))
xt[ids, np.arange(m)] = 1.0                          # their one-hot columns, (n_x, m)

Wa = stack_weights(Waa, Wax)
stacked = Wa @ stack_inputs(a_prev, xt)              # one product
separate = Waa @ a_prev + Wax @ xt                   # two products and a sum
print("Wa:", Wa.shape, " [a_prev; xt]:", stack_inputs(a_prev, xt).shape, " result:", stacked.shape)
print("same up to rounding:", np.allclose(stacked, separate, rtol=1e-12, atol=1e-12))
"""),
    md(r"""
## 4. Exercise: the cell in stacked form

Write `rnn_cell_forward_stacked`: the same step as `rnn_cell_forward` of notebook 1, but given
$W_a$ instead of $W_{aa}$ and $W_{ax}$:

1. $a^{\langle t \rangle} = g_1\left(W_a\, [a^{\langle t-1 \rangle} ; x^{\langle t \rangle}] + b_a\right)$ using your `stack_inputs`;
2. $\hat y^{\langle t \rangle} = g_2(W_{ya}\, a^{\langle t \rangle} + b_y)$;
3. return the same as `rnn_cell_forward`: `a_next, yt_pred, cache`, where the cache holds the
   parameters in the **unstacked** form, `{"Waa", "Wax", "Wya", "ba", "by"}` (use your
   `split_weights`), so that the backward pass of notebook 4 can use it unchanged.
"""),
    answer("rnn_cell_forward_stacked"),
    test(
        "rnn_cell_forward_stacked",
        2,
        r'''
"""rnn_cell_forward_stacked: shapes, the same results as the unstacked cell of notebook 1, the cache."""
rng_t = np.random.default_rng(3)
n_x_t, n_a_t, n_y_t, m_t = 6, 4, 5, 3
p_t = {"Waa": rng_t.standard_normal((n_a_t, n_a_t)), "Wax": rng_t.standard_normal((n_a_t, n_x_t)),
       "Wya": rng_t.standard_normal((n_y_t, n_a_t)), "ba": rng_t.standard_normal((n_a_t, 1)),
       "by": rng_t.standard_normal((n_y_t, 1))}
xt_t = np.eye(n_x_t)[:, [1, 4, 4]]
a_prev_t = rng_t.standard_normal((n_a_t, m_t))
Wa_t = np.concatenate([p_t["Waa"], p_t["Wax"]], axis=1)
a_next_t, yt_pred_t, cache_t = rnn_cell_forward_stacked(xt_t, a_prev_t, Wa_t, p_t["ba"], p_t["Wya"], p_t["by"])
assert np.shape(a_next_t) == (n_a_t, m_t), f"a_next has shape {np.shape(a_next_t)}, expected (n_a, m) = {(n_a_t, m_t)}"
assert np.shape(yt_pred_t) == (n_y_t, m_t), f"yt_pred has shape {np.shape(yt_pred_t)}, expected (n_y, m) = {(n_y_t, m_t)}"
expected_a = np.tanh(p_t["Waa"] @ a_prev_t + p_t["Wax"] @ xt_t + p_t["ba"])
assert np.allclose(a_next_t, expected_a), "a_next should be tanh(Wa @ [a_prev; xt] + ba): the same as the unstacked cell"
a_ref, y_ref, _ = rnn_cell_forward(xt_t, a_prev_t, p_t)  # notebook 1's cell, from rnnlib
assert np.allclose(yt_pred_t, y_ref), "yt_pred should be softmax(Wya @ a_next + by), as in notebook 1"
a_relu, y_sig, cache_relu = rnn_cell_forward_stacked(
    xt_t, a_prev_t, Wa_t, p_t["ba"], p_t["Wya"], p_t["by"], "relu", "sigmoid"
)
a_ref, y_ref, _ = rnn_cell_forward(xt_t, a_prev_t, p_t, "relu", "sigmoid")
assert np.allclose(a_relu, a_ref) and np.allclose(y_sig, y_ref), "pass on hidden_activation and output_activation"
assert isinstance(cache_t, tuple) and len(cache_t) == 5, "cache should be (a_next, a_prev, xt, parameters, hidden_activation)"
assert isinstance(cache_t[3], dict) and sorted(cache_t[3]) == ["Waa", "Wax", "Wya", "ba", "by"], (
    "the cache's parameters should be a dict with the unstacked keys Waa, Wax, Wya, ba, by"
)
assert np.array_equal(cache_t[3]["Waa"], p_t["Waa"]) and np.array_equal(cache_t[3]["Wax"], p_t["Wax"]), (
    "cache parameters: Waa and Wax should be the blocks of Wa (split_weights)"
)
assert cache_relu[4] == "relu", "the last entry of the cache is the name of the hidden activation"
print("rnn_cell_forward_stacked: visible tests passed")
''',
    ),
    md(r"""
## 5. What stacking buys, and what a one-hot input really costs

**What it buys.** One matrix product instead of two plus a sum: simpler code, one weight matrix to
initialise and update, and a single larger product, which a BLAS library or a GPU runs more
efficiently than two smaller ones. For dense inputs such as audio features or the outputs of
another layer, that is a real (if modest) gain, and it is how many texts write gated cells (LSTM,
GRU).

**What it costs with a one-hot input.** Count the multiply-adds. A one-hot $x^{\langle t \rangle}$
has a single 1 and $n_x - 1$ zeros, so

$$W_{ax}\, x^{\langle t \rangle} = \text{the column of } W_{ax} \text{ for the token at step } t .$$

The stacked product does $n_a (n_a + n_x)$ multiply-adds per example, and all but $n_a \cdot n_a +
n_a$ of them multiply by zero. Keeping the blocks apart and **gathering** the column (`Wax[:, ids]`
in numpy, for the token ids of the $m$ examples) needs only $n_a \cdot n_a$ for the recurrent part:
"""),
    code(r"""
m = 32
stacked_madds = n_a * (n_a + n_x) * m
gathered_madds = n_a * n_a * m
print(f"stacked product:         {stacked_madds:>12,} multiply-adds per step")
print(f"Waa @ a_prev + gather:   {gathered_madds:>12,} multiply-adds per step (plus copying {n_a * m:,} numbers)")
print(f"ratio:                   {stacked_madds / gathered_madds:>12.0f}x")
print(f"one-hot x<t> as float64: {n_x * m * 8:>12,} bytes; as token ids: {m * 8:,} bytes")
"""),
    md(r"""
Now measure it, with $m = 32$ examples. The stacked version also has to build the dense one-hot
block and the $10\,100 \times 32$ stacked input at every step. `best_time` runs a function
repeatedly with `timeit` (at least 20 times, for about a fifth of a second) and keeps the fastest
run, the one least disturbed by whatever else the machine is doing. (Timings vary from machine to machine and run to
run, and on a busy machine they jump around: run the cell again if the numbers look odd. The
outputs of the timing cells are not compared by the tests.)
"""),
    code(
        r"""
def best_time(f, budget=0.2):
    # The fastest time of one call of f, in seconds, from about `budget` seconds of repeats.
    first = timeit.timeit(f, number=1)
    number = max(1, int(1e-3 / first))                       # batch very fast calls
    repeats = int(np.clip(budget / (first * number), 20, 200))  # at least 20 tries
    return min(timeit.repeat(f, number=number, repeat=repeats)) / number


rng = np.random.default_rng(2)
a_prev = rng.standard_normal((n_a, m))
ids = rng.integers(0, n_x, size=m)
columns = np.arange(m)


def stacked_step():
    xt = np.zeros((n_x, m))
    xt[ids, columns] = 1.0                       # build the one-hot block
    return Wa @ stack_inputs(a_prev, xt)         # one (100 x 10100) @ (10100 x 32) product


def gathered_step():
    return Waa @ a_prev + Wax[:, ids]            # a small product and a column gather


Wa = stack_weights(Waa, Wax)                     # (100, 10100)
assert np.allclose(stacked_step(), gathered_step())
for label, step in [("stacked, dense one-hot", stacked_step), ("separate, gather columns", gathered_step)]:
    print(f"{label:26s} {best_time(step) * 1e6:9.1f} µs per step")
""",
        ignore_output=True,
    ),
    md(r"""
On this course's 2-core machine the gather is typically a hundred times faster or more: the
count predicts a factor of 100, and building and reading the 2.6 MB one-hot block costs extra. The backward pass has the same structure in reverse: $dW_{ax} = \sum_t dz^{\langle t
\rangle} x^{\langle t \rangle T}$ is zero except in the columns of the tokens that were read, so it
is a **scatter-add** of $m$ columns of $dz^{\langle t \rangle}$, not an $(n_a \times m)(m \times
n_x)$ product (notebook 4).

That is why rnnlib's fast path (`rnn_cell_forward`, `rnn_forward` and `bptt` in `rnnlib/forward.py`
and `rnnlib/bptt.py`) keeps $W_{aa}$ and $W_{ax}$ apart and accepts **token ids**, an integer array
of shape $(m,)$ for one step or $(m, T_x)$ for a sequence, wherever a one-hot $x$ is accepted. It
never builds a one-hot matrix: the forward pass gathers columns of $W_{ax}$, the backward pass
scatter-adds into $dW_{ax}$. The results are the same:
"""),
    code(r"""
params = {"Waa": Waa, "Wax": Wax, "Wya": rng.standard_normal((n_x, n_a)) * 0.1,
          "ba": np.zeros((n_a, 1)), "by": np.zeros((n_x, 1))}
xt = np.zeros((n_x, m))
xt[ids, columns] = 1.0
a_onehot, y_onehot, _ = rnn_cell_forward(xt, a_prev, params)   # one-hot input, (n_x, m)
a_ids, y_ids, _ = rnn_cell_forward(ids, a_prev, params)        # token ids, (m,)
print("token ids:", ids[:8], "...")
print("same a_next:", np.allclose(a_onehot, a_ids), " same yt_pred:", np.allclose(y_onehot, y_ids))
"""),
    md(r"""
## 6. One big product for the output layer

The recurrence is a loop: $a^{\langle t \rangle}$ needs $a^{\langle t-1 \rangle}$. The output layer
is not: once the loop has produced every $a^{\langle t \rangle}$, the logits $o^{\langle t \rangle}
= W_{ya}\, a^{\langle t \rangle} + b_y$ of all $T_x$ steps are independent of one another. Lay the
hidden states side by side as one $(n_a, m T_x)$ matrix and a single product gives them all:

$$\begin{bmatrix} o^{\langle 1 \rangle} & \cdots & o^{\langle T_x \rangle} \end{bmatrix}
= W_{ya} \begin{bmatrix} a^{\langle 1 \rangle} & \cdots & a^{\langle T_x \rangle} \end{bmatrix} + b_y .$$

`rnnlib.bptt` does exactly this (and the same for the gradients $dW_{ya}$ and $dW_{aa}$): one big
matrix product instead of $T_x$ small ones. Big products keep the processor's arithmetic units
busy; many small ones spend their time on overhead. A quick measurement with $n_y = 500$,
$m = 16$ and $T_x = 50$ (timings vary; the output is not compared):
"""),
    code(
        r"""
n_y, m, T_x = 500, 16, 50
Wya = rng.standard_normal((n_y, n_a))
a = rng.standard_normal((n_a, m, T_x))                   # all hidden states, (n_a, m, T_x)


def per_step():
    return np.stack([Wya @ a[:, :, t] for t in range(T_x)], axis=2)   # T_x products of (n_a, m)


def all_at_once():
    return (Wya @ a.reshape(n_a, m * T_x)).reshape(n_y, m, T_x)      # one (n_a, m T_x) product


assert np.allclose(per_step(), all_at_once())
for label, f in [(f"{T_x} small products", per_step), ("one big product", all_at_once)]:
    print(f"{label:20s} {best_time(f) * 1e3:7.2f} ms")
""",
        ignore_output=True,
    ),
    md(r"""
The reshape costs nothing: for a contiguous array, `a.reshape(n_a, m * T_x)` only reinterprets the
same memory, as
$n_a$ rows of $m T_x$ numbers. Each row is unit $i$'s values for example 1 at steps $1, \dots,
T_x$, then example 2, and so on; a column is still one $a^{\langle t \rangle}_j$, so the product
computes every $o^{\langle t \rangle}_j$, and the reshape back to $(n_y, m, T_x)$ puts each in its
place.

## Check yourself

1. A minibatch of $m = 32$ sequences of $T_x = 25$ words from a $10\,000$-word vocabulary: how much
   memory does the one-hot $x$ take in float64? And as token ids?
2. The inputs are 40 audio features per time step (dense numbers, not one-hot). Is the stacked
   product still wasteful?
3. Why can the output layer be batched over time, but not the hidden layer?

<details><summary><b>Answers</b> (click)</summary>

1. $10\,000 \cdot 32 \cdot 25 \cdot 8$ bytes = 64 MB of almost only zeros; as 64-bit token ids,
   $32 \cdot 25 \cdot 8$ bytes = 6.4 kB.
2. No: every entry of $x^{\langle t \rangle}$ is used, so there is no zero to skip, and one product
   over $[a^{\langle t-1 \rangle}; x^{\langle t \rangle}]$ is a fine way to compute it.
3. $o^{\langle t \rangle}$ needs only $a^{\langle t \rangle}$, which the loop has already computed;
   $a^{\langle t \rangle}$ needs $a^{\langle t-1 \rangle}$, so the steps must run in order.
</details>

## Summary

- $W_{aa} a^{\langle t-1 \rangle} + W_{ax} x^{\langle t \rangle} = W_a [a^{\langle t-1 \rangle} ;
  x^{\langle t \rangle}]$ with $W_a = [W_{aa} : W_{ax}]$ of shape $(n_a, n_a + n_x)$: block matrix
  multiplication, checked numerically above. With $n_a = 100$, $n_x = 10\,000$, $W_a$ is
  $100 \times 10\,100$.
- Stacking gives one product instead of two, a real gain for dense inputs.
- For one-hot inputs, $W_{ax} x^{\langle t \rangle}$ is one column of $W_{ax}$; the stacked product
  wastes almost all of its work multiplying zeros. A fast implementation keeps the blocks apart,
  takes token ids and gathers columns (and scatter-adds in the backward pass).
- The output layer does not depend on the previous step, so all $T_x$ steps go through one big
  product, as in `rnnlib.bptt`.

The finished code is in `rnnlib/stacking.py` (`stack_weights`, `split_weights`, `stack_inputs`,
`rnn_cell_forward_stacked`); the gather and scatter live in `rnnlib/forward.py` and
`rnnlib/bptt.py`. **Next**, notebook 3 turns the predictions into a loss.
"""),
]


# ---------------------------------------------------------------------------------------------
# 03-loss/loss.ipynb
# ---------------------------------------------------------------------------------------------

LOSS = [
    md(r"""
# 3. Outputs and the loss

The network of notebook 1 makes a prediction at every step. To train it we need one number that
says how good those predictions are: the **loss**. For a language model the natural loss is the
negative log-probability the network gives to what actually came next.

**After this notebook you will be able to**

- go from a hidden state to logits $o^{\langle t \rangle}$ and probabilities $\hat y^{\langle t \rangle}$;
- write a softmax that never overflows, and explain why the textbook formula does;
- compute the negative log-likelihood of a sequence, per step, summed over time and averaged over
  a minibatch, the convention of this course;
- sanity-check a loss against the loss of a uniform guess, $T_x \ln n_y$;
- use the binary cross-entropy when the outputs are sigmoids.

The finished code of this notebook is in `rnnlib/loss.py`.
"""),
    import_cell(
        r"""
import warnings

import matplotlib.pyplot as plt
import numpy as np

from rnnlib import rnn_forward

np.set_printoptions(precision=4, suppress=True)
""",
        ["softmax", "cross_entropy"],
        BUILDER,
    ),
    md(r"""
## 1. From hidden state to probabilities

At each step the output layer turns the hidden state into $n_y$ scores, the **logits**

$$o^{\langle t \rangle} = W_{ya}\, a^{\langle t \rangle} + b_y \qquad (n_y, m),$$

and the softmax turns each column of logits into a probability distribution over the $n_y$ classes:

$$\hat y^{\langle t \rangle}_i = \mathrm{softmax}(o^{\langle t \rangle})_i = \frac{e^{o^{\langle t \rangle}_i}}{\sum_{k=1}^{n_y} e^{o^{\langle t \rangle}_k}} .$$

Every entry is positive and each column sums to 1. The exponential makes the ranking sharper: a
logit larger by $\ln 2 \approx 0.69$ means twice the probability. The logits themselves are only
defined up to a constant: adding the same $c$ to every logit of a column changes nothing,

$$\frac{e^{o_i + c}}{\sum_k e^{o_k + c}} = \frac{e^{c}\, e^{o_i}}{e^{c} \sum_k e^{o_k}} = \frac{e^{o_i}}{\sum_k e^{o_k}} .$$

In a character-level language model the target at step $t$ is the next character: reading
`h e l l` the network should predict `e l l o`. The label $y^{\langle t \rangle}$ is the index of the
true next character, and what matters is the probability given to it,
$\hat y^{\langle t \rangle}_{y^{\langle t \rangle}}$.

## 2. Why the textbook softmax overflows

A float64 holds numbers up to about $1.8 \times 10^{308}$, and $e^{710}$ is already more than
that. Logits of a few hundred are rare at the start of training but common enough later (a
confident network, a large learning rate, a temperature close to 0 when sampling). The textbook
formula then computes $\infty / \infty$:
"""),
    code(r"""
def naive_softmax(o):
    e = np.exp(o)
    return e / e.sum(axis=0, keepdims=True)


logits = np.array([[1000.0], [999.0], [998.0]])
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    print("naive softmax of [1000, 999, 998]:", naive_softmax(logits).ravel())
for w in caught:
    print(f"  {w.category.__name__}: {w.message}")
print("naive softmax of [0, -1, -2]:     ", naive_softmax(logits - 1000).ravel())
"""),
    md(r"""
The second line is the answer we wanted, and the shift property of section 1 says why it is
correct: subtracting the largest logit of each column, $c = -\max_k o_k$, changes nothing
mathematically, but makes the largest exponent $e^0 = 1$. Nothing can overflow, and the sum in the
denominator is at least 1, so there is no division by zero either. Very negative logits simply
underflow to a probability of 0, which is harmless. The **stable softmax**:

$$\mathrm{softmax}(o)_i = \frac{e^{\,o_i - \max_k o_k}}{\sum_{j=1}^{n_y} e^{\,o_j - \max_k o_k}} .$$

## 3. Exercise: a stable softmax

Write `softmax(z)`, the stable softmax over **axis 0**, for arrays of any number of dimensions:
`z` may be one step $(n_y, m)$ or a whole sequence $(n_y, m, T_x)$. Take the maximum over axis 0
with `keepdims=True` so that it broadcasts back against `z`. Do not modify `z` in place.
"""),
    answer("softmax"),
    test(
        "softmax",
        2,
        r'''
"""softmax: a known case, columns that sum to 1, large logits, any number of dimensions."""
z_t = np.log(np.array([[1.0, 1.0], [2.0, 1.0], [3.0, 2.0]]))   # two columns (m = 2)
p_t = softmax(z_t)
assert np.shape(p_t) == (3, 2), f"softmax returned shape {np.shape(p_t)}, expected the shape of z, (3, 2)"
assert np.allclose(p_t, [[1 / 6, 1 / 4], [2 / 6, 1 / 4], [3 / 6, 2 / 4]]), (
    f"softmax(log([1, 2, 3])) should be [1/6, 2/6, 3/6] in each column; got\n{p_t}\n"
    "normalise over axis 0 (the n_y classes), not over the examples"
)
assert np.allclose(softmax(z_t + 50.0), p_t), "adding the same constant to every logit must not change softmax"

big_t = np.array([[1000.0, -1000.0], [999.0, -1001.0], [998.0, -1002.0]])
with np.errstate(over="raise", invalid="raise"):  # an overflow here raises FloatingPointError
    try:
        p_big = softmax(big_t)
    except FloatingPointError as err:
        raise AssertionError(f"softmax overflowed ({err}): subtract the column's maximum before np.exp") from None
assert np.all(np.isfinite(p_big)), "softmax of logits around ±1000 gave inf or nan: subtract the column's maximum first"
expected_t = np.exp([0.0, -1.0, -2.0]) / np.exp([0.0, -1.0, -2.0]).sum()
assert np.allclose(p_big[:, 0], expected_t) and np.allclose(p_big[:, 1], expected_t), (
    "softmax([1000, 999, 998]) should equal softmax([0, -1, -2])"
)
assert np.array_equal(big_t[:, 0], [1000.0, 999.0, 998.0]), "softmax must not modify its input in place"

z3_t = np.random.default_rng(4).standard_normal((5, 3, 4)) * 10     # (n_y, m, T_x)
p3_t = softmax(z3_t)
assert np.shape(p3_t) == (5, 3, 4), f"a (n_y, m, T_x) input should give a (n_y, m, T_x) output, got {np.shape(p3_t)}"
assert np.allclose(p3_t.sum(axis=0), 1), "for a 3-D input every column p[:, j, t] should sum to 1 (axis 0)"
assert np.all(p3_t >= 0), "probabilities cannot be negative"
print("softmax: visible tests passed")
''',
    ),
    md(r"""
With your softmax we can see what the size of the logits does. Multiplying all logits by a factor
keeps their order but changes how sure the distribution is: large logits make it peaked, small ones
make it flat. (Dividing the logits by a *temperature* $\tau$ before the softmax is how notebook 5
makes samples bolder or safer.)
"""),
    code(r"""
o = np.array([[2.0], [1.0], [0.1], [-1.0]])          # the logits of one example, (n_y, 1)
fig, ax = plt.subplots(figsize=(7, 3.2))
width = 0.25
for k, scale in enumerate((0.5, 1.0, 3.0)):
    _ = ax.bar(np.arange(4) + (k - 1) * width, softmax(scale * o).ravel(), width,
               label=f"softmax({scale} × o)")
ax.set_xticks(range(4), [f"class {i}\n$o_{i} = {o[i, 0]:g}$" for i in range(4)])
ax.set(ylabel="probability", title="The same ranking, more or less sure")
ax.legend()
plt.show()
print("softmax(o):", softmax(o).ravel())
"""),
    md(r"""
## 4. The negative log-likelihood

The network is good when it gives a high probability to what really came next. Taking logs turns
the probability of a whole sequence, a product over the steps, into a sum; the minus sign turns
"maximise the probability" into "minimise the loss". The **loss at step $t$** for one sequence is

$$\mathcal{L}^{\langle t \rangle} = -\log \hat y^{\langle t \rangle}_{y^{\langle t \rangle}},$$

the **loss of the sequence** is the sum over its steps, and over a minibatch of $m$ sequences we
take the average. With $j$ indexing the examples:

$$\mathcal{L} = -\frac{1}{m} \sum_{j=1}^{m} \sum_{t=1}^{T_x} \log \hat y^{\langle t \rangle}_{y_j^{\langle t \rangle},\, j} .$$

This is the **cross-entropy** between the one-hot target and the prediction,
$-\sum_{i} y_i \log \hat y_i$: with a one-hot $y$ only the term of the true class survives.
Summing over time (rather than averaging) gives every step the same weight, whatever the length of
the sequence; averaging over the minibatch keeps the size of the gradient, and so a good learning
rate, independent of $m$.

What $-\log p$ rewards and punishes:
"""),
    code(r"""
p = np.linspace(0.002, 1, 500)
n_y = 27
fig, ax = plt.subplots(figsize=(6.5, 3.6))
_ = ax.plot(p, -np.log(p), lw=2, color="tab:blue")
_ = ax.plot([1 / n_y], [np.log(n_y)], "o", color="tab:red")
ax.annotate(rf"uniform guess over $n_y = {n_y}$: $\ln {n_y} \approx {np.log(n_y):.2f}$",
            xy=(1 / n_y, np.log(n_y)), xytext=(0.2, 4.6), arrowprops={"arrowstyle": "->", "color": "tab:red"})
ax.annotate("certain and right: 0", xy=(1, 0), xytext=(0.62, 1.2), arrowprops={"arrowstyle": "->"})
ax.set(xlabel=r"probability given to the true class, $\hat y_{y}$", ylabel=r"$-\log \hat y_{y}$",
       title="The loss of one step", ylim=(-0.2, 6.5))
plt.show()
"""),
    md(r"""
The loss is 0 only for a certain, correct prediction and grows without bound as the probability of
the truth goes to 0: a confident mistake costs far more than a hesitant one.

**Picking the true class's probability.** With `y_pred` of shape $(n_y, m, T_x)$ and integer labels
`y` of shape $(m, T_x)$, we need `y_pred[y[j, t], j, t]` for every `j`, `t`. One way is
`np.take_along_axis(y_pred, y[None], axis=0)`: `y[None]` has shape $(1, m, T_x)$ and picks one
entry along axis 0 for each `(j, t)`:
"""),
    code(r"""
y_pred = np.array([[[0.7, 0.1], [0.2, 0.3]],
                   [[0.2, 0.8], [0.5, 0.3]],
                   [[0.1, 0.1], [0.3, 0.4]]])     # (n_y, m, T_x) = (3, 2, 2)
y = np.array([[0, 1], [2, 2]])                     # (m, T_x): true classes
p_true = np.take_along_axis(y_pred, y[None], axis=0)
print("p_true has shape", p_true.shape, "; its (m, T_x) entries:")
print(p_true[0])
print("example 0 picks y_pred[0, 0, 0] and y_pred[1, 0, 1]:", y_pred[0, 0, 0], y_pred[1, 0, 1])
"""),
    md(r"""
**Sigmoid outputs.** When $g_2$ is a sigmoid, each of the $n_y$ outputs is its own yes/no question,
the target $y^{\langle t \rangle}$ is a 0/1 array of the same shape as $\hat y^{\langle t \rangle}$,
and each entry contributes a **binary cross-entropy**, summed over the outputs and the steps and
averaged over the examples:

$$\mathcal{L} = -\frac{1}{m} \sum_{j=1}^{m} \sum_{t=1}^{T_x} \sum_{i=1}^{n_y}
\left[ y^{\langle t \rangle}_{ij} \log \hat y^{\langle t \rangle}_{ij} + \left(1 - y^{\langle t \rangle}_{ij}\right) \log\left(1 - \hat y^{\langle t \rangle}_{ij}\right) \right].$$

For a target of 1 this is $-\log \hat y$; for a target of 0 it is $-\log(1 - \hat y)$: the same curve
as above, for the probability of the right answer.

## 5. Exercise: the cross-entropy loss

Write `cross_entropy(y_pred, y)`. It returns a Python `float`, and handles both kinds of target:

- **integer labels** (`y.dtype.kind` is `"i"` or `"u"`): `y` has shape $(m, T_x)$ (or $(m,)$ for a
  single step with `y_pred` of shape $(n_y, m)$); return the negative log-likelihood above;
- **0/1 targets** (any other dtype): `y` has the shape of `y_pred`; return the binary cross-entropy.

In both cases sum over everything and divide by $m$ = `y_pred.shape[1]`. A probability of exactly 0
would give $\log 0 = -\infty$; clamp the probabilities from below with `np.maximum(p, tiny)`, where
`tiny = np.finfo(y_pred.dtype).tiny` is the smallest positive normal float (about $2 \times
10^{-308}$), so that a confident wrong answer costs a large but finite loss (about 708). For the
sigmoid case clamp $1 - \hat y$ the same way.
"""),
    answer("cross_entropy"),
    test(
        "cross_entropy",
        3,
        r'''
"""cross_entropy: a hand-computed case, averaging over m, the uniform guess, edge cases, sigmoid targets."""
y_pred_t = np.array([[[0.5, 0.25]], [[0.25, 0.5]], [[0.25, 0.25]]])  # (n_y, m, T_x) = (3, 1, 2)
y_t = np.array([[0, 2]])                                              # (m, T_x): class 0, then class 2
loss_t = cross_entropy(y_pred_t, y_t)
assert np.ndim(loss_t) == 0, f"the loss should be a single number, got an array of shape {np.shape(loss_t)}"
assert isinstance(loss_t, float), f"return a Python float (float(...)), got {type(loss_t).__name__}"
assert np.isclose(loss_t, -np.log(0.5) - np.log(0.25)), (
    f"loss = {loss_t:.4f}, expected -log(0.5) - log(0.25) = {-np.log(0.5) - np.log(0.25):.4f}: "
    "take the probability of the TRUE class at each step, and sum over the steps"
)
y_pred2_t = np.concatenate([y_pred_t, y_pred_t], axis=1)  # the same sequence twice: m = 2
assert np.isclose(cross_entropy(y_pred2_t, np.array([[0, 2], [0, 2]])), loss_t), (
    "two copies of a sequence should have the same loss as one: divide the sum by m"
)
n_y_t, m_t, T_t = 7, 4, 5
uniform_t = np.full((n_y_t, m_t, T_t), 1 / n_y_t)
labels_t = np.random.default_rng(5).integers(0, n_y_t, size=(m_t, T_t))
assert np.isclose(cross_entropy(uniform_t, labels_t), T_t * np.log(n_y_t)), (
    "a uniform guess costs ln(n_y) per step: T_x * ln(n_y) per sequence"
)
one_step_t = np.array([[0.9, 0.2], [0.1, 0.8]])  # one step: (n_y, m), labels (m,)
assert np.isclose(cross_entropy(one_step_t, np.array([0, 1])), -(np.log(0.9) + np.log(0.8)) / 2), (
    "one step: y_pred (n_y, m) with labels (m,) gives -(1/m) * sum of log p_true"
)
sure_wrong_t = cross_entropy(np.array([[1.0], [0.0]]), np.array([1]))
assert np.isfinite(sure_wrong_t) and sure_wrong_t > 700, (
    f"a zero probability for the true class should cost a large finite loss (~708), got {sure_wrong_t}: clamp with tiny"
)

# sigmoid outputs: 0/1 float targets of the shape of y_pred
p_sig_t = np.array([[0.8, 0.3]])   # (n_y, m) = (1, 2)
y_sig_t = np.array([[1.0, 0.0]])
assert np.isclose(cross_entropy(p_sig_t, y_sig_t), -(np.log(0.8) + np.log(0.7)) / 2), (
    "for 0/1 targets use the binary cross-entropy: -log(p) where y = 1, -log(1 - p) where y = 0, divided by m"
)
print("cross_entropy: visible tests passed")
''',
    ),
    md(r"""
## 6. Sanity check: the loss of a uniform guess

Before training, a network with small random weights has logits close to 0 and therefore predicts
almost uniformly, $\hat y_i \approx 1 / n_y$. Its loss should then be close to

$$\mathcal{L}_{\text{uniform}} = -\sum_{t=1}^{T_x} \log \frac{1}{n_y} = T_x \ln n_y .$$

This is the first number to check when training anything: a starting loss far from it means a bug
(the wrong axis in the softmax, a loss that is not averaged over $m$, labels shifted by one...).
Once training starts, the loss must go **below** it, or the network has learnt nothing that a
uniform guess does not know. (Notebook 5 reports the same number as a *perplexity*,
$e^{\mathcal{L} / T_x}$, which is $n_y$ for the uniform guess.)

Let us check it on an untrained network: a 27-character vocabulary, sequences of 20 steps, weights
of standard deviation 0.01, using rnnlib's forward pass from notebook 1 and your `cross_entropy`:
"""),
    code(r"""
rng = np.random.default_rng(0)
n_x = n_y = 27
n_a, m, T_x = 50, 16, 20
params = {
    "Waa": rng.standard_normal((n_a, n_a)) * 0.01,
    "Wax": rng.standard_normal((n_a, n_x)) * 0.01,
    "Wya": rng.standard_normal((n_y, n_a)) * 0.01,
    "ba": np.zeros((n_a, 1)),
    "by": np.zeros((n_y, 1)),
}
tokens = rng.integers(0, n_x, size=(m, T_x + 1))     # random "text": m sequences of token ids
x, y = tokens[:, :-1], tokens[:, 1:]                 # read tokens 0..T_x-1, predict 1..T_x
a, y_pred, _ = rnn_forward(x, np.zeros((n_a, m)), params)

loss = cross_entropy(y_pred, y)
print(f"loss of the untrained network: {loss:.4f}")
print(f"T_x ln n_y:                    {T_x * np.log(n_y):.4f}")
print("close:", abs(loss - T_x * np.log(n_y)) < 0.01 * T_x * np.log(n_y))
"""),
    md(r"""
(The forward pass above takes **token ids** `x` of shape $(m, T_x)$ instead of one-hot vectors:
rnnlib accepts either, as notebook 2 explained.)

One more point of numerical care. In training, the loss and its gradient are computed straight
from the logits, never from probabilities:

$$-\log \mathrm{softmax}(o)_y = \log \sum_k e^{o_k} - o_y = \log \sum_k e^{o_k - c} + c - o_y ,$$

the *log-sum-exp*, with a shift $c$ (such as the column's maximum) that keeps every exponential
finite. It never takes the log of a probability that underflowed to 0, so it needs no clamp at
all. `rnnlib.bptt` computes its loss this way (see `output_layer` in `rnnlib/loss.py`), and
notebook 4 shows that the gradient with respect to the logits is simply $\hat y - y$.

## Check yourself

1. A network gives probability 0.9 to the true character at each of 20 steps. What is the loss of
   that sequence? What would a uniform guess over 27 characters cost?
2. Your untrained model with $n_y = 65$ and $T_x = 100$ starts at a loss of 4.2. What is probably
   wrong?
3. Why does `softmax(z)` subtract `z.max(axis=0, keepdims=True)` and not `z.max()`, the largest
   entry of the whole array?

<details><summary><b>Answers</b> (click)</summary>

1. $20 \cdot (-\ln 0.9) \approx 2.11$; uniform: $20 \ln 27 \approx 65.9$.
2. The expected start is $100 \ln 65 \approx 417$; $4.2 \approx \ln 65$ is the loss of **one**
   step: the loss is averaged over time (or over all $m T_x$ entries) instead of summed over time
   and averaged over $m$.
3. Both give the same mathematical result, but with the global maximum a column whose logits are
   all far below it (say $-1000$ when another column has $+1000$) underflows to $0 / 0$ = `nan`.
   Each column needs its own maximum.
</details>

## Summary

- The output layer computes logits $o^{\langle t \rangle} = W_{ya} a^{\langle t \rangle} + b_y$;
  softmax (over axis 0) turns each column into probabilities.
- Softmax is unchanged by adding a constant to the logits; subtracting the column's maximum makes
  it impossible to overflow, whereas $e^{1000}$ is `inf` and the textbook formula gives `nan`.
- The loss is the negative log-likelihood of the true next token, summed over the $T_x$ steps and
  averaged over the $m$ sequences: $\mathcal{L} = -\frac{1}{m}\sum_j \sum_t \log \hat
  y^{\langle t \rangle}_{y_j^{\langle t \rangle}, j}$.
- A uniform guess costs $\ln n_y$ per step, $T_x \ln n_y$ per sequence: the number an untrained
  network should start near and a trained one must beat.
- Sigmoid outputs with 0/1 targets use the binary cross-entropy, summed the same way.

The finished code is in `rnnlib/loss.py` (`softmax`, `cross_entropy`, and `output_layer`, the
log-sum-exp form used in training). **Next**, notebook 4 computes the gradient of this loss with
respect to every parameter: backpropagation through time.
"""),
]

BUILDS = {
    "01-forward/forward.ipynb": FORWARD,
    "02-stacking/stacking.ipynb": STACKING,
    "03-loss/loss.ipynb": LOSS,
}


def main(argv: list[str] | None = None) -> int:
    """Write notebooks 01-03 (see the module docstring for the command line)."""
    return notebook_builder.main(__doc__, BUILDS, grade_ids=True, argv=argv)


if __name__ == "__main__":
    sys.exit(main())
