import { readFileSync } from 'node:fs';
import { type Command } from 'commander';
import { openCatalogue } from '../../data/catalogue.js';
import { initBackend } from '../../backend/select.js';
import { evaluateKaggleDir, formatEvaluation } from '../../ensemble/kaggle.js';
import { EnsemblePredictor } from '../../ensemble/predictor.js';
import { KAGGLE_COLUMNS, QUESTIONS } from '../../questions/index.js';
import { createProgress } from '../../util/progress.js';
import { parseTta, positiveInt } from './predict.js';

interface EvaluateFlags {
  model: string;
  data: string;
  tta?: string;
  ids?: string;
  catalogue?: string;
  split?: string;
  batchSize: number;
  backend?: string;
  json?: boolean;
  quiet?: boolean;
}

/** GalaxyIDs from a file: one per line, or the first column of a CSV (a header line is skipped). */
function readIds(path: string): string[] {
  return readFileSync(path, 'utf8')
    .split(/\r?\n/)
    .map((l) => l.split(',')[0].trim())
    .filter((id) => id !== '' && /^\w+$/.test(id) && id !== 'GalaxyID');
}

export function register(program: Command): void {
  program
    .command('evaluate')
    .description(
      'Score a saved model or ensemble on a Kaggle-format directory (images_training_rev1/ + training_solutions_rev1.csv): ' +
        'RMSE (the competition metric), global R², per-answer R² and per-question RMSE of the cumulative outputs.',
    )
    .requiredOption('--model <dir>', 'ensemble directory, single model directory or a folder of model directories')
    .requiredOption('--data <dir>', 'Kaggle-format directory')
    .option('--tta <spec>', 'test-time augmentation: none | flip | rot4 | d4 or a grid "rot=0,90;flip;zoom=1,1.1" (default: the ensemble\'s)')
    .option('--ids <file>', 'only these GalaxyIDs (one per line, or the first column of a CSV)')
    .option('--catalogue <file>', 'with --split: take the GalaxyIDs of a split from a catalogue written by `gzh ingest` / `gzh run`')
    .option('--split <name>', 'train | validation | test (with --catalogue)')
    .option('--batch-size <n>', 'images per batch', positiveInt, 32)
    .action(async (_flags: unknown, command: Command) => {
      const flags = command.optsWithGlobals<EvaluateFlags>();
      const tta = flags.tta === undefined ? undefined : parseTta(flags.tta);
      if ((flags.catalogue === undefined) !== (flags.split === undefined)) throw new Error('--catalogue and --split go together');
      let ids: string[] | undefined = flags.ids ? readIds(flags.ids) : undefined;
      if (flags.catalogue && flags.split) {
        if (!['train', 'validation', 'test'].includes(flags.split)) throw new Error(`--split must be train, validation or test, got ${flags.split}`);
        const cat = openCatalogue(flags.catalogue);
        try {
          const split = cat.galaxies().filter((g) => g.split === flags.split).map((g) => g.id);
          ids = ids ? ids.filter((id) => split.includes(id)) : split;
        } finally {
          cat.close();
        }
      }
      const backend = (await initBackend(flags.backend)).name;
      const predictor = await EnsemblePredictor.load(flags.model, tta ? { tta } : {});
      const progress = createProgress({ quiet: flags.quiet, json: flags.json });
      try {
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
                r2PerAnswer: Object.fromEntries(KAGGLE_COLUMNS.map((c, i) => [c, Number.isFinite(m.r2PerAnswer[i]) ? m.r2PerAnswer[i] : null])),
                rmsePerAnswer: Object.fromEntries(KAGGLE_COLUMNS.map((c, i) => [c, m.rmsePerAnswer[i]])),
                seconds: result.seconds,
              },
              null,
              2,
            )}\n`,
          );
        } else {
          process.stdout.write(`model       ${predictor.source} (${predictor.members.length} member(s) × ${predictor.views.length} view(s), ${backend})\n${formatEvaluation(result)}\n`);
        }
        if (result.failures.length > 0) process.exitCode = 1;
      } finally {
        progress.stop();
        predictor.dispose();
      }
    });
}
