import type { Command } from 'commander';
import { initBackend } from '../../backend/select.js';
import { measureTrainThroughput } from '../../backend/probe.js';
import { UsageError } from '../exit.js';

interface DoctorFlags {
  backend?: string;
  json?: boolean;
  quiet?: boolean;
  seconds: string;
  size: string;
  batch: string;
}

function positive(value: string, flag: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${flag} must be a positive number, got '${value}'`);
  return n;
}

export function register(program: Command): void {
  program
    .command('doctor')
    .description('show the compute backend (name, version, threads) and probe its training throughput')
    .option('--seconds <s>', 'length of the training throughput probe', '5')
    .option('--size <px>', 'image side for the probe (seed CNN, 1 channel)', '64')
    .option('--batch <n>', 'batch size for the probe', '64')
    .action(async (_options: unknown, command: Command) => {
      const flags = command.optsWithGlobals<DoctorFlags>();
      const seconds = positive(flags.seconds, '--seconds');
      const size = Math.round(positive(flags.size, '--size'));
      const batch = Math.round(positive(flags.batch, '--batch'));
      const info = await initBackend(flags.backend);
      const say = (line: string) => {
        if (!flags.json) process.stdout.write(`${line}\n`);
      };
      say(
        `backend:    ${info.name} ` +
          `(${info.source === 'auto' ? 'automatic' : info.source === 'env' ? 'GZH_BACKEND' : '--backend'})`,
      );
      say(`version:    ${info.version}`);
      say(`threads:    ${info.threads}`);
      for (const s of info.skipped) say(`skipped:    ${s.name}: ${s.reason}`);
      say(`probe:      training the seed CNN on ${batch}×${size}×${size}×1 random batches for ${seconds} s ...`);
      const result = await measureTrainThroughput({ inputSize: size, batchSize: batch, seconds, minSteps: 1 });
      say(
        `throughput: ${result.imagesPerSecond.toFixed(1)} images/s train (${result.steps} steps in ` +
          `${result.seconds.toFixed(1)} s)`,
      );
      if (flags.json) {
        process.stdout.write(
          `${JSON.stringify({
            backend: info.name,
            source: info.source,
            version: info.version,
            threads: info.threads,
            skipped: info.skipped,
            probe: { inputSize: size, batchSize: batch, ...result },
          })}\n`,
        );
      }
    });
}
