"""The numpy TF-IDF features and the linear model trained in a child process give what
scikit-learn gives in-process, and scikit-learn never loads into the assistant's own."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.svm import LinearSVC

from assistant.nlu.features import TfidfFeatures, fit_linear, stacked_rows

TEXTS = ["set the temperature to 0 degrees", "turn  on the ac", "a", "ok ok ok",
         "open the driver window a crack", "stop", "what's the status of press one",
         "is it ok", "turn on the ac", "x y z"]


@pytest.mark.parametrize(("analyzer", "ngrams", "min_df"), [
    ("word", (1, 2), 1), ("char_wb", (2, 4), 2), ("char_wb", (2, 4), 1)])
def test_features_are_scikit_learns(analyzer: str, ngrams: tuple[int, int],
                                    min_df: int) -> None:
    options = {"token_pattern": r"[^ ]+"} if analyzer == "word" else {}
    reference = TfidfVectorizer(analyzer=analyzer, ngram_range=ngrams, sublinear_tf=True,
                                min_df=min_df, **options).fit(TEXTS)
    ours = TfidfFeatures(analyzer, ngrams, min_df=min_df).fit(TEXTS)  # type: ignore[arg-type]
    assert set(ours.vocabulary) == set(reference.vocabulary_)
    for text in [*TEXTS, "turn the ac off", "never seen"]:
        expected = reference.transform([text]).toarray()[0]
        columns, values = ours.row(text)
        got = np.zeros(len(expected))
        for column, value in zip(columns, values, strict=True):
            got[reference.vocabulary_[next(g for g, i in ours.vocabulary.items()
                                          if i == column)]] = value
        assert np.allclose(got, expected), text


def test_the_linear_model_from_the_child_scores_as_scikit_learn_does() -> None:
    labels = ["temp", "ac", "none", "none", "window", "stop", "status", "none", "ac", "none"]
    features = [TfidfFeatures("word", (1, 2)).fit(TEXTS)]
    rows = stacked_rows(features, TEXTS)
    model = fit_linear(rows, labels)
    from scipy.sparse import csr_matrix

    matrix = csr_matrix((rows.data, rows.indices, rows.indptr),
                        shape=(len(TEXTS), rows.columns))
    reference = LinearSVC(C=1.0, random_state=0).fit(matrix, labels)
    for index in range(len(TEXTS)):
        row = stacked_rows(features, [TEXTS[index]])
        expected = reference.decision_function(matrix[index])[0]
        assert model.labels == list(reference.classes_)
        assert np.allclose(model.scores(row.indices, row.data), expected, atol=1e-3)


def test_two_labels_give_a_score_for_each() -> None:
    """One tool and "no tool": scikit-learn gives a single score; each label has its own."""
    texts = ["lights on", "turn on the lights", "hello there", "what a day"]
    labels = ["lights", "lights", "none", "none"]
    features = [TfidfFeatures("word", (1, 2)).fit(texts)]
    model = fit_linear(stacked_rows(features, texts), labels)
    row = stacked_rows(features, ["lights on please"])
    scores = model.scores(row.indices, row.data)
    assert scores.shape == (2,) and model.labels[int(scores.argmax())] == "lights"


def test_the_assistant_never_loads_scikit_learn() -> None:
    probe = ("import sys; from assistant.wiring import build_assistant; "
             "a = build_assistant(lambda e: None, audit_path=sys.argv[1]); "
             "a.understanding.decide('could you get some fresh air going'); "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'scipy')))")
    done = subprocess.run([sys.executable, "-c", probe, "/dev/null"], capture_output=True,
                          text=True, timeout=300, check=True)
    assert done.stdout.strip() == "[]", done.stdout[:300]


def test_a_trained_classifier_is_kept_for_the_next_start(
        tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from assistant.nlu import classifier
    from assistant.nlu.features import LinearModel

    monkeypatch.setenv("ASSISTANT_MODEL_CACHE", str(tmp_path))
    trained = LinearModel(["a", "b"], np.eye(2), np.zeros(2))
    calls: list[int] = []

    def train() -> LinearModel:
        calls.append(1)
        return trained

    first = classifier._trained("k", train, 2)
    again = classifier._trained("k", train, 2)
    assert calls == [1] and again.labels == ["a", "b"]
    assert np.array_equal(again.coef, first.coef)


def test_a_damaged_kept_classifier_is_trained_again(
        tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> None:
    from pathlib import Path

    from assistant.nlu import classifier
    from assistant.nlu.features import LinearModel

    monkeypatch.setenv("ASSISTANT_MODEL_CACHE", str(tmp_path))
    kept = Path(str(tmp_path)) / "classifiers" / "k.npz"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"PK\x03\x04 cut short")
    trained = LinearModel(["a", "b"], np.eye(2), np.zeros(2))
    assert classifier._trained("k", lambda: trained, 2) is trained
    assert classifier._trained("k", lambda: pytest.fail("trained twice"), 2).labels == ["a", "b"]
    # features of another shape than the kept model's: that model is stale
    assert classifier._trained("k", lambda: LinearModel(["c"], np.ones((1, 3)), np.zeros(1)),
                               3).labels == ["c"]
