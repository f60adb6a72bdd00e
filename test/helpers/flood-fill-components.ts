/**
 * The reference the run-based components (src/data/images/components.ts) are tested against:
 * external components found by flood-filling the outer background pixel by pixel.
 */
import type { Component } from '../../src/data/images/components.js';

/** States: unreached background, outer background (and the frame), labelled, foreground. */
const OUTER = 1;
const LABELLED = 2;
const FOREGROUND = 4;

/** externalComponents by flood-filling the outer background pixel by pixel. */
export function externalComponentsByFill(mask: Uint8Array, width: number, height: number): Component[] {
  const wp = width + 2;
  const state = framedState(width, height);
  for (let y = 0; y < height; y++) {
    const o = (y + 1) * wp + 1;
    const i = y * width;
    for (let x = 0; x < width; x++) state[o + x] = mask[i + x] !== 0 ? FOREGROUND : 0;
  }
  return framedComponents(state, width, height);
}

/** A (width + 2) × (height + 2) state array whose one-pixel frame is OUTER. */
function framedState(width: number, height: number): Uint8Array {
  const wp = width + 2;
  const n = wp * (height + 2);
  const state = new Uint8Array(n);
  const last = n - wp;
  state.fill(OUTER, 0, wp);
  state.fill(OUTER, last, n);
  for (let row = wp; row < last; row += wp) {
    state[row] = OUTER;
    state[row + wp - 1] = OUTER;
  }
  return state;
}

/**
 * externalComponents on a framed state array (see framedState; inside: FOREGROUND or 0): the frame
 * stands for the image edge, so neighbour indices never leave the array and need no bounds checks.
 * Overwrites the states.
 */
function framedComponents(state: Uint8Array, width: number, height: number): Component[] {
  const wp = width + 2;
  const n = wp * (height + 2);
  const last = n - wp;
  // every pixel is pushed at most twice by the fill (from the runs above and below it), plus the seeds
  const stack = new Int32Array(3 * n);
  let sp = 0;
  // seed the outer background from the image's edge pixels
  for (let x = 1; x <= width; x++) {
    if (state[wp + x] === 0) stack[sp++] = wp + x;
    if (state[last - wp + x] === 0) stack[sp++] = last - wp + x;
  }
  for (let row = wp; row < last; row += wp) {
    if (state[row + 1] === 0) stack[sp++] = row + 1;
    if (state[row + width] === 0) stack[sp++] = row + width;
  }
  // 4-connected scanline fill: a popped pixel fills its whole horizontal run of background, which
  // seeds each run of unreached background directly above and below it once
  while (sp > 0) {
    const p = stack[--sp];
    if (state[p] !== 0) continue;
    state[p] = OUTER;
    let l = p;
    while (state[l - 1] === 0) state[--l] = OUTER;
    let r = p;
    while (state[r + 1] === 0) state[++r] = OUTER;
    for (let q = l - wp, e = r - wp, inRun = false; q <= e; q++) {
      const open = state[q] === 0;
      if (open && !inRun) stack[sp++] = q;
      inRun = open;
    }
    for (let q = l + wp, e = r + wp, inRun = false; q <= e; q++) {
      const open = state[q] === 0;
      if (open && !inRun) stack[sp++] = q;
      inRun = open;
    }
  }
  // what is left (foreground, and background in holes) forms the external components
  const blobs: Component[] = [];
  for (let row = wp; row < last; row += wp) {
    for (let start = row + 1, end = row + wp - 1; start < end; start++) {
      if (state[start] === OUTER || state[start] === LABELLED) continue;
      state[start] = LABELLED;
      stack[0] = start;
      sp = 1;
      let count = 0;
      let boundary = 0;
      let sx = 0;
      let sy = 0;
      let minX = width;
      let minY = height;
      let maxX = -1;
      let maxY = -1;
      while (sp > 0) {
        const p = stack[--sp];
        const y = ((p / wp) | 0) - 1;
        const x = p - (y + 1) * wp - 1;
        count++;
        sx += x;
        sy += y;
        if (x < minX) minX = x;
        if (x > maxX) maxX = x;
        if (y < minY) minY = y;
        if (y > maxY) maxY = y;
        // next to the outer background or the frame (the image edge)
        if (state[p - 1] === OUTER || state[p + 1] === OUTER || state[p - wp] === OUTER || state[p + wp] === OUTER)
          boundary++;
        // 8-connected growth over everything that is not outer background
        for (let q = p - wp - 1, e = p + wp + 1; q <= e; q += wp - 2) {
          if ((state[q] & 3) === 0) {
            state[q] = LABELLED;
            stack[sp++] = q;
          }
          q++;
          if ((state[q] & 3) === 0) {
            state[q] = LABELLED;
            stack[sp++] = q;
          }
          q++;
          if ((state[q] & 3) === 0) {
            state[q] = LABELLED;
            stack[sp++] = q;
          }
        }
      }
      blobs.push({
        x: minX,
        y: minY,
        w: maxX - minX + 1,
        h: maxY - minY + 1,
        cx: sx / count,
        cy: sy / count,
        area: Math.max(0, count - boundary / 2 - 1),
      });
    }
  }
  return blobs;
}
