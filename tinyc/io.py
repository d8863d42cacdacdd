"""Sample files (CONTRACT.md): .npy for one input, .npz keyed by input name; a leading sample
axis, or the model's batch axis (when it is 1) serving as the sample axis.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyc.errors import BadInput
from tinyc.ir import Graph


@dataclass
class Samples:
    arrays: dict[str, np.ndarray]  # input name -> (S, *model input shape), float32
    batch_as_sample: bool  # the file used the batch axis as the sample axis

    @property
    def count(self) -> int:
        return len(next(iter(self.arrays.values())))


def _fit(name: str, x: np.ndarray, shape: tuple[int, ...]) -> tuple[np.ndarray, bool]:
    if x.shape[1:] == shape:
        return x, False
    if shape and shape[0] == 1 and x.shape == (x.shape[0], *shape[1:]):
        return x.reshape(x.shape[0], *shape), True
    expect = f"[S, {', '.join(map(str, shape))}]"
    if shape and shape[0] == 1:
        expect += f" or [S, {', '.join(map(str, shape[1:]))}]"
    raise BadInput(f"input {name!r}: array of shape {list(x.shape)} does not fit the model input "
                   f"{list(shape)}; expected {expect}")


def load_samples(path: str | Path, g: Graph) -> Samples:
    """Read IN for graph g's inputs, as float32 with a leading sample axis."""
    path = Path(path)
    if not path.is_file():
        raise BadInput(f"{path}: no such file")
    try:
        data = np.load(path, allow_pickle=False)
    except Exception as e:
        raise BadInput(f"{path}: not a .npy or .npz file ({type(e).__name__})") from None
    if isinstance(data, np.ndarray):
        if len(g.inputs) != 1:
            raise BadInput(f"{path}: a .npy holds one array but the model has {len(g.inputs)} inputs; use .npz")
        raw = {g.inputs[0]: data}
    else:
        with data:
            keys = set(data.files)
            raw = {}
            for name in g.inputs:
                key = name if name in keys else ("input" if len(g.inputs) == 1 and "input" in keys else None)
                if key is None:
                    raise BadInput(f"{path}: no array for model input {name!r} (keys: {', '.join(sorted(keys))})")
                raw[name] = data[key]
    return samples_from_arrays(raw, g, str(path))


def samples_from_arrays(raw: dict[str, np.ndarray], g: Graph, where: str = "samples") -> Samples:
    """Arrays already in memory, {input name: array}, checked and laid out as load_samples does."""
    missing = [name for name in g.inputs if name not in raw]
    if missing:
        raise BadInput(f"{where}: no array for model input {missing[0]!r} (given: {', '.join(sorted(raw))})")
    arrays, flags = {}, set()
    for name in g.inputs:
        x = np.asarray(raw[name])
        if x.dtype.kind not in "fiu":
            raise BadInput(f"{where}: input {name!r} has non-numeric type {x.dtype}")
        if x.ndim == 0:
            raise BadInput(f"{where}: input {name!r} is a scalar")
        kind = np.int64 if g.tensors[name].dtype == "int64" else np.float32  # indices stay integers
        arrays[name], flag = _fit(name, x.astype(kind), g.tensors[name].shape)
        flags.add(flag)
    counts = {len(a) for a in arrays.values()}
    if len(counts) != 1 or 0 in counts:
        raise BadInput(f"{where}: inputs hold different or zero sample counts {sorted(counts)}")
    return Samples(arrays, flags == {True})


def load_labels(path: str | Path, count: int) -> np.ndarray | None:
    """The optional `labels` array of an .npz (one integer class per sample), or None."""
    if Path(path).suffix != ".npz":
        return None
    with np.load(path, allow_pickle=False) as data:
        if "labels" not in data.files:
            return None
        labels = data["labels"]
    if labels.ndim != 1 or len(labels) != count or labels.dtype.kind not in "iu":
        raise BadInput(f"{path}: 'labels' must hold one integer class per sample ({count}), "
                       f"got {labels.dtype} {list(labels.shape)}")
    return labels.astype(np.int64)


def save_results(path: str | Path, g: Graph, results: dict[str, np.ndarray], batch_as_sample: bool) -> None:
    """Write RESULT in the layout of the input: .npy for one output, .npz keyed by output name."""
    path = Path(path)
    shaped = {}
    for name, y in results.items():
        if batch_as_sample and g.tensors[name].shape[:1] == (1,):
            y = y.reshape(y.shape[0], *g.tensors[name].shape[1:])
        shaped[name] = y
    if path.suffix == ".npy":
        if len(shaped) != 1:
            raise BadInput(f"--output {path}: the model has {len(shaped)} outputs; use .npz")
        np.save(path, next(iter(shaped.values())))
    elif path.suffix == ".npz":
        np.savez(path, **shaped)
    else:
        raise BadInput(f"--output {path}: use a .npy or .npz file name")
