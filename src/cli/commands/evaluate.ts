import { readFileSync } from 'node:fs';
import { type Command, Option } from 'commander';
import type { SplitName } from '../../data/batch.js';
import { openCatalogue } from '../../data/catalogue.js';
import { SPLIT_NAMES } from '../../data/split.js';
import { SPLIT_FILE, findSplitFile, readSplitFile } from '../../experiments/split-file.js';
import { initBackend } from '../../backend/select.js';
import { evaluateKaggleDir, formatEvaluation, galaxyId } from '../../ensemble/kaggle.js';
import type { TtaSpec } from '../../ensemble/tta.js';
import { EnsemblePredictor } from '../../ensemble/predictor.js';
import { KAGGLE_COLUMNS, QUESTIONS } from '../../questions/index.js';
import { createProgress } from '../../util/progress.js';
import { EXIT, UsageError } from '../exit.js';
import { positiveInt } from '../options.js';
import { parseTta } from './predict.js';

interface EvaluateFlags {
  model: string;
  data: string;
  tta?: TtaSpec;
  ids?: string;
  catalogue?: string;
  split?: SplitName;
  batchSize: number;
  backend?: string;
  json?: boolean;
  quiet?: boolean;
}

/**
 * GalaxyIDs from a file: one per line, or the first column of a CSV (a `GalaxyID` header is
 * skipped). Quotes, a byte-order mark and an image extension (`100008.jpg`) are taken off.
 */
export function readIds(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(
      `${path}: cannot read the ids file: ${(error as NodeJS.ErrnoException).code ?? String(error)}`,
    );
  }
  const ids = text
    .replace(/^\uFEFF/, '')
    .split(/\r?\n/)
    .map((l) =>
      galaxyId(
        l
          .split(',')[0]
          .trim()
          .replace(/^"(.*)"$/, '$1')
          .trim(),
      ),
    )
    .filter((id, i) => id !== '' && !(i === 0 && id.toLowerCase() === 'galaxyid'));
  if (ids.length === 0) throw new UsageError(`${path}: no GalaxyIDs in the ids file`);
  return ids;
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  const set = new Set(a);
  return set.size === new Set(b).size && b.every((id) => set.has(id));
}

/**
 * The GalaxyIDs of `split`: from `catalogue` when given (warning when it is not the run's), else from the split.json
 * of the model's run.
 */
function splitGalaxies(
  model: string,
  split: SplitName,
  catalogue: string | undefined,
): { ids: string[]; from: string } {
  const runSplit = findSplitFile(model);
  if (!catalogue) {
    if (!runSplit) {
      throw new UsageError(
        `no ${SPLIT_FILE} in or above ${model}, so the run's split is unknown: pass --catalogue <the run's ` +
          'catalogue> or --ids <file>',
      );
    }
    return { ids: [...readSplitFile(runSplit).ids[split]], from: runSplit };
  }
  const cat = openCatalogue(catalogue);
  let ids: string[];
  try {
    ids = cat
      .galaxies()
      .filter((g) => g.split === split)
      .map((g) => g.id);
  } finally {
    cat.close();
  }
  if (runSplit && !sameMembers(ids, readSplitFile(runSplit).ids[split])) {
    process.stderr.write(
      `gzh: warning: the ${split} split of ${catalogue} is not the one the model's run used (${runSplit})\n`,
    );
  }
  return { ids, from: catalogue };
}

export function register(program: Command): void {
  program
    .command('evaluate')
    .description(
      'Score a saved model or ensemble on a Kaggle-format directory (images_training_rev1/ + ' +
        'training_solutions_rev1.csv): ' +
        'RMSE (the competition metric), global R², per-answer R² and per-question RMSE of the cumulative outputs.',
    )
    .requiredOption('--model <dir>', 'ensemble directory, single model directory or a folder of model directories')
    .requiredOption('--data <dir>', 'Kaggle-format directory')
    .option(
      '--tta <spec>',
      'test-time augmentation: none | flip | rot4 | d4 or a grid "rot=0,90;flip;zoom=1,1.1" (default: the ensemble\'s)',
      parseTta,
    )
    .option('--ids <file>', 'only these GalaxyIDs (one per line, or the first column of a CSV)')
    .addOption(
      new Option(
        '--split <name>',
        "only this split of the run the model was trained in (its split.json), or of --catalogue's",
      ).choices(SPLIT_NAMES),
    )
    .option(
      '--catalogue <file>',
      'with --split: take the split from this catalogue (written by `gzh ingest` / `gzh run`) instead',
    )
    .option('--batch-size <n>', 'images per batch', positiveInt, 32)
    .action(async (_flags: unknown, command: Command) => {
      const flags = command.optsWithGlobals<EvaluateFlags>();
      if (flags.catalogue !== undefined && flags.split === undefined) throw new UsageError('--catalogue needs --split');
      let ids: string[] | undefined = flags.ids ? readIds(flags.ids) : undefined;
      const backend = (await initBackend(flags.backend)).name;
      const predictor = await EnsemblePredictor.load(flags.model, flags.tta ? { tta: flags.tta } : {});
      const progress = createProgress({ quiet: flags.quiet, json: flags.json });
      try {
        // after loading, so that a model folder that is not there is named first
        const split = flags.split ? splitGalaxies(flags.model, flags.split, flags.catalogue) : undefined;
        if (split) {
          const wanted = new Set(split.ids);
          ids = ids ? ids.filter((id) => wanted.has(id)) : split.ids;
        }
        const result = await evaluateKaggleDir(predictor, flags.data, {
          ...(ids ? { ids } : {}),
          batchSize: flags.batchSize,
          onStart: (total) => progress.start(total, 'evaluate'),
          onProgress: (() => {
            let last = 0;
            return (done: number) => {
              progress.tick(done - last);
              last = done;
            };
          })(),
        });
        progress.stop();
        if (flags.json) {
          const m = result.metrics;
          process.stdout.write(
            `${JSON.stringify(
              {
                model: predictor.source,
                data: result.directory,
                ...(split ? { split: { name: flags.split, from: split.from } } : {}),
                backend,
                members: predictor.members.length,
                views: predictor.views.map((v) => v.label),
                count: result.count,
                failures: result.failures,
                rmse: m.rmse,
                mse: m.mse,
                r2: m.r2,
                r2MeanOfAnswers: m.r2PerAnswerMean,
                rmsePerQuestion: Object.fromEntries(QUESTIONS.map((q, i) => [q.key, m.rmsePerQuestion[i]])),
                r2PerAnswer: Object.fromEntries(
                  KAGGLE_COLUMNS.map((c, i) => [c, Number.isFinite(m.r2PerAnswer[i]) ? m.r2PerAnswer[i] : null]),
                ),
                rmsePerAnswer: Object.fromEntries(KAGGLE_COLUMNS.map((c, i) => [c, m.rmsePerAnswer[i]])),
                seconds: result.seconds,
              },
              null,
              2,
            )}\n`,
          );
        } else {
          const splitLine = split ? `split       ${flags.split} (from ${split.from})\n` : '';
          process.stdout.write(
            `model       ${predictor.source} (${predictor.members.length} member(s) × ` +
              `${predictor.views.length} view(s), ${backend})\n${splitLine}${formatEvaluation(result)}\n`,
          );
        }
        if (result.failures.length > 0) process.exitCode = EXIT.failed;
      } finally {
        progress.stop();
        predictor.dispose();
      }
    });
}
