"""Build the second half of the course: notebooks 04-bptt, 05-training and 06-vanishing.

    python tools/build_notebooks_04_06.py            # write the three notebooks, fill their solutions
    python tools/build_notebooks_04_06.py --execute  # ... and run them, storing the outputs nbval compares

The prose, figures and test cells live in this file (edit here, then rebuild: the notebooks are
overwritten). The answer cells are placeholders, filled by tools/sync_notebooks.py from the
rnnlib function of the same name, so this file holds no solution code. The shared machinery
(cells, ids, the import cell, writing, the command line) is in tools/notebook_builder.py.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import notebook_builder  # noqa: E402  (tools/ is not a package)
from notebook_builder import Notebook  # noqa: E402

BUILDER = "tools/build_notebooks_04_06.py"  # named in the import cells it completes from rnnlib


# ---------------------------------------------------------------------------------------------
# 04 · Backpropagation through time
# ---------------------------------------------------------------------------------------------


def notebook_04() -> Notebook:
    nb = Notebook(BUILDER)
    nb.md(r"""
    # 4. Backpropagation through time

    In notebooks 1–3 you ran an RNN forward and measured how wrong its predictions are. Now you
    make it learn: you compute how the loss changes when each weight changes. For a recurrent
    network this is **backpropagation through time (BPTT)**: ordinary backpropagation, applied
    to the network unrolled over the sequence.

    **After this notebook you will be able to**

    - derive the gradient of the sequence loss with respect to every parameter, step by step,
      and explain the *delta* $dz^{\langle t\rangle}$ that is carried backwards through time;
    - explain why the gradients of the shared weights $W_{aa}, W_{ax}, b_a$ are **sums over time
      steps**, when a feed-forward network's are not;
    - translate between this course's notation and the $U, V, W$ of the literature;
    - check any gradient numerically with **centred differences** in float64, and say why
      forward differences and float32 are not good enough;
    - say exactly what **truncated BPTT** computes.

    You will write `rnn_cell_backward`, `rnn_backward`, `numerical_gradient` and `bptt`. As before,
    replace `raise NotImplementedError()` in each exercise and run the test cell below it; hidden
    tests on other sizes run when your work is graded. The finished code lives in
    **`rnnlib/bptt.py`**: open it after you have tried.
    """)
    nb.setup(
        """
    import matplotlib.pyplot as plt
    import numpy as np

    import rnnlib
    from rnnlib import PARAMETER_NAMES, cross_entropy, relative_error, rnn_cell_forward, rnn_forward
    """,
        ["rnn_cell_backward", "rnn_backward", "numerical_gradient", "bptt"],
    )
    nb.md(r"""
    ## 1. What we differentiate

    The forward pass of notebook 1, with a name for the pre-activation $z^{\langle t\rangle}$ and
    the logits $o^{\langle t\rangle}$:

    $$
    z^{\langle t\rangle} = W_{aa}\,a^{\langle t-1\rangle} + W_{ax}\,x^{\langle t\rangle} + b_a,
    \qquad a^{\langle t\rangle} = g_1\!\left(z^{\langle t\rangle}\right),
    \qquad o^{\langle t\rangle} = W_{ya}\,a^{\langle t\rangle} + b_y,
    \qquad \hat y^{\langle t\rangle} = \operatorname{softmax}\!\left(o^{\langle t\rangle}\right),
    $$

    for $t = 1, \dots, T_x$, from a given $a^{\langle 0\rangle}$. The loss of notebook 3 is the
    negative log-likelihood of the true tokens, **summed over time** and averaged over the $m$
    sequences of the minibatch:

    $$
    L = \frac{1}{m}\sum_{j=1}^{m}\sum_{t=1}^{T_x} L_j^{\langle t\rangle},
    \qquad L_j^{\langle t\rangle} = -\log \hat y^{\langle t\rangle}_{y_j^{\langle t\rangle},\,j}.
    $$

    We want $\partial L/\partial W_{aa}$, $\partial L/\partial W_{ax}$, $\partial L/\partial W_{ya}$,
    $\partial L/\partial b_a$, $\partial L/\partial b_y$ (and, for free, $\partial L/\partial a^{\langle 0\rangle}$).
    In code each gradient is named after its parameter with a `d` in front: `dWaa`, `dWax`, `dWya`,
    `dba`, `dby`, `da0`; every gradient has the shape of the thing it is the gradient of.

    ## 2. The output layer: $\hat y - y$

    Write $L^{\langle t\rangle} = -o_{y} + \log\sum_k e^{o_k}$ for one column (dropping $t$ and $j$).
    Differentiating,

    $$
    \frac{\partial L^{\langle t\rangle}}{\partial o_i}
    = -\mathbb 1[i = y] + \frac{e^{o_i}}{\sum_k e^{o_k}} = \hat y_i - \mathbb 1[i = y],
    \qquad\text{so}\qquad
    do^{\langle t\rangle} = \frac{1}{m}\left(\hat y^{\langle t\rangle} - Y^{\langle t\rangle}\right),
    $$

    where $Y^{\langle t\rangle}$ holds the one-hot columns of the labels and $1/m$ comes from the
    average. Softmax and cross-entropy together have the simplest gradient there is: *predicted
    minus true*. (The sigmoid output with binary cross-entropy gives the same $\hat y - y$.)
    Let us check that claim numerically before building on it:
    """)
    nb.code(r"""
    o = np.array([[2.0], [-1.0], [0.5]])  # logits of one example, n_y = 3
    label = 2
    loss_of = lambda o: -np.log(rnnlib.softmax(o)[label, 0])
    y_hat = rnnlib.softmax(o)
    print("ŷ - y              :", np.round((y_hat - np.eye(3)[:, [label]]).ravel(), 6))
    print("centred differences:", np.round(rnnlib.numerical_gradient(loss_of, o).ravel(), 6))
    """)
    nb.md(r"""
    Because $o^{\langle t\rangle} = W_{ya}a^{\langle t\rangle} + b_y$ uses the **same** $W_{ya}$
    and $b_y$ at every step, their gradients add up over the steps:

    $$
    dW_{ya} = \sum_{t=1}^{T_x} do^{\langle t\rangle}\, a^{\langle t\rangle\top},
    \qquad
    db_y = \sum_{t=1}^{T_x} do^{\langle t\rangle}\,\mathbf 1_m
    \quad(\text{sum over the minibatch columns}).
    $$

    The output layer also sends a gradient into the hidden state it read:
    $W_{ya}^\top do^{\langle t\rangle}$, shape $(n_a, m)$. We call this the **upstream gradient**
    `da[:, :, t]` on $a^{\langle t\rangle}$.

    ## 3. Back through the hidden states: the delta carried through time

    Here is what makes an RNN different. $a^{\langle t\rangle}$ influences the loss along **two**
    paths: through its own output $o^{\langle t\rangle}$, and through the next state
    $z^{\langle t+1\rangle} = W_{aa}a^{\langle t\rangle} + \dots$, which carries it into every later loss.
    The chain rule adds the two:

    $$
    \frac{\partial L}{\partial a^{\langle t\rangle}}
    = \underbrace{W_{ya}^\top do^{\langle t\rangle}}_{\text{from } L^{\langle t\rangle}\ (\texttt{da[:,:,t]})}
    + \underbrace{W_{aa}^\top dz^{\langle t+1\rangle}}_{\text{from all later losses}},
    \qquad
    dz^{\langle t\rangle} = \frac{\partial L}{\partial z^{\langle t\rangle}}
    = \frac{\partial L}{\partial a^{\langle t\rangle}} \odot g_1'\!\left(z^{\langle t\rangle}\right).
    $$

    So the whole backward pass is one recurrence, run from $t = T_x$ down to $1$ with
    $dz^{\langle T_x+1\rangle} = 0$:

    $$
    \boxed{\;dz^{\langle t\rangle} = \left(da^{\langle t\rangle} + W_{aa}^\top dz^{\langle t+1\rangle}\right)\odot g_1'\!\left(z^{\langle t\rangle}\right)\;}
    $$

    The vector $dz^{\langle t\rangle}$ is the **delta**: everything the losses at steps
    $t, t+1, \dots, T_x$ have to say about step $t$. The derivative of the activation is cheapest
    written with its output $a = g_1(z)$, which the forward pass kept:

    $$
    \tanh'(z) = 1 - \tanh^2(z) = 1 - a^2,
    \qquad
    \operatorname{relu}'(z) = \mathbb 1[z > 0] = \mathbb 1[a > 0].
    $$

    The picture: grey arrows are the forward pass, red ones the gradients flowing back. Every
    $a^{\langle t\rangle}$ collects red arrows from **above** (its own loss) and from the **right**
    (the future).
    """)
    nb.code(r"""
    def draw_backward_flow(T=4):
        # drawing code: boxes for the unrolled network, grey forward arrows, red backward ones
        fig, ax = plt.subplots(figsize=(10.5, 5))
        xs = [0.6 + 2.2 * t for t in range(T + 1)]  # x position of a<0>, a<1>, ..., a<T>
        y_x, y_a, y_L = 0.0, 1.6, 3.3

        def node(x, y, text, color):
            ax.text(x, y, text, ha="center", va="center", fontsize=13,
                    bbox=dict(boxstyle="round,pad=0.35", fc=color, ec="0.3"))

        def arrow(p, q, color, lw, rad=0.0):
            ax.annotate("", xy=q, xytext=p, arrowprops=dict(arrowstyle="-|>", color=color, lw=lw,
                        shrinkA=17, shrinkB=17, connectionstyle=f"arc3,rad={rad}"))

        node(xs[0], y_a, r"$a^{\langle 0\rangle}$", "0.92")
        for t in range(1, T + 1):
            x, x_prev = xs[t], xs[t - 1]
            node(x, y_x, rf"$x^{{\langle {t}\rangle}}$", "0.92")
            node(x, y_a, rf"$a^{{\langle {t}\rangle}}$", "#dbe9f6")
            node(x, y_L, rf"$L^{{\langle {t}\rangle}}$", "#fbe3d6")
            arrow((x, y_x), (x, y_a), "0.65", 1.2)                     # forward: x<t> -> a<t>
            arrow((x_prev, y_a), (x, y_a), "0.65", 1.2)                # forward: a<t-1> -> a<t>
            arrow((x - 0.18, y_a), (x - 0.18, y_L), "0.65", 1.2)       # forward: a<t> -> o<t> -> L<t>
            arrow((x + 0.18, y_L), (x + 0.18, y_a), "tab:red", 2.4)    # backward: Wyaᵀ do<t>
            arrow((x, y_a), (x_prev, y_a), "tab:red", 2.4, rad=-0.45)  # backward: Waaᵀ dz<t>
            ax.text(x + 0.3, (y_a + y_L) / 2, rf"$W_{{ya}}^\top do^{{\langle {t}\rangle}}$",
                    color="tab:red", fontsize=10, va="center")
            ax.text((x + x_prev) / 2, y_a - 0.72, rf"$W_{{aa}}^\top dz^{{\langle {t}\rangle}}$",
                    color="tab:red", fontsize=10, ha="center")
            ax.text(x + 0.32, y_a + 0.32, rf"$dz^{{\langle {t}\rangle}}$", color="tab:red", fontsize=10)
        ax.plot([], [], color="0.65", label="forward pass")
        ax.plot([], [], color="tab:red", lw=2.4, label="gradient flowing back")
        ax.legend(loc="lower left", frameon=False, fontsize=10)
        ax.set_xlim(0.0, xs[-1] + 1.2)
        ax.set_ylim(-0.5, 3.8)
        ax.axis("off")
        ax.set_title("BPTT: each state collects the gradient of its own loss and of the future")
        plt.show()


    draw_backward_flow()
    """)
    nb.md(r"""
    ## 4. Shared weights: gradients are sums over time

    Once $dz^{\langle t\rangle}$ is known, step $t$'s share of the weight gradients is the same as
    for one layer of a feed-forward network, because $z^{\langle t\rangle}$ is a linear function of them:

    $$
    dW_{aa} = \sum_{t=1}^{T_x} dz^{\langle t\rangle}\, a^{\langle t-1\rangle\top},
    \qquad
    dW_{ax} = \sum_{t=1}^{T_x} dz^{\langle t\rangle}\, x^{\langle t\rangle\top},
    \qquad
    db_a = \sum_{t=1}^{T_x} dz^{\langle t\rangle}\,\mathbf 1_m,
    $$

    $$
    dx^{\langle t\rangle} = W_{ax}^\top dz^{\langle t\rangle},
    \qquad
    da^{\langle 0\rangle} = W_{aa}^\top dz^{\langle 1\rangle}.
    $$

    **Why sums?** Unroll the RNN over $T_x$ steps and you get a $T_x$-layer feed-forward network
    — except that every layer uses *the same* $W_{aa}$. In a feed-forward network layer $\ell$ has its
    own $W^{[\ell]}$, and $dW^{[\ell]} = dz^{[\ell]}a^{[\ell-1]\top}$ is one term. Here, imagine
    giving step $t$ its own copy $W_{aa}^{(t)}$; then the loss is $L(W_{aa}^{(1)}, \dots, W_{aa}^{(T_x)})$
    evaluated at $W_{aa}^{(1)} = \dots = W_{aa}^{(T_x)} = W_{aa}$, and the multivariable chain
    rule says

    $$
    \frac{\partial L}{\partial W_{aa}} = \sum_{t=1}^{T_x} \frac{\partial L}{\partial W_{aa}^{(t)}}
    = \sum_{t=1}^{T_x} dz^{\langle t\rangle}a^{\langle t-1\rangle\top}.
    $$

    Sharing the weights is what lets an RNN read sequences of any length with a fixed number of
    parameters; the price is that the gradient of each weight mixes the evidence of all steps.

    ## 5. The same thing in the literature's notation

    Textbooks and papers write the same network with other letters. The most common ones:

    | this course | Goodfellow et al., *Deep Learning* §10.2 | "$s$-notation" (many tutorials) | what it is |
    |---|---|---|---|
    | $a^{\langle t\rangle}$ | $h^{(t)}$ | $s_t$ | hidden state |
    | $z^{\langle t\rangle}$ | $a^{(t)}$ (!) | — | pre-activation |
    | $W_{ax}$ | $U$ | $U$ | input → hidden |
    | $W_{aa}$ | $W$ | $W$ | hidden → hidden |
    | $W_{ya}$ | $V$ | $V$ | hidden → output |
    | $b_a$, $b_y$ | $b$, $c$ | — | biases |
    | $o^{\langle t\rangle}$, $\hat y^{\langle t\rangle}$ | $o^{(t)}$, $\hat y^{(t)}$ | $o_t$ | logits, probabilities |

    Careful with the (!): in Goodfellow et al. $a^{(t)}$ is the *pre-activation*, our
    $z^{\langle t\rangle}$, not the hidden state. In the $U, V, W$ notation our boxed recurrence reads
    $\delta_t = (V^\top(\hat y_t - y_t) + W^\top\delta_{t+1}) \odot (1 - s_t^2)$ and
    $\partial L/\partial W = \sum_t \delta_t\, s_{t-1}^\top$.

    ## 6. Exercise: one step back (`rnn_cell_backward`)

    Given the **total** gradient on $a^{\langle t\rangle}$, `da_next` $= \partial L/\partial a^{\langle t\rangle}$
    (the caller has already added both paths), compute, with the cache of `rnn_cell_forward`,
    which holds `(a_next, a_prev, xt, parameters, hidden_activation)`:

    | quantity | formula | shape |
    |---|---|---|
    | `dz` | $da_{next}\odot g_1'(z^{\langle t\rangle})$, with $g_1'$ from `a_next` | $(n_a, m)$ |
    | `dxt` | $W_{ax}^\top dz$ | $(n_x, m)$ |
    | `da_prev` | $W_{aa}^\top dz$ | $(n_a, m)$ |
    | `dWax` | $dz\; x^{\langle t\rangle\top}$ | $(n_a, n_x)$ |
    | `dWaa` | $dz\; a^{\langle t-1\rangle\top}$ | $(n_a, n_a)$ |
    | `dba` | $dz$ summed over the $m$ columns (keep the shape $(n_a, 1)$) | $(n_a, 1)$ |

    `activation_derivative(hidden_activation, a_next)` (from `rnnlib.forward`) gives $g_1'$ for
    both activations; or write $1 - a^2$ and $\mathbb 1[a > 0]$ yourself.
    """)
    nb.answer("rnn_cell_backward")
    nb.test(
        "rnn_cell_backward",
        2,
        r'''
    """rnn_cell_backward: the keys and shapes, then every gradient against centred differences.

    f = Σ da_next ⊙ a<t> is a scalar whose gradient with respect to a<t> is exactly da_next,
    so the five gradients rnn_cell_backward returns must be the derivatives of f, which
    rnnlib.numerical_gradient measures. Checked for tanh and relu.
    """
    rng = np.random.default_rng(4)
    n_x, n_a, n_y, m = 3, 5, 2, 4
    test_params = rnnlib.initialize_parameters(n_a, n_x, n_y, seed=4, scale=0.5)
    test_params["ba"] = rng.standard_normal((n_a, 1))
    xt, a_prev = rng.standard_normal((n_x, m)), rng.standard_normal((n_a, m))
    da_next = rng.standard_normal((n_a, m))
    shapes = {"dxt": (n_x, m), "da_prev": (n_a, m), "dWax": (n_a, n_x), "dWaa": (n_a, n_a), "dba": (n_a, 1)}
    hints = {
        "dxt": "dxt = Waxᵀ dz, with dz = da_next ⊙ g1'(z).",
        "da_prev": "da_prev = Waaᵀ dz (transpose!), with dz = da_next ⊙ g1'(z).",
        "dWax": "dWax = dz xtᵀ.",
        "dWaa": "dWaa = dz a_prevᵀ: the state *before* the step, not a_next.",
        "dba": "dba = dz summed over the minibatch (axis 1), keeping shape (n_a, 1).",
    }
    for activation in ("tanh", "relu"):
        _, _, cache = rnn_cell_forward(xt, a_prev, test_params, activation)
        grads = rnn_cell_backward(da_next, cache)
        assert isinstance(grads, dict), f"return a dict of gradients, got {type(grads).__name__}"
        missing = set(shapes) - set(grads)
        assert not missing, f"the returned dict lacks the keys {sorted(missing)}"
        for key, shape in shapes.items():
            assert np.shape(grads[key]) == shape, f"{activation}: {key} has shape {np.shape(grads[key])}, expected {shape}"

        def f(xt=xt, a_prev=a_prev, **changed):
            a_next = rnn_cell_forward(xt, a_prev, {**test_params, **changed}, activation)[0]
            return np.sum(da_next * a_next)

        numeric = {
            "dxt": rnnlib.numerical_gradient(lambda v: f(xt=v), xt),
            "da_prev": rnnlib.numerical_gradient(lambda v: f(a_prev=v), a_prev),
            "dWax": rnnlib.numerical_gradient(lambda v: f(Wax=v), test_params["Wax"]),
            "dWaa": rnnlib.numerical_gradient(lambda v: f(Waa=v), test_params["Waa"]),
            "dba": rnnlib.numerical_gradient(lambda v: f(ba=v), test_params["ba"]),
        }
        for key, expected in numeric.items():
            error = relative_error(grads[key], expected)
            assert error < 1e-7, (f"{activation}: {key} disagrees with centred differences (relative error "
                                  f"{error:.1e}). {hints[key]} Is g1' right for {activation}: "
                                  "1 - a_next² for tanh, (a_next > 0) for relu?")
    print("rnn_cell_backward: shapes right; all five gradients agree with centred differences (tanh, relu)")
    ''',
    )
    nb.md(r"""
    ## 7. Exercise: the whole sequence (`rnn_backward`)

    Now run the boxed recurrence over all steps. `da` has shape $(n_a, m, T_x)$: `da[:, :, t]` is
    the upstream gradient from step $t$'s output only. Walk **backwards** through the caches of
    `rnn_forward`, keeping `da_prevt`, the gradient that step $t+1$ sent back into $a^{\langle t\rangle}$
    (zeros to begin with):

    1. call `rnn_cell_backward(da[:, :, t] + da_prevt, caches[t])` — the two paths added;
    2. store its `dxt` in `dx[:, :, t]`, **add** its `dWax`, `dWaa`, `dba` to the running sums;
    3. its `da_prev` becomes the next (earlier) step's `da_prevt`.

    After the loop `da_prevt` is $\partial L / \partial a^{\langle 0\rangle}$: return it as `da0`.
    Use your `rnn_cell_backward` from above.
    """)
    nb.answer("rnn_backward")
    nb.test(
        "rnn_backward",
        2,
        r'''
    """rnn_backward: shapes; one step equals rnn_cell_backward; every gradient against centred differences.

    The upstream gradient da holds ∂f/∂a<t> of the scalar f = Σ_t Σ da<t> ⊙ a<t>, so
    rnn_backward must return the derivatives of f, through all the steps.
    """
    rng = np.random.default_rng(5)
    n_x, n_a, n_y, m, T_x = 3, 5, 2, 4, 6
    test_params = rnnlib.initialize_parameters(n_a, n_x, n_y, seed=5, scale=0.5)
    x, a0 = rng.standard_normal((n_x, m, T_x)), rng.standard_normal((n_a, m))
    da = rng.standard_normal((n_a, m, T_x))
    shapes = {"dx": (n_x, m, T_x), "da0": (n_a, m), "dWax": (n_a, n_x), "dWaa": (n_a, n_a), "dba": (n_a, 1)}
    hints = {
        "dx": "dx[:, :, t] is step t's dxt; is the gradient from a<t+1> (da_prevt) added to da[:, :, t]?",
        "da0": "da0 is the da_prev of the last cell you visit (t = 1), after the loop.",
        "dWax": "the weights are shared: add every step's dWax (+=), do not keep only one.",
        "dWaa": "the weights are shared: add every step's dWaa (+=); loop from the last step back.",
        "dba": "the weights are shared: add every step's dba (+=).",
    }
    for activation in ("tanh", "relu"):
        _, _, caches = rnn_forward(x, a0, test_params, activation)
        grads = rnn_backward(da, caches)
        assert isinstance(grads, dict), f"return a dict of gradients, got {type(grads).__name__}"
        missing = set(shapes) - set(grads)
        assert not missing, f"the returned dict lacks the keys {sorted(missing)}"
        for key, shape in shapes.items():
            assert np.shape(grads[key]) == shape, f"{activation}: {key} has shape {np.shape(grads[key])}, expected {shape}"
        one = rnn_backward(da[:, :, :1], caches[:1])
        cell = rnn_cell_backward(da[:, :, 0], caches[0])
        assert np.allclose(one["da0"], cell["da_prev"]) and np.allclose(one["dWaa"], cell["dWaa"]), \
            "with a single step, rnn_backward must give what rnn_cell_backward gives"

        def f(x=x, a0=a0, **changed):
            return np.sum(da * rnn_forward(x, a0, {**test_params, **changed}, activation)[0])

        numeric = {
            "dx": rnnlib.numerical_gradient(lambda v: f(x=v), x),
            "da0": rnnlib.numerical_gradient(lambda v: f(a0=v), a0),
            "dWax": rnnlib.numerical_gradient(lambda v: f(Wax=v), test_params["Wax"]),
            "dWaa": rnnlib.numerical_gradient(lambda v: f(Waa=v), test_params["Waa"]),
            "dba": rnnlib.numerical_gradient(lambda v: f(ba=v), test_params["ba"]),
        }
        for key, expected in numeric.items():
            error = relative_error(grads[key], expected)
            assert error < 1e-7, f"{activation}: {key} disagrees with centred differences (relative error {error:.1e}). {hints[key]}"
    print("rnn_backward: shapes right; all gradients agree with centred differences over 6 steps (tanh, relu)")
    ''',
    )
    nb.md(r"""
    ## 8. Trust, but verify: numerical gradients

    A backward pass has many places to go wrong (a missing transpose, a forgotten sum, the wrong
    cache) and a wrong gradient still makes the loss go down for a while. So every gradient in this
    course is checked against a gradient computed **without any calculus**, from the loss alone.

    Perturb one entry $\theta_i$ by a small $\varepsilon$ and look at how the loss moves. Taylor's
    theorem tells how good that is:

    $$
    \underbrace{\frac{f(\theta + \varepsilon e_i) - f(\theta)}{\varepsilon}}_{\text{forward difference}}
    = \frac{\partial f}{\partial\theta_i} + \frac{\varepsilon}{2}\frac{\partial^2 f}{\partial\theta_i^2} + O(\varepsilon^2),
    \qquad
    \underbrace{\frac{f(\theta + \varepsilon e_i) - f(\theta - \varepsilon e_i)}{2\varepsilon}}_{\text{centred difference}}
    = \frac{\partial f}{\partial\theta_i} + \frac{\varepsilon^2}{6}\frac{\partial^3 f}{\partial\theta_i^3} + O(\varepsilon^4).
    $$

    In the centred difference the $\varepsilon^2$ terms cancel, so its **truncation error** is
    $O(\varepsilon^2)$ instead of $O(\varepsilon)$. But $\varepsilon$ cannot be made tiny either: $f$ is
    computed with a relative rounding error of about $u$ (the *unit roundoff*: $1.1\times10^{-16}$ in
    float64, $6\times10^{-8}$ in float32), and dividing by $\varepsilon$ blows it up to about
    $u\,|f|/\varepsilon$. The total error of the centred difference, $\approx \varepsilon^2 + u/\varepsilon$,
    is smallest near $\varepsilon \approx u^{1/3}$: about $10^{-5}$ in float64, which leaves an error of
    about $10^{-10}$. That is why we use **centred differences, float64 and $\varepsilon = 10^{-5}$**.

    To compare an analytic gradient $g$ with a numerical one $\hat g$ we use the **relative error**

    $$
    \operatorname{relerr}(g, \hat g) = \frac{\lVert g - \hat g\rVert}{\max\left(\lVert g\rVert + \lVert \hat g\rVert,\ 10^{-12}\right)},
    $$

    (`rnnlib.relative_error`; the floor avoids 0/0 when both are zero). In float64 a correct
    gradient gives about $10^{-10}$–$10^{-8}$; we demand **below $10^{-7}$**. A bug typically
    gives $10^{-2}$ to $1$.

    ## 9. Exercise: `numerical_gradient`

    Implement the centred difference for every entry of `theta` (or only for the flat indices in
    `entries`). Work on a **copy** of `theta`: the caller's array must come back unchanged, and a
    function `f` that reads its argument must see exactly one entry moved. `theta.flat[i]` indexes
    any array by its flat index.
    """)
    nb.answer("numerical_gradient")
    nb.test(
        "numerical_gradient",
        1,
        r'''
    """numerical_gradient: a function with a known gradient, the `entries` option, theta unchanged,
    and the centred (not the forward) difference."""
    theta = np.array([[1.0, -2.0, 0.5], [3.0, 0.0, -1.0]])
    theta_before = theta.copy()
    cubic = lambda v: np.sum(v**3) + v[0, 1] * v[1, 0]
    exact = 3 * theta**2
    exact[0, 1] += theta[1, 0]
    exact[1, 0] += theta[0, 1]
    g = numerical_gradient(cubic, theta)
    assert np.shape(g) == theta.shape, f"the gradient must have theta's shape {theta.shape}, got {np.shape(g)}"
    assert np.allclose(g, exact, rtol=1e-7, atol=1e-8), f"wrong gradient of Σθ³ + θ01·θ10:\n{g}\nexpected\n{exact}"
    assert np.array_equal(theta, theta_before), "theta was changed: perturb a copy, not the caller's array"
    some = numerical_gradient(cubic, theta, entries=np.array([1, 4]))
    assert np.shape(some) == (2,), f"with entries=[1, 4] return the 2 derivatives, shape (2,), got {np.shape(some)}"
    assert np.allclose(some, exact.flat[[1, 4]], rtol=1e-7), "entries are flat indices: entry 1 is theta[0, 1], entry 4 is theta[1, 1]"
    square = lambda v: np.sum(v**2)
    coarse = numerical_gradient(square, theta, epsilon=0.1)
    assert np.allclose(coarse, 2 * theta, atol=1e-9), (
        "with ε = 0.1 the centred difference of θ² is exact (2θ); an error of ε means a forward "
        "difference (f(θ+ε) - f(θ)) / ε: use (f(θ+ε) - f(θ-ε)) / 2ε")
    print("numerical_gradient: known gradients reproduced; entries and epsilon honoured; theta unchanged")
    ''',
    )
    nb.md(r"""
    ### Seeing why: forward vs centred, float64 vs float32

    Below, the derivative of a real RNN loss with respect to one entry of $W_{aa}$ is estimated with
    steps $\varepsilon$ from $10^{-12}$ to $10^{-1}$, and compared with the exact value from BPTT.
    The V shapes are the two errors of section 8 meeting: truncation on the right (slope 1 for
    forward differences, slope 2 for centred ones) and rounding on the left (slope $-1$). The centred
    float64 estimate reaches about $10^{-10}$ near $\varepsilon = 10^{-5}$; the forward one never gets
    much below $10^{-8}$. In float32 the rounding wall moves so far right that nothing is left: with
    $\varepsilon = 10^{-5}$ the estimate is off by tens of percent, and even the best step gives only
    two or three correct digits. A float32 gradient check cannot tell a bug from noise.
    """)
    nb.code(r"""
    rng = np.random.default_rng(0)
    n_x = n_y = 5
    n_a, m, T_x = 8, 3, 10
    ids = rng.integers(0, n_x, size=(m, T_x + 1))
    x_demo, y_demo = ids[:, :-1], ids[:, 1:]  # token ids: predict the next token
    params64 = rnnlib.initialize_parameters(n_a, n_x, n_y, seed=0, scale=0.5)
    exact = rnnlib.bptt(x_demo, y_demo, np.zeros((n_a, m)), params64)[1]["dWaa"][0, 0]

    def loss_with_Waa(Waa, dtype):
        params = {k: v.astype(dtype) for k, v in params64.items()}
        return rnnlib.bptt(x_demo, y_demo, np.zeros((n_a, m), dtype), {**params, "Waa": Waa})[0]

    epsilons = np.logspace(-12, -1, 45)
    fig, ax = plt.subplots(figsize=(7, 4.2))
    for dtype, style in ((np.float64, "-"), (np.float32, "--")):
        theta = params64["Waa"].astype(dtype)
        f = lambda W: loss_with_Waa(W, dtype)
        f0 = f(theta)
        centred, forward = [], []
        for eps in epsilons:
            centred.append(rnnlib.numerical_gradient(f, theta, eps, entries=[0])[0])
            shifted = theta.copy()
            shifted[0, 0] += dtype(eps)
            forward.append((f(shifted) - f0) / eps)
        for name, est, color in (("forward", forward, "tab:orange"), ("centred", centred, "tab:blue")):
            err = np.maximum(np.abs(np.array(est) - exact) / abs(exact), 1e-17)
            _ = ax.loglog(epsilons, err, style, color=color, label=f"{name}, {np.dtype(dtype).name}")
    ax.axvline(1e-5, color="0.5", lw=0.8)
    ax.text(1.3e-5, 1e-15, "ε = 1e-5", color="0.4")
    ax.set(xlabel="step ε", ylabel="relative error of the estimate", ylim=(1e-17, 10),
           title="Numerical derivative of an RNN loss: error against step size")
    ax.legend(frameon=False, fontsize=9)
    plt.show()
    """)
    nb.md(r"""
    ## 10. Truncated BPTT

    Full BPTT sends the loss at step $t$ all the way back to $a^{\langle 0\rangle}$. For long sequences
    that is expensive, and (notebook 6) the far-away part of the gradient is usually either
    negligible or exploding. **Truncated BPTT** cuts it off: with `truncate=k`,

    > the loss $L^{\langle t\rangle}$ backpropagates into $a^{\langle t\rangle}, a^{\langle t-1\rangle}, \dots, a^{\langle t-k\rangle}$
    > and no further: $a^{\langle t-k-1\rangle}$ is treated as a constant.

    So `truncate=0` lets each loss reach only its own state (and through it the weights of that
    one step); `truncate=None` is full BPTT, and any $k \ge T_x$ gives the same result. Note what
    truncation does **not** change: the forward pass, the loss, and the output layer's $dW_{ya}$ and
    $db_y$ — only the recurrent gradients $dW_{aa}, dW_{ax}, db_a$ and $da^{\langle 0\rangle}$ lose the
    contributions that would have travelled more than $k$ steps.

    The truncated gradient is *not* the gradient of $L$; it is the exact gradient of a
    **surrogate** loss in which each $L^{\langle t\rangle}$ sees $a^{\langle t-k-1\rangle}$ as a frozen
    number. That is how `rnnlib.gradient_check` checks it.

    (The name is also used for a related practice: cutting a long text into windows of $T_x$
    characters and carrying the last hidden state into the next window *as a constant*. That is why
    `bptt` returns `a_last`.)
    """)
    nb.code(r"""
    def reached(T, k):
        # reach[t-1, s] = 1 when the loss at step t backpropagates into a<s>, s = 0..T
        reach = np.zeros((T, T + 1))
        for t in range(1, T + 1):
            lowest = 0 if k is None else max(t - k, 0)
            reach[t - 1, lowest : t + 1] = 1
        return reach


    T = 8
    fig, axes = plt.subplots(1, 3, figsize=(12, 3.6))
    for ax, k in zip(axes, (None, 2, 0)):
        ax.imshow(reached(T, k), cmap="Blues", vmin=0, vmax=1.6, origin="upper")
        ax.set_xticks(range(T + 1), [f"$a^{{\\langle {s}\\rangle}}$" for s in range(T + 1)], fontsize=8)
        ax.set_yticks(range(T), [f"$L^{{\\langle {t}\\rangle}}$" for t in range(1, T + 1)], fontsize=8)
        ax.set_title("full BPTT (truncate=None)" if k is None else f"truncate={k}")
        ax.set_xlabel("hidden state reached")
    axes[0].set_ylabel("loss at step")
    fig.suptitle("Which hidden states each step's loss sends gradient into")
    plt.tight_layout()
    plt.show()
    """)
    nb.md(r"""
    How much of the gradient does truncation lose? That depends on how far the influence of a state
    reaches, which (notebook 6) is set by the size of $W_{aa}$, measured by its spectral radius $\rho$
    (its largest $|\text{eigenvalue}|$). Below, the same network with $W_{aa}$ rescaled to three
    radii: the relative difference between the truncated and the full $dW_{aa}$ falls fast with $k$
    when $\rho$ is small (a short window loses little), and slowly when it is large — then
    truncation throws away a real part of the gradient. With $k \ge T_x - 1$ nothing is lost.
    """)
    nb.code(r"""
    rng = np.random.default_rng(1)
    a0_demo = rng.standard_normal((n_a, m))
    ks = np.arange(0, T_x - 1)
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    for rho, color in ((0.5, "tab:blue"), (1.0, "tab:purple"), (1.5, "tab:red")):
        scaled = {**params64, "Waa": rnnlib.with_spectral_radius(params64["Waa"], rho)}
        full = rnnlib.bptt(x_demo, y_demo, a0_demo, scaled)[1]["dWaa"]
        gaps = [relative_error(rnnlib.bptt(x_demo, y_demo, a0_demo, scaled, truncate=int(k))[1]["dWaa"], full)
                for k in ks]
        _ = ax.semilogy(ks, gaps, "o-", color=color, label=f"ρ(Waa) = {rho}")
    ax.set(xlabel="truncate = k", ylabel="relerr(dWaa truncated, dWaa full)",
           title=f"What truncation loses (T_x = {T_x})")
    ax.legend(frameon=False)
    plt.show()
    """)
    nb.md(r"""
    ## 11. Exercise: `bptt`, the loss and every gradient

    Put it together: given `x`, labels `y`, `a0` and the parameters, return the loss, the gradients
    `dWaa, dWax, dWya, dba, dby, da0`, and the last hidden state. A straightforward plan:

    1. forward: `rnn_forward` gives `a`, `y_pred` and the caches; the loss is `cross_entropy(y_pred, y)`;
    2. output layer: $do^{\langle t\rangle} = (\hat y^{\langle t\rangle} - Y^{\langle t\rangle})/m$ for softmax
       (and $(\hat y - y)/m$ for sigmoid); accumulate $dW_{ya}$, $db_y$; the upstream gradient is
       `da[:, :, t]` $= W_{ya}^\top do^{\langle t\rangle}$;
    3. hidden states: with `truncate=None` your `rnn_backward(da, caches)` does the rest. With
       `truncate=k`, walk each step's loss back on its own, at most $k$ steps (and into `da0`
       only when the walk reaches $a^{\langle 0\rangle}$), adding up the deltas.

    The reference solution in `rnnlib/bptt.py` is organised differently, for speed (section 12): it
    runs the output layer for **all steps at once** (`output_layer` in `rnnlib/loss.py`), keeps the
    states in one array, and leaves the recurrence to the helper `backward_through_time`. Any
    correct version passes the tests; write the recurrence yourself, that is the point.
    """)
    nb.answer("bptt")
    nb.test(
        "bptt",
        3,
        r'''
    """bptt: keys and shapes; the loss; full-BPTT gradients against centred differences of the loss
    (computed with rnnlib's forward pass and cross_entropy, not with your bptt); and what truncation
    may change (the recurrent gradients) and may not (loss, dWya, dby, a_last)."""
    rng = np.random.default_rng(6)
    n_x, n_a, n_y, m, T_x = 4, 5, 3, 2, 6
    test_params = rnnlib.initialize_parameters(n_a, n_x, n_y, seed=6, scale=0.5)
    test_params["ba"] = 0.3 * rng.standard_normal((n_a, 1))
    x = np.eye(n_x)[rng.integers(0, n_x, (m, T_x))].transpose(2, 0, 1)  # one-hot (n_x, m, T_x)
    a0 = 0.5 * rng.standard_normal((n_a, m))
    cases = {  # (hidden, output) -> targets
        ("tanh", "softmax"): rng.integers(0, n_y, (m, T_x)),
        ("relu", "sigmoid"): rng.integers(0, 2, (n_y, m, T_x)).astype(float),
    }
    shapes = {"dWaa": (n_a, n_a), "dWax": (n_a, n_x), "dWya": (n_y, n_a), "dba": (n_a, 1), "dby": (n_y, 1), "da0": (n_a, m)}
    for (hidden, output), y in cases.items():
        loss, grads, a_last = bptt(x, y, a0, test_params, None, hidden, output)
        missing = set(shapes) - set(grads)
        assert not missing, f"{hidden}/{output}: the gradients lack the keys {sorted(missing)}"
        for key, shape in shapes.items():
            assert np.shape(grads[key]) == shape, f"{key} has shape {np.shape(grads[key])}, expected {shape}"
        a, y_pred, _ = rnn_forward(x, a0, test_params, hidden, output)
        assert np.isclose(loss, cross_entropy(y_pred, y)), (
            f"{hidden}/{output}: loss {loss} but the loss of the forward pass is {cross_entropy(y_pred, y)}: "
            "sum -log ŷ of the true class over the steps and average (not sum) over the m sequences")
        assert np.allclose(a_last, a[:, :, -1]), "a_last must be the last hidden state a<T_x>, shape (n_a, m)"

        def f(a0=a0, **changed):
            return cross_entropy(rnn_forward(x, a0, {**test_params, **changed}, hidden, output)[1], y)

        for name in (*PARAMETER_NAMES, "a0"):
            value = a0 if name == "a0" else test_params[name]
            numeric = rnnlib.numerical_gradient(lambda v: f(**{name: v}), value)
            error = relative_error(grads["d" + name], numeric)
            assert error < 1e-7, (
                f"{hidden}/{output}: d{name} disagrees with centred differences (relative error {error:.1e}). "
                "Check the output gradient (ŷ - y) / m first (dWya, dby), then the recurrence.")
    # truncation: the same loss and output-layer gradients; different recurrent ones; k >= T_x changes nothing
    y = cases[("tanh", "softmax")]
    loss, full, a_last = bptt(x, y, a0, test_params)
    loss0, trunc0, a_last0 = bptt(x, y, a0, test_params, truncate=0)
    assert np.isclose(loss0, loss) and np.allclose(a_last0, a_last), "truncation changes only gradients, never the loss or the states"
    for key in ("dWya", "dby"):
        assert np.allclose(trunc0[key], full[key]), f"{key} must not depend on truncate: the output layer is not recurrent"
    assert not np.allclose(trunc0["dWaa"], full["dWaa"]), "truncate=0 must cut the gradient paths between steps: dWaa should change"
    long = bptt(x, y, a0, test_params, truncate=T_x)[1]
    for key in shapes:
        assert np.allclose(long[key], full[key]), f"truncate={T_x} (>= T_x) must equal full BPTT, but {key} differs"
    print("bptt: loss, shapes and all gradients right (tanh/softmax, relu/sigmoid); truncation behaves")
    ''',
    )
    nb.md(r"""
    ### Your turn: gradient-check your own `bptt` (not graded)

    The test above used rnnlib's tools. Here **your** `numerical_gradient` checks **your** `bptt`,
    on a random problem, next to `rnnlib.gradient_check` (which checks rnnlib's `bptt` the same
    way). Every line should say `ok`. Try other settings: `hidden_activation="relu"`, bigger
    `scale`, or `truncate` (for truncate, `rnnlib.gradient_check` differentiates the surrogate loss
    of section 10; a check against the true loss, like `my_gradient_check`, *should* then fail for
    the recurrent gradients — try it and see which ones).
    """)
    nb.code(r"""
    def my_gradient_check(x, y, a0, parameters, **options):
        # relerr(your bptt, your numerical_gradient of your bptt's loss) for every gradient
        _, grads, _ = bptt(x, y, a0, parameters, **options)
        errors = {}
        for name in PARAMETER_NAMES:
            loss_of = lambda v: bptt(x, y, a0, {**parameters, name: v}, **options)[0]
            errors["d" + name] = relative_error(grads["d" + name], numerical_gradient(loss_of, parameters[name]))
        loss_of_a0 = lambda v: bptt(x, y, v, parameters, **options)[0]
        errors["da0"] = relative_error(grads["da0"], numerical_gradient(loss_of_a0, a0))
        return errors


    rng = np.random.default_rng(7)
    n_x, n_a, m, T_x = 6, 7, 3, 8
    check_params = rnnlib.initialize_parameters(n_a, n_x, n_x, seed=7, scale=0.4)
    x_check = np.eye(n_x)[rng.integers(0, n_x, (m, T_x))].transpose(2, 0, 1)
    y_check = rng.integers(0, n_x, (m, T_x))
    a0_check = rng.standard_normal((n_a, m))

    mine = my_gradient_check(x_check, y_check, a0_check, check_params)
    reference = rnnlib.gradient_check(x_check, y_check, a0_check, check_params)
    for key in mine:
        verdict = lambda e: "ok" if e < 1e-7 else "WRONG"
        print(f"{key:5s}  yours: {verdict(mine[key]):5s}   rnnlib: {verdict(reference[key])}")
    """)
    nb.md(r"""
    ## 12. Why `rnnlib.bptt` runs the output layer once, not $T_x$ times

    Only the recurrence $a^{\langle t-1\rangle}\to a^{\langle t\rangle}$ must run step by step: each step
    needs the previous one. The output layer does not: given all hidden states, the logits of every
    step come from **one** matrix product. Put the states side by side in a matrix
    $H = [a^{\langle 1\rangle}\ a^{\langle 2\rangle} \cdots a^{\langle T_x\rangle}]$ of shape
    $(n_a, T_x m)$; then

    $$
    O = W_{ya}H + b_y \quad (n_y,\ T_x m),
    \qquad dW_{ya} = dO\,H^\top = \sum_t do^{\langle t\rangle}a^{\langle t\rangle\top},
    \qquad dH = W_{ya}^\top dO.
    $$

    The sum over time is *inside* the matrix product $dO\,H^\top$. One large product keeps the BLAS
    library busy and saves $T_x$ round trips through Python (each with rnnlib's argument checks); the
    same trick gives $dW_{aa}$ and $dW_{ax}$ after the recurrence. The larger the vocabulary $n_y$,
    the more of the work sits in the output layer, and the more this pays. `rnnlib.bptt_stepwise` is
    the textbook version (your `rnn_backward` plus a per-step output layer); the two must agree to
    rounding:
    """)
    nb.code(r"""
    rng = np.random.default_rng(0)
    vocab, n_a, m, T_x = 1000, 100, 32, 25  # a word-level vocabulary, say
    big = rnnlib.initialize_parameters(n_a, vocab, vocab, seed=0, scale=0.1)
    ids = rng.integers(0, vocab, size=(m, T_x + 1))
    x_big, y_big, a0_big = ids[:, :-1], ids[:, 1:], np.zeros((n_a, m))

    loss_b, grads_b, _ = rnnlib.bptt(x_big, y_big, a0_big, big)
    loss_s, grads_s, _ = rnnlib.bptt_stepwise(x_big, y_big, a0_big, big)
    print("loss agrees:", np.isclose(loss_b, loss_s, rtol=1e-12))
    for key in grads_b:
        print(f"{key:5s} agrees to 1e-10: {relative_error(grads_b[key], grads_s[key]) < 1e-10}")
    """)
    nb.md(r"""
    And the time they take (this cell's output varies from run to run and machine to machine; on a
    quiet 2-core machine the batched version was about five times faster at this size):
    """)
    nb.code(
        r"""
    import timeit

    for name, fn in (("bptt (batched output layer)", rnnlib.bptt), ("bptt_stepwise", rnnlib.bptt_stepwise)):
        seconds = min(timeit.repeat(lambda: fn(x_big, y_big, a0_big, big), number=2, repeat=3)) / 2
        print(f"{name:28s} {1e3 * seconds:6.2f} ms per call")
    """,
        ignore_output=True,
    )
    nb.md(r"""
    ## Check yourself

    1. An RNN unrolled over $T_x = 50$ steps and a feed-forward network of 50 layers, each
       $n_a \times n_a$. How many hidden-to-hidden weight matrices does each have, and how many terms
       add up to the gradient of each matrix?
    2. A gradient check of your `bptt` reports relative errors `dWya 3e-11, dby 2e-11, dWaa 0.4,
       dWax 0.4, dba 0.4, da0 0.5`. Where do you look for the bug?
    3. You change $\varepsilon$ in a float64 gradient check from $10^{-5}$ to $10^{-9}$, and every
       relative error rises from about $10^{-10}$ to about $10^{-6}$. Is your gradient wrong?
    4. With `truncate=0`, which results of `bptt` are the same as with full BPTT? With $T_x = 1$?

    <details><summary><b>Answers</b> (click)</summary>

    1. The feed-forward network has 50 matrices, and each one's gradient is a single term
       $dz^{[\ell]}a^{[\ell-1]\top}$. The RNN has one, $W_{aa}$, and its gradient is the sum of 50
       terms, one per step.
    2. The output layer is right (its gradients pass); everything that goes through the delta
       $dz^{\langle t\rangle}$ is wrong. Look at the recurrence: is $W_{aa}^\top dz^{\langle t+1\rangle}$
       added to the upstream gradient, is $g_1'$ right, and is it taken from the right step's state?
    3. Probably not: with $\varepsilon = 10^{-9}$ the rounding error, about $u/\varepsilon \approx 10^{-7}$
       relative to the loss, dominates (the left side of the V in section 9). Go back to $10^{-5}$.
    4. The loss, `a_last`, `dWya` and `dby`: truncation only cuts the paths between steps. With
       $T_x = 1$ also `dWaa`, `dWax` and `dba`; only `da0` differs: $a^{\langle 0\rangle}$ is one step
       further back than $k = 0$ allows, so the truncated `da0` is zero.
    </details>
    """)
    nb.md(r"""
    ## Summary

    - The output layer's gradient is $do^{\langle t\rangle} = (\hat y^{\langle t\rangle} - y^{\langle t\rangle})/m$;
      it gives $dW_{ya}$, $db_y$ and the upstream gradient $W_{ya}^\top do^{\langle t\rangle}$ on $a^{\langle t\rangle}$.
    - The delta runs backwards: $dz^{\langle t\rangle} = (da^{\langle t\rangle} + W_{aa}^\top dz^{\langle t+1\rangle})\odot g_1'(z^{\langle t\rangle})$.
    - Shared weights get the **sum** of every step's contribution: $dW_{aa} = \sum_t dz^{\langle t\rangle}a^{\langle t-1\rangle\top}$, and likewise $dW_{ax}$, $db_a$.
    - In the literature: $U = W_{ax}$, $W = W_{aa}$, $V = W_{ya}$, $s = a$.
    - Check gradients with centred differences in float64, $\varepsilon = 10^{-5}$, relative error below $10^{-7}$.
    - `truncate=k` lets each loss reach only the last $k$ states before it; it changes the recurrent gradients only.

    The finished code: **`rnnlib/bptt.py`** (`rnn_cell_backward`, `rnn_backward`,
    `numerical_gradient`, `relative_error`, `gradient_check`, `bptt`, `bptt_stepwise`).
    Next, notebook 5 uses `bptt` to train a model on real names.
    """)
    return nb


# ---------------------------------------------------------------------------------------------
# 05 · Training
# ---------------------------------------------------------------------------------------------


def notebook_05() -> Notebook:
    nb = Notebook(BUILDER)
    nb.md(r"""
    # 5. Training a character-level language model

    You now have every gradient. In this notebook an RNN learns to **write first names**: it reads
    a name one character at a time and, at each step, predicts the next character. Trained on the
    US census list of first names, it invents new ones.

    **After this notebook you will be able to**

    - turn a text into training pairs $(x, y)$ with $y^{\langle t\rangle} = x^{\langle t+1\rangle}$;
    - take a step of **stochastic gradient descent** and say what the learning rate does;
    - **clip** gradients by their global norm, and say how that differs from clipping each entry;
    - read a **loss curve** and its **perplexity**;
    - **sample** text from a trained model at different **temperatures**.

    You will write `sgd_step`, `clip_by_global_norm` and `sample`. The finished code lives in
    **`rnnlib/training.py`**; the training loop and the model around it in `rnnlib/charmodel.py`.
    """)
    nb.setup(
        """
    import matplotlib.pyplot as plt
    import numpy as np

    import rnnlib
    from rnnlib import PARAMETER_NAMES, CharModel, Vocabulary, bptt, load_corpus, perplexity, rnn_cell_forward, softmax
    from rnnlib.charmodel import batches
    """,
        ["sgd_step", "clip_by_global_norm", "sample"],
    )
    nb.md(r"""
    ## 1. The corpus: real names, 27 characters

    `rnnlib.load_corpus("names")` reads the first-name lists of the US census that ship inside
    the PyPI package `names` (installed with rnnlib; nothing is downloaded). One name per line, lower
    case. The vocabulary is the 26 letters plus the newline `"\n"`, which marks the **end of a
    name**: the model learns when to stop, too.
    """)
    nb.code(r"""
    text = load_corpus("names")
    vocab = Vocabulary.from_text(text)
    names_list = text.split()
    print(f"{len(names_list):,} names, {len(text):,} characters, vocabulary of {vocab.size}:")
    print(repr("".join(vocab.chars)))
    print("the first ten:", ", ".join(names_list[:10]))
    lengths = np.array([len(n) for n in names_list])
    print(f"name length: mean {lengths.mean():.1f}, longest {lengths.max()}")
    """)
    nb.md(r"""
    A training example is a window of $T_x + 1$ consecutive characters from anywhere in the text:
    the input $x$ is its first $T_x$ characters and the label $y$ the same window shifted by one, so
    at every step the target is **the next character**, $y^{\langle t\rangle} = x^{\langle t+1\rangle}$.
    Both are token ids of shape $(m, T_x)$; rnnlib never builds the one-hot matrices (notebook 2).
    A window may run across several names, newlines included:
    """)
    nb.code(r"""
    x_ids, y_ids = next(batches(vocab.encode(text), m=3, T_x=25, rng=np.random.default_rng(0)))
    print("x shape", x_ids.shape, " y shape", y_ids.shape)
    for xi, yi in zip(x_ids, y_ids):
        print("x:", repr(vocab.decode(xi)))
        print("y:", repr(vocab.decode(yi)))
    """)
    nb.md(r"""
    **Where the loss starts.** An untrained network (tiny weights) predicts nearly the uniform
    distribution, $\hat y_i \approx 1/27$, so its loss per character is $\ln 27 \approx 3.30$ and over
    a window $T_x \ln 27$. A model that has learned something must get below that. The **perplexity**

    $$
    \operatorname{perplexity} = \exp\!\left(\frac{L}{T_x}\right)
    $$

    translates a per-character loss back into "the model is as unsure as if it chose uniformly among
    this many characters": 27 at the start; a perfect model would reach 1.
    """)
    nb.code(r"""
    n_a, T_x, m = 64, 25, 32
    untrained = rnnlib.initialize_parameters(n_a, vocab.size, vocab.size, seed=0)
    x_ids, y_ids = next(batches(vocab.encode(text), m, T_x, np.random.default_rng(1)))
    loss0, _, _ = bptt(x_ids, y_ids, np.zeros((n_a, m)), untrained)
    print(f"untrained: loss per character {loss0 / T_x:.3f} (ln 27 = {np.log(27):.3f}), "
          f"perplexity {perplexity(loss0, T_x):.2f}")
    """)
    nb.md(r"""
    ## 2. Exercise: a step of gradient descent (`sgd_step`)

    The gradient points to where the loss grows fastest; a small step the other way lowers it.
    For every parameter $\theta \in \{W_{aa}, W_{ax}, W_{ya}, b_a, b_y\}$,

    $$
    \theta \leftarrow \theta - \eta\, d\theta ,
    $$

    with the **learning rate** $\eta > 0$. It is *stochastic* gradient descent because each $d\theta$
    comes from a small random minibatch of windows, a noisy but cheap estimate of the gradient over
    the whole corpus. Too small an $\eta$ and learning crawls; too large and the loss jumps around
    or blows up.

    Return a **new** dict; do not change the caller's arrays in place (`theta - eta * dtheta`
    makes a new array, `theta -= ...` would overwrite the caller's). Extra entries of `gradients`
    (like `da0`) are ignored.
    """)
    nb.answer("sgd_step")
    nb.test(
        "sgd_step",
        1,
        r'''
    """sgd_step: θ - η dθ for each of the five parameters, returned as a new dict; inputs unchanged."""
    rng = np.random.default_rng(8)
    test_params = rnnlib.initialize_parameters(3, 4, 2, seed=8, scale=1.0)
    test_grads = {"d" + k: rng.standard_normal(v.shape) for k, v in test_params.items()}
    test_grads["da0"] = rng.standard_normal((3, 2))
    before = {k: v.copy() for k, v in test_params.items()}
    updated = sgd_step(test_params, test_grads, 0.1)
    assert isinstance(updated, dict), f"return a dict of parameters, got {type(updated).__name__}"
    assert set(updated) == set(PARAMETER_NAMES), f"return exactly the keys {PARAMETER_NAMES}, got {sorted(updated)}"
    for k in PARAMETER_NAMES:
        assert np.shape(updated[k]) == before[k].shape, f"{k}: shape {np.shape(updated[k])}, expected {before[k].shape}"
        assert np.allclose(updated[k], before[k] - 0.1 * test_grads["d" + k]), \
            f"the new {k} must be {k} - learning_rate * d{k} (a minus sign: descend)"
        assert np.array_equal(test_params[k], before[k]), \
            f"sgd_step changed parameters[{k!r}] in place: compute a new array (θ - η dθ) instead of θ -= η dθ"
    print("sgd_step: θ - η dθ for all five parameters, inputs untouched")
    ''',
    )
    nb.md(r"""
    ## 3. Gradient clipping

    In notebook 6 you will see that RNN gradients can **explode**: a few unlucky steps produce a
    gradient thousands of times larger than usual, and one SGD step with it throws the parameters far
    away from everything learned so far. The standard defence caps the gradient's size before the step.
    Two ways to do it, with a threshold $c$:

    - **by global norm**: take the norm of *all* parameter gradients together,
      $\lVert g\rVert = \sqrt{\sum_{\theta} \lVert d\theta\rVert_F^2}$, and if it exceeds $c$, shrink every
      gradient by the same factor:
      $$ d\theta \leftarrow d\theta \cdot \min\!\left(1, \frac{c}{\lVert g\rVert}\right). $$
      The **direction** of the step is kept; only its length is capped at $c$.
    - **element-wise** (by value): $d\theta_i \leftarrow \min(\max(d\theta_i, -c), c)$ for each entry.
      Simple, but it **changes the direction**: large entries are cut while small ones are kept.

    The picture shows both on 2-D gradient vectors (each the whole gradient of a model with two
    numbers), using rnnlib's `clip_by_global_norm` and `clip_by_value`. The global-norm versions
    stay on their arrows; the element-wise ones are pushed to the square's edge and turn.
    """)
    nb.code(r"""
    def as_gradients(v):
        # a 2-D vector as the gradient dict of a toy model whose only parameter is dWaa = v
        empty = np.zeros((0, 0))
        return {"dWaa": np.array(v, dtype=float).reshape(1, 2), "dWax": empty, "dWya": empty,
                "dba": empty, "dby": empty}


    c = 1.0
    vectors = [(2.2, 0.6), (0.4, -2.6), (-1.6, 1.4), (0.5, 0.4)]
    fig, ax = plt.subplots(figsize=(5.6, 5.6))
    ax.add_patch(plt.Circle((0, 0), c, fill=False, color="tab:blue", ls="--"))
    ax.add_patch(plt.Rectangle((-c, -c), 2 * c, 2 * c, fill=False, color="tab:orange", ls="--"))
    for v in vectors:
        by_norm = rnnlib.clip_by_global_norm(as_gradients(v), c)["dWaa"].ravel()
        by_value = rnnlib.clip_by_value(as_gradients(v), c)["dWaa"].ravel()
        ax.annotate("", xy=v, xytext=(0, 0), arrowprops=dict(arrowstyle="-|>", color="0.6", lw=1.2))
        ax.annotate("", xy=by_norm, xytext=(0, 0), arrowprops=dict(arrowstyle="-|>", color="tab:blue", lw=2.2))
        ax.annotate("", xy=by_value, xytext=(0, 0), arrowprops=dict(arrowstyle="-|>", color="tab:orange", lw=2.2))
    ax.plot([], [], color="0.6", label="gradient")
    ax.plot([], [], color="tab:blue", lw=2, label=f"clip by global norm (circle, c = {c})")
    ax.plot([], [], color="tab:orange", lw=2, label=f"clip element-wise (square, c = {c})")
    ax.legend(loc="lower left", fontsize=9, frameon=False)
    ax.set(xlim=(-2.9, 2.9), ylim=(-2.9, 2.9), aspect="equal", title="Clipping a 2-D gradient")
    ax.axhline(0, color="0.85", lw=0.8)
    ax.axvline(0, color="0.85", lw=0.8)
    plt.show()
    """)
    nb.md(r"""
    ## 4. Exercise: `clip_by_global_norm`

    Compute $\lVert g\rVert$ over the five parameter gradients `dWaa, dWax, dWya, dba, dby` together
    (not each one on its own), then scale all five by $\min(1, c/\lVert g\rVert)$. Other entries of the
    dict, such as `da0`, are not parameter gradients: leave them out of the norm and pass them through
    unchanged. Return a new dict, and do not divide by zero when every gradient is zero.
    """)
    nb.answer("clip_by_global_norm")
    nb.test(
        "clip_by_global_norm",
        2,
        r'''
    """clip_by_global_norm: small gradients pass unchanged; large ones are scaled, all by one factor,
    to global norm max_norm (direction kept); da0 is neither counted nor scaled; zeros give no NaN."""
    rng = np.random.default_rng(9)
    shapes = {"dWaa": (4, 4), "dWax": (4, 3), "dWya": (3, 4), "dba": (4, 1), "dby": (3, 1)}
    test_grads = {k: rng.standard_normal(s) for k, s in shapes.items()}
    test_grads["da0"] = 100 * rng.standard_normal((4, 2))
    before = {k: v.copy() for k, v in test_grads.items()}
    norm = np.sqrt(sum(np.sum(test_grads[k] ** 2) for k in shapes))

    same = clip_by_global_norm(test_grads, max_norm=2 * norm)
    assert isinstance(same, dict), f"return a dict, got {type(same).__name__}"
    for k in shapes:
        assert np.allclose(same[k], before[k]), f"the global norm is below max_norm: {k} must come back unchanged"

    clipped = clip_by_global_norm(test_grads, max_norm=norm / 4)
    new_norm = np.sqrt(sum(np.sum(clipped[k] ** 2) for k in shapes))
    per_array = [np.linalg.norm(clipped[k]) for k in shapes]
    assert not np.allclose(per_array, norm / 4), \
        "each gradient was clipped to norm max_norm on its own: use ONE norm over all five gradients together"
    assert np.isclose(new_norm, norm / 4), f"after clipping the global norm must be max_norm = {norm / 4:.4f}, got {new_norm:.4f}"
    for k in shapes:
        assert np.allclose(clipped[k], before[k] / 4), \
            f"{k}: every gradient is scaled by the same factor max_norm / ‖g‖ (here 1/4), keeping the direction"
    assert "da0" in clipped and np.allclose(clipped["da0"], before["da0"]), \
        "da0 is not a parameter gradient: pass it through unchanged and leave it out of the norm"
    for k in before:
        assert np.array_equal(test_grads[k], before[k]), f"clip_by_global_norm changed gradients[{k!r}] in place"

    zeros = clip_by_global_norm({k: np.zeros(s) for k, s in shapes.items()}, 1.0)
    assert all(np.all(np.isfinite(zeros[k])) for k in shapes), "all-zero gradients must stay zero (no 0/0 NaN)"
    print("clip_by_global_norm: one global norm, one factor, direction kept, da0 untouched")
    ''',
    )
    nb.md(r"""
    ## 5. Exercise: sampling (`sample`)

    A trained model gives, at each step, a probability for every next character. To generate text,
    **draw** one, feed it back as the next input, and repeat. The **temperature** $\tau$ divides the
    logits before the softmax:

    $$
    p = \operatorname{softmax}\!\left(\frac{o^{\langle t\rangle}}{\tau}\right),
    \qquad x^{\langle t+1\rangle} \sim p .
    $$

    $\tau = 1$ samples the model as it is; $\tau < 1$ sharpens the distribution towards the most likely
    characters (safer, more repetitive text; $\tau \to 0$ always picks the argmax); $\tau > 1$ flattens
    it (more surprising, more misspelled). The figure shows one distribution at three temperatures.
    """)
    nb.code(r"""
    logits = np.array([2.0, 1.2, 0.8, 0.1, -0.5, -1.0])
    fig, axes = plt.subplots(1, 3, figsize=(11, 2.8), sharey=True)
    for ax, tau in zip(axes, (0.5, 1.0, 2.0)):
        _ = ax.bar(range(len(logits)), softmax(logits / tau), color="tab:blue")
        ax.set(title=f"τ = {tau}", xlabel="token")
    axes[0].set_ylabel("probability")
    fig.suptitle("softmax(o / τ): low temperature sharpens, high temperature flattens", y=1.04)
    plt.show()
    """)
    nb.md(r"""
    **How to draw** (this exact recipe makes a seed reproduce a sample, and is what the tests
    expect): make one generator `rng = np.random.default_rng(seed)`; at every step draw one uniform
    number `u = rng.random()` and pick the first token whose cumulative probability exceeds
    `u · Σp`:

    $$
    x^{\langle t+1\rangle} = \min\Big\{\, i : \textstyle\sum_{k \le i} p_k > u\sum_k p_k \Big\}
    $$

    (`np.searchsorted(np.cumsum(p), u * p.sum(), side="right")` does it; guard against the index
    `len(p)` that rounding can produce). This is **inverse-transform sampling**: the interval $[0, 1)$ is
    cut into pieces of lengths $p_0, p_1, \dots$ and the piece $u$ falls in is the token.

    The loop, from $a^{\langle 0\rangle} = 0$ and the input `start_id`:
    $a \leftarrow g_1(W_{aa}a + W_{ax}x + b_a)$ (with a token id, $W_{ax}x$ is the column `Wax[:, [token]]`),
    $p = \operatorname{softmax}((W_{ya}a + b_y)/\tau)$, draw the next token, stop after `length` tokens or
    when the drawn token is `stop_id` (which is not included), and feed the token back as the input.
    Return the drawn ids as a list of ints.
    """)
    nb.answer("sample")
    nb.test(
        "sample",
        2,
        r'''
    """sample: a list of at most `length` ids in range; the same seed gives the same sample;
    stop_id ends it (not included); a tiny temperature follows the argmax of the model."""
    n_v, n_h = 6, 8
    test_params = rnnlib.initialize_parameters(n_h, n_v, n_v, seed=0, scale=1.0)
    drawn = sample(test_params, start_id=0, length=20, temperature=1.0, seed=5)
    assert isinstance(drawn, list), f"return a list of token ids, got {type(drawn).__name__}"
    assert len(drawn) == 20, f"without stop_id draw exactly `length` = 20 tokens, got {len(drawn)}"
    assert all(isinstance(t, (int, np.integer)) and 0 <= t < n_v for t in drawn), f"token ids must be ints in [0, {n_v}): {drawn}"
    assert sample(test_params, 0, 20, 1.0, seed=5) == drawn, "the same seed must give the same sample: make one rng from the seed"
    assert len({tuple(sample(test_params, 0, 20, 1.0, seed=s)) for s in range(5)}) > 1, "different seeds should give different samples"

    stop = drawn[3]
    stopped = sample(test_params, 0, 20, 1.0, seed=5, stop_id=stop)
    assert stop not in stopped, f"stop_id {stop} must end the sample and not be included: {stopped}"
    assert stopped == drawn[: drawn.index(stop)], \
        "with stop_id the same seed must draw the same tokens up to the first stop_id (one rng.random() per step)"

    # tiny temperature: the most likely token every step (the model run one step at a time with rnnlib)
    a_t, token, greedy = np.zeros((n_h, 1)), 0, []
    for _ in range(10):
        a_t, probs, _ = rnn_cell_forward(np.array([token]), a_t, test_params)
        token = int(np.argmax(probs))
        greedy.append(token)
    cold = sample(test_params, 0, 10, temperature=1e-3, seed=0)
    assert cold == greedy, (f"at temperature 1e-3 the sample should be the argmax path {greedy}, got {cold}: "
                            "divide the logits by τ, and feed each drawn token back as the next input")
    print("sample: ids in range, reproducible, stops at stop_id, follows the argmax when cold")
    ''',
    )
    nb.md(r"""
    ## 6. Training

    One training step: draw a minibatch of windows, run `bptt` for the loss and the gradients, clip
    them, take an SGD step. Here is that loop with **your** `sgd_step` and `clip_by_global_norm`, for
    100 steps (every batch starts from $a^{\langle 0\rangle} = 0$):
    """)
    nb.code(r"""
    params = rnnlib.initialize_parameters(n_a, vocab.size, vocab.size, seed=0)
    stream = batches(vocab.encode(text), m, T_x, np.random.default_rng(1))
    a0 = np.zeros((n_a, m))
    my_losses = []
    for step in range(100):
        x_ids, y_ids = next(stream)
        loss, grads, _ = bptt(x_ids, y_ids, a0, params)
        grads = clip_by_global_norm(grads, max_norm=5.0)
        params = sgd_step(params, grads, learning_rate=0.1)
        my_losses.append(loss / T_x)
    print(f"loss per character: {np.mean(my_losses[:10]):.2f} over the first 10 steps, "
          f"{np.mean(my_losses[-10:]):.2f} over the last 10")
    """)
    nb.md(r"""
    `rnnlib.train_char_model` is this loop (with rnnlib's `sgd_step` and `clip_by_global_norm`),
    wrapped with a vocabulary and a loss history in a `CharModel`. We train for 400 steps: a few
    seconds, $400 \times 32$ windows of 25 characters, that is about nine passes over the corpus's
    36,000 characters.
    """)
    nb.code(r"""
    model = rnnlib.train_char_model(text, steps=400, n_a=n_a, T_x=T_x, m=m, learning_rate=0.1, max_norm=5.0, seed=0)
    per_char = np.array(model.losses) / T_x
    print(f"loss per character: {per_char[:10].mean():.2f} at the start, {per_char[-50:].mean():.2f} over the last 50 steps")
    """)
    nb.md(r"""
    ## 7. The loss curve and the perplexity

    Each minibatch is different, so the per-step loss is noisy; a moving average shows the trend.
    The loss starts at $\ln 27$ and falls fast at first (the model learns which letters are common,
    then which follow which), then more slowly. The perplexity on the right is the same curve through
    $\exp$: it falls from 27 to about 9 — the model now hesitates between roughly nine characters
    instead of 27.
    """)
    nb.code(r"""
    window = 20
    smooth = np.convolve(per_char, np.ones(window) / window, mode="valid")
    steps = np.arange(len(per_char))
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(11, 3.8))
    _ = ax1.plot(steps, per_char, color="0.75", lw=0.8, label="per step")
    _ = ax1.plot(steps[window - 1 :], smooth, color="tab:blue", label=f"moving average of {window}")
    ax1.axhline(np.log(vocab.size), color="tab:red", ls="--", lw=1, label=f"uniform guess: ln {vocab.size}")
    ax1.set(xlabel="SGD step", ylabel="loss per character (nats)", title="Training loss")
    ax1.legend(frameon=False)
    _ = ax2.plot(steps[window - 1 :], np.exp(smooth), color="tab:green")
    ax2.axhline(vocab.size, color="tab:red", ls="--", lw=1)
    ax2.set(xlabel="SGD step", ylabel="perplexity", title="Perplexity = exp(loss per character)")
    plt.tight_layout()
    plt.show()
    """)
    nb.md(r"""
    ## 8. Samples before and after training

    The untrained model (the same architecture with its initial weights) produces letter soup of any
    length, and the *same* soup at both temperatures: its logits are all nearly 0, and a uniform
    distribution stays uniform whatever you divide the logits by (the same seed then draws the same
    characters). The trained one produces name-shaped strings that end. At $\tau = 0.5$ the samples are
    more conventional, at $\tau = 1$ more varied and more often odd. (`CharModel.sample` calls
    `rnnlib.sample`, starting after a newline and stopping at the next one.)
    """)
    nb.code(r"""
    before = CharModel(rnnlib.initialize_parameters(n_a, vocab.size, vocab.size, seed=0), vocab)
    for label, which in (("before training", before), ("after 400 steps", model)):
        for tau in (0.5, 1.0):
            drawn = [which.sample(length=20, temperature=tau, seed=s) or "(empty)" for s in range(8)]
            print(f"{label}, τ = {tau}: {', '.join(drawn)}")
    """)
    nb.md(r"""
    ## 9. Train longer

    400 steps is a demonstration. The command line trains the same model for as long as you like,
    with a progress bar showing loss and perplexity, and saves it:

    ```bash
    python -m rnnlib train --steps 5000 --save names.npz       # a few tens of seconds
    python -m rnnlib sample names.npz --temperature 0.7 -n 10
    ```

    `--hidden`, `--lr`, `--clip`, `--seq-len`, `--batch` change $n_a$, $\eta$, $c$, $T_x$, $m$;
    `--resume names.npz` continues a run; the same `--seed` reproduces a run exactly. Things to try:
    a learning rate of 1.0 (watch the loss), clipping off (`--clip 1e9`), `--activation relu`.
    In the notebook, `rnnlib.train_char_model(text, steps=..., model=model)` continues training `model`.

    ## Check yourself

    1. After training, the loss per character is 2.2. What is the perplexity? What is the loss of
       a window of $T_x = 25$ characters?
    2. A model's whole gradient is the vector $(3, 4)$ and $c = 1$. What does clipping by global norm
       give? Element-wise clipping?
    3. What does `sample` produce as $\tau \to \infty$? As $\tau \to 0$?
    4. A classmate's loss curve starts at 82 with $T_x = 25$ and 27 characters. Is that a problem?

    <details><summary><b>Answers</b> (click)</summary>

    1. $e^{2.2} \approx 9.0$; $25 \times 2.2 = 55$.
    2. Global norm: $\lVert g\rVert = 5$, so $(3, 4)/5 = (0.6, 0.8)$, the same direction. Element-wise:
       $(1, 1)$, which points at 45° instead of 53°.
    3. $\tau \to \infty$: every character equally likely, letter soup. $\tau \to 0$: always the most likely
       character, so from a given start the same name every time (often a loop such as "anananan").
    4. Yes: $25 \ln 27 \approx 82.4$ is the loss of a uniform guess, so the start is right; a start far
       above it would mean weights initialised too large (confident and wrong), far below it a bug.
    </details>

    ## Summary

    - Training pairs: windows of text, $y^{\langle t\rangle} = x^{\langle t+1\rangle}$; the loss starts at $T_x\ln 27$.
    - SGD: $\theta \leftarrow \theta - \eta\,d\theta$ on a minibatch gradient.
    - Clipping by global norm caps the step's length and keeps its direction; element-wise clipping changes the direction.
    - Perplexity $= \exp(L/T_x)$: 27 for a uniform guess, falling as the model learns.
    - Sampling: $x^{\langle t+1\rangle}\sim\operatorname{softmax}(o^{\langle t\rangle}/\tau)$ fed back as input; $\tau$ trades safety for variety.

    The finished code: **`rnnlib/training.py`** (`sgd_step`, `clip_by_global_norm`,
    `clip_by_value`, `sample`, `perplexity`, `initialize_parameters`) and **`rnnlib/charmodel.py`**
    (`train_char_model`, `CharModel`). Notebook 6 looks at why clipping is needed, and what it
    cannot fix.
    """)
    return nb


# ---------------------------------------------------------------------------------------------
# 06 · Vanishing and exploding gradients
# ---------------------------------------------------------------------------------------------


def notebook_06() -> Notebook:
    nb = Notebook(BUILDER)
    nb.md(r"""
    # 6. Vanishing and exploding gradients

    The names model of notebook 5 learned which letters follow which, but a vanilla RNN is
    notoriously bad at anything that depends on an input **many steps back**. The reason is in the
    backward pass of notebook 4: the gradient that reaches an early step has been multiplied by the
    same matrix over and over, and so it either **vanishes** or **explodes** — exponentially in the
    distance.

    **After this notebook you will be able to**

    - write $\partial L^{\langle T\rangle}/\partial a^{\langle t\rangle}$ as a product of Jacobians and
      explain the factor $\rho^{\,T-t}$;
    - measure the norm of that gradient against the distance $T - t$ (your `backprop_norms`), for
      tanh and ReLU and for spectral radii of $W_{aa}$ below and above 1;
    - say what gradient clipping fixes (exploding) and what it cannot fix (vanishing), and show it;
    - explain in one sentence why gated cells (LSTM, GRU) help.

    The finished code lives in **`rnnlib/vanishing.py`**.
    """)
    nb.setup(
        """
    import matplotlib.pyplot as plt
    import numpy as np

    import rnnlib
    from rnnlib import Vocabulary, bptt, clip_by_global_norm, load_corpus, rnn_forward, sgd_step, with_spectral_radius
    from rnnlib.charmodel import batches
    """,
        ["backprop_norms"],
    )
    nb.md(r"""
    ## 1. A product of Jacobians

    Take the loss at the last step only, $L^{\langle T\rangle}$, and ask how it depends on an earlier
    state $a^{\langle t\rangle}$. The only way $a^{\langle t\rangle}$ reaches $L^{\langle T\rangle}$ is
    through $a^{\langle t+1\rangle}, \dots, a^{\langle T\rangle}$, and each step contributes the Jacobian of
    $a^{\langle s\rangle} = g_1(W_{aa}a^{\langle s-1\rangle} + W_{ax}x^{\langle s\rangle} + b_a)$:

    $$
    J^{\langle s\rangle} = \frac{\partial a^{\langle s\rangle}}{\partial a^{\langle s-1\rangle}}
    = \operatorname{diag}\!\left(g_1'(z^{\langle s\rangle})\right) W_{aa},
    \qquad
    \frac{\partial L^{\langle T\rangle}}{\partial a^{\langle t\rangle}}
    = J^{\langle t+1\rangle\top} J^{\langle t+2\rangle\top}\cdots J^{\langle T\rangle\top}\,
      \frac{\partial L^{\langle T\rangle}}{\partial a^{\langle T\rangle}} .
    $$

    Computed from the right, one factor at a time, this is the delta recurrence of notebook 4 without
    the per-step losses:

    $$
    \delta^{\langle t-1\rangle} = W_{aa}^\top\left(\delta^{\langle t\rangle}\odot g_1'(z^{\langle t\rangle})\right),
    \qquad \delta^{\langle t\rangle} = \frac{\partial L^{\langle T\rangle}}{\partial a^{\langle t\rangle}} .
    $$

    Each factor can stretch or shrink the vector; there are $T - t$ of them. With
    $\gamma = \max|g_1'|$ ($\gamma = 1$ for both tanh and ReLU) and the spectral norm $\lVert W_{aa}\rVert_2$,

    $$
    \left\lVert \frac{\partial L^{\langle T\rangle}}{\partial a^{\langle t\rangle}} \right\rVert
    \le \left(\gamma\,\lVert W_{aa}\rVert_2\right)^{T-t}
    \left\lVert \frac{\partial L^{\langle T\rangle}}{\partial a^{\langle T\rangle}} \right\rVert .
    $$

    So if $\lVert W_{aa}\rVert_2 < 1$ the gradient **must vanish** exponentially with the distance
    (Pascanu, Mikolov and Bengio, 2013, *On the difficulty of training recurrent neural networks*).
    Growth needs large eigenvalues: in the linear skeleton ($g_1' = 1$) the product is
    $(W_{aa}^\top)^{T-t}$, whose size, after a few steps, grows or shrinks like $\rho^{\,T-t}$, where
    $\rho = \max_i|\lambda_i(W_{aa})|$ is the **spectral radius** (and $\rho \le \lVert W_{aa}\rVert_2$).
    For $\rho > 1$ it **explodes**, for $\rho < 1$ it vanishes. Only at $\rho = 1$ exactly would
    the gradient keep its size, and nothing holds $W_{aa}$ there during training.

    The linear skeleton, measured: a random $W_{aa}$ rescaled to several spectral radii with
    `rnnlib.with_spectral_radius`, applied $d$ times to a random vector. After a few steps every curve
    is a straight line on the log scale with slope $\log\rho$ (the dashed lines are $\rho^d$).
    """)
    nb.code(r"""
    rng = np.random.default_rng(0)
    n_a = 32
    W = rng.standard_normal((n_a, n_a)) / np.sqrt(n_a)
    v = rng.standard_normal(n_a)
    radii = (0.5, 0.9, 1.0, 1.1, 1.5)
    colors = ("tab:blue", "tab:cyan", "0.3", "tab:orange", "tab:red")
    distances = np.arange(40)
    fig, ax = plt.subplots(figsize=(6.5, 4))
    for rho, color in zip(radii, colors):
        Wt = with_spectral_radius(W, rho).T
        norms, u = [], v.copy()
        for _ in distances:
            norms.append(np.linalg.norm(u))
            u = Wt @ u
        _ = ax.semilogy(distances, np.array(norms) / norms[0], color=color, label=f"ρ = {rho}")
        _ = ax.semilogy(distances, rho ** distances.astype(float), color=color, ls="--", lw=0.8)
    ax.set(xlabel="distance d = T - t", ylabel="‖(Waaᵀ)ᵈ v‖ / ‖v‖", title="The linear skeleton: growth ρᵈ")
    ax.legend(frameon=False)
    plt.show()
    """)
    nb.md(r"""
    ## 2. Exercise: `backprop_norms`

    Now with the nonlinearity. Given the gradient `da_next` $= \partial L^{\langle T\rangle}/\partial a^{\langle T\rangle}$
    (shape $(n_a, m)$) and the caches of `rnn_forward`, return the array `norms` of shape $(T_x,)$ with

    $$
    \texttt{norms}[d] = \left\lVert \frac{\partial L^{\langle T\rangle}}{\partial a^{\langle T-d\rangle}} \right\rVert_F,
    \qquad d = 0, 1, \dots, T_x - 1,
    $$

    the Frobenius norm over the whole $(n_a, m)$ array (`np.linalg.norm` of a 2-D array is exactly that).
    So `norms[0]` is the norm of `da_next` itself. Walk the caches from the **last** to the first:
    record the current norm, then apply $\delta \leftarrow W_{aa}^\top(\delta \odot g_1'(z))$ with that
    step's `a_next` (a cache is `(a_next, a_prev, xt, parameters, hidden_activation)`).
    """)
    nb.answer("backprop_norms")
    nb.test(
        "backprop_norms",
        2,
        r'''
    """backprop_norms: shape and first entry; a known answer (ReLU with every unit active and
    Waa = 0.5·I: each step back halves the norm); Waaᵀ rather than Waa; the tanh bound ‖Waa‖₂ per step."""
    rng = np.random.default_rng(10)
    n_a, n_x, m, T_x = 4, 3, 2, 7
    x = rng.standard_normal((n_x, m, T_x))
    halving = {"Waa": 0.5 * np.eye(n_a), "Wax": np.zeros((n_a, n_x)), "Wya": np.zeros((2, n_a)),
               "ba": np.ones((n_a, 1)), "by": np.zeros((2, 1))}  # z > 0 everywhere: every relu unit is active
    _, _, caches = rnn_forward(x, np.ones((n_a, m)), halving, "relu")
    da_next = rng.standard_normal((n_a, m))
    norms = backprop_norms(da_next, caches)
    assert isinstance(norms, np.ndarray), f"return a numpy array, got {type(norms).__name__}"
    assert norms.shape == (T_x,), f"one norm per step: expected shape ({T_x},), got {norms.shape}"
    assert np.isclose(norms[0], np.linalg.norm(da_next)), \
        "norms[0] is the (Frobenius) norm of da_next itself: distance 0, before any step back"
    expected = np.linalg.norm(da_next) * 0.5 ** np.arange(T_x)
    assert np.allclose(norms, expected), (f"with Waa = 0.5·I and every relu unit active each step back halves the "
                                          f"norm: expected {np.round(expected, 4)}, got {np.round(norms, 4)}")

    saturated = {**halving, "ba": 3 * np.ones((n_a, 1))}  # tanh(z) with z > 3: tanh'(z) = 1 - a² is tiny
    a, _, caches = rnn_forward(x, np.ones((n_a, m)), saturated, "tanh")
    a_t = a[0, 0, ::-1]  # every unit and example has the same state here (Wax = 0): a<T>, a<T-1>, ...
    gains = 0.5 * (1 - a_t**2)  # one step back from a<t>: Waa = 0.5·I times tanh'(z<t>)
    expected = np.linalg.norm(da_next) * np.concatenate([[1.0], np.cumprod(gains[:-1])])
    norms = backprop_norms(da_next, caches)
    assert np.allclose(norms, expected, rtol=1e-7, atol=0), (
        "saturated tanh units (a ≈ 1) pass almost no gradient back: multiply δ by g1'(z) = 1 - a_next² "
        f"(from each step's cache) before Waaᵀ; expected {expected[:3]}..., got {norms[:3]}...")

    shift = {**halving, "Waa": np.array([[0.0, 1.0], [0.0, 0.0]]), "Wax": np.zeros((2, n_x)),
             "Wya": np.zeros((2, 2)), "ba": np.ones((2, 1))}
    _, _, caches = rnn_forward(x[:, :1, :], np.ones((2, 1)), shift, "relu")
    norms = backprop_norms(np.array([[1.0], [0.0]]), caches)
    assert np.allclose(norms[:3], [1.0, 1.0, 0.0]), \
        f"the gradient flows back through Waaᵀ (transpose), not Waa: expected norms [1, 1, 0, ...], got {np.round(norms, 3)}"

    W_test = rng.standard_normal((n_a, n_a))
    W_test *= 0.8 / np.linalg.norm(W_test, 2)  # spectral norm 0.8
    tanh_params = {**halving, "Waa": W_test, "Wax": rng.standard_normal((n_a, n_x)), "ba": np.zeros((n_a, 1))}
    _, _, caches = rnn_forward(x, np.zeros((n_a, m)), tanh_params, "tanh")
    norms = backprop_norms(da_next, caches)
    assert np.all(norms[1:] <= 0.8 * norms[:-1] + 1e-12), \
        "with tanh (|g1'| ≤ 1) and ‖Waa‖₂ = 0.8 each step back can shrink the norm but never grow it by more than 0.8"
    print("backprop_norms: known case, transpose and tanh bound all right")
    ''',
    )
    nb.md(r"""
    ## 3. Measured: tanh and ReLU, $\rho$ below and above 1

    A network with $n_a = 32$ hidden units reads $m = 32$ sequences of $T_x = 60$ random tokens; its
    $W_{aa}$ is the random matrix of section 1 rescaled to spectral radius $\rho$. We push a random
    gradient of norm 1 into the last state and measure how much of it reaches each earlier state. (The curves use `rnnlib.backprop_norms`,
    the same function you just wrote.) Dashed: $\rho^d$.
    """)
    nb.code(r"""
    W = np.random.default_rng(0).standard_normal((32, 32)) / np.sqrt(32)  # the matrix of section 1


    def gradient_profile(rho, activation, W=W, T_x=60, m=32, n_x=10, input_scale=0.1, seed=0):
        # norms of dL<T>/da<T-d>, d = 0..T_x-1, for Waa = W rescaled to spectral radius rho,
        # m random token sequences, and a random gradient of norm 1 entering the last state
        n_a = W.shape[0]
        rng = np.random.default_rng(seed)
        params = rnnlib.initialize_parameters(n_a, n_x, n_x, seed=seed, scale=input_scale)
        params["Waa"] = with_spectral_radius(W, rho)
        ids = rng.integers(0, n_x, size=(m, T_x))
        _, _, caches = rnn_forward(ids, np.zeros((n_a, m)), params, activation)
        da_last = rng.standard_normal((n_a, m))
        return rnnlib.backprop_norms(da_last / np.linalg.norm(da_last), caches)


    radii = (0.5, 0.9, 1.5, 3.0)
    colors = ("tab:blue", "tab:cyan", "tab:orange", "tab:red")
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), sharey=True)
    for ax, activation in zip(axes, ("tanh", "relu")):
        for rho, color in zip(radii, colors):
            profile = gradient_profile(rho, activation)
            d = np.arange(len(profile))
            _ = ax.semilogy(d, profile, color=color, label=f"ρ = {rho}")
            _ = ax.semilogy(d, rho ** d.astype(float), color=color, ls="--", lw=0.7)
        ax.set(xlabel="distance d = T - t", title=activation, ylim=(1e-32, 1e20))
    axes[0].set_ylabel("‖∂L<T>/∂a<T-d>‖  (‖∂L<T>/∂a<T>‖ = 1)")
    axes[1].legend(frameon=False)
    fig.suptitle("How much gradient reaches a state d steps back")
    plt.show()
    """)
    nb.md(r"""
    What the figure shows:

    - **$\rho < 1$: vanishing, for both activations, at least as fast as $\rho^d$.** The derivative
      $g_1'$ can only shrink the gradient: $\tanh' = 1 - a^2 \le 1$ (close to 1 here, because the small
      inputs keep the states near 0, so tanh follows $\rho^d$ closely), and a ReLU unit that is off
      passes nothing back (so ReLU falls well below $\rho^d$). At $\rho = 0.5$ a state 60 steps back
      receives $10^{-18}$ of the gradient the last state gets: whatever happened there does not
      change the weights.
    - **$\rho > 1$: exploding is possible, but slower than $\rho^d$.** The nonlinearity fights back.
      About half the ReLU units are off at any step, so the effective gain is below $\rho$: at
      $\rho = 1.5$ the ReLU gradient still shrinks; at $\rho = 3$ it grows by a factor of about
      $10^{11}$ over 60 steps. With tanh, a large $W_{aa}$ drives the states into saturation,
      $|a| \to 1$, where $\tanh' = 1 - a^2 \to 0$: at $\rho = 1.5$ the gradient merely holds its size,
      at $\rho = 3$ it still explodes, by about $10^{5}$.
    - Only a narrow band around the edge, $\rho \approx 1$ with unsaturated states, carries gradient
      over long distances, and training has no reason to stay in it.

    ## 4. What clipping fixes: exploding gradients

    Notebook 5 clipped every gradient to global norm $c = 5$. Here is the same training run with and
    without clipping (150 steps each). Without it, a few steps meet an explosion — the gradient norm
    jumps by two orders of magnitude — and a single SGD step with that gradient throws the parameters
    into a region where the loss is far **worse than the uniform guess**; the run never recovers.
    With clipping the same spikes are capped at length $c$, the step goes in the same direction but
    stays small, and training continues.
    """)
    nb.code(r"""
    text = load_corpus("names")
    vocab = Vocabulary.from_text(text)
    ids_text = vocab.encode(text)
    n_hidden, T_x, m = 64, 25, 32
    GRADS = ("dWaa", "dWax", "dWya", "dba", "dby")

    def train_and_watch(max_norm, steps=150, learning_rate=0.1):
        # the loop of notebook 5, also recording the gradient norm before clipping
        params = rnnlib.initialize_parameters(n_hidden, vocab.size, vocab.size, seed=0)
        stream = batches(ids_text, m, T_x, np.random.default_rng(1))
        a0 = np.zeros((n_hidden, m))
        losses, grad_norms = [], []
        for _ in range(steps):
            x_ids, y_ids = next(stream)
            loss, grads, _ = bptt(x_ids, y_ids, a0, params)
            grad_norms.append(np.sqrt(sum(np.sum(grads[k] ** 2) for k in GRADS)))
            if max_norm is not None:
                grads = clip_by_global_norm(grads, max_norm)
            params = sgd_step(params, grads, learning_rate)
            losses.append(loss / T_x)
        return np.array(losses), np.array(grad_norms)


    runs = {"no clipping": train_and_watch(None), "clip by global norm, c = 5": train_and_watch(5.0)}
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(12, 3.8))
    for (label, (losses, grad_norms)), color in zip(runs.items(), ("tab:red", "tab:blue")):
        _ = ax1.plot(losses, color=color, label=label)
        _ = ax2.semilogy(grad_norms, color=color, label=label)
    ax1.axhline(np.log(vocab.size), color="0.5", ls="--", lw=1, label="uniform guess ln 27")
    ax1.set(xlabel="SGD step", ylabel="loss per character", ylim=(0, 12), title="Training loss")
    ax2.axhline(5.0, color="tab:blue", ls=":", lw=1)
    ax2.set(xlabel="SGD step", ylabel="‖g‖ before clipping", title="Global gradient norm")
    ax1.legend(frameon=False)
    plt.tight_layout()
    plt.show()
    # (the run without clipping is chaotic: its exact numbers change with the BLAS library, so none are printed)
    unclipped, clipped = runs["no clipping"][0], runs["clip by global norm, c = 5"][0]
    print("without clipping, the loss ends above the uniform guess ln 27:", unclipped[-20:].mean() > np.log(vocab.size))
    print(f"with clipping, the loss per character ends near {clipped[-20:].mean():.1f}")
    """)
    nb.md(r"""
    ## 5. What clipping cannot fix: vanishing gradients

    Clipping multiplies **every** part of the gradient by the same factor $\min(1, c/\lVert g\rVert) \le 1$.
    On a log-scale profile like the ones of section 3 that is a shift down by a constant: the *shape*
    of the curve does not change. Consider the gradients of all hidden states together,
    $g = (\delta^{\langle T\rangle}, \delta^{\langle T-1\rangle}, \dots)$, clipped by their global norm:

    - **exploding** ($\rho = 3$, ReLU): $\lVert g\rVert$ is enormous and clipping brings it down to $c = 5$
      (dotted line). The far-away steps still dominate the gradient, but the step is safe.
    - **vanishing** ($\rho = 0.5$, tanh): $\lVert g\rVert$ is about 1, below $c$: the factor is 1 and
      nothing changes.
      Even if we scaled the gradient *up*, the far-away steps would stay $10^{-20}$ times weaker than
      the near ones: the information about long-range dependencies is not small, it is **gone** in
      comparison with the short-range part.
    """)
    nb.code(r"""
    c = 5.0
    fig, axes = plt.subplots(1, 2, figsize=(12, 3.8), sharey=True)
    for ax, (rho, activation, title) in zip(axes, ((3.0, "relu", "exploding"), (0.5, "tanh", "vanishing"))):
        profile = gradient_profile(rho, activation)
        factor = min(1.0, c / np.sqrt(np.sum(profile**2)))  # the global norm of all the state gradients
        d = np.arange(len(profile))
        _ = ax.semilogy(d, profile, color="tab:red", lw=3, alpha=0.5, label="before clipping")
        _ = ax.semilogy(d, profile * factor, color="tab:blue", label=f"after clipping (factor {factor:.0e})")
        ax.axhline(c, color="0.5", ls=":", lw=1)
        ax.set(xlabel="distance d = T - t", title=f"{title}: {activation}, ρ = {rho}")
        ax.legend(frameon=False, loc="lower left" if rho > 1 else "upper right")
    axes[0].set_ylabel("‖∂L<T>/∂a<T-d>‖")
    plt.show()
    """)
    nb.md(r"""
    ## 6. The way out: an additive memory path (LSTM, GRU)

    The trouble is the *multiplicative* path: $a^{\langle t\rangle}$ reaches $a^{\langle T\rangle}$ only
    through $T - t$ multiplications by $W_{aa}$ and squashing by $g_1'$. Gated cells add a second path
    on which the state is **copied forward and added to**, not multiplied by a matrix. The LSTM keeps a
    memory cell $c^{\langle t\rangle}$:

    $$
    c^{\langle t\rangle} = \Gamma_f^{\langle t\rangle}\odot c^{\langle t-1\rangle} + \Gamma_u^{\langle t\rangle}\odot \tilde c^{\langle t\rangle},
    \qquad
    \frac{\partial c^{\langle t\rangle}}{\partial c^{\langle t-1\rangle}} \approx \operatorname{diag}\!\left(\Gamma_f^{\langle t\rangle}\right)
    \ \text{(along the cell path)},
    $$

    where the forget gate $\Gamma_f \in (0, 1)^{n_a}$ and the update gate $\Gamma_u$ are sigmoids of
    $a^{\langle t-1\rangle}$ and $x^{\langle t\rangle}$ that the network learns. Along this path the gradient is
    multiplied by $\Gamma_f$, not by $W_{aa}$: no matrix, no spectral radius, and when the network
    learns to hold $\Gamma_f \approx 1$ for a unit, that unit remembers — and passes gradient back —
    over hundreds of steps. The GRU does the same with one gate,
    $a^{\langle t\rangle} = (1 - \Gamma_u)\odot a^{\langle t-1\rangle} + \Gamma_u\odot\tilde a^{\langle t\rangle}$.
    (Strictly, the gates themselves depend on $a^{\langle t-1\rangle}$, which adds more terms; the
    additive path is the one that keeps the gradient alive.)

    The comparison, for one unit: forget gates of 0.99 and 0.95 against the tanh RNN of section 3.
    """)
    nb.code(r"""
    profile = gradient_profile(0.9, "tanh")
    d = np.arange(len(profile))
    fig, ax = plt.subplots(figsize=(6.5, 3.8))
    _ = ax.semilogy(d, profile / profile[0], color="tab:red", label="vanilla tanh RNN, ρ = 0.9 (measured)")
    for f, style in ((0.99, "-"), (0.95, "--")):
        _ = ax.semilogy(d, f ** d.astype(float), color="tab:green", ls=style, label=f"LSTM cell path, Γf = {f}: Γfᵈ")
    ax.set(xlabel="distance d = T - t", ylabel="gradient reaching d steps back (relative)",
           title="Multiplying by Waa vs. by a forget gate")
    ax.legend(frameon=False)
    plt.show()
    """)
    nb.md(r"""
    ## Check yourself

    1. In the linear skeleton with $\rho = 0.9$, how many steps back does the gradient fall to 1% of
       its size at the last state?
    2. A well-known trick initialises $W_{aa}$ to the identity matrix in a ReLU RNN (Le, Jaitly and
       Hinton, 2015, "IRNN"). What is $\rho$, and what happens to the gradient along units that stay
       active?
    3. Your gradient has global norm 0.001 and you clip at $c = 5$. What does clipping do? Why would
       scaling the gradient *up* not cure vanishing either?

    <details><summary><b>Answers</b> (click)</summary>

    1. $0.9^d = 0.01$ gives $d = \ln 0.01 / \ln 0.9 \approx 44$ steps.
    2. $\rho = 1$, and an active ReLU has $g_1' = 1$, so $J = W_{aa} = I$ passes the gradient back
       unchanged: it neither vanishes nor explodes, at least at the start of training.
    3. Nothing: the factor $\min(1, c/\lVert g\rVert)$ is 1. Scaling up multiplies the near and the
       far contributions alike, so the far ones stay a vanishing fraction of the gradient; the update
       is still all about the last few steps.
    </details>
    """)
    nb.md(r"""
    ## Summary

    - $\partial L^{\langle T\rangle}/\partial a^{\langle t\rangle}$ is a product of $T - t$ Jacobians
      $\operatorname{diag}(g_1'(z))\,W_{aa}$; its norm behaves like $\rho^{\,T-t}$ and is bounded by
      $(\gamma\lVert W_{aa}\rVert_2)^{T-t}$.
    - Below $\rho = 1$ it vanishes (faster still through tanh saturation and switched-off ReLU
      units); above, it can explode, which ReLU allows more readily than tanh.
    - Gradient clipping by global norm fixes **exploding** gradients (it caps the step, keeping its
      direction) but cannot fix **vanishing** ones: it rescales all steps alike and never amplifies.
    - Gated cells (LSTM, GRU) add a path on which the state is gated and added, not multiplied by
      $W_{aa}$, so gradients can survive long distances.

    The finished code: **`rnnlib/vanishing.py`** (`backprop_norms`, `with_spectral_radius`).
    This is the end of the vanilla RNN: the natural next step is to write an LSTM cell forward and
    backward in the same style, and to check it with the `numerical_gradient` of notebook 4.
    """)
    return nb


BUILDERS = {
    "04-bptt/bptt.ipynb": notebook_04,
    "05-training/training.ipynb": notebook_05,
    "06-vanishing/vanishing.ipynb": notebook_06,
}


def main(argv: list[str] | None = None) -> int:
    """Write notebooks 04-06 (see the module docstring for the command line)."""
    notebooks = {rel: build().cells for rel, build in BUILDERS.items()}
    return notebook_builder.main(__doc__, notebooks, grade_ids=False, argv=argv)


if __name__ == "__main__":
    sys.exit(main())
