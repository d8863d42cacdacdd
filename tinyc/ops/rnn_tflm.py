"""TensorFlow Lite Micro's integer LSTM, the int8 rule ("tflm") of tinyc's lstm op for .tflite models: numpy
integers exactly as tensorflow/lite/micro/kernels/lstm_eval.cc computes them. C: tinyc_lstm_tflm_s8.
"""

from __future__ import annotations

import numpy as np

from tinyc import quant


def sat16(x: np.ndarray) -> np.ndarray:
    """Saturate to int16 (the values stay in x's integer type)."""
    return np.clip(x, -32768, 32767)


# --- TFLM's integer LSTM (rule "tflm": an int8 .tflite's UNIDIRECTIONAL_SEQUENCE_LSTM, bit-exact) -------------
# tensorflow/lite/micro/kernels/lstm_eval.cc: int8 x and h, int16 gates (Q3.12 in, Q0.15 out) and cell state,
# sigmoid/tanh by the shared 256-entry table of tensorflow/lite/kernels/internal/common.h.
TFLM_SIGMOID_TABLE = np.array([
    32768, 33451, 34133, 34813, 35493, 36169, 36843, 37513, 38180, 38841, 39498, 40149, 40794, 41432, 42064, 42688,
    43304, 43912, 44511, 45102, 45683, 46255, 46817, 47369, 47911, 48443, 48964, 49475, 49975, 50464, 50942, 51409,
    51865, 52311, 52745, 53169, 53581, 53983, 54374, 54755, 55125, 55485, 55834, 56174, 56503, 56823, 57133, 57433,
    57724, 58007, 58280, 58544, 58800, 59048, 59288, 59519, 59743, 59959, 60168, 60370, 60565, 60753, 60935, 61110,
    61279, 61441, 61599, 61750, 61896, 62036, 62172, 62302, 62428, 62549, 62666, 62778, 62886, 62990, 63090, 63186,
    63279, 63368, 63454, 63536, 63615, 63691, 63765, 63835, 63903, 63968, 64030, 64090, 64148, 64204, 64257, 64308,
    64357, 64405, 64450, 64494, 64536, 64576, 64614, 64652, 64687, 64721, 64754, 64786, 64816, 64845, 64873, 64900,
    64926, 64950, 64974, 64997, 65019, 65039, 65060, 65079, 65097, 65115, 65132, 65149, 65164, 65179, 65194, 65208,
    65221, 65234, 65246, 65258, 65269, 65280, 65291, 65301, 65310, 65319, 65328, 65337, 65345, 65352, 65360, 65367,
    65374, 65381, 65387, 65393, 65399, 65404, 65410, 65415, 65420, 65425, 65429, 65433, 65438, 65442, 65445, 65449,
    65453, 65456, 65459, 65462, 65465, 65468, 65471, 65474, 65476, 65479, 65481, 65483, 65485, 65488, 65489, 65491,
    65493, 65495, 65497, 65498, 65500, 65501, 65503, 65504, 65505, 65507, 65508, 65509, 65510, 65511, 65512, 65513,
    65514, 65515, 65516, 65517, 65517, 65518, 65519, 65520, 65520, 65521, 65522, 65522, 65523, 65523, 65524, 65524,
    65525, 65525, 65526, 65526, 65526, 65527, 65527, 65528, 65528, 65528, 65529, 65529, 65529, 65529, 65530, 65530,
    65530, 65530, 65531, 65531, 65531, 65531, 65531, 65532, 65532, 65532, 65532, 65532, 65532, 65533, 65533, 65533,
    65533, 65533, 65533, 65533, 65533, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65534, 65535],
    np.int64)


def tflm_sigmoid(x: np.ndarray) -> np.ndarray:
    """reference_integer_ops::Logistic(0, 0, ...) on int16 Q3.12 -> int16 Q0.15."""
    v = np.asarray(x, np.int64) * 3
    a = np.abs(v)
    uh = np.minimum(a >> 9, 254)
    ua, ub = TFLM_SIGMOID_TABLE[uh], TFLM_SIGMOID_TABLE[uh + 1]
    r = np.where((a >> 9) >= 255, 0x7FFF << 10, (ua << 9) + (a & 0x1FF) * (ub - ua))
    r = np.where(v >= 0, r + (1 << 9), (1 << 25) - r + (1 << 9) - 1)
    return (r >> 10).astype(np.int16).astype(np.int64)


def tflm_tanh(x: np.ndarray, multiplier: int, left_shift: int) -> np.ndarray:
    """reference_integer_ops::Tanh(multiplier, left_shift, ...) on int16 -> int16 Q0.15 (multiplier 0: 3 << shift)."""
    if multiplier == 0:
        multiplier, left_shift = 3 << left_shift, 0
    rnd = 1 << (left_shift - 1) if left_shift > 0 else 0
    v = (np.asarray(x, np.int64) * multiplier + rnd) >> left_shift
    a = np.abs(v)
    uh = np.minimum(a >> 8, 254)
    ua, ub = TFLM_SIGMOID_TABLE[uh], TFLM_SIGMOID_TABLE[uh + 1]
    r = np.where((a >> 8) >= 255, 0xFFFF << 8, (ua << 8) + (a & 0xFF) * (ub - ua))
    r = np.where(v >= 0, r - (1 << 23) + (1 << 7), -r + (1 << 23) + (1 << 7) - 1)
    return (r >> 8).astype(np.int16).astype(np.int64)


def tflm_lstm_ref(p: dict, x: np.ndarray, w: np.ndarray, r: np.ndarray, bias: np.ndarray) -> np.ndarray:
    """TFLM's int8 LSTM on x [T, B, I] int8 with w [4H, I], r [4H, H] int8, bias [4H] int32 (gates i, o, f, c):
    y [T, B, H] int8. Every batch row runs from h = hidden_zp, c = 0."""
    steps, batch, _ = x.shape
    hidden = r.shape[1]
    rows = np.arange(4 * hidden) // hidden
    mx, sx = np.asarray(p["input_multiplier"])[rows], np.asarray(p["input_shift"])[rows]
    mh, sh = np.asarray(p["hidden_multiplier"])[rows], np.asarray(p["hidden_shift"])[rows]
    w, r, bias = w.astype(np.int64), r.astype(np.int64), bias.astype(np.int64)
    y = np.zeros((steps, batch, hidden), np.int8)
    for b in range(batch):
        h = np.full(hidden, p["hidden_zp"], np.int64)
        c = np.zeros(hidden, np.int64)
        for t in range(steps):
            acc_x = ((w @ (x[t, b].astype(np.int64) - p["input_zp"]) + bias + 2**31) % 2**32) - 2**31
            fx = sat16(quant.requantize(acc_x, mx, sx))
            acc_h = ((r @ (h - p["hidden_zp"]) + 2**31) % 2**32) - 2**31
            fh = sat16(quant.requantize(acc_h, mh, sh))
            pre = sat16(fx + fh)
            gi, go, gf, gc = (pre[k * hidden:(k + 1) * hidden] for k in range(4))
            i, o, f = tflm_sigmoid(gi), tflm_sigmoid(go), tflm_sigmoid(gf)
            g = tflm_sigmoid(gc) if p["cell_gate_sigmoid"] else tflm_tanh(gc, 0, 0)
            c = sat16(quant.requantize(f * c, p["forget_cell_multiplier"], p["forget_cell_shift"]))
            ig = sat16(quant.requantize(i * g, p["input_cell_multiplier"], p["input_cell_shift"]))
            c = sat16(c + ig)
            if p["cell_clip"] > 0:
                c = np.clip(c, -p["cell_clip"], p["cell_clip"])
            th = tflm_tanh(c, p["cell_tanh_multiplier"], p["cell_tanh_shift"])
            h = np.clip(quant.requantize(th * o, p["output_multiplier"], p["output_shift"]) + p["hidden_zp"],
                        -128, 127)
            y[t, b] = h
    return y
