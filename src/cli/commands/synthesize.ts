import { type Command, Option } from 'commander';
import { generateSyntheticDataset, type SyntheticFormat } from '../../data/synthetic/index.js';
import { createProgress } from '../../util/progress.js';
import { fraction, intInRange, integer, nonNegative, nonNegativeInt, positiveInt } from '../options.js';

interface GlobalOptions {
  json?: boolean;
  quiet?: boolean;
}

interface SynthesizeOptions {
  out: string;
  format: SyntheticFormat;
  count: number;
  rows?: number;
  labelsOnly?: boolean;
  workers?: number;
  seed: number;
  size: number;
  volunteers: number;
  fixedVolunteers?: boolean;
  starFraction?: number;
  meanStars?: number;
  quality: number;
  force?: boolean;
}

export function register(program: Command): void {
  program
    .command('synthesize')
    .description('write a seeded synthetic Galaxy Zoo data set in the Kaggle or GZ2 layout (JPEGs + labels)')
    .requiredOption('--out <dir>', 'output directory (created; reused when it already holds the same dataset)')
    .addOption(
      new Option('--format <layout>', 'file layout of the data set').choices(['kaggle', 'gz2']).default('kaggle'),
    )
    .option('--count <n>', 'galaxies (gz2: galaxies with an image, the first --rows)', positiveInt, 2000)
    .option('--rows <n>', 'gz2 only: label rows (default --count); rows past --count have no image', positiveInt)
    .option('--labels-only', 'write the label files only, no images')
    .option(
      '--workers <n>',
      'worker threads that render and encode images (default: one per CPU; 0: main thread)',
      nonNegativeInt,
    )
    .option('--seed <n>', 'random seed', integer, 1)
    .option('--size <px>', 'image width and height in pixels (8 to 4096)', intInRange(8, 4096), 424)
    .option('--volunteers <n>', 'mean number of simulated volunteers per galaxy', positiveInt, 40)
    .option('--fixed-volunteers', 'exactly --volunteers per galaxy instead of a Poisson count')
    .option('--star-fraction <p>', 'fraction of stars and artifacts (default 0.02)', fraction)
    .option('--mean-stars <n>', 'mean number of foreground stars per image (default 2.5)', nonNegative)
    .option('--quality <q>', 'JPEG quality (1 to 100)', intInRange(1, 100), 90)
    .option('--force', 'regenerate even when a matching dataset exists')
    .addHelpText(
      'after',
      `
Layouts:
  kaggle  images_training_rev1/<GalaxyID>.jpg, training_solutions_rev1.csv (cumulative fractions),
          vote_counts.csv (raw simulated votes)
  gz2     images/<asset_id>.jpg, gz2_hart16.csv.gz (the Hart et al. 2016 columns: counts, weights,
          fractions, weighted fractions, debiased fractions, flags, gz2class) and
          gz2_filename_mapping.csv (objid, sample, asset_id); ingest it with
          gzh ingest --format gz2 --labels gz2_hart16.csv.gz --mapping gz2_filename_mapping.csv --images images
Both also get truth.jsonl (true morphology per galaxy, one JSON object a line) and
synthetic-manifest.json. The same parameters always give the same bytes, whatever --workers;
a smaller --count or --rows gives a prefix of a larger one.

Examples:
  gzh synthesize --format kaggle --count 61578 --out data/kaggle-61578
  gzh synthesize --format gz2 --rows 243434 --count 61578 --out data/gz2-243434
  gzh synthesize --format gz2 --rows 243434 --count 243434 --labels-only --out data/gz2-labels`,
    )
    .action(async (opts: SynthesizeOptions, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const progress = createProgress(globals);
      const started = performance.now();
      const rows = opts.rows ?? opts.count;
      progress.start(rows, `synthesize ${opts.format}${opts.labelsOnly ? ' labels' : ''} (galaxies)`);
      let result;
      let last = 0;
      try {
        result = await generateSyntheticDataset({
          outDir: opts.out,
          format: opts.format,
          count: opts.count,
          ...(opts.rows !== undefined ? { rows: opts.rows } : {}),
          labelsOnly: opts.labelsOnly ?? false,
          ...(opts.workers !== undefined ? { workers: opts.workers } : {}),
          seed: opts.seed,
          size: opts.size,
          volunteers: opts.volunteers,
          volunteerSpread: opts.fixedVolunteers ? 'fixed' : 'poisson',
          ...(opts.starFraction !== undefined ? { starFraction: opts.starFraction } : {}),
          ...(opts.meanStars !== undefined ? { meanStars: opts.meanStars } : {}),
          quality: opts.quality,
          force: opts.force ?? false,
          onProgress: (done) => {
            progress.tick(done - last);
            last = done;
          },
        });
      } finally {
        progress.stop();
      }
      const seconds = (performance.now() - started) / 1000;
      if (globals.json) {
        process.stdout.write(`${JSON.stringify({ ...result, seconds }, null, 2)}\n`);
      } else if (!globals.quiet) {
        const rate = `${(result.rows / seconds).toFixed(1)} galaxies/s`;
        const what = result.reused ? 'already present, reused' : `written in ${seconds.toFixed(1)} s (${rate})`;
        const images = result.images > 0 ? `${result.images} images (${opts.size}px)` : 'no images';
        process.stdout.write(
          `${result.rows} synthetic galaxies, ${images}, ${result.format} layout, in ${result.outDir}: ${what}\n`,
        );
      }
    });
}
