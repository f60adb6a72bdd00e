/**
 * External connected components of a binary mask, as cv2.findContours(RETR_EXTERNAL) sees them,
 * computed on horizontal runs with union-find instead of pixel by pixel. Masks are fed row by row
 * (`startRuns`, `addRowRuns`, …) so the detection pipeline can build them without a full-size
 * mask image. Pure compute: no Node-only imports.
 */

/** An external component of a mask: its box, centroid and contour area. */
export interface Component {
  /** Bounding box in pixels: left, top, width, height. */
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  /** Centroid of the filled region. */
  readonly cx: number;
  readonly cy: number;
  /** Area of the outer contour polygon (Pick: filled pixels − boundary pixels / 2 − 1). */
  readonly area: number;
}

/** The byte value of a foreground mask pixel in rows given to {@link addRowRunsWords}. */
export const MASK_ON = 4;

/**
 * External components of a binary mask, as cv2.findContours(RETR_EXTERNAL) finds them: the image is
 * framed by background; the outer background is the 4-connected background reachable from the
 * frame; every 8-connected region of everything else is one external contour with its holes (and
 * anything inside them) filled.
 */
export function externalComponents(mask: Uint8Array, width: number, height: number): Component[] {
  const runs = startRuns(width, height);
  for (let y = 0; y < height; y++) addRowRuns(runs, mask, y * width);
  return runComponents(runs);
}

/**
 * A mask as horizontal runs, row by row, for runComponents. Rows -1 and height (the frame) are one
 * background run [-1, width]; every image row starts with a background run from x = -1 (the frame
 * column, possibly alone) and ends with one reaching x = width, so background and foreground runs
 * alternate: a run is foreground when its position in its row is odd.
 */
export interface Runs {
  width: number;
  height: number;
  /** First and last x of each run (inclusive). */
  start: Int32Array;
  end: Int32Array;
  /** rowFirst[r]: index of the first run of row r − 1 (r = 0 … height + 1); rowFirst[height + 2] = count. */
  rowFirst: Int32Array;
  count: number;
  /** Image rows added so far. */
  rows: number;
}

const runScratch: Runs = {
  width: 0,
  height: 0,
  start: new Int32Array(0),
  end: new Int32Array(0),
  rowFirst: new Int32Array(0),
  count: 0,
  rows: 0,
};
let runParent = new Int32Array(0);
let runGroup = new Int32Array(0);
let spanScratch = new Int32Array(0);

/** Starts a mask of width × height (the run arrays are scratch, reused by the next mask). */
export function startRuns(width: number, height: number): Runs {
  const runs = runScratch;
  // at most width + 2 runs per image row (alternating, starting and ending with background)
  const capacity = (width + 3) * height + 2;
  if (runs.start.length < capacity) {
    runs.start = new Int32Array(capacity);
    runs.end = new Int32Array(capacity);
  }
  if (runs.rowFirst.length < height + 3) runs.rowFirst = new Int32Array(height + 3);
  if (spanScratch.length < 4 * (width + 2)) spanScratch = new Int32Array(4 * (width + 2));
  runs.width = width;
  runs.height = height;
  runs.rowFirst[0] = 0;
  runs.start[0] = -1;
  runs.end[0] = width;
  runs.count = 1;
  runs.rows = 0;
  return runs;
}

/**
 * Ends a row begun at runs.count: closes a foreground run still open at the right edge and adds
 * the row's closing background run (from the last foreground end to `width`).
 */
function finishRow(runs: Runs, n: number, from: number, on: boolean): void {
  const { start, end, width } = runs;
  if (on) {
    start[n] = from;
    end[n++] = width - 1;
    from = width;
  }
  start[n] = from;
  end[n++] = width;
  runs.count = n;
}

/** Appends the next image row (bytes row[offset … offset + width), nonzero = foreground). */
export function addRowRuns(runs: Runs, row: Uint8Array, offset: number): void {
  const { start, end, width } = runs;
  let n = runs.count;
  runs.rowFirst[++runs.rows] = n;
  let from = -1;
  let on = false;
  for (let x = 0; x < width; x++) {
    if ((row[offset + x] !== 0) !== on) {
      start[n] = from;
      end[n++] = x - 1;
      from = x;
      on = !on;
    }
  }
  finishRow(runs, n, from, on);
}

/** Appends an image row with no foreground. */
export function addEmptyRow(runs: Runs): void {
  runs.rowFirst[++runs.rows] = runs.count;
  finishRow(runs, runs.count, -1, false);
}

/**
 * addRowRuns for a row of MASK_ON / 0 bytes whose 32-bit words are given too (width a multiple
 * of 4): words that are all background or all foreground are skipped whole.
 */
export function addRowRunsWords(runs: Runs, bytes: Uint8Array, words: Uint32Array, perRow: number): void {
  const { start, end } = runs;
  let n = runs.count;
  runs.rowFirst[++runs.rows] = n;
  let from = -1;
  let on = false;
  const full = MASK_ON * 0x01010101;
  for (let k = 0; k < perRow; k++) {
    const v = words[k];
    if (v === (on ? full : 0)) continue;
    for (let x = 4 * k, e = x + 4; x < e; x++) {
      if ((bytes[x] !== 0) !== on) {
        start[n] = from;
        end[n++] = x - 1;
        from = x;
        on = !on;
      }
    }
  }
  finishRow(runs, n, from, on);
}

/**
 * Connects each run with the runs of the row above it (foreground 8-connected, background
 * 4-connected) by union-find; afterwards `parent[i]` is the root of run i's component, which is
 * the component's first run (roots always precede their runs).
 */
function connectRuns(runs: Runs): Int32Array {
  const { start, end, rowFirst, height, count } = runs;
  if (runParent.length < count) {
    runParent = new Int32Array(count + (count >> 1));
    runGroup = new Int32Array(count + (count >> 1));
  }
  const parent = runParent;
  for (let i = 0; i < count; i++) parent[i] = i;
  const find = (a: number): number => {
    while (parent[a] !== a) {
      const g = parent[parent[a]];
      parent[a] = g;
      a = g;
    }
    return a;
  };
  for (let r = 1; r <= height + 1; r++) {
    const prev = rowFirst[r - 1];
    const prevEnd = rowFirst[r];
    const rowEnd = rowFirst[r + 1];
    let j = prev;
    for (let i = prevEnd; i < rowEnd; i++) {
      const fg = (i - prevEnd) & 1;
      const lo = start[i] - fg;
      const hi = end[i] + fg;
      while (end[j] < lo) j++;
      for (let k = j; k < prevEnd && start[k] <= hi; k++) {
        if (((k - prev) & 1) !== fg) continue;
        let a = find(i);
        let b = find(k);
        if (a === b) continue;
        if (a < b) {
          const t = a;
          a = b;
          b = t;
        }
        parent[a] = b;
      }
    }
  }
  for (let i = 0; i < count; i++) parent[i] = parent[parent[i]]; // roots precede their runs: one pass flattens
  return parent;
}

/** Running sums of the external components, one slot per component. */
class ComponentSums {
  readonly x0: number[] = [];
  readonly x1: number[] = [];
  readonly y0: number[] = [];
  readonly y1: number[] = [];
  readonly n: number[] = [];
  readonly sx: number[] = [];
  readonly sy: number[] = [];
  readonly boundary: number[] = [];
  readonly root: number[] = [];

  /** A new component whose first run is `root`, on row y; returns its index. */
  add(root: number, y: number, width: number): number {
    this.x0.push(width);
    this.x1.push(-1);
    this.y0.push(y);
    this.y1.push(y);
    this.n.push(0);
    this.sx.push(0);
    this.sy.push(0);
    this.boundary.push(0);
    this.root.push(root);
    return this.n.length - 1;
  }

  components(): Component[] {
    const out: Component[] = [];
    for (let g = 0; g < this.n.length; g++) {
      const n = this.n[g];
      out.push({
        x: this.x0[g],
        y: this.y0[g],
        w: this.x1[g] - this.x0[g] + 1,
        h: this.y1[g] - this.y0[g] + 1,
        cx: this.sx[g] / n,
        cy: this.sy[g] / n,
        area: Math.max(0, n - this.boundary[g] / 2 - 1),
      });
    }
    return out;
  }
}

/**
 * externalComponents on runs (see startRuns): the outer background is the component of the frame
 * (run 0). Each other background component (a hole) belongs to the foreground component just left
 * of its first run; a foreground component whose first pixel has a hole above it lies inside that
 * hole (and joins the hole's group); the others are external. Counts, centroids and boxes sum over
 * each group's runs; the boundary (pixels next to the outer background) comes from the outer runs
 * above, below and beside each external foreground run.
 */
export function runComponents(runs: Runs): Component[] {
  const { start, end, rowFirst, width, height } = runs;
  // the bottom frame row
  start[runs.count] = -1;
  end[runs.count] = width;
  rowFirst[height + 1] = runs.count++;
  rowFirst[height + 2] = runs.count;
  const parent = connectRuns(runs);
  // group of each component (by its root): the index of its external component, or −1 (outer)
  const group = runGroup;
  group[0] = -1;
  const sums = new ComponentSums();
  const { n, sx, sy, x0, x1, y1, boundary, root: firstRun } = sums; // the arrays grow in place
  for (let r = 1; r <= height; r++) {
    const y = r - 1;
    const first = rowFirst[r];
    const rowEnd = rowFirst[r + 1];
    for (let i = first; i < rowEnd; i++) {
      const root = parent[i];
      const fg = (i - first) & 1;
      let g: number;
      if (root !== i) g = group[root];
      else if (fg === 0)
        g = group[i] = group[parent[i - 1]]; // a hole: enclosed by the foreground run on its left
      else {
        // the pixel above the component's first pixel: outer background, or a hole
        const x = start[i];
        let k = rowFirst[r - 1];
        while (end[k] < x) k++;
        const above = parent[k];
        g = group[i] = above === 0 ? sums.add(i, y, width) : group[above];
      }
      if (g < 0) continue;
      const s = start[i];
      const e = end[i];
      const len = e - s + 1;
      n[g] += len;
      sx[g] += ((s + e) * len) / 2;
      sy[g] += y * len;
      if (s < x0[g]) x0[g] = s;
      if (e > x1[g]) x1[g] = e;
      y1[g] = y;
      // boundary pixels: only an external component's own foreground touches the outer background
      if (fg !== 0 && firstRun[g] === root) boundary[g] += boundaryPixels(runs, parent, r, i, spanScratch);
    }
  }
  return sums.components();
}

/**
 * Pixels of foreground run i (row r of runs) with the outer background (root 0) on their left,
 * right, above or below. `spans` holds the clipped outer runs above, then below.
 */
function boundaryPixels(runs: Runs, parent: Int32Array, r: number, i: number, spans: Int32Array): number {
  const { start, end, rowFirst } = runs;
  const s = start[i];
  const e = end[i];
  // outer spans of the rows above (a) and below (b), clipped to [s, e]
  let na = 0;
  for (let k = rowFirst[r - 1], stop = rowFirst[r - 1 + 1]; k < stop && start[k] <= e; k++) {
    if (end[k] >= s && parent[k] === 0) {
      spans[na++] = start[k] > s ? start[k] : s;
      spans[na++] = end[k] < e ? end[k] : e;
    }
  }
  let nb = na;
  for (let k = rowFirst[r + 1], stop = rowFirst[r + 1 + 1]; k < stop && start[k] <= e; k++) {
    if (end[k] >= s && parent[k] === 0) {
      spans[nb++] = start[k] > s ? start[k] : s;
      spans[nb++] = end[k] < e ? end[k] : e;
    }
  }
  let total = 0;
  for (let a = 0; a < nb; a += 2) total += spans[a + 1] - spans[a] + 1;
  // minus the pixels outer both above and below (both lists are sorted and disjoint)
  for (let a = 0, b = na; a < na && b < nb;) {
    const lo = spans[a] > spans[b] ? spans[a] : spans[b];
    const hi = spans[a + 1] < spans[b + 1] ? spans[a + 1] : spans[b + 1];
    if (hi >= lo) total -= hi - lo + 1;
    if (spans[a + 1] < spans[b + 1]) a += 2;
    else b += 2;
  }
  const covered = (x: number): boolean => {
    for (let a = 0; a < nb; a += 2) if (spans[a] <= x && x <= spans[a + 1]) return true;
    return false;
  };
  const left = parent[i - 1] === 0 && !covered(s);
  if (left) total++;
  if (parent[i + 1] === 0 && !(e === s && left) && !covered(e)) total++;
  return total;
}
