import { describe, expect, it } from 'vitest';
import { stratifiedSplit, parseSplitRatios } from '../../src/data/split.js';
import { SUPER_RARE, majorityPathClass, reduceRareClasses, withoutArms } from '../../src/data/strat.js';
import { ANSWER_COUNT, question } from '../../src/questions/index.js';

function vote(choices: Record<number, number>): Float64Array {
  const v = new Float64Array(ANSWER_COUNT);
  for (const [q, position] of Object.entries(choices)) v[question(Number(q)).answers[position].index] = 1;
  return v;
}

describe('stratification classes', () => {
  it('derives GZ2-style classes from the majority path', () => {
    expect(majorityPathClass(vote({ 1: 0, 7: 1, 6: 1 }))).toBe('Ei');
    expect(majorityPathClass(vote({ 1: 1, 2: 0, 9: 0, 6: 1 }))).toBe('Ser');
    expect(majorityPathClass(vote({ 1: 1, 2: 1, 3: 0, 4: 0, 10: 1, 11: 1, 5: 1, 6: 1 }))).toBe('SBc2m');
    expect(majorityPathClass(vote({ 1: 1, 2: 1, 3: 1, 4: 1, 5: 0, 6: 0, 8: 5 }))).toBe('Sd(m)');
    expect(majorityPathClass(vote({ 1: 2 }))).toBe('A');
  });

  it('reduces rare classes as the seed did', () => {
    expect(withoutArms('SBc2m(r)')).toBe('SBc(r)');
    expect(withoutArms('Sc?t')).toBe('Sc');
    expect(withoutArms('Ser')).toBe('Ser');
    const classes = [
      ...Array(12).fill('Sc2m'),
      ...Array(5).fill('Sc3t'),
      ...Array(4).fill('Sc4t'),
      'Ei',
      'Ei',
      'SBb2l',
    ];
    const reduced = reduceRareClasses(classes);
    expect(reduced.slice(0, 12)).toEqual(Array(12).fill('Sc2m'));
    expect(reduced.slice(12, 21)).toEqual(Array(9).fill('Sc')); // 5 + 4 merged after losing the arm part
    expect(reduced.slice(21)).toEqual([SUPER_RARE, SUPER_RARE, SUPER_RARE]);
  });
});

describe('stratified split', () => {
  it('keeps every class within one galaxy of its quota and parses ratios', () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({ id: `g${i}`, stratClass: `c${i % 7}` }));
    const split = stratifiedSplit(items, 5, parseSplitRatios('80,10,10'));
    for (let c = 0; c < 7; c++) {
      const members = items.filter((x) => x.stratClass === `c${c}`);
      const val = members.filter((x) => split.get(x.id) === 'validation').length;
      expect(Math.abs(val - members.length * 0.1)).toBeLessThan(1);
    }
    expect(() => parseSplitRatios('0.8,0.2')).toThrow(/three/);
  });
});
