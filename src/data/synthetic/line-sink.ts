/**
 * A text file written line by line with bounded memory: lines gather in a 64 kB buffer that is
 * handed to the file stream (gzip-compressed for `.gz` paths), waiting for the stream to drain
 * whenever it is behind. Gzip output is deterministic (no time stamp in the header), so the same
 * lines always give the same bytes.
 */
import { createWriteStream, type WriteStream } from 'node:fs';
import { finished } from 'node:stream/promises';
import { type Gzip, createGzip } from 'node:zlib';
import type { SyntheticGalaxy } from './galaxy.js';

const FLUSH_AT = 1 << 16;

/** The label files of one layout, written a galaxy (a row in each file) at a time. */
export interface LabelFiles {
  write(galaxy: SyntheticGalaxy): Promise<void>;
  /** The files, to close (or destroy) when the data set is done (or failed). */
  readonly sinks: readonly LineSink[];
}

/** Appends lines to one file; `close` flushes and waits until every byte is on disk. */
export class LineSink {
  private buffer = '';
  private readonly file: WriteStream;
  private readonly head: WriteStream | Gzip;
  private failure: Error | null = null;
  /** Rejects on the first error of either stream, so no wait outlives a failed file. */
  private readonly broken: Promise<never>;

  constructor(readonly path: string) {
    this.file = createWriteStream(path);
    this.head = path.endsWith('.gz') ? createGzip({ level: 6 }) : this.file;
    if (this.head !== this.file) this.head.pipe(this.file);
    this.broken = new Promise<never>((_resolve, reject) => {
      for (const stream of new Set([this.head, this.file])) {
        stream.on('error', (error: Error) => {
          this.failure ??= error;
          reject(this.failure);
        });
      }
    });
    this.broken.catch(() => undefined);
  }

  /** Adds one line (a newline is appended); waits only when the buffer is handed on. */
  async write(line: string): Promise<void> {
    this.buffer += `${line}\n`;
    if (this.buffer.length >= FLUSH_AT) await this.flush();
  }

  private async flush(): Promise<void> {
    if (this.failure) throw this.failure;
    const chunk = this.buffer;
    this.buffer = '';
    if (!this.head.write(chunk))
      await Promise.race([new Promise<void>((resolve) => this.head.once('drain', resolve)), this.broken]);
  }

  /** Writes what is buffered and closes the file. */
  async close(): Promise<void> {
    await this.flush();
    this.head.end();
    await Promise.race([finished(this.file), this.broken]);
  }

  /** Closes the file without waiting for success (after a failure elsewhere). */
  destroy(): void {
    this.head.destroy();
    this.file.destroy();
  }
}
