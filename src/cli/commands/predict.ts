import { type Command, InvalidArgumentError, Option } from 'commander';
import { TTA_NAMES, type TtaSpec } from '../../ensemble/tta.js';
import { EXECUTOR_NAMES } from '../../exec/types.js';
import { parseShard } from '../../predict/shard.js';
import { addSlurmOptions, nonNegativeInt, positiveInt } from '../options.js';
import { type PredictFlags, predictAll, predictOneShard, predictSharded } from './predict-modes.js';

const GRID_HELP = 'a grid like "rot=0,45,90;flip;zoom=1,1.1"';

/**
 * `--tta`: none | flip | rot4 | d4, or a grid `rot=0,45,90;flip;zoom=1,1.1` (rotations in degrees ×
 * optional mirror × zooms; `;`-separated, each key at most once).
 */
export function parseTta(value: string): TtaSpec {
  const named = value.trim().toLowerCase();
  if ((TTA_NAMES as readonly string[]).includes(named)) return named as TtaSpec;
  const parts = value
    .split(';')
    .map((p) => p.trim())
    .filter(Boolean);
  if (parts.length === 0) throw new InvalidArgumentError(`empty; use ${TTA_NAMES.join(' | ')} or ${GRID_HELP}`);
  const grid: { rotations?: number[]; flips?: boolean; zooms?: number[] } = {};
  const given = new Set<string>();
  for (const part of parts) {
    const [rawKey, ...rest] = part.split('=');
    const key = rawKey.trim().toLowerCase();
    if (rest.length > 1) throw new InvalidArgumentError(`"${part}": one "=" per setting (${GRID_HELP})`);
    const list = rest.length === 1 ? rest[0].trim() : undefined;
    const name =
      key === 'rot' || key === 'rotations'
        ? 'rot'
        : key === 'zoom' || key === 'zooms'
          ? 'zoom'
          : key === 'flip' || key === 'flips'
            ? 'flip'
            : undefined;
    if (name === undefined)
      throw new InvalidArgumentError(
        `unknown setting "${rawKey.trim()}": use ${TTA_NAMES.join(' | ')} or ${GRID_HELP}`,
      );
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
      throw new InvalidArgumentError(
        `"${part}": expected ${name}=<number>,<number>,… (${name === 'rot' ? 'degrees' : 'magnifications'})`,
      );
    }
    const numbers = items.map(Number);
    if (name === 'rot') grid.rotations = numbers;
    else grid.zooms = numbers;
  }
  return grid;
}

export function register(program: Command): void {
  const cmd = program
    .command('predict')
    .description(
      'Predict the 37 Galaxy Zoo answers for JPEG images (files and/or directories of *.jpg, or a --list file ' +
        'of paths) with a saved model or ensemble. ' +
        'Writes a Kaggle-format CSV (GalaxyID,Class1.1,…,Class11.6; cumulative probabilities; GalaxyID = file ' +
        'name without extension) ' +
        'to --csv (replaced only once complete) or stdout, or JSON with --json. Each image is preprocessed ' +
        'exactly as recorded in the model manifest. ' +
        'Images that cannot be read are reported on stderr and skipped; the others are still written (exit code 1). ' +
        'File names whose GalaxyID holds a comma, quote, tab or line break, or starts with = + - @, are ' +
        'refused before any work. ' +
        'Sharding: --shard i/N predicts the contiguous i-th of N ranges of the inputs into a part file in --parts; ' +
        '--shards N runs every shard not yet done (--executor inline | local --jobs J | slurm, an sbatch array ' +
        'whose script is written into --parts) and gathers one CSV in input order.',
    )
    .argument('[images...]', 'image files and/or directories of *.jpg images')
    .requiredOption(
      '--model <dir>',
      'ensemble directory (ensemble.json), single model directory (manifest.json) or a folder of model directories',
    )
    .option('--list <file>', 'text file of image paths, one per line (streamed: any length)')
    .option(
      '--tta <spec>',
      `test-time augmentation: ${TTA_NAMES.join(' | ')} or a grid "rot=0,45,90;flip;zoom=1,1.1" (default: the ` +
        `ensemble's)`,
      parseTta,
    )
    .option('--csv <file>', 'write the Kaggle-format CSV here instead of stdout')
    .addOption(
      new Option('--convention <c>', 'convention of "answers" in --json output')
        .choices(['cumulative', 'conditional'])
        .default('cumulative'),
    )
    .option('--batch-size <n>', 'images per batch (every member sees batch × views images at once)', positiveInt, 32)
    .option(
      '--decode-workers <n>',
      'threads decoding JPEGs while the model runs (default: 0 = this thread up to 2 CPUs, else CPUs − 1)',
      nonNegativeInt,
    )
    .option(
      '--shard <i/N>',
      'predict only shard i of N (0-based; contiguous ranges of the input order) into its part file in --parts',
      parseShard,
    )
    .option('--shards <n>', 'predict every shard of N not done yet, then gather them into --csv', positiveInt)
    .option('--parts <dir>', 'folder of the part files (default with --shards: <csv>.parts)')
    .addOption(
      new Option('--executor <name>', 'where --shards runs its shard tasks')
        .choices([...EXECUTOR_NAMES])
        .default('inline'),
    )
    .option('--jobs <n>', 'shard tasks at once with --executor local (CPU threads divided among them)', positiveInt, 1);
  addSlurmOptions(cmd, 'shard task', false)
    .option('--keep-parts', 'keep the part files after gathering (default: removed once the CSV is complete)')
    .action(async (images: string[], _flags: unknown, command: Command) => {
      const flags = command.optsWithGlobals<PredictFlags>();
      if (flags.shard) return predictOneShard(images, flags);
      if (flags.shards !== undefined) return predictSharded(images, flags);
      return predictAll(images, flags);
    });
}
