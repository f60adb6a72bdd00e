import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  fractionsFromCounts,
  sampleMorphology,
  simulateVotes,
  synthesizeGalaxy,
  trueAnswers,
} from '../../../src/data/synthetic/index.js';
import { ANSWERS, ANSWER_COUNT, KAGGLE_COLUMNS, QUESTIONS, validateVector } from '../../../src/questions/index.js';
import { Random } from '../../../src/util/random.js';

const col = (id: string) => KAGGLE_COLUMNS.indexOf(id);

function meanOf(rows: Float64Array[], id: string): number {
  const j = col(id);
  return rows.reduce((s, r) => s + r[j], 0) / Math.max(rows.length, 1);
}

describe('synthetic labels', () => {
  it('every cumulative row passes the Kaggle-mode validator (any seed, any galaxy)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -(2 ** 31), max: 2 ** 31 - 1 }),
        fc.nat(100_000),
        fc.integer({ min: 1, max: 80 }),
        (seed, index, volunteers) => {
          const g = synthesizeGalaxy(seed, index, { volunteers });
          expect(
            validateVector(g.votes.cumulative, { convention: 'cumulative', q6Reach: 'kaggle', tolerance: 1e-6 }),
          ).toEqual([]);
          expect(validateVector(g.votes.conditional, { convention: 'conditional', tolerance: 1e-9 })).toEqual([]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('stars and artifacts get valid rows too, even when every volunteer calls them a star', () => {
    const counts = new Float64Array(ANSWER_COUNT);
    counts[col('Class1.3')] = 40;
    const { cumulative, conditional } = fractionsFromCounts(counts);
    expect(cumulative[col('Class1.3')]).toBe(1);
    expect(cumulative[col('Class6.2')]).toBe(1);
    expect(conditional[col('Class6.1')]).toBe(0);
    expect(validateVector(cumulative, { convention: 'cumulative', q6Reach: 'kaggle', tolerance: 1e-12 })).toEqual([]);
    for (let i = 0; i < 40; i++) {
      const g = synthesizeGalaxy(11, i, { starFraction: 1 });
      expect(g.morphology.kind).toBe('star');
      expect(
        validateVector(g.votes.cumulative, { convention: 'cumulative', q6Reach: 'kaggle', tolerance: 1e-6 }),
      ).toEqual([]);
    }
  });

  it('vote counts follow the tree: every volunteer answers Q1, each question gets its parents’ votes', () => {
    for (let i = 0; i < 200; i++) {
      const g = synthesizeGalaxy(5, i);
      const { counts, volunteers } = g.votes;
      const total = (q: number) => QUESTIONS[q - 1].answers.reduce((s, a) => s + counts[a.index], 0);
      expect(total(1)).toBe(volunteers);
      for (const q of QUESTIONS) {
        if (q.parentAnswers.length === 0) continue;
        expect(total(q.number)).toBe(q.parentAnswers.reduce((s, p) => s + counts[p], 0));
      }
      expect(volunteers).toBeGreaterThanOrEqual(5);
    }
  });

  it('is deterministic and a pure function of (seed, index)', () => {
    const a = synthesizeGalaxy(42, 17);
    const b = synthesizeGalaxy(42, 17);
    expect(b).toEqual(a);
    expect(synthesizeGalaxy(43, 17).votes.counts).not.toEqual(a.votes.counts);
  });

  it('truth paths are valid walks through the tree', () => {
    for (let i = 0; i < 300; i++) {
      const m = sampleMorphology(Random.derive(9, i));
      const path = trueAnswers(m);
      let q: number | null = 1;
      const visited: number[] = [];
      while (q !== null) {
        const key = path.get(q);
        expect(key, `Q${q} missing for ${m.kind}`).toBeDefined();
        const answer = ANSWERS.find((a) => a.question === q && a.key === key);
        expect(answer, `Q${q} has no answer ${key}`).toBeDefined();
        visited.push(q);
        q = answer!.leadsTo;
      }
      // Stars never reach Q6; galaxies always do.
      expect(visited.includes(6)).toBe(m.kind !== 'star');
      expect([...path.keys()].sort()).toEqual([...visited].sort());
    }
  });

  it('vote fractions track the true morphology', () => {
    const smooth: Float64Array[] = [];
    const featured: Float64Array[] = [];
    const edgeOn: Float64Array[] = [];
    const faceOn: Float64Array[] = [];
    const spiral: Float64Array[] = [];
    const noSpiral: Float64Array[] = [];
    const barred: Float64Array[] = [];
    const unbarred: Float64Array[] = [];
    const odd: Float64Array[] = [];
    const normal: Float64Array[] = [];
    const stars: Float64Array[] = [];
    for (let i = 0; i < 1500; i++) {
      const g = synthesizeGalaxy(2024, i);
      const m = g.morphology;
      const c = g.votes.cumulative;
      if (m.kind === 'star') stars.push(c);
      else (m.odd ? odd : normal).push(c);
      if (m.kind === 'smooth') smooth.push(c);
      if (m.kind !== 'disk') continue;
      featured.push(c);
      (m.edgeOn ? edgeOn : faceOn).push(c);
      if (!m.edgeOn) {
        (m.spiral ? spiral : noSpiral).push(c);
        (m.bar ? barred : unbarred).push(c);
      }
    }
    // A realistic mix: many smooth, many featured, few stars.
    expect(smooth.length / 1500).toBeGreaterThan(0.35);
    expect(featured.length / 1500).toBeGreaterThan(0.35);
    expect(stars.length / 1500).toBeLessThan(0.06);

    expect(meanOf(smooth, 'Class1.1')).toBeGreaterThan(0.75);
    expect(meanOf(featured, 'Class1.1')).toBeLessThan(0.35);
    expect(meanOf(featured, 'Class1.2')).toBeGreaterThan(0.6);
    expect(meanOf(edgeOn, 'Class2.1')).toBeGreaterThan(0.45);
    expect(meanOf(faceOn, 'Class2.1')).toBeLessThan(0.15);
    expect(meanOf(spiral, 'Class4.1')).toBeGreaterThan(meanOf(noSpiral, 'Class4.1') + 0.3);
    expect(meanOf(barred, 'Class3.1')).toBeGreaterThan(meanOf(unbarred, 'Class3.1') + 0.2);
    expect(meanOf(odd, 'Class6.1')).toBeGreaterThan(meanOf(normal, 'Class6.1') + 0.3);
    expect(meanOf(stars, 'Class1.3')).toBeGreaterThan(0.6);
  });

  it('fainter, smaller disks confuse volunteers more (called smooth more often)', () => {
    const rows: Array<{ vis: number; smooth: number }> = [];
    for (let i = 0; i < 600; i++) {
      const m = sampleMorphology(Random.derive(77, 'm', i), { kind: 'disk' });
      const v = simulateVotes(m, Random.derive(77, 'v', i));
      rows.push({ vis: m.visibility, smooth: v.cumulative[col('Class1.1')] });
    }
    const low = rows.filter((r) => r.vis < 0.5);
    const high = rows.filter((r) => r.vis > 0.85);
    expect(low.length).toBeGreaterThan(20);
    const mean = (xs: typeof rows) => xs.reduce((s, r) => s + r.smooth, 0) / xs.length;
    expect(mean(low)).toBeGreaterThan(mean(high) + 0.15);
  });

  it('fixed volunteer counts are honoured', () => {
    const g = synthesizeGalaxy(1, 3, { volunteers: 25, volunteerSpread: 'fixed' });
    expect(g.votes.volunteers).toBe(25);
  });
});
