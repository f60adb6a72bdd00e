import { describe, expect, it } from 'vitest';
import {
  RenderScratch,
  galaxyExtent,
  renderGalaxy,
  renderGalaxyUint8,
  sampleMorphology,
  synthesizeGalaxy,
  renderSyntheticGalaxy,
} from '../../../src/data/synthetic/index.js';
import { KAGGLE_COLUMNS } from '../../../src/questions/index.js';
import { Random } from '../../../src/util/random.js';

/** Luminance of an HWC RGB image, box-averaged over (2r+1)² pixels. */
function smoothedLuminance(image: Float32Array, size: number, r = 2): Float32Array {
  const lum = new Float32Array(size * size);
  for (let i = 0; i < size * size; i++) lum[i] = (image[3 * i] + image[3 * i + 1] + image[3 * i + 2]) / 3;
  const out = new Float32Array(size * size);
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let s = 0;
      let n = 0;
      for (let dy = -r; dy <= r; dy++) {
        for (let dx = -r; dx <= r; dx++) {
          const xx = x + dx;
          const yy = y + dy;
          if (xx < 0 || yy < 0 || xx >= size || yy >= size) continue;
          s += lum[yy * size + xx];
          n++;
        }
      }
      out[y * size + x] = s / n;
    }
  }
  return out;
}

function argmax(values: Float32Array): number {
  let best = 0;
  for (let i = 1; i < values.length; i++) if (values[i] > values[best]) best = i;
  return best;
}

function pearson(xs: number[], ys: number[]): number {
  const n = xs.length;
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < n; i++) {
    sxy += (xs[i] - mx) * (ys[i] - my);
    sxx += (xs[i] - mx) ** 2;
    syy += (ys[i] - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

describe('synthetic renderer', () => {
  it('renders size×size×3 values in [0, 1], deterministically for the same noise seed', () => {
    const m = sampleMorphology(Random.derive(3, 'm'));
    const a = renderGalaxy(m, new Random(5), { size: 64 });
    const b = renderGalaxy(m, new Random(5), { size: 64 });
    const c = renderGalaxy(m, new Random(6), { size: 64 });
    expect(a.length).toBe(64 * 64 * 3);
    expect(b).toEqual(a);
    expect(c).not.toEqual(a);
    expect(Math.min(...a)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...a)).toBeLessThanOrEqual(1);
  });

  it('renders uint8 pixels equal to the float image × 255 rounded, with or without reused scratch buffers', () => {
    const scratch = new RenderScratch(72);
    for (let i = 0; i < 12; i++) {
      // stars and artifacts too: their light reaches the image edges
      const m = sampleMorphology(Random.derive(9, 'm', i), { starFraction: i % 4 === 0 ? 1 : 0 });
      const float = renderGalaxy(m, new Random(i), { size: 72 });
      const expected = Uint8Array.from(float, (v) => Math.min(255, Math.max(0, Math.round(v * 255))));
      const reused = renderGalaxyUint8(m, new Random(i), { size: 72 }, scratch);
      expect(Buffer.from(reused).equals(Buffer.from(expected)), `galaxy ${i}`).toBe(true);
      expect(
        Buffer.from(renderGalaxyUint8(m, new Random(i), { size: 72 })).equals(Buffer.from(expected)),
        `galaxy ${i}`,
      ).toBe(true);
    }
    expect(() => renderGalaxyUint8(sampleMorphology(new Random(1)), new Random(1), { size: 64 }, scratch)).toThrow(
      /72 px/,
    );
  });

  it('puts the galaxy centre, its brightest region, near the image centre', () => {
    const size = 96;
    let checked = 0;
    for (let i = 0; checked < 60; i++) {
      const m = sampleMorphology(Random.derive(12, 'm', i), { starCount: 0, starFraction: 0 });
      // A merger's companion or an irregular's clumps may outshine the nucleus.
      if (m.odd === 'merger' || m.odd === 'irregular') continue;
      const image = renderGalaxy(m, Random.derive(12, 'r', i), { size });
      const peak = argmax(smoothedLuminance(image, size));
      const px = (peak % size) + 0.5 - size / 2;
      const py = Math.floor(peak / size) + 0.5 - size / 2;
      expect(Math.hypot(px, py), `galaxy ${i} (${m.kind}) peaks at (${px}, ${py})`).toBeLessThan(0.06 * size);
      checked++;
    }
  });

  it('places requested foreground stars off-centre, clear of the galaxy, and bright', () => {
    const size = 128;
    for (let i = 0; i < 20; i++) {
      const m = sampleMorphology(Random.derive(8, 'm', i), { starCount: 3, starFlux: [4, 8], starFraction: 0 });
      expect(m.stars).toHaveLength(3);
      const image = renderGalaxy(m, Random.derive(8, 'r', i), { size });
      for (const s of m.stars) {
        expect(Math.hypot(s.x - m.centreX, s.y - m.centreY)).toBeGreaterThanOrEqual(
          Math.min(galaxyExtent(m) + 0.04, 0.44) - 1e-9,
        );
        expect(Math.hypot(s.x, s.y)).toBeGreaterThan(0.1);
        const x = Math.floor(size / 2 + s.x * size);
        const y = Math.floor(size / 2 + s.y * size);
        const o = (y * size + x) * 3;
        expect((image[o] + image[o + 1] + image[o + 2]) / 3).toBeGreaterThan(0.5);
      }
    }
    // Off by default only in number: a mean of 2.5 stars per image.
    let total = 0;
    for (let i = 0; i < 200; i++) total += sampleMorphology(Random.derive(8, 'n', i)).stars.length;
    expect(total / 200).toBeGreaterThan(1.8);
    expect(total / 200).toBeLessThan(3.2);
  });

  it('renders smooth galaxies redder than featured ones: Class1.1 is learnable from pixels', () => {
    const size = 64;
    const concentration: number[] = [];
    const colour: number[] = [];
    const smooth: number[] = [];
    const j = KAGGLE_COLUMNS.indexOf('Class1.1');
    for (let i = 0; i < 200; i++) {
      const g = synthesizeGalaxy(31, i, { starCount: 0 });
      if (g.morphology.kind === 'star') continue;
      const image = renderSyntheticGalaxy(31, g, { size });
      let inner = 0;
      let outer = 0;
      let red = 0;
      let blue = 0;
      for (let y = 0; y < size; y++) {
        for (let x = 0; x < size; x++) {
          const r = Math.hypot(x + 0.5 - size / 2, y + 0.5 - size / 2);
          const o = (y * size + x) * 3;
          const l = image[o] + image[o + 1] + image[o + 2];
          if (r < 0.05 * size) inner += l;
          if (r < 0.2 * size) {
            outer += l;
            red += image[o];
            blue += image[o + 2];
          }
        }
      }
      concentration.push(inner / outer);
      colour.push(red / (blue + 1e-6));
      smooth.push(g.votes.cumulative[j]);
    }
    // Colour alone (red/blue inside the galaxy) explains much of Class1.1; after the asinh stretch a
    // fixed-aperture concentration is only weakly related, so it is reported, not asserted.
    expect(pearson(colour, smooth)).toBeGreaterThan(0.5);
    expect(Number.isFinite(pearson(concentration, smooth))).toBe(true);
  });
  it('gives empty sky the statistics of stretched Gaussian noise, uncorrelated between pixels', () => {
    // reference: the Lupton stretch (β 0.05, white at 6) of independent N(0, 0.014) triples
    const reference: number[] = [];
    const rng = new Random(77);
    const norm = 1 / Math.asinh(6 / 0.05);
    for (let i = 0; i < 20000; i++) {
      const [r, g, b] = [0, 1, 2].map(() => rng.normal() * 0.014);
      const mean = (r + g + b) / 3;
      const f = mean > 1e-6 ? (Math.asinh(mean / 0.05) * norm) / mean : norm / 0.05;
      reference.push(Math.min(1, Math.max(0, r * f)));
    }
    const size = 256;
    const sky: number[] = [];
    const right: number[] = [];
    const triples = new Set<string>();
    for (let i = 0; i < 6; i++) {
      const m = sampleMorphology(Random.derive(21, 'm', i), { starCount: 0, starFraction: 0 });
      const image = renderGalaxy(m, Random.derive(21, 'r', i), { size });
      for (let y = 0; y < 24; y++) {
        for (let x = 0; x < 24; x++) {
          const o = (y * size + x) * 3;
          sky.push(image[o]);
          right.push(image[o + 3]);
          triples.add(`${image[o]},${image[o + 1]},${image[o + 2]}`);
        }
      }
    }
    const stats = (v: number[]) => {
      const mean = v.reduce((s, x) => s + x, 0) / v.length;
      return { mean, sd: Math.sqrt(v.reduce((s, x) => s + (x - mean) ** 2, 0) / v.length) };
    };
    const got = stats(sky);
    const want = stats(reference);
    expect(Math.abs(got.mean - want.mean)).toBeLessThan(0.1 * want.sd);
    expect(Math.abs(got.sd / want.sd - 1)).toBeLessThan(0.08);
    expect(Math.abs(pearson(sky, right))).toBeLessThan(0.05);
    // not a short repeated pattern (all-negative triples clamp to the same black pixel)
    expect(triples.size).toBeGreaterThan(0.7 * sky.length);
  });
});
