"""Top-1 accuracy of float and int8 graphs, and reading labelled --eval files."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import graph_of, quantize_graph
from tinyc.accuracy import accuracy, load_labelled
from tinyc.errors import BadInput

# y = x @ I.T: the predicted class is the largest input
IDENTITY = graph_of("dense", [("x", (1, 5)), ("w", np.eye(5)), ("", None)], {"act": None})


def one_hot_samples(classes: list[int], seed: int = 0) -> np.ndarray:
    """(S, 1, 5): class c gets 1.0 plus noise below 0.3 elsewhere."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 0.3, (len(classes), 1, 5)).astype(np.float32)
    x[np.arange(len(classes)), 0, classes] = 1.0
    return x


def test_counts_the_share_of_argmax_equal_to_the_label_in_percent():
    x = one_hot_samples([0, 3, 4, 2])
    assert accuracy(IDENTITY, {"x": x}, np.array([0, 3, 4, 2])) == 100.0
    assert accuracy(IDENTITY, {"x": x}, np.array([0, 3, 1, 1])) == 50.0


def test_int8_graph_takes_float_samples_and_quantizes_them():
    x = one_hot_samples([1, 2, 3, 4, 0, 1], seed=1)
    q = quantize_graph(IDENTITY, {"x": x})
    labels = np.array([1, 2, 3, 4, 0, 0])
    assert accuracy(q, {"x": x}, labels) == accuracy(IDENTITY, {"x": x}, labels) == pytest.approx(500 / 6)


def write(path, **arrays) -> str:
    np.savez(path, **arrays)
    return str(path)


def test_load_labelled_reads_inputs_and_integer_labels(tmp_path):
    x = one_hot_samples([4, 1, 2])
    samples, labels = load_labelled(write(tmp_path / "t.npz", input=x[:, 0], labels=np.array([4, 1, 2], np.int32)),
                                    IDENTITY)
    assert samples["x"].shape == (3, 1, 5) and samples["x"].dtype == np.float32
    assert labels.dtype == np.int64 and list(labels) == [4, 1, 2]


def test_labelled_file_without_labels_is_an_error(tmp_path):
    with pytest.raises(BadInput, match="no 'labels' array"):
        load_labelled(write(tmp_path / "t.npz", input=one_hot_samples([1, 2])), IDENTITY)
    np.save(tmp_path / "t.npy", one_hot_samples([1, 2]))
    with pytest.raises(BadInput, match="no 'labels' array"):
        load_labelled(str(tmp_path / "t.npy"), IDENTITY)


def test_label_count_or_type_mismatch_is_an_error(tmp_path):
    x = one_hot_samples([1, 2, 3])
    with pytest.raises(BadInput, match="2 labels for 3 samples"):
        load_labelled(write(tmp_path / "a.npz", input=x, labels=np.array([1, 2])), IDENTITY)
    with pytest.raises(BadInput, match="expected one integer class per sample"):
        load_labelled(write(tmp_path / "b.npz", input=x, labels=np.array(["a", "b", "c"])), IDENTITY)
    with pytest.raises(BadInput, match="expected one integer class per sample"):
        load_labelled(write(tmp_path / "c.npz", input=x, labels=np.eye(3, dtype=np.int64)), IDENTITY)
