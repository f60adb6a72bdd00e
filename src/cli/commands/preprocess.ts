import { type Command, Option } from 'commander';
import { type BuildCacheResult, buildCache } from '../../data/cache.js';
import { defaultWorkers } from '../../data/images/pool.js';
import type { PreprocessMode } from '../../data/images/preprocess.js';
import { createProgress } from '../../util/progress.js';
import { EXIT } from '../exit.js';
import { nonNegativeInt, positiveInt } from '../options.js';

interface PreprocessFlags {
  catalogue: string;
  mode: PreprocessMode;
  size?: number;
  channels: string;
  cache: string;
  centerCrop: number;
  threshold: number;
  minArea: number;
  detectScale: string;
  inputSize?: number;
  workers: number;
  force?: boolean;
  json?: boolean;
  quiet?: boolean;
}

export function formatCacheResult(result: BuildCacheResult): string {
  const m = result.manifest;
  const lines = [
    `cache      ${result.dir} (${
      result.reused
        ? 'reused: parameters and catalogue match, every shard verified'
        : result.rebuiltBecause
          ? `rebuilt: ${result.rebuiltBecause}`
          : 'built'
    })`,
    `images     ${m.ids.length} cached as ${m.shape.join('×')} uint8 in ${m.shards.length} shard(s), ` +
      `${m.failures.length} failed`,
    `crops      ${Object.entries(m.crops)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ')}`,
  ];
  if (!result.reused) lines.push(`rate       ${m.imagesPerSecond.toFixed(0)} images/s (${m.seconds.toFixed(1)} s)`);
  for (const f of m.failures.slice(0, 10)) lines.push(`  ${f.id} ${f.path}: ${f.kind}: ${f.message}`);
  if (m.failures.length > 10) lines.push(`  … ${m.failures.length - 10} more in ${result.dir}/index.json ("failures")`);
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('preprocess')
    .description(
      'Crop and resize every catalogued image into a binary cache (uint8 shards + index.json) that training streams ' +
        'batch by batch. The cache folder is named by a hash of the parameters: a matching cache is reused, ' +
        'otherwise it is rebuilt. Unreadable, corrupt, non-JPEG, wrong-size or grayscale-only files are reported ' +
        'per file and skipped.',
    )
    .requiredOption('--catalogue <file>', 'catalogue written by `gzh ingest`')
    .addOption(
      new Option(
        '--mode <mode>',
        "contour: the seed's galaxy-finding crop (106 / 212 / whole image); center: centre crop then resize",
      )
        .choices(['contour', 'center'])
        .default('contour'),
    )
    .option('--size <n>', 'output side in pixels (default 106 contour, 69 center)', positiveInt)
    .addOption(new Option('--channels <n>', '1 = gray (BT.601 luma), 3 = RGB').choices(['1', '3']).default('3'))
    .requiredOption('--cache <dir>', 'cache root; the images go to <dir>/<mode>-<size>px-<gray|rgb>-<hash>/')
    .option('--center-crop <n>', 'center mode: crop side at 424 px input (scaled for other sizes)', positiveInt, 207)
    .option('--threshold <n>', 'contour mode: threshold on the blurred gray image', nonNegativeInt, 30)
    .option('--min-area <n>', 'contour mode: minimum contour area in px² at 424 px', nonNegativeInt, 100)
    .addOption(
      new Option(
        '--detect-scale <n>',
        'contour mode: 1 = find the galaxy at full resolution (exact seed kernels), 2 = at half resolution (4× ' +
          'less work, same crop on ~98% of real images)',
      )
        .choices(['1', '2'])
        .default('2'),
    )
    .option(
      '--input-size <n>',
      'reject images that are not n×n pixels (e.g. 424 for Kaggle); default: any size, crops scale with the image',
      positiveInt,
    )
    .option(
      '--workers <n>',
      `worker threads decoding images (default ${defaultWorkers()} = cores; 0 = main thread)`,
      nonNegativeInt,
      defaultWorkers(),
    )
    .option('--force', 'rebuild even if a matching cache exists')
    .action(async (_flags: unknown, command: Command) => {
      const flags = command.optsWithGlobals<PreprocessFlags>();
      const result = await buildCache({
        catalogue: flags.catalogue,
        cacheDir: flags.cache,
        params: {
          mode: flags.mode,
          size: flags.size ?? (flags.mode === 'contour' ? 106 : 69),
          channels: flags.channels === '1' ? 1 : 3,
          centerCrop: flags.centerCrop,
          contour: {
            threshold: flags.threshold,
            minArea: flags.minArea,
            detectScale: flags.detectScale === '1' ? 1 : 2,
          },
          inputSize: flags.inputSize,
        },
        workers: flags.workers,
        force: flags.force,
        progress: createProgress({ quiet: flags.quiet, json: flags.json }),
      });
      if (flags.json) {
        const { ids, ...rest } = result.manifest;
        process.stdout.write(
          JSON.stringify(
            {
              dir: result.dir,
              reused: result.reused,
              ...(result.rebuiltBecause ? { rebuiltBecause: result.rebuiltBecause } : {}),
              images: ids.length,
              ...rest,
            },
            null,
            2,
          ) + '\n',
        );
      } else if (!flags.quiet || result.manifest.failures.length > 0) {
        process.stdout.write(formatCacheResult(result) + '\n');
      }
      // some images could not be cached: the command did not do all it was asked (exit 1)
      if (result.manifest.failures.length > 0) process.exitCode = EXIT.failed;
    });
}
