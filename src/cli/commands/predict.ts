import { type FileHandle, open } from 'node:fs/promises';
import { once } from 'node:events';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { initBackend } from '../../backend/select.js';
import { collidingGalaxyIds, galaxyId, kaggleCsvHeader, kaggleCsvRow, listImages } from '../../ensemble/kaggle.js';
import { EnsemblePredictor, type PredictOutcome } from '../../ensemble/predictor.js';
import { TTA_NAMES, type TtaSpec } from '../../ensemble/tta.js';
import { KAGGLE_COLUMNS } from '../../questions/index.js';
import { createProgress } from '../../util/progress.js';
import { EXIT, UsageError } from '../exit.js';
import { positiveInt } from '../options.js';

interface PredictFlags {
  model: string;
  tta?: TtaSpec;
  csv?: string;
  convention: 'cumulative' | 'conditional';
  batchSize: number;
  backend?: string;
  json?: boolean;
  quiet?: boolean;
}

const GRID_HELP = 'a grid like "rot=0,45,90;flip;zoom=1,1.1"';

/**
 * `--tta`: none | flip | rot4 | d4, or a grid `rot=0,45,90;flip;zoom=1,1.1` (rotations in degrees ×
 * optional mirror × zooms; `;`-separated, each key at most once).
 */
export function parseTta(value: string): TtaSpec {
  const named = value.trim().toLowerCase();
  if ((TTA_NAMES as readonly string[]).includes(named)) return named as TtaSpec;
  const parts = value.split(';').map((p) => p.trim()).filter(Boolean);
  if (parts.length === 0) throw new InvalidArgumentError(`empty; use ${TTA_NAMES.join(' | ')} or ${GRID_HELP}`);
  const grid: { rotations?: number[]; flips?: boolean; zooms?: number[] } = {};
  const given = new Set<string>();
  for (const part of parts) {
    const [rawKey, ...rest] = part.split('=');
    const key = rawKey.trim().toLowerCase();
    if (rest.length > 1) throw new InvalidArgumentError(`"${part}": one "=" per setting (${GRID_HELP})`);
    const list = rest.length === 1 ? rest[0].trim() : undefined;
    const name = key === 'rot' || key === 'rotations' ? 'rot' : key === 'zoom' || key === 'zooms' ? 'zoom' : key === 'flip' || key === 'flips' ? 'flip' : undefined;
    if (name === undefined) throw new InvalidArgumentError(`unknown setting "${rawKey.trim()}": use ${TTA_NAMES.join(' | ')} or ${GRID_HELP}`);
    if (given.has(name)) throw new InvalidArgumentError(`"${name}" is given twice`);
    given.add(name);
    if (name === 'flip') {
      if (list !== undefined && !['true', 'false', '1', '0'].includes(list.toLowerCase())) {
        throw new InvalidArgumentError(`"${part}": flip takes no value, or true / false`);
      }
      grid.flips = list === undefined || ['true', '1'].includes(list.toLowerCase());
      continue;
    }
    const items = (list ?? '').split(',').map((x) => x.trim());
    if (items.some((x) => x === '' || !Number.isFinite(Number(x)))) {
      throw new InvalidArgumentError(`"${part}": expected ${name}=<number>,<number>,… (${name === 'rot' ? 'degrees' : 'magnifications'})`);
    }
    const numbers = items.map(Number);
    if (name === 'rot') grid.rotations = numbers;
    else grid.zooms = numbers;
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

/** Where the rows go: stdout, or a file opened before any work so that a bad path fails at once. */
interface Sink {
  write(text: string): Promise<void>;
  close(): Promise<void>;
}

function stdoutSink(): Sink {
  return {
    async write(text) {
      if (!process.stdout.write(text)) await once(process.stdout, 'drain');
    },
    async close() {},
  };
}

async function fileSink(path: string): Promise<Sink> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'w');
  } catch (error) {
    throw new Error(`${path}: cannot write: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  const failed = (error: unknown) => new Error(`${path}: write failed: ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  return {
    async write(text) {
      await handle.writeFile(text).catch((error: unknown) => {
        throw failed(error);
      });
    },
    async close() {
      await handle.close().catch((error: unknown) => {
        throw failed(error);
      });
    },
  };
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
    .option('--tta <spec>', `test-time augmentation: ${TTA_NAMES.join(' | ')} or a grid "rot=0,45,90;flip;zoom=1,1.1" (default: the ensemble's)`, parseTta)
    .option('--csv <file>', 'write the Kaggle-format CSV here instead of stdout')
    .addOption(new Option('--convention <c>', 'convention of "answers" in --json output').choices(['cumulative', 'conditional']).default('cumulative'))
    .option('--batch-size <n>', 'images per batch (every member sees batch × views images at once)', positiveInt, 32)
    .action(async (images: string[], _flags: unknown, command: Command) => {
      const flags = command.optsWithGlobals<PredictFlags>();
      if (flags.csv !== undefined && flags.json) throw new UsageError('--csv writes a CSV file and --json prints JSON: choose one');
      const paths = await listImages(images);
      if (paths.length === 0) throw new UsageError(`no *.jpg images in ${images.join(', ')}`);
      const collisions = flags.json ? [] : collidingGalaxyIds(paths);
      if (collisions.length > 0) {
        const { id, paths: same } = collisions[0];
        throw new UsageError(
          `${collisions.length} GalaxyID(s) would appear more than once in the CSV, e.g. ${id} from ${same.join(' and ')} (rename the files, predict the folders separately, or use --json)`,
        );
      }
      const backend = (await initBackend(flags.backend)).name;
      const predictor = await EnsemblePredictor.load(flags.model, { convention: flags.convention, ...(flags.tta ? { tta: flags.tta } : {}) });
      let sink: Sink;
      try {
        sink = flags.csv !== undefined ? await fileSink(flags.csv) : stdoutSink();
      } catch (error) {
        predictor.dispose();
        throw error;
      }
      const progress = createProgress({ quiet: flags.quiet, json: flags.json });
      if (!flags.quiet) {
        process.stderr.write(
          `gzh predict: ${paths.length} image(s), ${predictor.members.length} member(s) × ${predictor.views.length} view(s) on ${backend}\n`,
        );
      }
      let failed = 0;
      const started = performance.now();
      try {
        await sink.write(flags.json ? '[' : `${kaggleCsvHeader()}\n`);
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
          let text = '';
          for (const o of outcomes) {
            if (!o.ok) {
              failed++;
              process.stderr.write(`gzh: ${o.error.message}\n`);
              if (!flags.json) continue;
            }
            if (flags.json) {
              text += `${first ? '\n' : ',\n'}${JSON.stringify(jsonResult(o, flags.convention))}`;
              first = false;
            } else if (o.ok) {
              text += `${kaggleCsvRow(galaxyId(o.source), o.prediction.cumulative)}\n`;
            }
          }
          await sink.write(text);
        }
        if (flags.json) await sink.write('\n]\n');
        await sink.close();
      } catch (error) {
        await sink.close().catch(() => {});
        throw error;
      } finally {
        progress.stop();
        predictor.dispose();
      }
      const seconds = (performance.now() - started) / 1000;
      if (!flags.quiet) {
        process.stderr.write(
          `gzh predict: ${paths.length - failed} predicted${failed ? `, ${failed} failed` : ''} in ${seconds.toFixed(1)} s (${((paths.length - failed) / seconds).toFixed(1)} img/s)${flags.csv && !flags.json ? ` → ${flags.csv}` : ''}\n`,
        );
      }
      if (failed > 0) process.exitCode = EXIT.failed;
    });
}
