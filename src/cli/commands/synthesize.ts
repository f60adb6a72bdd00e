import type { Command } from 'commander';
import { generateSyntheticDataset } from '../../data/synthetic/index.js';
import { createProgress } from '../../util/progress.js';
import { fraction, intInRange, integer, nonNegative, positiveInt } from '../options.js';

interface GlobalOptions {
  json?: boolean;
  quiet?: boolean;
}

interface SynthesizeOptions {
  out: string;
  count: number;
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
    .description('write a seeded synthetic Galaxy Zoo dataset in the Kaggle layout (JPEGs + training_solutions_rev1.csv)')
    .requiredOption('--out <dir>', 'output directory (created; reused when it already holds the same dataset)')
    .option('--count <n>', 'number of galaxies', positiveInt, 2000)
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
Also writes vote_counts.csv (raw simulated votes), truth.json (true morphology per galaxy) and
synthetic-manifest.json. The same parameters always give the same files.`,
    )
    .action(async (opts: SynthesizeOptions, cmd: Command) => {
      const globals = cmd.optsWithGlobals<GlobalOptions>();
      const progress = createProgress(globals);
      const started = performance.now();
      progress.start(opts.count, 'synthesize');
      let result;
      try {
        result = await generateSyntheticDataset({
          outDir: opts.out,
          count: opts.count,
          seed: opts.seed,
          size: opts.size,
          volunteers: opts.volunteers,
          volunteerSpread: opts.fixedVolunteers ? 'fixed' : 'poisson',
          ...(opts.starFraction !== undefined ? { starFraction: opts.starFraction } : {}),
          ...(opts.meanStars !== undefined ? { meanStars: opts.meanStars } : {}),
          quality: opts.quality,
          force: opts.force ?? false,
          onProgress: () => progress.tick(),
        });
      } finally {
        progress.stop();
      }
      const seconds = (performance.now() - started) / 1000;
      if (globals.json) {
        process.stdout.write(`${JSON.stringify({ ...result, seconds }, null, 2)}\n`);
      } else if (!globals.quiet) {
        const what = result.reused ? 'already present, reused' : `written in ${seconds.toFixed(1)} s`;
        process.stdout.write(`${result.count} synthetic galaxies (${opts.size}px) in ${result.outDir}: ${what}\n`);
      }
    });
}
