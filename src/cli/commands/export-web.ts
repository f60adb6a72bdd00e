import type { Command } from 'commander';
import { parseTta } from './predict.js';
import type { TtaSpec } from '../../ensemble/tta.js';
import { exportSite } from '../../web/export.js';

interface ExportWebFlags {
  model: string;
  out: string;
  tta?: TtaSpec;
  title?: string;
  json?: boolean;
  quiet?: boolean;
}

export function register(program: Command): void {
  program
    .command('export-web')
    .description(
      'Write a self-contained static web site that classifies galaxy images in the browser with this model or ' +
        'ensemble: ' +
        'the page, the predictor bundled for the browser (esbuild, the same code as gzh predict) and the model ' +
        'files. ' +
        'Any static file server can serve it (e.g. gzh serve <dir>); images never leave the machine.',
    )
    .requiredOption(
      '--model <dir>',
      'ensemble directory (ensemble.json), run variant, single model directory or a folder of model directories',
    )
    .requiredOption('--out <dir>', 'site directory to write (replaced atomically)')
    .option(
      '--tta <spec>',
      "test-time augmentation overriding the ensemble's: none | flip | rot4 | d4 or a grid " +
        '"rot=0,45,90;flip;zoom=1,1.1"',
      parseTta,
    )
    .option('--title <text>', 'model name shown in the page (default: the model folder name)')
    .action(async (_opts: unknown, command: Command) => {
      const flags = command.optsWithGlobals<ExportWebFlags>();
      const summary = await exportSite({
        model: flags.model,
        out: flags.out,
        ...(flags.tta ? { tta: flags.tta } : {}),
        ...(flags.title ? { title: flags.title } : {}),
      });
      const others = [...new Set(summary.decoders.filter((d) => d !== 'sharp'))];
      if (others.length > 0) {
        process.stderr.write(
          `gzh export-web: warning: the model's inputs were decoded with ${others.join(', ')}; browsers decode ` +
            'JPEGs like sharp, ' +
            "so the page's answers can differ from gzh predict's (by up to about 0.05 on a trained model). " +
            "For answers equal to gzh predict's, train with GZH_DECODER=sharp.\n",
        );
      }
      if (flags.json) {
        const { out, members, files, bytes, decoders } = summary;
        process.stdout.write(`${JSON.stringify({ out, members, files, bytes, decoders })}\n`);
      } else if (!flags.quiet) {
        process.stdout.write(
          `gzh export-web: ${summary.out}: ${summary.files.length} files, ${(summary.bytes / 1e6).toFixed(1)} ` +
            `MB, ${summary.members} member(s)\n` +
            `  serve it with: gzh serve ${summary.out}   (or any static file server)\n`,
        );
      }
    });
}
