"""Write the model zoo (tests/zoo/): small PyTorch models as real exporters write them.

Each model is exported by the classic TorchScript exporter at opset 13 and 17 (`dynamo=False`) and by
the dynamo exporter at opset 18, into tests/zoo/<model>_<exporter>.onnx; tests/zoo/README.md lists
every file with its ops and size. Seeded (torch.manual_seed per model), fixed shapes, eval mode; the
BatchNorm statistics are set to non-trivial values. Needs the "zoo" extra (torch CPU, onnxscript):

    .venv/bin/pip install '.[zoo]' && .venv/bin/python scripts/make_zoo.py [OUT_DIR]

A Keras model through tf2onnx (scripts/make_zoo_keras.py) needs TensorFlow in a venv of its own.
"""

from __future__ import annotations

import io
import sys
import warnings
from pathlib import Path

import onnx
import torch
import torch.nn.functional as F
from torch import nn

ROOT = Path(__file__).resolve().parent.parent
MAX_BYTES = 1_500_000
IMAGE = (1, 3, 32, 32)
MFCC = (1, 1, 49, 10)  # 49 frames of 10 MFCC coefficients, as the KWS models take
SEQUENCE = (1, 49, 10)  # batch_first: (batch, time, features)
TCN_INPUT = (1, 10, 49)  # (batch, features, time)


# ---- models -------------------------------------------------------------------------------------

def conv_bn(cin: int, cout: int, k: int = 3, stride: int = 1, groups: int = 1) -> list[nn.Module]:
    return [nn.Conv2d(cin, cout, k, stride, k // 2, groups=groups, bias=False), nn.BatchNorm2d(cout)]


class InvertedResidual(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int, expand: int):
        super().__init__()
        hidden = cin * expand
        layers = [] if expand == 1 else [*conv_bn(cin, hidden, 1), nn.ReLU6()]
        layers += [*conv_bn(hidden, hidden, 3, stride, groups=hidden), nn.ReLU6(), *conv_bn(hidden, cout, 1)]
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.block(x) if self.residual else self.block(x)


class MobileNetV2(nn.Module):
    def __init__(self, classes: int = 10):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(3, 16, 3, 2), nn.ReLU6())
        self.blocks = nn.Sequential(InvertedResidual(16, 8, 1, 1), InvertedResidual(8, 16, 2, 4),
                                    InvertedResidual(16, 16, 1, 4), InvertedResidual(16, 24, 2, 4),
                                    InvertedResidual(24, 24, 1, 4))
        self.head = nn.Sequential(*conv_bn(24, 32, 1), nn.ReLU6(), nn.AdaptiveAvgPool2d(1))
        self.classifier = nn.Linear(32, classes)

    def forward(self, x):
        return self.classifier(torch.flatten(self.head(self.blocks(self.stem(x))), 1))


class SqueezeExcite(nn.Module):
    def __init__(self, c: int, squeeze: int):
        super().__init__()
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.reduce = nn.Conv2d(c, squeeze, 1)
        self.expand = nn.Conv2d(squeeze, c, 1)

    def forward(self, x):
        s = self.expand(F.relu(self.reduce(self.pool(x))))
        return x * F.hardsigmoid(s)


class V3Block(nn.Module):
    def __init__(self, cin: int, hidden: int, cout: int, k: int, stride: int, se: bool, act: type[nn.Module]):
        super().__init__()
        layers = [] if hidden == cin else [*conv_bn(cin, hidden, 1), act()]
        layers += [*conv_bn(hidden, hidden, k, stride, groups=hidden), act()]
        if se:
            layers.append(SqueezeExcite(hidden, max(8, hidden // 4)))
        layers += conv_bn(hidden, cout, 1)
        self.block = nn.Sequential(*layers)
        self.residual = stride == 1 and cin == cout

    def forward(self, x):
        return x + self.block(x) if self.residual else self.block(x)


class MobileNetV3Small(nn.Module):
    def __init__(self, classes: int = 10):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(3, 16, 3, 2), nn.Hardswish())
        self.blocks = nn.Sequential(V3Block(16, 16, 16, 3, 2, True, nn.ReLU), V3Block(16, 32, 24, 3, 2, False, nn.ReLU),
                                    V3Block(24, 32, 24, 3, 1, False, nn.ReLU),
                                    V3Block(24, 32, 24, 5, 1, True, nn.Hardswish))
        self.head = nn.Sequential(*conv_bn(24, 32, 1), nn.Hardswish(), nn.AdaptiveAvgPool2d(1))
        self.classifier = nn.Sequential(nn.Linear(32, 32), nn.Hardswish(), nn.Dropout(0.2), nn.Linear(32, classes))

    def forward(self, x):
        return self.classifier(torch.flatten(self.head(self.blocks(self.stem(x))), 1))


class BasicBlock(nn.Module):
    def __init__(self, cin: int, cout: int, stride: int):
        super().__init__()
        self.body = nn.Sequential(*conv_bn(cin, cout, 3, stride), nn.ReLU(), *conv_bn(cout, cout, 3))
        self.shortcut = (nn.Sequential(*conv_bn(cin, cout, 1, stride)) if stride != 1 or cin != cout
                         else nn.Identity())

    def forward(self, x):
        return F.relu(self.body(x) + self.shortcut(x))


class ResNet(nn.Module):
    def __init__(self, classes: int = 10):
        super().__init__()
        self.stem = nn.Sequential(*conv_bn(3, 16), nn.ReLU())
        self.layers = nn.Sequential(BasicBlock(16, 16, 1), BasicBlock(16, 24, 2), BasicBlock(24, 32, 2))
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(32, classes)

    def forward(self, x):
        return self.fc(torch.flatten(self.pool(self.layers(self.stem(x))), 1))


class CausalBlock(nn.Module):
    """Two dilated causal convolutions (left padding by F.pad) and a residual, 1x1 when widths differ."""

    def __init__(self, cin: int, cout: int, dilation: int, k: int = 3):
        super().__init__()
        self.left = (k - 1) * dilation
        self.conv1 = nn.Conv1d(cin, cout, k, dilation=dilation)
        self.conv2 = nn.Conv1d(cout, cout, k, dilation=dilation)
        self.down = nn.Conv1d(cin, cout, 1) if cin != cout else None

    def forward(self, x):
        y = F.relu(self.conv1(F.pad(x, (self.left, 0))))
        y = F.relu(self.conv2(F.pad(y, (self.left, 0))))
        return F.relu(y + (self.down(x) if self.down is not None else x))


class TCN(nn.Module):
    def __init__(self, classes: int = 12):
        super().__init__()
        self.blocks = nn.Sequential(CausalBlock(10, 16, 1), CausalBlock(16, 16, 2), CausalBlock(16, 24, 4))
        self.fc = nn.Linear(24, classes)

    def forward(self, x):
        return self.fc(self.blocks(x)[:, :, -1])


class Attention(nn.Module):
    """Multi-head self-attention written out: softmax over the last axis."""

    def __init__(self, dim: int, heads: int):
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, 3 * dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, t, d = x.shape
        q, k, v = self.qkv(x).reshape(b, t, 3, self.heads, d // self.heads).permute(2, 0, 3, 1, 4)
        att = torch.softmax(q @ k.transpose(-2, -1) * (d // self.heads) ** -0.5, dim=-1)
        return self.proj((att @ v).transpose(1, 2).reshape(b, t, d))


class EncoderLayer(nn.Module):
    def __init__(self, dim: int, heads: int, hand_written: bool):
        super().__init__()
        self.norm1, self.norm2 = nn.LayerNorm(dim), nn.LayerNorm(dim)
        self.attn = Attention(dim, heads) if hand_written else nn.MultiheadAttention(dim, heads, batch_first=True)
        self.mlp = nn.Sequential(nn.Linear(dim, 2 * dim), nn.GELU(), nn.Linear(2 * dim, dim))

    def forward(self, x):
        y = self.norm1(x)
        # need_weights=True: the explicit bmm/softmax path (else scaled_dot_product_attention, opset 14+)
        y = self.attn(y) if isinstance(self.attn, Attention) else self.attn(y, y, y, need_weights=True)[0]
        x = x + y
        return x + self.mlp(self.norm2(x))


class KeywordTransformer(nn.Module):
    """Patches of 7 frames x 10 coefficients -> 7 tokens of 32; one nn.MultiheadAttention layer and one
    hand-written; mean over tokens; classifier."""

    def __init__(self, classes: int = 12, dim: int = 32):
        super().__init__()
        self.patch = nn.Conv2d(1, dim, (7, 10), (7, 10))
        self.pos = nn.Parameter(0.1 * torch.randn(1, 7, dim))
        self.layers = nn.Sequential(EncoderLayer(dim, 4, False), EncoderLayer(dim, 4, True))
        self.norm = nn.LayerNorm(dim)
        self.fc = nn.Linear(dim, classes)

    def forward(self, x):
        tokens = self.patch(x).flatten(2).transpose(1, 2) + self.pos
        return self.fc(self.norm(self.layers(tokens)).mean(dim=1))


class AutoEncoder(nn.Module):
    def __init__(self):
        super().__init__()
        self.encoder = nn.Sequential(nn.Conv2d(3, 8, 3, 2, 1), nn.ReLU(), nn.Conv2d(8, 16, 3, 2, 1), nn.ReLU())
        self.decoder = nn.Sequential(nn.ConvTranspose2d(16, 8, 3, 2, 1, output_padding=1), nn.ReLU(),
                                     nn.ConvTranspose2d(8, 3, 4, 2, 1), nn.Sigmoid())

    def forward(self, x):
        return self.decoder(self.encoder(x))


class UNet(nn.Module):
    def __init__(self, classes: int = 2):
        super().__init__()

        def double(cin, cout):
            return nn.Sequential(nn.Conv2d(cin, cout, 3, 1, 1), nn.ReLU(), nn.Conv2d(cout, cout, 3, 1, 1), nn.ReLU())

        self.enc1, self.enc2, self.mid = double(3, 8), double(8, 16), double(16, 32)
        self.dec2, self.dec1 = double(32 + 16, 16), double(16 + 8, 8)
        self.out = nn.Conv2d(8, classes, 1)

    def forward(self, x):
        e1 = self.enc1(x)
        e2 = self.enc2(F.max_pool2d(e1, 2))
        m = self.mid(F.max_pool2d(e2, 2))
        d2 = self.dec2(torch.cat([F.interpolate(m, scale_factor=2, mode="nearest"), e2], dim=1))
        up = F.interpolate(d2, scale_factor=2, mode="bilinear", align_corners=False)
        return self.out(self.dec1(torch.cat([up, e1], dim=1)))


class GRUModel(nn.Module):
    def __init__(self, classes: int = 12):
        super().__init__()
        self.gru = nn.GRU(10, 32, num_layers=2, batch_first=True)
        self.fc = nn.Linear(32, classes)

    def forward(self, x):
        out, _ = self.gru(x)
        return self.fc(out[:, -1])


class BiLSTM(nn.Module):
    """Per-frame labels from a bidirectional LSTM."""

    def __init__(self, classes: int = 5):
        super().__init__()
        self.lstm = nn.LSTM(10, 24, batch_first=True, bidirectional=True)
        self.fc = nn.Linear(48, classes)

    def forward(self, x):
        out, _ = self.lstm(x)
        return self.fc(out)


class MLP(nn.Module):
    def __init__(self, flatten: str, classes: int = 10):
        super().__init__()
        self.flatten = flatten
        self.fc1, self.fc2 = nn.Linear(490, 64), nn.Linear(64, classes)

    def forward(self, x):
        x = x.view(x.shape[0], -1) if self.flatten == "view" else x.flatten(1)
        return self.fc2(F.relu(self.fc1(x)))


# name -> (constructor, input shape)
MODELS = {
    "mobilenetv2": (MobileNetV2, IMAGE),
    "mobilenetv3": (MobileNetV3Small, IMAGE),
    "resnet": (ResNet, IMAGE),
    "tcn": (TCN, TCN_INPUT),
    "kwt": (KeywordTransformer, MFCC),
    "autoencoder": (AutoEncoder, IMAGE),
    "unet": (UNet, IMAGE),
    "gru": (GRUModel, SEQUENCE),
    "bilstm": (BiLSTM, SEQUENCE),
    "mlp_view": (lambda: MLP("view"), MFCC),
    "mlp_flatten": (lambda: MLP("flatten"), MFCC),
}

# exporter tag -> (opset, dynamo, constant folding); resnet also gets "classic13nofold", where
# training=PRESERVE keeps the BatchNormalization nodes that the eval-mode export fuses into the convs.
EXPORTERS = {"classic13": (13, False, True), "classic17": (17, False, True), "dynamo18": (18, True, True)}
EXTRA = {("resnet", "classic13nofold"): (13, False, False)}


def make(name: str) -> tuple[nn.Module, torch.Tensor]:
    """The model, seeded, with non-trivial BatchNorm statistics, in eval mode; and an example input."""
    ctor, shape = MODELS[name]
    torch.manual_seed(sum(map(ord, name)))
    model = ctor()
    for m in model.modules():
        if isinstance(m, nn.BatchNorm2d):
            c = m.num_features
            m.weight.data = 0.5 + torch.rand(c)
            m.bias.data = 0.2 * torch.randn(c)
            m.running_mean = 0.2 * torch.randn(c)
            m.running_var = 0.5 + torch.rand(c)
    return model.eval(), torch.randn(*shape)


def export(model: nn.Module, x: torch.Tensor, opset: int, dynamo: bool, fold: bool) -> onnx.ModelProto:
    f = io.BytesIO()
    torch.backends.mha.set_fastpath_enabled(False)  # else eval-mode attention is one fused aten op
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamo:
            program = torch.onnx.export(model, (x,), dynamo=True, opset_version=opset, input_names=["input"],
                                        output_names=["output"], verbose=False)
            program.save(f)
        else:
            mode = torch.onnx.TrainingMode.EVAL if fold else torch.onnx.TrainingMode.PRESERVE
            torch.onnx.export(model, (x,), f, dynamo=False, opset_version=opset, input_names=["input"],
                              output_names=["output"], do_constant_folding=fold, training=mode)
    return onnx.load_from_string(f.getvalue())


def main(out: Path) -> None:
    out.mkdir(parents=True, exist_ok=True)
    jobs = [(m, tag, EXPORTERS[tag]) for m in MODELS for tag in EXPORTERS] + [(m, t, s) for (m, t), s in EXTRA.items()]
    for name, tag, (opset, dynamo, fold) in jobs:
        model, x = make(name)
        data = export(model, x, opset, dynamo, fold).SerializeToString()
        path = out / f"{name}_{tag}.onnx"
        assert len(data) < MAX_BYTES, f"{path.name}: {len(data)} bytes"
        path.write_bytes(data)
        print(f"{path.name}: {len(data)} bytes")
    write_manifest(out)


def write_manifest(out: Path) -> None:
    """The "## Files" table of out/README.md, from every .onnx file there (the Keras one included)."""
    rows = ["## Files", "", "| file | exporter | opset | ONNX op types | bytes |", "|---|---|---|---|---|"]
    for path in sorted(out.glob("*.onnx")):
        m = onnx.load(str(path))
        opset = next(o.version for o in m.opset_import if o.domain in ("", "ai.onnx"))
        ops = " ".join(sorted({n.op_type for n in m.graph.node}))
        exporter = f"{m.producer_name} {m.producer_version}".strip()
        if path.stem.endswith("nofold"):
            exporter += ", training=PRESERVE, do_constant_folding=False"
        rows.append(f"| {path.name} | {exporter} | {opset} | {ops} | {path.stat().st_size:,} |")
    readme = out / "README.md"
    head = readme.read_text().split("## Files")[0] if readme.exists() else "# Model zoo\n\n"
    readme.write_text(head + "\n".join(rows) + "\n")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "tests" / "zoo")
