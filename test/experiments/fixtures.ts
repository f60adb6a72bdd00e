import sharp from 'sharp';
import { Random } from '../../src/util/random.js';
import type { ComparisonResult, VariantResult } from '../../src/experiments/report/types.js';

function variant(
  name: string,
  label: string,
  kind: string,
  quality: number,
  rng: Random,
  ensembleSize = 1,
): VariantResult {
  const perAnswerR2 = Array.from({ length: 37 }, (_, i) =>
    i === 36 ? Number.NaN : quality - 0.01 * (i % 7) + 0.02 * rng.next(),
  );
  return {
    name,
    label,
    modelKind: kind,
    ensembleSize,
    tta: ensembleSize > 1 ? 'd4' : 'none',
    parameters: 123_456,
    epochs: 4,
    trainSeconds: 42.5,
    overall: { rmse: 0.2 - quality / 10, mse: (0.2 - quality / 10) ** 2, r2: quality, meanAnswerR2: quality - 0.05 },
    perQuestion: Array.from({ length: 11 }, (_, i) => ({ question: i + 1, rmse: 0.1 + i / 100, r2: quality - i / 50 })),
    perAnswerR2,
    perAnswerRmse: Array.from({ length: 37 }, (_, i) => 0.05 + i / 1000),
    history: Array.from({ length: 4 * ensembleSize }, (_, k) => {
      const epoch = (k % 4) + 1;
      return {
        epoch,
        member: Math.floor(k / 4),
        loss: 0.05 / epoch,
        valLoss: 0.06 / epoch,
        valRmse: 0.25 / Math.sqrt(epoch),
      };
    }),
    scatter: ['Class1.1', 'Class2.1'].map((answer) => {
      const truth = Array.from({ length: 60 }, () => rng.next());
      return {
        answer,
        truth,
        predicted: truth.map((t) => Math.min(1, Math.max(0, t + (1 - quality) * (rng.next() - 0.5)))),
      };
    }),
    ...(ensembleSize > 1
      ? {
          members: Array.from({ length: ensembleSize }, (_, m) => ({
            member: m,
            ...(m === 2 ? { label: 'preprocess.centerCrop 160' } : {}),
            rmse: [0.13, 0.125, 0.128][m % 3]!,
            r2: 0.7,
            rmseTta: 0.124 + m / 1000,
          })),
          memberSpread: 0.0217,
        }
      : {}),
  };
}

export async function fixtureComparison(): Promise<ComparisonResult> {
  const rng = new Random(3);
  const png = await sharp({ create: { width: 24, height: 24, channels: 3, background: { r: 40, g: 30, b: 90 } } })
    .png()
    .toBuffer();
  const variants = [
    variant('flat', 'Flat (seed CNN)', 'flat', 0.71234, rng),
    variant('hierarchical', 'Hierarchical', 'hierarchical', 0.75321, rng),
    variant('hier-ens', 'Hierarchical ×3 ensemble', 'hierarchical', 0.78456, rng, 3),
  ];
  const truth = Array.from({ length: 37 }, (_, i) => (i === 0 ? 0.8 : i === 1 ? 0.15 : rng.next() * 0.1));
  return {
    experiment: {
      name: 'fixture',
      description: 'A hand-made comparison <for tests> & checks.',
      runId: 'run-xyz',
      configHash: 'f'.repeat(64),
      seed: 7,
      gitCommit: 'abc',
      backend: 'cpu',
      dataSource: 'synthetic',
      convention: 'cumulative',
      createdAt: '2024-01-01T00:00:00.000Z',
      budget: '4 epochs per model',
    },
    split: { train: 100, validation: 20, test: 30 },
    variants,
    examples: [
      {
        id: '1001',
        image: { mime: 'image/png', data: png },
        truth,
        predictions: Object.fromEntries(variants.map((v) => [v.name, truth.map((t) => t * 0.9)])),
      },
      {
        id: '1002',
        image: { mime: 'image/png', data: png },
        truth: truth.slice().reverse(),
        predictions: { flat: truth },
      },
    ],
    phases: { ingest: 1.2, 'train:flat': 42.5 },
  };
}
