/**
 * Writing the JPEGs of a range of synthetic galaxies: the work a thread of the image writer does,
 * the same on a worker thread and on the main thread.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SYNTHETIC_ID_START, type SyntheticGalaxyOptions, syntheticJpeg } from './galaxy.js';
import type { RenderScratch } from './render.js';

/** What every thread of one image-writing job shares (structured-clonable). */
export interface ImageJob {
  readonly seed: number;
  readonly options: SyntheticGalaxyOptions & { readonly size: number; readonly quality: number };
  /** Folder the JPEGs go to, as `<idStart + index>.jpg`. */
  readonly dir: string;
}

/** Encodes in flight while the next galaxy renders (sharp encodes on libuv's thread pool). */
const ENCODES_IN_FLIGHT = 2;

/** The file name of galaxy `index`'s image. */
function imageName(job: ImageJob, index: number): string {
  return `${(job.options.idStart ?? SYNTHETIC_ID_START) + index}.jpg`;
}

/**
 * Renders, encodes and writes the images of galaxies [from, to); resolves once every file is
 * written. Rendering (this thread) overlaps the encoding and writing of the previous images.
 */
export async function writeImageRange(job: ImageJob, from: number, to: number, scratch?: RenderScratch): Promise<void> {
  const inFlight = new Set<Promise<void>>();
  let failure: unknown = null;
  for (let i = from; i < to && failure === null; i++) {
    const write = syntheticJpeg(job.seed, i, job.options, scratch)
      .then((jpeg) => writeFile(join(job.dir, imageName(job, i)), jpeg))
      .catch((error: unknown) => {
        failure ??= error;
      })
      .finally(() => inFlight.delete(write));
    inFlight.add(write);
    if (inFlight.size >= ENCODES_IN_FLIGHT) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  if (failure !== null) throw failure;
}
