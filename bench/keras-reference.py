"""Keras reference for `npm run bench:backend` (not part of the project; needs TensorFlow in Python).

The seed CNN exactly as bench/backend.ts trains it (batch 64, 1 channel, random data, Adam + MSE),
trained with `model.fit` in graph mode, best of 2 epochs of 512 images, then `model.predict`:

    python3 -m venv /tmp/kerasenv && /tmp/kerasenv/bin/pip install tensorflow-cpu
    /tmp/kerasenv/bin/python bench/keras-reference.py 64 106

Run it back to back with the Node benchmark: on a shared machine only figures taken in the same
quiet window compare.
"""
import os, sys, time
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')
import numpy as np, tensorflow as tf
from tensorflow import keras
L = keras.layers
def model(S):
    m = keras.Sequential([keras.Input((S, S, 1)), L.Conv2D(32, 3, activation='relu'), L.MaxPooling2D(2), L.Conv2D(64, 3, activation='relu'), L.MaxPooling2D(2), L.Conv2D(128, 3, activation='relu'), L.MaxPooling2D(2), L.Dropout(0.2), L.Flatten(), L.Dense(128, activation='relu'), L.Dropout(0.2), L.Dense(64, activation='relu'), L.Dense(37, activation='sigmoid')])
    m.compile(optimizer=keras.optimizers.Adam(1e-3), loss='mse')
    return m
for S in [int(s) for s in sys.argv[1:]] or [64, 106]:
    m = model(S); N = 64
    x = np.random.rand(N * 8, S, S, 1).astype('float32'); y = np.random.rand(N * 8, 37).astype('float32')
    m.fit(x[:N*2], y[:N*2], batch_size=N, epochs=1, verbose=0)
    best = 0
    for r in range(2):
        t = time.perf_counter(); m.fit(x, y, batch_size=N, epochs=1, verbose=0); dt = time.perf_counter() - t
        best = max(best, len(x) / dt)
    t = time.perf_counter(); m.predict(x, batch_size=N, verbose=0); pdt = time.perf_counter() - t
    print(f'keras S={S} train {best:.1f} img/s predict {len(x)/pdt:.1f} img/s', flush=True)
