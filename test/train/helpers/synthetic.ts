import { ANSWER_COUNT, QUESTIONS, toCumulative } from '../../../src/questions/index.js';
import type { MemoryData } from '../../../src/train/memory-source.js';
import { Random } from '../../../src/util/random.js';

/**
 * Tiny synthetic galaxies whose Q1 (smooth / features / star) and Q2 (edge-on) vote fractions are
 * visible in the image: smooth galaxies are compact round blobs, featured ones larger, edge-on
 * ones elongated; the other questions get random answers the images do not show.
 */
export function syntheticGalaxies(n: number, size: number, seed: number, options: { votes?: number } = {}): MemoryData {
  const rng = new Random(seed);
  const images = new Uint8Array(n * size * size);
  const cumulative = new Float32Array(n * ANSWER_COUNT);
  const counts = options.votes ? new Float32Array(n * ANSWER_COUNT) : undefined;
  const c = (size - 1) / 2;
  for (let g = 0; g < n; g++) {
    const smooth = rng.next();
    const edge = rng.next();
    const star = 0.02 + 0.06 * rng.next();
    const cond = new Float64Array(ANSWER_COUNT);
    for (const q of QUESTIONS) {
      const w = q.answers.map(() => 0.2 + rng.next());
      const s = w.reduce((a, b) => a + b, 0);
      q.answers.forEach((a, i) => (cond[a.index] = w[i] / s));
    }
    cond[0] = smooth * (1 - star);
    cond[1] = (1 - smooth) * (1 - star);
    cond[2] = star;
    cond[3] = edge;
    cond[4] = 1 - edge;
    const cum = toCumulative(cond, { q6Reach: 'kaggle' });
    cumulative.set(cum, g * ANSWER_COUNT);
    if (counts && options.votes) {
      for (let a = 0; a < ANSWER_COUNT; a++) counts[g * ANSWER_COUNT + a] = Math.round(cum[a] * options.votes);
    }
    const sigma = size * (0.08 + 0.14 * (1 - smooth));
    const ratio = 1 - 0.75 * edge * (1 - smooth);
    const brightness = 0.6 + 0.4 * smooth;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const dx = (x - c) / sigma;
        const dy = (y - c) / (sigma * ratio);
        const v = brightness * Math.exp(-0.5 * (dx * dx + dy * dy)) + 0.03 * rng.normal();
        images[g * size * size + y * size + x] = Math.max(0, Math.min(255, Math.round(v * 255)));
      }
    }
  }
  return { images, shape: [size, size, 1], cumulative, ...(counts ? { counts } : {}) };
}
