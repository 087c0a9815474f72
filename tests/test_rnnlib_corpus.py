"""The word-level corpus: the standard library's docstrings, the tokenizer, the vocabulary, the split."""

from __future__ import annotations

import numpy as np
import pytest

from rnnlib.corpus import (
    EOS,
    MAX_VOCABULARY,
    UNK,
    WordVocabulary,
    corpus_statistics,
    detokenize,
    docstrings,
    is_validation,
    load_docstrings,
    load_word_corpus,
    split_by_module,
    stdlib_files,
    tokenize,
)


@pytest.fixture(scope="module")
def corpus():
    return load_word_corpus()


def test_stdlib_files_leave_out_tests_and_site_packages():
    names = [name for name, _ in stdlib_files()]
    assert "email.parser" in names and "textwrap" in names, "a standard module is missing"
    bad = [n for n in names if "site-packages" in n or n.split(".")[0] == "test"]
    assert not bad, f"test suites or site-packages read: {bad[:5]}"
    assert names == sorted(names), "the modules are not in a fixed (sorted) order"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ('"""Module."""\ndef f():\n    """Function."""\n', ["Module.", "Function."]),
        (
            'class C:\n    """A class.\n\n    >>> C()\n    C\n\n    Done."""\n',
            ["A class.\n\nDone."],
        ),
        ("def f(:\n", []),  # does not parse: no docstrings, no error
        ("x = 1\n", []),
    ],
    ids=["module-and-function", "example-removed", "syntax-error", "none"],
)
def test_docstrings_of_a_source(source, expected):
    assert docstrings(source) == expected


def test_corpus_is_english_prose_of_a_useful_size():
    stats = corpus_statistics()
    assert stats["characters"] > 500_000, f"only {stats['characters']} characters: {stats}"
    assert stats["distinct words"] > 5_000, f"only {stats['distinct words']} words: {stats}"
    text = " ".join(load_docstrings()["textwrap"])
    assert "text" in tokenize(text) and ">>>" not in text, "textwrap's docstrings not read right"


@pytest.mark.parametrize(
    ("text", "tokens"),
    [
        ("Return the value.", ["return", "the", "value", "."]),
        ("Don't use f(x, y)!", ["don't", "use", "f", "(", "x", ",", "y", ")", "!"]),
        ("__init__ calls os.path", ["__init__", "calls", "os", ".", "path"]),
        ("  \n\t", []),
    ],
)
def test_tokenize_lower_cases_words_and_splits_punctuation(text, tokens):
    assert tokenize(text) == tokens


def test_detokenize_undoes_tokenize_up_to_case_and_spaces():
    text = "return the pair (x, y). then stop"
    assert detokenize(tokenize(text)) == text
    assert detokenize(["a", EOS, "b"]) == "a\nb", "<eos> is not a line break"


@pytest.mark.parametrize("max_size", [2, 3, 5])
def test_vocabulary_keeps_the_most_frequent_words_and_maps_the_rest_to_unk(max_size):
    tokens = ["a"] * 5 + ["b"] * 3 + ["c"] * 3 + ["d"]
    vocab = WordVocabulary.from_tokens(tokens, max_size)
    assert vocab.size == min(max_size, 6)
    assert vocab.words[:2] == (EOS, UNK)
    assert vocab.words[2:] == ("a", "b", "c", "d")[: max_size - 2], "not by frequency, then name"
    ids = vocab.encode(["a", "d", "zebra"])
    expected = [vocab.index.get(w, 1) for w in ("a", "d", "zebra")]
    assert ids.tolist() == expected and ids[2] == vocab.index[UNK], "unknown word not <unk>"


def test_corpus_vocabulary_is_capped_at_ten_thousand(corpus):
    assert corpus.vocab.size == MAX_VOCABULARY
    assert len(set(corpus.vocab.words)) == corpus.vocab.size, "a word has two ids"
    assert corpus.train.max() < corpus.vocab.size and corpus.train.min() >= 0


def test_split_is_by_top_level_package_and_deterministic(corpus):
    train, validation = split_by_module(corpus.train_modules + corpus.validation_modules)
    assert set(train) == set(corpus.train_modules), "the split is not reproducible"
    tops_train = {m.split(".")[0] for m in train}
    tops_validation = {m.split(".")[0] for m in validation}
    assert not tops_train & tops_validation, "a package is on both sides of the split"
    assert 0.03 < len(corpus.validation) / len(corpus.train) < 0.3, "validation share off"
    assert is_validation("email") == is_validation("email.mime.text")


def test_validation_words_outside_training_are_unknown(corpus):
    train_words = set(corpus.vocab.words[i] for i in np.unique(corpus.train))
    validation_words = set(corpus.vocab.words[i] for i in np.unique(corpus.validation))
    assert validation_words <= train_words | {UNK}, "the vocabulary saw the validation text"


@pytest.mark.parametrize("max_size", [1, 0, -3, 2.5, True])
def test_vocabulary_size_below_two_is_an_error_naming_max_size(max_size):
    with pytest.raises(ValueError, match=r"max_size: expected an integer >= 2.*got") as info:
        WordVocabulary.from_tokens(["a", "b"], max_size)
    assert repr(max_size) in str(info.value) or str(max_size) in str(info.value)


def test_the_cache_gives_what_parsing_gives(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    parsed = load_docstrings.__wrapped__(cache=False)
    written = load_docstrings.__wrapped__()  # parses, writes the cache in tmp_path
    assert list(tmp_path.glob("rnnlib/docstrings-*.json")), "no cache file written"
    read = load_docstrings.__wrapped__()  # reads the cache
    assert parsed == written == read, "the cached corpus differs from the parsed one"
