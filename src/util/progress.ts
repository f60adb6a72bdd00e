import cliProgress from 'cli-progress';

/**
 * Progress of a long step (ingest, preprocessing, training epochs). Implementations: a bar with
 * rate and ETA on stderr, or a silent one for --quiet, non-TTY output and tests.
 */
export interface Progress {
  /** Begin a step of `total` units; a previous step still running is stopped first. */
  start(total: number, label: string): void;
  /** Advance by n units (default 1). */
  tick(n?: number): void;
  /** Finish the current step (idempotent). */
  stop(): void;
}

/** Does nothing: for --quiet, JSON output, non-interactive runs and tests. */
export class SilentProgress implements Progress {
  start(): void {}
  tick(): void {}
  stop(): void {}
}

/** A cli-progress bar on stderr: `label |████░░| 42% 2100/5000 | 1403.2/s | ETA 2s`. */
export class BarProgress implements Progress {
  private bar: cliProgress.SingleBar | undefined;
  private value = 0;
  private startedAt = 0;

  constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

  start(total: number, label: string): void {
    this.stop();
    this.value = 0;
    this.startedAt = performance.now();
    this.bar = new cliProgress.SingleBar(
      {
        stream: this.stream,
        format: `${label} |{bar}| {percentage}% {value}/{total} | {rate}/s | ETA {eta_formatted}`,
        barsize: 30,
        hideCursor: true,
        etaBuffer: 50,
        fps: 5,
        noTTYOutput: !this.stream.isTTY,
        notTTYSchedule: 5000,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(total, 0, { rate: '0' });
  }

  tick(n = 1): void {
    if (!this.bar) return;
    this.value += n;
    const seconds = (performance.now() - this.startedAt) / 1000;
    const rate = seconds > 0 ? this.value / seconds : 0;
    this.bar.update(this.value, { rate: rate.toFixed(1) });
  }

  stop(): void {
    if (!this.bar) return;
    this.bar.stop();
    this.bar = undefined;
  }
}

/** A bar when the user wants chatter and stderr is a terminal, otherwise silence. */
export function createProgress(
  options: { quiet?: boolean; json?: boolean; stream?: NodeJS.WriteStream } = {},
): Progress {
  const stream = options.stream ?? process.stderr;
  if (options.quiet || options.json || !stream.isTTY) return new SilentProgress();
  return new BarProgress(stream);
}
