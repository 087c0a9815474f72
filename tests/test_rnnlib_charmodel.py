"""The shipped corpora and the character-level language model trained on them."""

from __future__ import annotations

import numpy as np
import pytest

import rnnlib
from rnnlib.charmodel import CharModel, evaluate

pytestmark = pytest.mark.usefixtures("one_blas_thread")

T_X = 25
STEPS = 150


@pytest.fixture(scope="module")
def names():
    return rnnlib.load_corpus("names")


@pytest.fixture(scope="module")
def trained(names, one_blas_thread):
    """A model trained for STEPS steps with the defaults (about a second on one core)."""
    return rnnlib.train_char_model(names, steps=STEPS, T_x=T_X, seed=0)


def test_names_corpus_is_lower_case_names_one_per_line(names):
    lines = names.splitlines()
    assert len(lines) > 4000, f"only {len(lines)} names in the corpus"
    assert len(set(lines)) == len(lines), "a name appears twice"
    assert all(line.isalpha() and line.islower() for line in lines), (
        "a line is not a lower-case name"
    )
    vocab = rnnlib.Vocabulary.from_text(names)
    assert vocab.size == 27 and vocab.chars[0] == "\n", f"vocabulary {vocab.chars}"


def test_python_corpus_is_standard_library_source():
    text = rnnlib.load_corpus("python")
    assert len(text) > 20_000 and "def " in text and "import " in text, "not Python source"
    vocab = rnnlib.Vocabulary.from_text(text)
    ids = vocab.encode(text[:500])
    assert vocab.decode(ids) == text[:500], "encode then decode should give the text back"
    model = rnnlib.train_char_model(text, steps=3, n_a=8, T_x=10, m=4)
    assert len(model.losses) == 3 and np.isfinite(model.losses).all(), model.losses


def test_unknown_corpus_and_unknown_character_are_reported():
    with pytest.raises(
        ValueError, match=r"name: expected one of \('names', 'python'\), got 'klingon'"
    ):
        rnnlib.load_corpus("klingon")
    vocab = rnnlib.Vocabulary.from_text("abc\n")
    with pytest.raises(ValueError, match="character 'z' is not in the vocabulary"):
        vocab.encode("abz")


def test_loss_falls_clearly_below_the_uniform_guess(trained, names):
    start = T_X * np.log(trained.vocab.size)  # T_x ln |V|: the loss of a uniform guess
    assert trained.losses[0] == pytest.approx(start, rel=0.01), (
        f"a freshly initialised model should start near {start:.1f}, got {trained.losses[0]:.1f}"
    )
    recent = float(np.mean(trained.losses[-20:]))
    assert recent < 0.8 * start, f"after {STEPS} steps the loss is {recent:.1f}, start {start:.1f}"
    held_out, ppl = evaluate(trained, names)
    assert held_out < 0.8 * start and ppl < 0.5 * trained.vocab.size, (
        f"evaluation loss {held_out:.1f}, perplexity {ppl:.1f} (uniform: {trained.vocab.size})"
    )


def test_training_with_the_same_seed_is_reproducible(names):
    first = rnnlib.train_char_model(names, steps=5, n_a=16, m=8, seed=4)
    second = rnnlib.train_char_model(names, steps=5, n_a=16, m=8, seed=4)
    assert first.losses == second.losses, "seed 4 twice gave different losses"
    for name in rnnlib.PARAMETER_NAMES:
        np.testing.assert_array_equal(first.parameters[name], second.parameters[name], err_msg=name)


def test_float32_training_stays_float32(names):
    model = rnnlib.train_char_model(names, steps=5, n_a=16, m=8, dtype=np.float32)
    dtypes = {name: value.dtype.name for name, value in model.parameters.items()}
    assert set(dtypes.values()) == {"float32"}, f"after 5 float32 steps: {dtypes}"


def test_sampling_with_a_fixed_seed_is_reproducible(trained):
    sample = trained.sample(length=30, seed=5)
    assert sample == trained.sample(length=30, seed=5), "the same seed gave different names"
    assert set(sample) <= set(trained.vocab.chars) - {"\n"}, f"{sample!r} has a newline or stranger"
    assert len(sample) <= 30, f"{sample!r} is longer than length=30"
    distinct = {trained.sample(length=30, seed=s) for s in range(10)}
    assert len(distinct) >= 5, f"ten seeds gave only {len(distinct)} different names: {distinct}"


def test_save_and_load_round_trip(trained, tmp_path):
    path = tmp_path / "model.npz"
    trained.save(path)
    loaded = CharModel.load(path)
    assert loaded.vocab == trained.vocab, "the vocabulary changed"
    saved = (trained.hidden_activation, trained.T_x)
    assert (loaded.hidden_activation, loaded.T_x) == saved, f"activation and T_x: {saved} saved"
    assert loaded.losses == trained.losses, "the loss history changed"
    for name in rnnlib.PARAMETER_NAMES:
        np.testing.assert_array_equal(
            loaded.parameters[name], trained.parameters[name], err_msg=name
        )
    for seed in range(3):
        got, expected = loaded.sample(seed=seed), trained.sample(seed=seed)
        assert got == expected, f"seed {seed}: the loaded model samples {got!r}, not {expected!r}"


def test_training_continues_from_a_loaded_model(trained, names, tmp_path):
    path = tmp_path / "model.npz"
    trained.save(path)
    resumed = rnnlib.train_char_model(names, steps=2, T_x=T_X, model=CharModel.load(path))
    assert len(resumed.losses) == STEPS + 2, f"{len(resumed.losses)} losses after resuming"
    assert resumed.losses[:STEPS] == trained.losses, "resuming rewrote the history"
