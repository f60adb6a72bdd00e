/**
 * The JPEG files of an ingest's image folder, by asset name (the file name without `.jpg` /
 * `.jpeg`, any case), and which of them label rows claimed. When several files share an asset
 * name the last in code-unit order is its file; unclaimed files are listed in the order of their
 * asset's first file name, as a sorted listing gives. Only the unclaimed files are sorted, not the
 * whole folder (61,578 names for the Kaggle set).
 */
import { readdir } from 'node:fs/promises';
import { extname, sep } from 'node:path';

/** An image folder's JPEG files by asset name, with the claims label rows made on them. */
export class ImageFolder {
  /** Index of each asset's file in `files`. */
  private readonly index = new Map<string, number>();
  private readonly files: string[] = [];
  /** The smallest file name of an asset that has several files (the sort key of its position). */
  private readonly firstNames = new Map<number, string>();
  private readonly claimed: Uint8Array;
  private readonly prefix: string;

  /** The folder `dir` (an absolute, normalised path) holding the files `names` (any order). */
  constructor(
    readonly dir: string,
    names: readonly string[],
  ) {
    this.prefix = dir.endsWith(sep) ? dir : dir + sep;
    for (const name of names) this.add(name);
    this.claimed = new Uint8Array(this.files.length);
  }

  /** Lists `dir` (an absolute, normalised path); the directory is read on libuv's threads. */
  static async list(dir: string): Promise<ImageFolder> {
    return new ImageFolder(dir, await readdir(dir));
  }

  private add(name: string): void {
    const ext = extname(name).toLowerCase();
    if (ext !== '.jpg' && ext !== '.jpeg') return;
    const asset = name.slice(0, -ext.length);
    const at = this.index.get(asset);
    if (at === undefined) {
      this.index.set(asset, this.files.push(name) - 1);
      return;
    }
    const [low, high] = name < this.files[at] ? [name, this.files[at]] : [this.files[at], name];
    this.files[at] = high;
    const first = this.firstNames.get(at) ?? low;
    this.firstNames.set(at, low < first ? low : first);
  }

  /** Number of assets (JPEG files, one per asset name). */
  get size(): number {
    return this.files.length;
  }

  /** Marks `asset` claimed by a label row; returns its file name, or undefined when it has none. */
  claim(asset: string): string | undefined {
    const at = this.index.get(asset);
    if (at === undefined) return undefined;
    this.claimed[at] = 1;
    return this.files[at];
  }

  /** The path of one of the folder's files. */
  path(file: string): string {
    return this.prefix + file;
  }

  /** Assets no row claimed and their files, in sorted-listing order. */
  unclaimed(): Array<{ asset: string; file: string }> {
    const left: Array<{ asset: string; file: string; key: string }> = [];
    for (const [asset, at] of this.index) {
      if (this.claimed[at] === 0)
        left.push({ asset, file: this.files[at], key: this.firstNames.get(at) ?? this.files[at] });
    }
    left.sort((a, b) => (a.key < b.key ? -1 : 1));
    return left.map(({ asset, file }) => ({ asset, file }));
  }
}
