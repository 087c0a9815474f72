"""The word model, stateful training (character and word models) and the count baselines."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import rnnlib
from rnnlib.charmodel import stream_batches
from rnnlib.corpus import WordCorpus, WordVocabulary, load_word_corpus
from rnnlib.wordmodel import (
    WordModel,
    bigram_perplexity,
    evaluate_stream,
    pairs,
    train_word_model,
    unigram_perplexity,
)

pytestmark = pytest.mark.usefixtures("one_blas_thread")


@pytest.fixture(scope="module")
def small_words():
    """The docstrings corpus with a 300-word vocabulary: the word model's code at a test's size."""
    return load_word_corpus(max_size=300)


@pytest.fixture(scope="module")
def python_text():
    return rnnlib.load_corpus("python")


@pytest.mark.parametrize(("m", "T_x"), [(1, 3), (4, 5), (3, 1)])
def test_stream_batches_continue_each_track_where_the_last_window_stopped(m, T_x):
    ids = np.arange(200)
    stream = stream_batches(ids, m, T_x)
    x0, y0, fresh0 = next(stream)
    x1, y1, fresh1 = next(stream)
    assert fresh0 and not fresh1, "only a pass's first window starts from a<0> = 0"
    np.testing.assert_array_equal(y0, x0 + 1, err_msg="y is not x shifted by one")
    np.testing.assert_array_equal(x1[:, 0], y0[:, -1], err_msg="a track does not continue")
    L = 200 // m
    np.testing.assert_array_equal(x0[:, 0], np.arange(m) * L, err_msg="tracks not contiguous")


def test_stream_batches_start_a_new_pass_fresh():
    ids, m, T_x = np.arange(40), 2, 4  # tracks of 20: windows start at 0, 4, 8, 12 (then 16 > 15)
    stream = stream_batches(ids, m, T_x)
    flags = [next(stream)[2] for _ in range(9)]
    assert flags == [True, False, False, False] * 2 + [True], f"passes: {flags}"


@pytest.mark.parametrize(
    ("level", "name"),
    [("char", "text"), ("word", "corpus")],
)
def test_a_corpus_shorter_than_one_window_per_track_names_the_argument(level, name):
    if level == "char":
        call = lambda: rnnlib.train_char_model("abcdef\n" * 3, steps=1, T_x=25, stateful=True)  # noqa: E731
    else:
        vocab = WordVocabulary.from_tokens(["a", "b"])
        ids = np.array([2, 3, 2, 3, 2])
        corpus = WordCorpus(vocab, ids, ids, ("a",), ("b",))
        call = lambda: train_word_model(corpus, steps=1, n_a=4, T_x=25, m=2)  # noqa: E731
    with pytest.raises(ValueError, match=rf"^{name}: got \d+ tokens, expected at least m"):
        call()


def test_carried_state_lowers_the_loss_on_contiguous_text_characters(python_text):
    """Trained statefully on short windows, the model uses what the previous window left in
    a<T_x>: on held-out contiguous text, carrying it gives a lower perplexity than resetting."""
    split = int(len(python_text) * 0.9)
    model = rnnlib.train_char_model(
        python_text[:split], steps=300, n_a=64, T_x=8, m=16, seed=0, stateful=True
    )
    ids = model.vocab.encode(python_text[split:])
    carried = evaluate_stream(model.parameters, ids, m=16, T_x=8, stateful=True)
    reset = evaluate_stream(model.parameters, ids, m=16, T_x=8, stateful=False)
    assert carried < 0.97 * reset, f"carried state {carried:.3f} vs reset {reset:.3f}"


def test_carried_state_lowers_the_loss_on_contiguous_text_words(small_words):
    model = train_word_model(small_words, steps=1000, n_a=32, T_x=5, m=16, learning_rate=0.3)
    carried = evaluate_stream(model, small_words.validation, m=16, T_x=5, stateful=True)
    reset = evaluate_stream(model, small_words.validation, m=16, T_x=5, stateful=False)
    assert carried < 0.99 * reset, f"carried state {carried:.3f} vs reset {reset:.3f}"
    unigram = unigram_perplexity(small_words.train, small_words.validation, 300, m=16)
    assert carried < unigram, f"RNN {carried:.1f} does not beat the unigram {unigram:.1f}"


def test_stateful_training_is_not_the_default_for_characters(python_text):
    a = rnnlib.train_char_model(python_text, steps=3, n_a=8, seed=0)
    b = rnnlib.train_char_model(python_text, steps=3, n_a=8, seed=0, stateful=False)
    assert a.losses == b.losses, "the character model's default run changed"


def test_evaluate_stream_is_the_mean_cross_entropy_of_the_predictions(small_words):
    """Against a loop over every prediction, written from the equations."""
    rng = np.random.default_rng(0)
    parameters = rnnlib.initialize_parameters(6, 300, 300, seed=1, scale=0.5)
    ids = rng.integers(0, 300, size=41)
    m, T_x = 2, 3
    rows = ids[: m * (len(ids) // m)].reshape(m, -1)
    total = 0.0
    for j in range(m):
        a = np.zeros((6, 1))
        for t in range(rows.shape[1] - 1):
            a = np.tanh(
                parameters["Waa"] @ a + parameters["Wax"][:, [rows[j, t]]] + parameters["ba"]
            )
            p = rnnlib.softmax(parameters["Wya"] @ a + parameters["by"]).ravel()
            total -= np.log(p[rows[j, t + 1]])
    expected = np.exp(total / (m * (rows.shape[1] - 1)))
    got = evaluate_stream(parameters, ids, m=m, T_x=T_x)
    assert np.isclose(got, expected, rtol=1e-10), f"{got} != {expected}"
    assert len(pairs(ids, m)[0]) == m * (rows.shape[1] - 1)


def test_baselines_follow_their_add_one_formulas():
    V = 4
    train = np.array([0, 1, 2, 1, 2, 1])
    ids = np.array([1, 2, 3, 0])  # one track: predictions 2 after 1, 3 after 2, 0 after 3
    counts = np.array([1, 3, 2, 0])
    unigram = np.exp(-np.mean(np.log((counts[[2, 3, 0]] + 1) / (6 + V))))
    assert np.isclose(unigram_perplexity(train, ids, V, m=1), unigram)
    # bigram counts: (0,1) 1, (1,2) 2, (2,1) 2; contexts: 0:1, 1:2, 2:2
    p = [(2 + 1) / (2 + V), (0 + 1) / (2 + V), (0 + 1) / (0 + V)]
    assert np.isclose(bigram_perplexity(train, ids, V, m=1), np.exp(-np.mean(np.log(p))))


def test_word_model_saves_loads_and_samples_reproducibly(small_words, tmp_path):
    model = train_word_model(small_words, steps=5, n_a=8, T_x=5, m=4)
    path = model.save(tmp_path / "words")
    again = WordModel.load(tmp_path / "words")
    assert path.name == "words.npz" and again.vocab == model.vocab
    for name, value in model.parameters.items():
        np.testing.assert_array_equal(again.parameters[name], value, err_msg=name)
    assert again.sample(seed=3) == model.sample(seed=3), "the same seed gives another sample"
    assert isinstance(model.sample(seed=3), str)


def test_command_line_trains_the_word_model_reports_perplexities_saves_and_samples(tmp_path):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    train = [sys.executable, "-m", "rnnlib", "train", "--corpus", "docstrings", "--level", "word"]
    options = ["--steps", "3", "--float32", "--samples", "1", "--save", "w", "--no-progress"]
    result = subprocess.run(
        [*train, *options], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr
    for fragment in (
        "vocabulary 10,000",
        "unigram perplexity",
        "bigram",
        "ms per step",
        "training perplexity",
        "validation perplexity",
        "saved to",
        "1 samples",
    ):
        assert fragment in result.stdout, f"no {fragment!r} in:\n{result.stdout}"
    model = WordModel.load(tmp_path / "w.npz")
    assert model.parameters["Wax"].shape == (100, 10_000), "not the seed's sizes"
    sampled = subprocess.run(
        [sys.executable, "-m", "rnnlib", "sample", "w.npz", "-n", "2"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert sampled.returncode == 0 and "2 samples" in sampled.stdout, sampled.stderr


def test_command_line_trains_the_character_model_statefully(tmp_path):
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "rnnlib", "train", "--steps", "5", "--stateful"]
    result = subprocess.run(
        [*command, "--samples", "0", "--no-progress"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0 and "after 5 steps" in result.stdout, result.stderr
