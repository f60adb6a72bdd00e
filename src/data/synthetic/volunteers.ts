/**
 * Simulated Galaxy Zoo volunteers: each walks the decision tree from Q1, at every question picking
 * an answer from a confusion distribution centred on the truth whose sharpness depends on how
 * visible the feature is (small, faint or inclined galaxies confuse more; arm counts are harder
 * than "is there a spiral"). Volunteers differ in skill, and a few answer at random.
 *
 * Vote counts become conditional fractions (votes / answerers per question) and Kaggle-convention
 * cumulative fractions (`toCumulative(…, { q6Reach: 'kaggle' })`).
 */
import {
  type Answer,
  ANSWER_COUNT,
  type Question,
  QUESTIONS,
  conditionalFromCounts,
  toCumulative,
} from '../../questions/index.js';
import type { Random } from '../../util/random.js';
import { type Morphology, sigmoid } from './morphology.js';

export interface VolunteerOptions {
  /** Mean number of volunteers per galaxy (default 40). */
  readonly volunteers?: number;
  /** `poisson` (default): the count varies per galaxy around the mean; `fixed`: exactly the mean. */
  readonly volunteerSpread?: 'poisson' | 'fixed';
  /** Spread of volunteer skill on the logit scale of visibility (default 0.8). */
  readonly skillSpread?: number;
  /** Probability that a volunteer answers a question uniformly at random (default 0.03). */
  readonly lapseRate?: number;
}

/** The votes of simulated volunteers answering the decision tree about one galaxy. */
export interface VoteResult {
  /** Number of volunteers who classified the galaxy. */
  readonly volunteers: number;
  /** Votes per answer (37, Kaggle order). */
  readonly counts: Float64Array;
  /** Conditional fractions: each reached question sums to 1; unreached questions are 0 (Q6 excepted). */
  readonly conditional: Float64Array;
  /** Kaggle-convention cumulative fractions (Q6 sums to 1). */
  readonly cumulative: Float64Array;
}

const MIN_VOLUNTEERS = 5;

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

function logit(p: number): number {
  const q = Math.min(Math.max(p, 1e-4), 1 - 1e-4);
  return Math.log(q / (1 - q));
}

/** How clearly a volunteer of skill `skill` sees structure of visibility `vis` (0..1). */
function perceived(vis: number, skill: number): number {
  return sigmoid(logit(vis) + skill);
}

/** Distribution over an ordinal scale of k classes, peaked at `truth`, sharper as `clarity` → 1. */
function ordinal(k: number, truth: number, clarity: number): number[] {
  const width = 0.3 + 1.0 * (1 - clamp01(clarity));
  const out: number[] = [];
  for (let i = 0; i < k; i++) out.push(Math.exp(-0.5 * ((i - truth) / width) ** 2));
  return out;
}

/** Roundness (Q7) from a perceived axis ratio: soft thresholds at 0.8 and 0.45. */
function roundness(q: number): number[] {
  const round = sigmoid((q - 0.78) / 0.05);
  const cigar = sigmoid((0.43 - q) / 0.05);
  return [round, Math.max(1 - round - cigar, 0.02), cigar];
}

const ODD_INDEX: Record<string, number> = {
  ring: 0,
  lens_or_arc: 1,
  disturbed: 2,
  irregular: 3,
  other: 4,
  merger: 5,
  dust_lane: 6,
};

/** Q8 confusion rows (ring, lens, disturbed, irregular, other, merger, dust lane). */
const ODD_CONFUSION: readonly (readonly number[])[] = [
  [0.7, 0.12, 0.03, 0.02, 0.1, 0.02, 0.01],
  [0.15, 0.55, 0.05, 0.03, 0.17, 0.04, 0.01],
  [0.02, 0.03, 0.5, 0.15, 0.1, 0.19, 0.01],
  [0.02, 0.02, 0.2, 0.55, 0.12, 0.08, 0.01],
  [0.08, 0.08, 0.12, 0.1, 0.55, 0.05, 0.02],
  [0.01, 0.02, 0.2, 0.05, 0.05, 0.66, 0.01],
  [0.02, 0.03, 0.05, 0.02, 0.16, 0.02, 0.7],
];
/** Q8 answers of volunteers who saw something odd where nothing was put. */
const ODD_NONE = [0.12, 0.08, 0.18, 0.16, 0.34, 0.08, 0.04];

/** Per-galaxy quantities volunteers react to, computed once. */
interface Scene {
  readonly m: Morphology;
  /** How face-on the disk is (1 face-on, 0 edge-on). */
  readonly faceOn: number;
}

/**
 * Unnormalised answer weights for one question, for a volunteer who perceives structure with
 * clarity `vis` (0..1) and axis ratios with error `qError`.
 */
function answerWeights(question: number, scene: Scene, vis: number, qError: number): number[] {
  const { m, faceOn } = scene;
  const qObs = Math.min(Math.max(m.axisRatio + qError, 0.05), 1);
  const disk = m.kind === 'disk';
  switch (question) {
    case 1: {
      if (m.kind === 'star') return m.starKind === 'star' ? [0.12, 0.04, 0.84] : [0.12, 0.22, 0.66];
      if (m.kind === 'smooth') {
        const oddPull = m.odd ? 0.3 * m.oddStrength * vis : 0;
        const flat = qObs < 0.4 ? 0.12 : 0;
        const compact = m.scale < 0.022 ? 0.04 : 0.006;
        const features = 0.05 + oddPull + flat;
        return [1 - features - compact, features, compact];
      }
      // Disks: structure makes them look featured; big bulges, faint or tiny disks look smooth.
      const structure = Math.min(
        1,
        0.45 +
          0.55 * (1 - m.bulgeFraction) +
          0.7 * m.armStrength +
          0.3 * m.barStrength +
          (m.edgeOn ? 0.5 : 0) +
          (m.odd ? 0.3 : 0),
      );
      const features = 0.07 + 0.9 * Math.pow(vis, 0.7) * structure;
      const star = m.scale < 0.02 ? 0.02 : 0.005;
      return [Math.max(1 - features - star, 0.01), features, star];
    }
    case 2: {
      // Edge-on: thin projected shape; ellipticals only when very flat.
      const thin = sigmoid((0.3 - qObs) / 0.05);
      const yes = disk ? 0.03 + 0.92 * thin * (0.55 + 0.45 * vis) : 0.03 + 0.4 * thin;
      return [yes, 1 - yes];
    }
    case 3: {
      const seen = m.bar ? Math.min(1, 0.3 + m.barStrength) * vis * (0.4 + 0.6 * faceOn) : 0;
      const bar = 0.05 + 0.88 * seen;
      return [bar, 1 - bar];
    }
    case 4: {
      const seen = m.spiral ? Math.min(1, 0.5 + 0.9 * m.armStrength) * Math.pow(vis, 0.7) * (0.5 + 0.5 * faceOn) : 0;
      const spiral = 0.07 + 0.9 * seen;
      return [spiral, 1 - spiral];
    }
    case 5: {
      // Bulge prominence: from the true class for disks; edge-on or smooth objects seen as disks
      // get a guess from their bulge fraction.
      const level = m.bulge
        ? ['no_bulge', 'just_noticeable', 'obvious', 'dominant'].indexOf(m.bulge)
        : m.kind === 'smooth'
          ? 3
          : Math.min(3, Math.round(m.bulgeFraction * 5));
      return ordinal(4, level, vis * 0.85);
    }
    case 6: {
      const seen = m.odd ? m.oddStrength * (0.35 + 0.65 * vis) : 0;
      const nearStar = m.stars.some((s) => Math.hypot(s.x - m.centreX, s.y - m.centreY) < 0.16) ? 0.04 : 0;
      const yes = 0.08 + nearStar + 0.85 * seen;
      return [yes, 1 - yes];
    }
    case 7:
      return roundness(qObs);
    case 8:
      return m.odd
        ? ODD_CONFUSION[ODD_INDEX[m.odd]].map((p, i) => p * vis + (1 - vis) * ODD_NONE[i])
        : ODD_NONE.slice();
    case 9: {
      if (m.bulgeShape) {
        const truth = ['rounded', 'boxy', 'no_bulge'].indexOf(m.bulgeShape);
        const rows = [
          [0.8, 0.08, 0.12],
          [0.35, 0.55, 0.1],
          [0.2, 0.04, 0.76],
        ];
        return rows[truth].map((p) => p * vis + (1 - vis) / 3);
      }
      return m.bulgeFraction > 0.1 || m.kind === 'smooth' ? [0.7, 0.1, 0.2] : [0.3, 0.05, 0.65];
    }
    case 10: {
      if (!m.winding) return [0.3, 0.45, 0.25];
      const truth = ['tight', 'medium', 'loose'].indexOf(m.winding);
      return ordinal(3, truth, vis * (0.35 + 0.65 * faceOn) * 0.9);
    }
    case 11: {
      if (!m.arms) return [0.08, 0.3, 0.06, 0.04, 0.04, 0.48];
      // Arm counts: hard; more arms are harder; faint arms → "can't tell".
      const clarity = vis * m.armStrength * (0.35 + 0.65 * faceOn) * (m.arms <= 2 ? 1 : 0.75);
      const counts = ordinal(5, m.arms - 1, clarity * 0.9);
      const total = counts.reduce((s, x) => s + x, 0);
      const cantTell = 0.06 + 0.9 * (1 - clamp01(clarity * 1.3)) ** 2;
      return [...counts.map((c) => ((1 - cantTell) * c) / total), cantTell];
    }
    default:
      throw new RangeError(`no question ${question}`);
  }
}

/** Simulate the volunteers classifying one object. */
export function simulateVotes(m: Morphology, rng: Random, options: VolunteerOptions = {}): VoteResult {
  const mean = options.volunteers ?? 40;
  const volunteers =
    options.volunteerSpread === 'fixed' ? Math.max(1, Math.round(mean)) : Math.max(MIN_VOLUNTEERS, rng.poisson(mean));
  const skillSpread = options.skillSpread ?? 0.8;
  const lapse = options.lapseRate ?? 0.03;
  const scene: Scene = {
    m,
    faceOn: clamp01((Math.cos((m.inclination * Math.PI) / 180) - 0.2) / 0.6),
  };
  const counts = new Float64Array(ANSWER_COUNT);
  for (let v = 0; v < volunteers; v++) {
    const skill = rng.normal(0, skillSpread);
    const vis = perceived(m.visibility, skill);
    const qError = rng.normal(0, 0.07);
    let q: number | null = 1;
    let steps = 0;
    while (q !== null) {
      if (++steps > 20) throw new Error('volunteer walk did not terminate: the tree has a cycle');
      const spec: Question = QUESTIONS[q - 1];
      let position: number;
      if (rng.bool(lapse)) {
        position = rng.int(0, spec.answers.length - 1);
      } else {
        const weights = answerWeights(q, scene, vis, qError).map((w) => (w > 0 && Number.isFinite(w) ? w : 0));
        position = rng.categorical(weights);
      }
      const answer: Answer = spec.answers[position];
      counts[answer.index] += 1;
      q = answer.leadsTo;
    }
  }
  return { volunteers, counts, ...fractionsFromCounts(counts) };
}

/**
 * Conditional and Kaggle-cumulative fractions from vote counts. Kaggle's labels make Q6 sum to 1
 * for every galaxy, stars included; Q6's conditional comes from the volunteers who reached it.
 * When nobody reached Q6 (everybody called it a star or artifact) it is set to "no" = 1: nobody
 * reported anything odd. Q8 then stays 0, as its reach (Class6.1) is 0.
 */
export function fractionsFromCounts(counts: ArrayLike<number>): {
  conditional: Float64Array;
  cumulative: Float64Array;
} {
  const conditional = conditionalFromCounts(counts);
  const q6 = QUESTIONS[5];
  const [yes, no] = q6.answers;
  if (conditional[yes.index] + conditional[no.index] === 0) conditional[no.index] = 1;
  const cumulative = toCumulative(conditional, { q6Reach: 'kaggle' });
  return { conditional, cumulative };
}
