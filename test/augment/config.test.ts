import { describe, expect, it } from 'vitest';
import { AugmentConfigError, geometryRange, hasGeometry, resolveAugmentConfig } from '../../src/augment/config.js';

describe('resolveAugmentConfig', () => {
  it('fills defaults: no augmentation beyond the crop', () => {
    const cfg = resolveAugmentConfig({ outputSize: 64 });
    expect(cfg).toEqual({
      outputSize: 64,
      d4: false,
      rotate: false,
      zoom: [1, 1],
      translate: 0,
      mirror: false,
      brightness: 0,
      contrast: 0,
      fillMode: 'nearest',
      fillValue: 0,
      sampler: 'auto',
    });
    expect(hasGeometry(cfg)).toBe(false);
  });

  it('a single zoom z means log-symmetric [1/z, z]; ranges pass through; resolving is idempotent', () => {
    const a = resolveAugmentConfig({ outputSize: 32, zoom: 1.3, rotate: true, translate: 4 });
    expect(a.zoom[0]).toBeCloseTo(1 / 1.3, 12);
    expect(a.zoom[1]).toBe(1.3);
    expect(geometryRange(a)).toEqual({ rotate: true, zoomMin: a.zoom[0], translate: 4 });
    expect(resolveAugmentConfig(a)).toEqual(a);
    expect(resolveAugmentConfig({ outputSize: 32, zoom: [0.9, 1.1] }).zoom).toEqual([0.9, 1.1]);
    expect(hasGeometry(resolveAugmentConfig({ outputSize: 8, mirror: true }))).toBe(true);
  });

  it.each([
    [{}, 'outputSize', /required/],
    [{ outputSize: 0 }, 'outputSize', /positive integer/],
    [{ outputSize: 6.5 }, 'outputSize', /positive integer/],
    [{ outputSize: 8, zoom: 0.8 }, 'zoom', /≥ 1/],
    [{ outputSize: 8, zoom: [1.2, 1.1] }, 'zoom', /exceeds max/],
    [{ outputSize: 8, zoom: [0, 1] }, 'zoom', /> 0/],
    [{ outputSize: 8, zoom: 'big' }, 'zoom', /number or \[min, max\]/],
    [{ outputSize: 8, translate: -1 }, 'translate', /≥ 0/],
    [{ outputSize: 8, brightness: Number.NaN }, 'brightness', /finite/],
    [{ outputSize: 8, contrast: 1 }, 'contrast', /< 1/],
    [{ outputSize: 8, d4: 'yes' }, 'd4', /true or false/],
    [{ outputSize: 8, fillMode: 'reflect' }, 'fillMode', /'nearest', 'constant'/],
    [{ outputSize: 8, sampler: 'gpu' }, 'sampler', /'auto'/],
    [{ outputSize: 8, rotation: true }, 'rotation', /unknown field/],
  ])('rejects %j naming %s', (input, field, message) => {
    let error: unknown;
    try {
      resolveAugmentConfig(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AugmentConfigError);
    expect((error as AugmentConfigError).field).toBe(field);
    expect((error as Error).message).toMatch(new RegExp(`^augment\\.${field.replace(/[[\]]/g, '\\$&')}: `));
    expect((error as Error).message).toMatch(message);
  });

  it('rejects non-objects', () => {
    expect(() => resolveAugmentConfig(null)).toThrow(AugmentConfigError);
    expect(() => resolveAugmentConfig([64])).toThrow(/must be an object/);
  });
});
