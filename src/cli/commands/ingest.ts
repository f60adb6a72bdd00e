import { type Command, Option } from 'commander';
import { dataPaths, resolveDataDir } from '../../data/data-dir.js';
import { type IngestFormat, type IngestReport, VALUE_KINDS, type ValueKind, ingest } from '../../data/ingest.js';
import type { SplitRatios } from '../../data/split.js';
import { createProgress } from '../../util/progress.js';
import { integer, nonNegative, nonNegativeInt, splitRatios } from '../options.js';

interface IngestFlags {
  format: IngestFormat;
  labels?: string;
  images?: string;
  mapping?: string;
  labelsOnly?: boolean;
  values?: ValueKind;
  fallbackValues?: ValueKind;
  tolerance?: number;
  idColumn?: string;
  catalogue: string;
  seed: number;
  split: SplitRatios;
  checkWorkers?: number;
  json?: boolean;
  quiet?: boolean;
  dataDir?: string;
}

export function formatIngestReport(report: IngestReport): string {
  const lines = [
    `catalogue  ${report.catalogue}`,
    `rows       ${report.rows} read, ${report.accepted} galaxies, ${report.rejected} rejected`,
    `splits     train ${report.splits.train}, validation ${report.splits.validation}, test ` +
      `${report.splits.test} (${report.classes} stratification classes, seed ${report.meta.split_seed})`,
    `targets    ${report.meta.value_kind}; vote counts: ${report.hasCounts ? 'yes' : 'no'}`,
  ];
  if (report.rejected > 0) {
    const by = Object.entries(report.rejectedByReason)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    lines.push(`rejected   ${by}`);
    for (const r of report.firstRejections.slice(0, 5)) {
      lines.push(`  ${r.row === null ? 'image' : `row ${r.row}`} ${r.galaxyId ?? ''}: ${r.reason}: ${r.detail}`);
    }
    lines.push(
      `  full list: the catalogue's "rejections" table (sqlite3 ${report.catalogue} "SELECT * FROM rejections")`,
    );
  }
  return lines.join('\n');
}

export function register(program: Command): void {
  program
    .command('ingest')
    .description(
      'Read Galaxy Zoo labels (Kaggle or GZ2 catalogue format) and their images into one SQLite catalogue: ' +
        '37 conditional and 37 cumulative targets, vote counts when present, stratification class and a seeded ' +
        'stratified train/validation/test split. Every rejected row or image is reported with its reason. ' +
        'The catalogue is replaced atomically; re-running gives the same catalogue.',
    )
    .addOption(
      new Option(
        '--format <format>',
        'labels format: kaggle (training_solutions_rev1.csv) or gz2 (gz2_hart16.csv-style columns)',
      )
        .choices(['kaggle', 'gz2'])
        .default('kaggle'),
    )
    .option(
      '--labels <csv>',
      'labels CSV (.csv or .csv.gz); default: the Kaggle sample (kaggle) or the GZ2 sample (gz2) in the data directory',
    )
    .option(
      '--images <dir>',
      'folder of <id>.jpg (Kaggle) or <asset_id>.jpg (GZ2) images; default: the matching sample folder',
    )
    .option(
      '--mapping <csv>',
      'gz2 only: gz2_filename_mapping.csv (objid, sample, asset_id) when the labels have no asset_id column',
    )
    .option(
      '--labels-only',
      'catalogue without images (e.g. the Stripe 82 vote table): no image checks, preprocessing not possible',
    )
    .addOption(
      new Option(
        '--values <kind>',
        'gz2 only: which fractions become the targets (debiased ones are renormalised per question)',
      )
        .choices([...VALUE_KINDS])
        .default('weighted_fraction'),
    )
    .addOption(
      new Option(
        '--fallback-values <kind>',
        'gz2 only: value kind to use for answers whose --values column is missing (default: stop with an error ' +
          'naming them)',
      ).choices([...VALUE_KINDS]),
    )
    .option(
      '--tolerance <x>',
      'tree-check tolerance on question sums and ranges (default 1e-5 kaggle, 0.005 gz2 fractions)',
      nonNegative,
    )
    .option('--id-column <name>', 'column with the galaxy id (default GalaxyID; gz2: dr7objid, else objid)')
    .requiredOption('--catalogue <file>', 'SQLite catalogue to write (replaced atomically)')
    .option('--seed <n>', 'seed of the stratified split', integer, 42)
    .option('--split <ratios>', 'train,validation,test ratios', splitRatios, splitRatios('0.8,0.1,0.1'))
    .option(
      '--check-workers <n>',
      'worker threads that check the image files while the labels are parsed (default: one per CPU beside the ' +
        'main thread, at most 2; 0: on the main thread); the catalogue does not depend on it',
      nonNegativeInt,
    )
    .action(async (_flags: unknown, command: Command) => {
      const flags = command.optsWithGlobals<IngestFlags>();
      const paths = dataPaths(resolveDataDir(flags.dataDir));
      const kaggle = flags.format === 'kaggle';
      const labels = flags.labels ?? (kaggle ? paths.kaggleSolutions : paths.gz2SampleLabels);
      const images = flags.labelsOnly
        ? undefined
        : (flags.images ?? (flags.labels ? undefined : kaggle ? paths.kaggleImages : paths.gz2SampleImages));
      const report = await ingest(flags.catalogue, {
        format: flags.format,
        labels,
        images,
        mapping: flags.mapping,
        labelsOnly: flags.labelsOnly,
        values: flags.values,
        fallbackValues: flags.fallbackValues,
        tolerance: flags.tolerance,
        idColumn: flags.idColumn,
        seed: flags.seed,
        split: flags.split,
        checkWorkers: flags.checkWorkers,
        progress: createProgress({ quiet: flags.quiet, json: flags.json }),
      });
      if (flags.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
      else if (!flags.quiet || report.rejected > 0) process.stdout.write(formatIngestReport(report) + '\n');
    });
}
