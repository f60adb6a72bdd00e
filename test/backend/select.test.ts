import * as tf from '@tensorflow/tfjs';
import { afterEach, describe, expect, it } from 'vitest';
import { initBackend, parseBackendName, requestedBackend } from '../../src/backend/select.js';

describe('backend selection', () => {
  const saved = process.env.GZH_BACKEND;
  afterEach(() => {
    if (saved === undefined) delete process.env.GZH_BACKEND;
    else process.env.GZH_BACKEND = saved;
  });

  it('parses names, aliases and auto', () => {
    expect(parseBackendName('wasm', 'x')).toBe('wasm');
    expect(parseBackendName(' CPU ', 'x')).toBe('cpu');
    expect(parseBackendName('native', 'x')).toBe('tensorflow');
    expect(parseBackendName('auto', 'x')).toBeUndefined();
    expect(parseBackendName('', 'x')).toBeUndefined();
    expect(parseBackendName(undefined, 'x')).toBeUndefined();
    expect(() => parseBackendName('webgl', 'GZH_BACKEND')).toThrow(/GZH_BACKEND: unknown backend 'webgl'/);
  });

  it('argument beats GZH_BACKEND, which beats automatic', () => {
    expect(requestedBackend('cpu', { GZH_BACKEND: 'wasm' })).toEqual({ name: 'cpu', source: 'argument' });
    expect(requestedBackend(undefined, { GZH_BACKEND: 'wasm' })).toEqual({ name: 'wasm', source: 'env' });
    expect(requestedBackend('auto', { GZH_BACKEND: 'wasm' })).toEqual({ name: 'wasm', source: 'env' });
    expect(requestedBackend(undefined, {})).toBeUndefined();
  });

  it('initialises the backend named by GZH_BACKEND', async () => {
    process.env.GZH_BACKEND = 'cpu';
    const info = await initBackend();
    expect(info.name).toBe('cpu');
    expect(info.source).toBe('env');
    expect(tf.getBackend()).toBe('cpu');
    expect(info.threads).toBe(1);
  });

  it('an explicit argument overrides the environment', async () => {
    process.env.GZH_BACKEND = 'cpu';
    const info = await initBackend('wasm');
    expect(info.name).toBe('wasm');
    expect(info.source).toBe('argument');
    expect(tf.getBackend()).toBe('wasm');
    expect(info.version).toMatch(/^tfjs-backend-wasm 4\.22\.0/);
  });

  it('rejects an unknown GZH_BACKEND instead of silently falling back', async () => {
    process.env.GZH_BACKEND = 'gpu';
    await expect(initBackend()).rejects.toThrow(/unknown backend 'gpu'/);
  });

  it('automatic choice prefers the native backend when it loads', async () => {
    delete process.env.GZH_BACKEND;
    const info = await initBackend('auto');
    expect(['tensorflow', 'wasm']).toContain(info.name);
    if (info.name === 'wasm') {
      expect(info.skipped.map((s) => s.name)).toEqual(['tensorflow']);
    } else {
      expect(info.version).toMatch(/tfjs-node 4\.22\.0 \/ TensorFlow \d/);
      expect(info.threads).toBeGreaterThanOrEqual(1);
    }
  });
});
