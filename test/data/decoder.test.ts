/**
 * The two JPEG decoders: the native (TensorFlow libjpeg-turbo) path decodes only what each mode
 * needs, and must give the same pixels whichever entry point is used; the decoder is part of the
 * cache key; the pipeline works without the native addon.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_CONTOUR, chooseContourCrop } from '../../src/data/images/contour.js';
import { nativeJpeg } from '../../src/data/images/native-jpeg.js';
import {
  type PreprocessParams,
  decodeJpeg,
  defaultDecoder,
  paramsKey,
  preprocessDecoded,
  preprocessFile,
  preprocessJpeg,
  resolveParams,
} from '../../src/data/images/preprocess.js';
import { resizeSquare } from '../../src/data/images/resample.js';
import { DATA, realDataAvailable } from '../helpers/data.js';

const native = nativeJpeg();
const real = realDataAvailable(DATA.kaggleImages);
const MODES: PreprocessParams[] = [
  { mode: 'contour', size: 106, channels: 1 },
  { mode: 'contour', size: 106, channels: 3 },
  { mode: 'contour', size: 53, channels: 3 },
  { mode: 'center', size: 69, channels: 3 },
  { mode: 'center', size: 64, channels: 1 },
];

describe('decoder choice', () => {
  it('is part of the resolved parameters and of the cache key', () => {
    const sharp = resolveParams({ mode: 'contour', size: 106, channels: 1, decoder: 'sharp' });
    expect(sharp.decoder).toBe('sharp');
    expect(resolveParams({ mode: 'contour', size: 106, channels: 1 }).decoder).toBe(defaultDecoder());
    if (native) {
      const tf = resolveParams({ mode: 'contour', size: 106, channels: 1, decoder: 'tensorflow' });
      expect(paramsKey(tf)).not.toBe(paramsKey(sharp));
    }
  });

  it('GZH_DECODER picks it, and a bad name is an error', () => {
    expect(defaultDecoder({ GZH_DECODER: 'sharp' })).toBe('sharp');
    expect(defaultDecoder({ GZH_DECODER: 'auto' })).toBe(native ? 'tensorflow' : 'sharp');
    expect(() => defaultDecoder({ GZH_DECODER: 'opencv' })).toThrow(/GZH_DECODER/);
  });
});

describe.skipIf(!real.available || !native)(
  `native decoder on real images ${real.reason}${native ? '' : ' (tfjs-node not loaded)'}`,
  () => {
    const names = real.available ? readdirSync(DATA.kaggleImages).sort().slice(0, 40) : [];

    it('gives the same pixels through preprocessFile, preprocessJpeg and decodeJpeg + preprocessDecoded', async () => {
      for (const params of MODES.map((p) => resolveParams({ ...p, decoder: 'tensorflow' }))) {
        for (const name of names.slice(0, 10)) {
          const path = join(DATA.kaggleImages, name);
          const buffer = readFileSync(path);
          const a = await preprocessFile(path, params);
          const b = await preprocessJpeg(buffer, params);
          const c = preprocessDecoded(await decodeJpeg(buffer, 424, 'tensorflow'), params);
          expect(Buffer.from(b.pixels).equals(Buffer.from(a.pixels))).toBe(true);
          expect(Buffer.from(c.pixels).equals(Buffer.from(a.pixels))).toBe(true);
          expect(a.pixels.length).toBe(params.size * params.size * params.channels);
        }
      }
    });

    it('decodes only the crop, yet equals cropping the full decode', async () => {
      for (const name of names) {
        const buffer = readFileSync(join(DATA.kaggleImages, name));
        const rgb = native!.decode(buffer, 3);
        const gray = native!.decode(buffer, 1);
        const choice = chooseContourCrop(gray.data, 424, 424, DEFAULT_CONTOUR);
        const params = resolveParams({ mode: 'contour', size: 106, channels: 3, decoder: 'tensorflow' });
        const out = await preprocessJpeg(buffer, params);
        expect(out.crop).toBe(choice.kind);
        const expected = resizeSquare(rgb.data, 424, 3, choice.left, choice.top, choice.side, 106);
        expect(Buffer.from(out.pixels).equals(Buffer.from(expected))).toBe(true);
        const center = await preprocessJpeg(
          buffer,
          resolveParams({ mode: 'center', size: 69, channels: 3, decoder: 'tensorflow' }),
        );
        expect(Buffer.from(center.pixels).equals(Buffer.from(resizeSquare(rgb.data, 424, 3, 108, 108, 207, 69)))).toBe(
          true,
        );
      }
    });

    it('stays close to sharp: luma within a few levels, same crop on nearly every image', async () => {
      let same = 0;
      for (const name of names) {
        const buffer = readFileSync(join(DATA.kaggleImages, name));
        const a = await preprocessJpeg(
          buffer,
          resolveParams({ mode: 'contour', size: 106, channels: 1, decoder: 'tensorflow' }),
        );
        const b = await preprocessJpeg(
          buffer,
          resolveParams({ mode: 'contour', size: 106, channels: 1, decoder: 'sharp' }),
        );
        if (a.crop === b.crop) {
          same++;
          let diff = 0;
          for (let i = 0; i < a.pixels.length; i++) diff += Math.abs(a.pixels[i] - b.pixels[i]);
          expect(diff / a.pixels.length).toBeLessThan(1.5);
        }
      }
      expect(same / names.length).toBeGreaterThanOrEqual(0.95);
    });

    it('reports a file cut short below the centre crop as corrupt', async () => {
      const buffer = readFileSync(join(DATA.kaggleImages, names[0]));
      const cut = buffer.subarray(0, Math.floor(buffer.length * 0.97));
      for (const params of MODES) {
        await expect(preprocessJpeg(cut, resolveParams({ ...params, decoder: 'tensorflow' }))).rejects.toMatchObject({
          kind: 'corrupt',
        });
      }
    });
  },
);

describe.skipIf(!native)('native decoder and worker threads', () => {
  it(
    'primes every op and attribute name its decodes use (so worker threads only read the addon’s shared name ' + 'set)',
    async () => {
      type ExecuteOp = (name: string, attrs: Array<{ name: string }>, ...rest: unknown[]) => unknown;
      // The addon's exports are read-only: put an object that inherits them, with its own executeOp, in the decoder's
      // place.
      const holder = native as unknown as { b: { executeOp: ExecuteOp } };
      const binding = holder.b;
      const record = (into: Set<string>) => {
        const executeOp: ExecuteOp = (name, attrs, ...rest) => {
          into.add(name);
          for (const a of attrs) into.add(`${name}.${a.name}`);
          return binding.executeOp(name, attrs, ...rest);
        };
        holder.b = Object.create(binding, { executeOp: { value: executeOp } }) as typeof binding;
      };
      const primed = new Set<string>();
      const used = new Set<string>();
      const sharp = (await import('sharp')).default;
      const noise = Buffer.from(Array.from({ length: 424 * 424 * 3 }, (_, i) => (i * 7919) % 251));
      const jpeg = await sharp(noise, { raw: { width: 424, height: 424, channels: 3 } })
        .jpeg()
        .toBuffer();
      try {
        record(primed);
        native!.primeAttributeNames();
        record(used);
        for (const mode of [...MODES, { mode: 'center', size: 7, channels: 1, centerCrop: 7 } as PreprocessParams]) {
          await preprocessJpeg(jpeg, resolveParams({ ...mode, decoder: 'tensorflow' }));
        }
        await expect(
          preprocessJpeg(jpeg.subarray(0, 300), resolveParams({ ...MODES[0], decoder: 'tensorflow' })),
        ).rejects.toThrow();
      } finally {
        holder.b = binding;
      }
      expect(used.size).toBeGreaterThan(0);
      expect([...used].filter((name) => !primed.has(name))).toEqual([]);
    },
  );
});
