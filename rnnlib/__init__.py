"""rnnlib: a vanilla recurrent neural network from first principles, in numpy.

One module per lesson of the course (notebooks/):

- forward:   rnn_cell_forward, rnn_forward                          (01-forward)
- stacking:  stack_weights, split_weights, stack_inputs, rnn_cell_forward_stacked  (02-stacking)
- loss:      softmax, cross_entropy                                  (03-loss)
- bptt:      rnn_cell_backward, rnn_backward, numerical_gradient, rnn_backward_truncated,
             output_layer_backward, bptt, gradient_check                  (04-bptt)
- engine:    the fast path of bptt (token-id gather and scatter, the batched output layer, the
             time-major recurrence): rnnlib.bptt on token ids, the character model, the benchmark
- training:  initialize_parameters, sgd_step, clip_by_global_norm, clip_by_value, sample,
             perplexity                                              (05-training)
- vanishing: backprop_norms, with_spectral_radius                    (06-vanishing)
- lstm:      lstm_cell_forward, lstm_forward, lstm_cell_backward, lstm_backward, lstm_bptt,
             lstm_backprop_norms, initialize_lstm_parameters          (07-lstm)
- gru:       gru_cell_forward, gru_forward, gru_cell_backward, gru_backward, gru_bptt,
             initialize_gru_parameters                               (08-gru)
- engine_gated: the fast paths of lstm_bptt and gru_bptt (stacked gates, the same gather and
             scatter): both on token ids, the character model with --cell lstm|gru, the benchmark
- corpus, wordmodel: the standard library's docstrings and a word model (09-words)
- classify:  many_to_one_forward, many_to_one_backward              (10-classify)
- data, charmodel: the shipped corpora and a character-level language model

Shapes: column vectors, the minibatch on axis 1 and time last: x (n_x, m, T_x), a (n_a, m, T_x),
ŷ (n_y, m, T_x); Waa (n_a, n_a), Wax (n_a, n_x), Wya (n_y, n_a), ba (n_a, 1), by (n_y, 1).
Wherever a one-hot x is accepted, integer token ids of shape (m, T_x) (or (m,)) are too.
"""

from rnnlib._checks import PARAMETER_NAMES, OneHot
from rnnlib.bptt import (
    bptt,
    gradient_check,
    numerical_gradient,
    output_layer_backward,
    relative_error,
    rnn_backward,
    rnn_backward_truncated,
    rnn_cell_backward,
)
from rnnlib.charmodel import CharModel, train_char_model
from rnnlib.classify import many_to_one_backward, many_to_one_forward
from rnnlib.data import Vocabulary, load_corpus
from rnnlib.forward import relu, rnn_cell_forward, rnn_forward, sigmoid, tanh
from rnnlib.gru import (
    gru_backward,
    gru_bptt,
    gru_cell_backward,
    gru_cell_forward,
    gru_forward,
    initialize_gru_parameters,
)
from rnnlib.loss import cross_entropy, softmax
from rnnlib.lstm import (
    initialize_lstm_parameters,
    lstm_backprop_norms,
    lstm_backward,
    lstm_bptt,
    lstm_cell_backward,
    lstm_cell_forward,
    lstm_forward,
)
from rnnlib.stacking import rnn_cell_forward_stacked, split_weights, stack_inputs, stack_weights
from rnnlib.training import (
    clip_by_global_norm,
    clip_by_value,
    initialize_parameters,
    perplexity,
    sample,
    sgd_step,
)
from rnnlib.vanishing import backprop_norms, with_spectral_radius

__all__ = [
    "PARAMETER_NAMES",
    "CharModel",
    "OneHot",
    "Vocabulary",
    "backprop_norms",
    "bptt",
    "clip_by_global_norm",
    "clip_by_value",
    "cross_entropy",
    "gradient_check",
    "initialize_parameters",
    "load_corpus",
    "many_to_one_backward",
    "many_to_one_forward",
    "numerical_gradient",
    "output_layer_backward",
    "perplexity",
    "relative_error",
    "relu",
    "rnn_backward",
    "rnn_backward_truncated",
    "rnn_cell_backward",
    "rnn_cell_forward",
    "rnn_cell_forward_stacked",
    "rnn_forward",
    "sample",
    "sgd_step",
    "sigmoid",
    "softmax",
    "split_weights",
    "stack_inputs",
    "stack_weights",
    "tanh",
    "train_char_model",
    "with_spectral_radius",
    # lesson 7, the LSTM
    "initialize_lstm_parameters",
    "lstm_backprop_norms",
    "lstm_backward",
    "lstm_bptt",
    "lstm_cell_backward",
    "lstm_cell_forward",
    "lstm_forward",
    # lesson 8, the GRU
    "gru_backward",
    "gru_bptt",
    "gru_cell_backward",
    "gru_cell_forward",
    "gru_forward",
    "initialize_gru_parameters",
]
