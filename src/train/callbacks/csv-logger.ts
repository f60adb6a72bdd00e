import { existsSync, mkdirSync, readFileSync, writeFileSync, appendFileSync } from 'node:fs';
import { dirname } from 'node:path';
import type { Callback, CallbackState, EpochLogs } from './types.js';

/**
 * Writes one CSV row per epoch. A fresh run starts a new file; a resumed run keeps the rows of the
 * epochs its checkpoint covers (dropping any row written after that checkpoint) and appends.
 */
export class CsvLogger implements Callback {
  readonly name = 'csv_logger';
  private rows = 0;
  private columns: string[] | null = null;
  private restored = false;

  /** @param path - the CSV file (one row per epoch; a resumed run appends). */
  constructor(readonly path: string) {}

  /** Create the file (or, on resume, keep the rows of the epochs already done). */
  onTrainBegin(): void {
    mkdirSync(dirname(this.path), { recursive: true });
    if (this.restored && existsSync(this.path)) {
      const lines = readFileSync(this.path, 'utf8')
        .split('\n')
        .filter((l) => l.length > 0);
      if (lines.length > 0) {
        this.columns = lines[0].split(',');
        const kept = lines.slice(0, 1 + this.rows);
        writeFileSync(this.path, `${kept.join('\n')}\n`);
        return;
      }
    }
    this.rows = 0;
    this.columns = null;
    writeFileSync(this.path, '');
  }

  /** Append the epoch's logs as a row. */
  onEpochEnd(_epoch: number, logs: EpochLogs): void {
    if (this.columns === null) {
      this.columns = Object.keys(logs);
      appendFileSync(this.path, `${this.columns.join(',')}\n`);
    }
    const row = this.columns.map((c) => formatValue(logs[c]));
    appendFileSync(this.path, `${row.join(',')}\n`);
    this.rows++;
  }

  /** The rows written so far, saved in checkpoints. */
  getState(): CallbackState {
    return { json: { rows: this.rows } };
  }

  setState(state: CallbackState): void {
    this.rows = (state.json as { rows: number }).rows;
    this.restored = true;
  }
}

function formatValue(v: number | undefined): string {
  if (v === undefined || Number.isNaN(v)) return '';
  return String(v);
}
