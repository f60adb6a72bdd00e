import { closeSync, fstatSync, openSync, readSync } from 'node:fs';

/**
 * A cheap structural check of a JPEG file, run by ingest on every image before it is catalogued:
 * the file must start with the SOI marker followed by another marker, and its last 4 kB must hold
 * the EOI marker. It catches empty, truncated, PNG/GIF/text files named `.jpg`
 * without decoding; damage inside the entropy-coded data is left to the decoder at preprocess time.
 */
const TAIL = 4096;
const SIGNATURES: ReadonlyArray<[string, number[]]> = [
  ['a PNG file', [0x89, 0x50, 0x4e, 0x47]],
  ['a GIF file', [0x47, 0x49, 0x46, 0x38]],
  ['a WebP/RIFF file', [0x52, 0x49, 0x46, 0x46]],
  ['a gzip file', [0x1f, 0x8b]],
];

// Reused by every call (the check is synchronous): no allocation per file.
const HEAD = Buffer.alloc(4);
const TAIL_BUFFER = Buffer.alloc(TAIL);

/** Null for a plausible JPEG, else what is wrong with the file. */
export function jpegProblem(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    return `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`;
  }
  try {
    const size = fstatSync(fd).size;
    if (size === 0) return 'empty file (0 bytes)';
    const head = HEAD.subarray(0, Math.min(size, 4));
    readSync(fd, head, 0, head.length, 0);
    if (!(head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff)) {
      const known = SIGNATURES.find(([, sig]) => sig.every((b, i) => head[i] === b));
      const bytes = [...head].map((b) => b.toString(16).padStart(2, '0')).join(' ');
      return `not a JPEG (${known ? known[0] : `starts with bytes ${bytes}`})`;
    }
    const tail = TAIL_BUFFER.subarray(0, Math.min(size, TAIL));
    readSync(fd, tail, 0, tail.length, size - tail.length);
    // in entropy-coded data 0xFF is always stuffed (FF 00), so FF D9 near the end is the EOI marker
    for (let i = tail.length - 2; i >= 0; i--) if (tail[i] === 0xff && tail[i + 1] === 0xd9) return null;
    return `truncated JPEG (${size} bytes, no end-of-image marker)`;
  } finally {
    closeSync(fd);
  }
}
