"""Write the zoo's Keras model (tests/zoo/keras_cnn_tf2onnx.onnx) through tf2onnx.

A small NHWC CNN (Conv2D SAME, DepthwiseConv2D, BatchNormalization, MaxPool, GlobalAveragePooling,
Dense, softmax), seeded, with non-trivial BatchNorm statistics, converted by tf2onnx at opset 13.
TensorFlow pins its own protobuf and numpy, so it runs in a venv of its own (about 1.6 GB installed):

    python -m venv /tmp/tfvenv && /tmp/tfvenv/bin/pip install tensorflow-cpu==2.21.0 tf2onnx==1.17.0 onnx
    /tmp/tfvenv/bin/python scripts/make_zoo_keras.py [OUT_DIR]

Run scripts/make_zoo.py after it: it lists every file of tests/zoo/ in tests/zoo/README.md.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf2onnx  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
OPSET = 13


def model() -> tf.keras.Model:
    tf.keras.utils.set_random_seed(7)
    layers = tf.keras.layers
    x = inp = tf.keras.Input((32, 32, 3), batch_size=1, name="input")
    x = layers.Conv2D(16, 3, strides=2, padding="same", activation="relu")(x)
    x = layers.DepthwiseConv2D(3, padding="same", use_bias=False)(x)
    x = layers.BatchNormalization()(x)
    x = layers.ReLU(6.0)(x)
    x = layers.Conv2D(24, 1, activation="relu")(x)
    x = layers.MaxPooling2D(2)(x)
    x = layers.Conv2D(32, 3, padding="valid", activation="relu")(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dense(10, activation="softmax")(x)
    m = tf.keras.Model(inp, x)
    rng = np.random.default_rng(7)
    bn = next(layer for layer in m.layers if isinstance(layer, layers.BatchNormalization))
    c = bn.moving_mean.shape[0]
    bn.set_weights([0.5 + rng.random(c), 0.2 * rng.standard_normal(c), 0.2 * rng.standard_normal(c),
                    0.5 + rng.random(c)])
    return m


def stable_names(g) -> None:
    """Number tf2onnx's folded constants in node order: its own numbering varies from run to run."""
    inits = {i.name: i for i in g.initializer}
    renamed: dict[str, str] = {}
    for node in g.node:
        for k, name in enumerate(node.input):
            if name.startswith("const_fold_opt__") and name in inits:
                renamed.setdefault(name, f"const_fold_{len(renamed)}")
                node.input[k] = renamed[name]
    for old, new in renamed.items():
        inits[old].name = new
    ordered = sorted(g.initializer, key=lambda i: i.name)
    del g.initializer[:]
    g.initializer.extend(ordered)


def main(out: Path) -> None:
    m = model()
    fn = tf.function(lambda x: m(x, training=False))
    spec = (tf.TensorSpec((1, 32, 32, 3), tf.float32, name="input"),)
    proto, _ = tf2onnx.convert.from_function(fn, input_signature=spec, opset=OPSET)
    stable_names(proto.graph)
    out.mkdir(parents=True, exist_ok=True)
    path = out / "keras_cnn_tf2onnx.onnx"
    path.write_bytes(proto.SerializeToString())
    print(f"{path.name}: {path.stat().st_size} bytes, {len(proto.graph.node)} nodes")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "zoo")
