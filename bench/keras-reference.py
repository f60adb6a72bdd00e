"""Keras reference for `npm run bench:backend` (not part of the project; needs TensorFlow in Python).

The seed CNN exactly as bench/backend.ts trains it (batch 64, 1 channel, random data, Adam + MSE),
and Keras equivalents of the trunk models `npm run bench:backend -- --models …` times
(bench/trunk-models.ts: each trunk followed by Dense(37, sigmoid), same layers, filters, group
sizes and view geometry). Trained with `model.fit` in graph mode, best of --repeats epochs of
--steps batches of 64 (default 30 × 64 = 1,920 images), then `model.predict` over the same images:

    python3 -m venv /tmp/kerasenv && /tmp/kerasenv/bin/pip install tensorflow-cpu
    /tmp/kerasenv/bin/python bench/keras-reference.py 64 106
    /tmp/kerasenv/bin/python bench/keras-reference.py --models seed,deep,cyclic,views,gconv 64 106

Run it interleaved with the Node benchmark: on a shared machine only figures taken in the same
quiet window compare. `--serve` answers one timed epoch per request on stdin: bench/versus-keras.ts
alternates those with native epochs (native, Keras, native, Keras …) and reports the ratios.
"""
import argparse, json, math, os, sys, time
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import numpy as np, tensorflow as tf
from tensorflow import keras
L = keras.layers


def seed(S):
    return keras.Sequential([keras.Input((S, S, 1)), L.Conv2D(32, 3, activation='relu'), L.MaxPooling2D(2), L.Conv2D(64, 3, activation='relu'), L.MaxPooling2D(2), L.Conv2D(128, 3, activation='relu'), L.MaxPooling2D(2), L.Dropout(0.2), L.Flatten(), L.Dense(128, activation='relu'), L.Dropout(0.2), L.Dense(64, activation='relu'), L.Dense(37, activation='sigmoid')])


def blocks(x, filters, between=None):
    """The deep trunk's blocks: Conv(no bias)-BN-ReLU-MaxPool per entry of filters."""
    for b, f in enumerate(filters):
        x = L.MaxPooling2D(2)(L.ReLU()(L.BatchNormalization()(L.Conv2D(f, 3, padding='same', use_bias=False)(x))))
        if between and b < len(filters) - 1:
            x = between(x)
    return x


def head(x, dense=128, dropout=0.2):
    x = L.Dropout(dropout)(x)
    return L.Dropout(dropout)(L.Dense(dense, activation='relu')(x))


def deep(S):
    i = keras.Input((S, S, 1))
    x = head(L.Flatten()(blocks(i, [32, 64, 128, 128])))
    return keras.Model(i, L.Dense(37, activation='sigmoid')(x))


def cyclic(S, filters=(16, 32, 64, 64)):
    """C4 cyclic slice → shared blocks with cyclic rolls → GAP → dense → cyclic mean pool."""
    i = keras.Input((S, S, 1))
    x = L.Lambda(lambda t: tf.concat([tf.image.rot90(t, k) for k in range(4)], 0))(i)
    def roll(t):
        parts = tf.split(t, 4, 0)
        return tf.concat([tf.concat([tf.image.rot90(parts[(g + u) % 4], -u) for u in range(4)], -1) for g in range(4)], 0)
    rolled = lambda t: L.Lambda(roll)(t)
    x = head(L.GlobalAveragePooling2D()(blocks(x, list(filters), rolled)))
    x = L.Lambda(lambda t: tf.reduce_mean(tf.reshape(t, [4, -1, t.shape[-1]]), 0))(x)
    return keras.Model(i, L.Dense(37, activation='sigmoid')(x))


def d4(a, e):
    """T_e on the two leading axes of a numpy array: mirror when e ≥ 4, then e mod 4 quarter turns."""
    if e >= 4:
        a = a[:, ::-1]
    for _ in range(e % 4):
        a = np.swapaxes(a, 0, 1)[::-1]
    return a


def view_tables(S, crop_size=45):
    """The 16 views' bilinear gather tables (src/models/equivariant/view-geometry.ts)."""
    part = max(1, round(crop_size * 45 / 69)); c = (S - 1) / 2; scale = S / crop_size
    grid = np.stack(np.meshgrid(np.arange(crop_size), np.arange(crop_size), indexing='ij'), -1)
    inv = [0, 3, 2, 1, 4, 5, 6, 7]
    idx = np.zeros((4, 16 * part * part), np.int32); w = np.zeros((4, 16 * part * part), np.float32)
    for v in range(16):
        a = math.pi / 4 if v >= 8 else 0
        turned = d4(grid, inv[v % 8])[:part, :part].reshape(-1, 2)
        dy = (turned[:, 0] - (crop_size - 1) / 2) * scale; dx = (turned[:, 1] - (crop_size - 1) / 2) * scale
        y = c + math.cos(a) * dy - math.sin(a) * dx; x = c + math.sin(a) * dy + math.cos(a) * dx
        y0 = np.floor(y); x0 = np.floor(x); fy = y - y0; fx = x - x0
        for k, (r, q, wt) in enumerate([(y0, x0, (1 - fy) * (1 - fx)), (y0, x0 + 1, (1 - fy) * fx), (y0 + 1, x0, fy * (1 - fx)), (y0 + 1, x0 + 1, fy * fx)]):
            inside = (r >= 0) & (r < S) & (q >= 0) & (q < S)
            sl = slice(v * part * part, (v + 1) * part * part)
            idx[k, sl] = np.where(inside, r * S + q, 0); w[k, sl] = np.where(inside, wt, 0)
    return idx, w, part


def views(S, filters=(32, 64, 128)):
    """The Kaggle winner's 16 views → shared blocks → GAP → concatenated → dense."""
    idx, w, part = view_tables(S)
    i = keras.Input((S, S, 1))
    def slice16(t):
        flat = tf.reshape(t, [-1, S * S, 1])
        s = tf.add_n([tf.gather(flat, idx[k], axis=1) * w[k][None, :, None] for k in range(4)])
        return tf.reshape(tf.transpose(tf.reshape(s, [-1, 16, part, part, 1]), [1, 0, 2, 3, 4]), [-1, part, part, 1])
    x = L.GlobalAveragePooling2D()(blocks(L.Lambda(slice16)(i), list(filters)))
    x = L.Lambda(lambda t: tf.reshape(tf.transpose(tf.reshape(t, [16, -1, t.shape[-1]]), [1, 0, 2]), [-1, 16 * t.shape[-1]]))(x)
    return keras.Model(i, L.Dense(37, activation='sigmoid')(head(x)))


class GroupConv2D(L.Layer):
    """p4m group convolution: one kernel, its 8 transformed copies built each step, one conv2d."""
    MUL = None

    def __init__(self, filters, lifting, **kw):
        super().__init__(**kw); self.filters = filters; self.lifting = lifting

    def build(self, shape):
        self.kernel = self.add_weight(name='kernel', shape=(3, 3, shape[-1], self.filters), initializer='he_normal')
        probe = np.arange(9).reshape(3, 3)
        imgs = [d4(probe, e).tobytes() for e in range(8)]
        self.mul = [[imgs.index(d4(d4(probe, b), a).tobytes()) for b in range(8)] for a in range(8)]
        self.inv = [row.index(0) for row in self.mul]

    def call(self, x):
        cin = x.shape[-1]; gin = 1 if self.lifting else 8
        fields = tf.reshape(self.kernel, [3, 3, gin, cin // gin, self.filters])
        bank = []
        for g in range(8):
            k = fields if self.lifting else tf.gather(fields, [self.mul[self.inv[g]][h] for h in range(8)], axis=2)
            k = tf.reshape(k, [3, 3, cin, self.filters])
            if g >= 4: k = tf.reverse(k, [1])
            for _ in range(g % 4): k = tf.reverse(tf.transpose(k, [1, 0, 2, 3]), [0])
            bank.append(k)
        return tf.nn.conv2d(x, tf.reshape(tf.stack(bank, 3), [3, 3, cin, 8 * self.filters]), 1, 'SAME')


def gconv(S, filters=(8, 16, 32, 32)):
    """p4m group convolutions, group BN, ReLU, MaxPool; group max pool, GAP, dense."""
    i = keras.Input((S, S, 1)); x = i
    for b, f in enumerate(filters):
        x = GroupConv2D(f, b == 0)(x)
        h, w = x.shape[1], x.shape[2]
        x = L.Reshape((h, w, 8 * f))(L.BatchNormalization()(L.Reshape((h, w * 8, f))(x)))
        x = L.MaxPooling2D(2)(L.ReLU()(x))
    x = L.Lambda(lambda t: tf.reduce_max(tf.reshape(t, [-1, t.shape[1], t.shape[2], 8, t.shape[3] // 8]), 3))(x)
    return keras.Model(i, L.Dense(37, activation='sigmoid')(head(L.GlobalAveragePooling2D()(x))))


MODELS = {'seed': seed, 'deep': deep, 'cyclic': cyclic, 'views': views, 'gconv': gconv}
N = 64


def prepared(name, S, steps):
    """The compiled model and an epoch of random data, traced for fit and predict (untimed)."""
    m = MODELS[name](S); m.compile(optimizer=keras.optimizers.Adam(1e-3), loss='mse')
    x = np.random.rand(N * steps, S, S, 1).astype('float32'); y = np.random.rand(N * steps, 37).astype('float32')
    m.fit(x[:N*2], y[:N*2], batch_size=N, epochs=1, verbose=0)
    m.predict(x[:N*2], batch_size=N, verbose=0)
    return m, x, y


def serve():
    """One timed epoch per request line {"op": "train"|"predict"|"params"|"drop", "model", "size", "steps"}, answered with img/s.

    bench/versus-keras.ts drives it, alternating with native epochs, so both sides see the same load.
    """
    ready = {}
    print(json.dumps({'ready': tf.__version__}), flush=True)
    for line in sys.stdin:
        q = json.loads(line); key = (q['model'], q['size'])
        if q['op'] == 'drop':
            ready.pop(key, None); print(json.dumps({'dropped': True}), flush=True); continue
        if key not in ready:
            ready[key] = prepared(q['model'], q['size'], q['steps'])
        m, x, y = ready[key]
        if q['op'] == 'params':
            print(json.dumps({'params': m.count_params()}), flush=True); continue
        t = time.perf_counter()
        if q['op'] == 'train':
            m.fit(x, y, batch_size=N, epochs=1, verbose=0)
        else:
            m.predict(x, batch_size=N, verbose=0)
        print(json.dumps({'imagesPerSecond': len(x) / (time.perf_counter() - t)}), flush=True)


p = argparse.ArgumentParser()
p.add_argument('sizes', nargs='*', type=int, default=[64, 106])
p.add_argument('--models', default='seed')
p.add_argument('--steps', type=int, default=30)
p.add_argument('--repeats', type=int, default=2)
p.add_argument('--serve', action='store_true', help='answer timing requests on stdin (bench/versus-keras.ts)')
a = p.parse_args()
if a.serve:
    serve(); sys.exit(0)
for name in a.models.split(','):
    for S in a.sizes:
        m = MODELS[name](S); m.compile(optimizer=keras.optimizers.Adam(1e-3), loss='mse')
        x = np.random.rand(N * a.steps, S, S, 1).astype('float32'); y = np.random.rand(N * a.steps, 37).astype('float32')
        m.fit(x[:N*2], y[:N*2], batch_size=N, epochs=1, verbose=0)
        best = 0
        for r in range(a.repeats):
            t = time.perf_counter(); m.fit(x, y, batch_size=N, epochs=1, verbose=0); dt = time.perf_counter() - t
            best = max(best, len(x) / dt)
        t = time.perf_counter(); m.predict(x, batch_size=N, verbose=0); pdt = time.perf_counter() - t
        print(f'keras {name} S={S} train {best:.1f} img/s predict {len(x)/pdt:.1f} img/s', flush=True)
