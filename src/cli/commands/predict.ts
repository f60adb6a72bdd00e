import { createWriteStream, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { initBackend } from '../../backend/select.js';
import { galaxyId, kaggleCsvHeader, kaggleCsvRow, listImages } from '../../ensemble/kaggle.js';
import { EnsemblePredictor, type PredictOutcome } from '../../ensemble/predictor.js';
import { TTA_NAMES, type TtaSpec } from '../../ensemble/tta.js';
import { KAGGLE_COLUMNS } from '../../questions/index.js';
import { createProgress } from '../../util/progress.js';

interface PredictFlags {
  model: string;
  tta?: string;
  csv?: string;
  convention: 'cumulative' | 'conditional';
  batchSize: number;
  backend?: string;
  json?: boolean;
  quiet?: boolean;
}

export function positiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

/**
 * `--tta`: none | flip | rot4 | d4, or a grid `rot=0,45,90;flip;zoom=1,1.1`
 * (rotations in degrees × optional mirror × zooms).
 */
export function parseTta(value: string): TtaSpec {
  if ((TTA_NAMES as readonly string[]).includes(value)) return value as TtaSpec;
  const grid: { rotations?: number[]; flips?: boolean; zooms?: number[] } = {};
  for (const part of value.split(/[;\s]+/).filter(Boolean)) {
    const [key, list] = part.split('=');
    const numbers = () => {
      const xs = (list ?? '').split(',').map(Number);
      if (xs.length === 0 || xs.some((x) => !Number.isFinite(x))) throw new InvalidArgumentError(`"${part}": expected ${key}=<number>,<number>,…`);
      return xs;
    };
    if (key === 'rot' || key === 'rotations') grid.rotations = numbers();
    else if (key === 'zoom' || key === 'zooms') grid.zooms = numbers();
    else if (key === 'flip' || key === 'flips') grid.flips = list === undefined ? true : list !== 'false' && list !== '0';
    else throw new InvalidArgumentError(`use ${TTA_NAMES.join(' | ')} or a grid like "rot=0,45,90;flip;zoom=1,1.1"`);
  }
  return grid;
}

function jsonResult(o: PredictOutcome, convention: 'cumulative' | 'conditional') {
  if (!o.ok) return { source: o.source, error: o.error.reason, kind: o.error.kind };
  const p = o.prediction;
  const round = (xs: Float32Array) => Array.from(xs, (x) => Number(x.toFixed(6)));
  return {
    source: p.source,
    galaxyId: galaxyId(p.source),
    convention,
    answers: p.answers,
    cumulative: Object.fromEntries(KAGGLE_COLUMNS.map((c, i) => [c, Number(p.cumulative[i].toFixed(6))])),
    conditional: round(p.conditional),
    uncertainty: round(p.uncertainty),
    views: p.views,
  };
}

async function write(stream: NodeJS.WritableStream, text: string): Promise<void> {
  if (!stream.write(text)) await once(stream, 'drain');
}

export function register(program: Command): void {
  program
    .command('predict')
    .description(
      'Predict the 37 Galaxy Zoo answers for JPEG images (files and/or directories of *.jpg) with a saved model or ensemble. ' +
        'Writes a Kaggle-format CSV (GalaxyID,Class1.1,…,Class11.6; cumulative probabilities; GalaxyID = file name without extension) ' +
        'to --csv or stdout, or JSON with --json. Each image is preprocessed exactly as recorded in the model manifest. ' +
        'Images that cannot be read are reported on stderr and skipped; the others are still written (exit code 1).',
    )
    .argument('<images...>', 'image files and/or directories of *.jpg images')
    .requiredOption('--model <dir>', 'ensemble directory (ensemble.json), single model directory (manifest.json) or a folder of model directories')
    .option('--tta <spec>', `test-time augmentation: ${TTA_NAMES.join(' | ')} or a grid "rot=0,45,90;flip;zoom=1,1.1" (default: the ensemble's)`)
    .option('--csv <file>', 'write the Kaggle-format CSV here instead of stdout')
    .addOption(new Option('--convention <c>', 'convention of "answers" in --json output').choices(['cumulative', 'conditional']).default('cumulative'))
    .option('--batch-size <n>', 'images per batch (every member sees batch × views images at once)', positiveInt, 32)
    .action(async (images: string[], _flags: unknown, command: Command) => {
      const flags = command.optsWithGlobals<PredictFlags>();
      const tta = flags.tta === undefined ? undefined : parseTta(flags.tta);
      const backend = (await initBackend(flags.backend)).name;
      const paths = await listImages(images);
      if (paths.length === 0) throw new Error(`no *.jpg images in ${images.join(', ')}`);
      const predictor = await EnsemblePredictor.load(flags.model, { convention: flags.convention, ...(tta ? { tta } : {}) });
      const progress = createProgress({ quiet: flags.quiet, json: flags.json });
      let out: NodeJS.WritableStream = process.stdout;
      let file: WriteStream | undefined;
      if (flags.csv && !flags.json) {
        file = createWriteStream(flags.csv);
        out = file;
      }
      if (!flags.quiet) {
        process.stderr.write(
          `gzh predict: ${paths.length} image(s), ${predictor.members.length} member(s) × ${predictor.views.length} view(s) on ${backend}\n`,
        );
      }
      let failed = 0;
      const started = performance.now();
      try {
        if (!flags.json) await write(out, `${kaggleCsvHeader()}\n`);
        else await write(out, '[');
        progress.start(paths.length, 'predict');
        const chunk = Math.max(flags.batchSize * 8, 256);
        let first = true;
        for (let s = 0; s < paths.length; s += chunk) {
          let ticked = 0;
          const outcomes = await predictor.predictMany(paths.slice(s, s + chunk), {
            batchSize: flags.batchSize,
            onProgress: (done) => {
              progress.tick(done - ticked);
              ticked = done;
            },
          });
          for (const o of outcomes) {
            if (!o.ok) {
              failed++;
              process.stderr.write(`gzh: ${o.error.message}\n`);
              if (!flags.json) continue;
            }
            if (flags.json) {
              await write(out, `${first ? '\n' : ',\n'}${JSON.stringify(jsonResult(o, flags.convention))}`);
              first = false;
            } else if (o.ok) {
              await write(out, `${kaggleCsvRow(galaxyId(o.source), o.prediction.cumulative)}\n`);
            }
          }
        }
        if (flags.json) await write(out, '\n]\n');
      } finally {
        progress.stop();
        predictor.dispose();
        if (file) {
          file.end();
          await once(file, 'finish');
        }
      }
      const seconds = (performance.now() - started) / 1000;
      if (!flags.quiet) {
        process.stderr.write(
          `gzh predict: ${paths.length - failed} predicted${failed ? `, ${failed} failed` : ''} in ${seconds.toFixed(1)} s (${((paths.length - failed) / seconds).toFixed(1)} img/s)${flags.csv && !flags.json ? ` → ${flags.csv}` : ''}\n`,
        );
      }
      if (failed > 0) process.exitCode = 1;
    });
}
