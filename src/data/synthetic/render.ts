/**
 * Renders a sampled morphology into an SDSS-like colour image: Sérsic bulge / elliptical,
 * inclined exponential disk with logarithmic spiral arms, bar, star-forming knots, odd features
 * (ring, arc, disturbance, irregular clumps, merger companion with tidal tail, dust lane, polar
 * structure), a PSF-ish blur, foreground stars, sky noise, and an asinh (Lupton) colour stretch.
 *
 * Pure TypeScript on Float32Arrays: about a millisecond per galaxy at 128 px.
 */
import sharp from 'sharp';
import type { Random } from '../../util/random.js';
import type { Morphology, PointSource } from './morphology.js';

export interface RenderOptions {
  /** Image width and height in pixels (default 424, as in Galaxy Zoo). */
  readonly size?: number;
  /** Gaussian PSF sigma as a fraction of the width (default 0.0032; 0 disables the blur). */
  readonly psf?: number;
  /** Sky noise standard deviation per channel, linear units (default 0.014). */
  readonly skyNoise?: number;
}

export const DEFAULT_RENDER_SIZE = 424;
const DEFAULT_PSF = 0.0032;
const DEFAULT_SKY_NOISE = 0.014;
/** Lupton asinh softening and the linear level mapped to full white. */
const STRETCH_BETA = 0.05;
const STRETCH_MAX = 6;
/** 1 / (angle in radians over which spiral arms fade by 1/e): about 1.3 turns. */
const ARM_TURN_FADE = 1 / (2 * Math.PI * 1.3);

type RGB = readonly [number, number, number];
const OLD: RGB = [1.0, 0.78, 0.52];
const DISK: RGB = [0.95, 0.85, 0.7];
const YOUNG: RGB = [0.6, 0.76, 1.0];

function mix(a: RGB, b: RGB, t: number, tint: RGB): [number, number, number] {
  return [(a[0] + (b[0] - a[0]) * t) * tint[0], (a[1] + (b[1] - a[1]) * t) * tint[1], (a[2] + (b[2] - a[2]) * t) * tint[2]];
}

/** Lanczos approximation of the gamma function (x > 0). */
function gamma(x: number): number {
  const g = 7;
  const c = [
    0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
    12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
  ];
  if (x < 0.5) return Math.PI / (Math.sin(Math.PI * x) * gamma(1 - x));
  x -= 1;
  let a = c[0];
  const t = x + g + 0.5;
  for (let i = 1; i < g + 2; i++) a += c[i] / (x + i);
  return Math.sqrt(2 * Math.PI) * Math.pow(t, x + 0.5) * Math.exp(-t) * a;
}

/** The Sérsic b_n constant (Ciotti & Bertin 1999 expansion). */
export function sersicB(n: number): number {
  return 2 * n - 1 / 3 + 4 / (405 * n) + 46 / (25515 * n * n);
}

/** Total flux of a Sérsic profile with I_e = 1, effective radius re and axis ratio q. */
function sersicFlux(n: number, re: number, q: number): number {
  const b = sersicB(n);
  return (2 * Math.PI * n * re * re * q * Math.exp(b) * gamma(2 * n)) / Math.pow(b, 2 * n);
}

/** Mean of ((1 + cos x) / 2)^p over a period: C(2p, p) / 4^p. */
function armMean(p: number): number {
  let c = 1;
  for (let k = 1; k <= p; k++) c = (c * (p + k)) / k;
  return c / Math.pow(4, p);
}

interface Canvas {
  readonly size: number;
  /** Linear RGB, HWC. */
  readonly data: Float32Array;
}

/** Adds a round Gaussian blob of peak `peak` at pixel (x, y). */
function addGaussian(canvas: Canvas, x: number, y: number, sigma: number, peak: number, colour: RGB): void {
  const { size, data } = canvas;
  const radius = Math.ceil(3.5 * sigma);
  const x0 = Math.max(0, Math.floor(x - radius));
  const x1 = Math.min(size - 1, Math.ceil(x + radius));
  const y0 = Math.max(0, Math.floor(y - radius));
  const y1 = Math.min(size - 1, Math.ceil(y + radius));
  const inv = 1 / (2 * sigma * sigma);
  for (let py = y0; py <= y1; py++) {
    const dy = py + 0.5 - y;
    for (let px = x0; px <= x1; px++) {
      const dx = px + 0.5 - x;
      const v = peak * Math.exp(-(dx * dx + dy * dy) * inv);
      const o = (py * size + px) * 3;
      data[o] += v * colour[0];
      data[o + 1] += v * colour[1];
      data[o + 2] += v * colour[2];
    }
  }
}

/** Adds a Moffat (β = 3) point source of peak `peak` with core radius alpha (pixels). */
function addMoffat(canvas: Canvas, x: number, y: number, alpha: number, peak: number, colour: RGB): void {
  const { size, data } = canvas;
  const beta = 3;
  const floor = 0.002;
  const radius = Math.min(size, alpha * Math.sqrt(Math.max(0, Math.pow(peak / floor, 1 / beta) - 1)) + 1);
  const x0 = Math.max(0, Math.floor(x - radius));
  const x1 = Math.min(size - 1, Math.ceil(x + radius));
  const y0 = Math.max(0, Math.floor(y - radius));
  const y1 = Math.min(size - 1, Math.ceil(y + radius));
  const inv = 1 / (alpha * alpha);
  for (let py = y0; py <= y1; py++) {
    const dy = py + 0.5 - y;
    for (let px = x0; px <= x1; px++) {
      const dx = px + 0.5 - x;
      const t = 1 + (dx * dx + dy * dy) * inv;
      const v = peak / (t * t * t);
      const o = (py * size + px) * 3;
      data[o] += v * colour[0];
      data[o + 1] += v * colour[1];
      data[o + 2] += v * colour[2];
    }
  }
}

/** Separable Gaussian blur of an HWC RGB image in place. */
function blur(canvas: Canvas, sigma: number): void {
  if (sigma < 0.3) return;
  const { size, data } = canvas;
  const radius = Math.ceil(3 * sigma);
  const kernel = new Float32Array(2 * radius + 1);
  let total = 0;
  for (let k = -radius; k <= radius; k++) total += kernel[k + radius] = Math.exp(-(k * k) / (2 * sigma * sigma));
  for (let k = 0; k < kernel.length; k++) kernel[k] /= total;
  const tmp = new Float32Array(data.length);
  // Horizontal pass: data -> tmp (edges clamp).
  for (let y = 0; y < size; y++) {
    const row = y * size;
    for (let x = 0; x < size; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let k = -radius; k <= radius; k++) {
        const xx = x + k < 0 ? 0 : x + k >= size ? size - 1 : x + k;
        const w = kernel[k + radius];
        const o = (row + xx) * 3;
        r += w * data[o];
        g += w * data[o + 1];
        b += w * data[o + 2];
      }
      const o = (row + x) * 3;
      tmp[o] = r;
      tmp[o + 1] = g;
      tmp[o + 2] = b;
    }
  }
  // Vertical pass: tmp -> data.
  for (let y = 0; y < size; y++) {
    for (let x = 0; x < size; x++) {
      let r = 0;
      let g = 0;
      let b = 0;
      for (let k = -radius; k <= radius; k++) {
        const yy = y + k < 0 ? 0 : y + k >= size ? size - 1 : y + k;
        const w = kernel[k + radius];
        const o = (yy * size + x) * 3;
        r += w * tmp[o];
        g += w * tmp[o + 1];
        b += w * tmp[o + 2];
      }
      const o = (y * size + x) * 3;
      data[o] = r;
      data[o + 1] = g;
      data[o + 2] = b;
    }
  }
}

/** Galaxy body: smooth Sérsic or bulge + disk (+ bar, arms, ring, arcs, dust), linear RGB. */
function drawGalaxy(canvas: Canvas, m: Morphology): void {
  const { size, data } = canvas;
  const S = size;
  const cx = S / 2 + m.centreX * S;
  const cy = S / 2 + m.centreY * S;
  const cosPa = Math.cos(m.positionAngle);
  const sinPa = Math.sin(m.positionAngle);
  const soft2 = 0.25; // pixel² softening of the central cusp
  const shape = m.oddShape;
  const odd = m.odd;
  const strength = m.oddStrength;
  const tint = m.tint;

  // Lopsided warp for disturbed / irregular / merging galaxies.
  const warp = odd === 'disturbed' ? 0.3 * strength : odd === 'irregular' ? 0.2 * strength : odd === 'merger' ? 0.12 : 0;
  const warpAngle = 2 * Math.PI * (shape[0] ?? 0);
  const warpX = warp * Math.cos(warpAngle);
  const warpY = warp * Math.sin(warpAngle);

  const bulgeColour = mix(OLD, DISK, 0.15 * m.blueness, tint);
  const diskColour = mix(DISK, YOUNG, 0.55 * m.blueness, tint);
  const armColour = mix(DISK, YOUNG, 0.55 + 0.45 * m.blueness, tint);
  const featureColour = mix(DISK, YOUNG, 0.8, tint);

  // Smooth galaxy or bulge.
  let bulgeIe = 0;
  let bulgeRe = 1;
  let bulgeQ = 1;
  let bulgeN = m.sersicN;
  let boxy = false;
  // Disk.
  let diskI0 = 0;
  let h = 1;
  let qd = 1;
  const isDisk = m.kind === 'disk';
  if (m.kind === 'smooth') {
    bulgeRe = m.scale * S;
    bulgeIe = m.brightness;
    bulgeQ = m.axisRatio;
  } else if (isDisk) {
    h = m.scale * S;
    qd = m.axisRatio;
    // Inclined disks get brighter in projection (partly offset by dust).
    diskI0 = m.brightness * Math.min(Math.pow(1 / qd, 0.6), 2.6);
    if (m.odd === 'irregular') diskI0 *= 0.55;
    const bt = m.bulgeFraction;
    if (bt > 0.005) {
      bulgeRe = h * (0.22 + 0.45 * bt);
      bulgeQ = m.edgeOn ? (m.bulgeShape === 'boxy' ? 0.62 : 0.78) : 0.85 + 0.15 * qd;
      boxy = m.bulgeShape === 'boxy';
      bulgeN = m.bulgeShape === 'boxy' ? Math.min(bulgeN, 2) : bulgeN;
      const diskFlux = 2 * Math.PI * h * h * m.brightness;
      bulgeIe = ((bt / (1 - bt)) * diskFlux) / sersicFlux(bulgeN, bulgeRe, bulgeQ);
    }
  }
  const bn = sersicB(bulgeN);
  const invN = 1 / bulgeN;
  const invRe = 1 / bulgeRe;
  const invBulgeQ = 1 / bulgeQ;
  // Radii beyond which a component is far below the sky noise: skipped (in units of re / h).
  const FLOOR = 0.001;
  const bulgeCut2 = bulgeIe > 0 ? Math.pow(Math.pow(1 + Math.log(Math.max(bulgeIe / FLOOR, 1)) / bn, bulgeN), 2) : 0;
  const diskCut = diskI0 > 0 ? Math.log(Math.max(diskI0 / FLOOR, 1)) * h : 0;
  const diskCut2 = diskCut * diskCut;

  // Spiral arms.
  const arms = m.spiral ? m.renderedArms : 0;
  const armPower = arms >= 5 ? 4 : 3;
  const armNorm = 1 / armMean(armPower);
  const tanPitch = Math.tan((Math.max(m.pitch, 1) * Math.PI) / 180);
  const armInner = Math.max(m.bar ? m.barLength * S : 0, 0.6 * h);
  const armPhase = m.bar ? m.barAngle : m.armPhase;

  // Bar (in the disk plane).
  const barL = m.barLength * S;
  const barW = barL * 0.26;
  const barI = m.bar ? m.barStrength * m.brightness * 1.3 : 0;
  const cosBar = Math.cos(m.barAngle);
  const sinBar = Math.sin(m.barAngle);

  // Ring (in the disk plane for disks, or around a smooth galaxy).
  const ringOn = odd === 'ring';
  const ringR = (isDisk ? h * (2.0 + 1.3 * (shape[1] ?? 0)) : m.scale * S * (1.6 + 1.2 * (shape[1] ?? 0))) + 1;
  const ringW = 0.13 * ringR + 0.6;
  const ringI = ringOn ? strength * Math.max(m.brightness, 0.25) * 0.55 : 0;
  const ringQ = isDisk ? qd : m.axisRatio;

  // Lens/arc (sky plane), tidal tail for mergers, plume for disturbed galaxies.
  const base = (isDisk ? 2.2 * h : 1.6 * m.scale * S) + 2;
  type Arc = { r: number; w: number; angle: number; span: number; peak: number };
  const arcs: Arc[] = [];
  if (odd === 'lens_or_arc') {
    const r = base * (1.3 + 0.8 * (shape[1] ?? 0));
    const angle = 2 * Math.PI * (shape[2] ?? 0);
    const peak = strength * 0.5 * Math.max(m.brightness, 0.3);
    arcs.push({ r, w: 0.07 * r + 0.5, angle, span: 0.45, peak });
    if ((shape[3] ?? 0) > 0.5) arcs.push({ r, w: 0.07 * r + 0.5, angle: angle + Math.PI, span: 0.3, peak: peak * 0.6 });
  } else if (odd === 'disturbed') {
    const r = base * (1.0 + 0.5 * (shape[1] ?? 0));
    arcs.push({ r, w: 0.25 * r, angle: warpAngle + Math.PI * 0.7, span: 0.7, peak: strength * 0.18 * Math.max(m.brightness, 0.4) });
  } else if (odd === 'merger' && m.companion?.tail) {
    const c = m.companion;
    const r = Math.hypot(c.x, c.y) * S * 1.05;
    const angle = Math.atan2(c.y, c.x) + ((shape[2] ?? 0) > 0.5 ? 0.9 : -0.9);
    arcs.push({ r, w: 0.16 * r + 0.5, angle, span: 0.8, peak: 0.22 * Math.max(m.brightness, 0.4) });
  }

  // Polar structure ("other").
  const polarOn = odd === 'other';
  const polarR = base * (0.9 + 0.5 * (shape[1] ?? 0));
  const polarW = 0.1 * polarR + 0.6;
  const polarI = polarOn ? strength * 0.4 * Math.max(m.brightness, 0.3) : 0;

  // Dust lane along the major axis of an edge-on disk.
  const dustOn = odd === 'dust_lane';
  const dustDepth = dustOn ? 0.55 + 0.4 * strength : 0;
  const dustW = Math.max(0.35 * h * qd, 0.0025 * S);
  const dustLen = 3.5 * h;

  // Region worth evaluating.
  const extent = Math.min(
    S,
    Math.max(
      isDisk ? diskCut : Math.sqrt(bulgeCut2) * bulgeRe,
      ringOn ? ringR + 4 * ringW : 0,
      arcs.length ? Math.max(...arcs.map((a) => a.r + 4 * a.w)) : 0,
      polarOn ? polarR + 4 * polarW : 0,
    ) + 2,
  );
  const x0 = Math.max(0, Math.floor(cx - extent));
  const x1 = Math.min(S - 1, Math.ceil(cx + extent));
  const y0 = Math.max(0, Math.floor(cy - extent));
  const y1 = Math.min(S - 1, Math.ceil(cy + extent));

  for (let py = y0; py <= y1; py++) {
    for (let px = x0; px <= x1; px++) {
      let dx = px + 0.5 - cx;
      let dy = py + 0.5 - cy;
      if (warp !== 0) {
        const r0 = Math.sqrt(dx * dx + dy * dy);
        dx -= warpX * r0;
        dy -= warpY * r0;
      }
      const u = dx * cosPa + dy * sinPa;
      const v = -dx * sinPa + dy * cosPa;
      let R = 0;
      let G = 0;
      let B = 0;

      if (bulgeIe > 0) {
        const vb = v * invBulgeQ;
        let rb2: number;
        if (boxy) {
          const au = Math.abs(u);
          const av = Math.abs(vb);
          rb2 = Math.pow(au * au * au + av * av * av, 2 / 3);
        } else {
          rb2 = u * u + vb * vb;
        }
        if (rb2 * invRe * invRe < bulgeCut2) {
          const rb = Math.sqrt(rb2 + soft2) * invRe;
          const ib = bulgeIe * Math.exp(-bn * (Math.exp(Math.log(rb) * invN) - 1));
          R += ib * bulgeColour[0];
          G += ib * bulgeColour[1];
          B += ib * bulgeColour[2];
        }
      }

      const a = u;
      const b = v / qd;
      const rd2 = a * a + b * b;
      if (diskI0 > 0 && rd2 < diskCut2) {
        const rd = Math.sqrt(rd2 + soft2);
        const id = diskI0 * Math.exp(-rd / h);
        let smooth = id;
        if (arms > 0 && rd > 0.5 * armInner) {
          const ramp = rd >= 1.6 * armInner ? 1 : (rd - 0.5 * armInner) / (1.1 * armInner);
          const wound = Math.log(rd / armInner) / tanPitch; // radians the arm has turned
          const turns = wound * ARM_TURN_FADE;
          // Arms fade after about one turn, as real arms do (and tight multi-arm patterns don't alias).
          const amp = m.armStrength * ramp * ramp * (3 - 2 * ramp) * Math.exp(-turns * turns);
          const theta = Math.atan2(b, a);
          const phase = arms * (theta - armPhase - wound);
          const c = 0.5 + 0.5 * Math.cos(phase);
          let s = c * c * c;
          if (armPower === 4) s *= c;
          const armLight = id * amp * s * armNorm;
          smooth = id * (1 - amp);
          R += armLight * armColour[0];
          G += armLight * armColour[1];
          B += armLight * armColour[2];
        }
        R += smooth * diskColour[0];
        G += smooth * diskColour[1];
        B += smooth * diskColour[2];
        if (barI > 0) {
          const ab = (a * cosBar + b * sinBar) / barL;
          const bb = (-a * sinBar + b * cosBar) / barW;
          const t = 1 - ab * ab - bb * bb;
          if (t > 0) {
            const ibar = barI * t * t;
            R += ibar * bulgeColour[0];
            G += ibar * bulgeColour[1];
            B += ibar * bulgeColour[2];
          }
        }
      }

      if (dustOn && Math.abs(u) < dustLen * 1.5) {
        const along = Math.abs(u) / dustLen;
        const depth = dustDepth * Math.exp(-0.5 * (v / dustW) * (v / dustW)) * (along < 1 ? 1 : Math.exp(-4 * (along - 1)));
        R *= 1 - 0.75 * depth;
        G *= 1 - 0.88 * depth;
        B *= 1 - depth;
      }

      let feature = 0;
      if (ringI > 0) {
        const rr = Math.sqrt(u * u + (v / ringQ) * (v / ringQ));
        const t = (rr - ringR) / ringW;
        if (t > -5 && t < 5) feature += ringI * Math.exp(-0.5 * t * t);
      }
      if (polarI > 0) {
        const rr = Math.sqrt((u / 0.3) * (u / 0.3) + v * v);
        const t = (rr - polarR) / polarW;
        if (t > -5 && t < 5) feature += polarI * Math.exp(-0.5 * t * t);
      }
      if (arcs.length > 0) {
        const r = Math.sqrt(dx * dx + dy * dy);
        for (const arc of arcs) {
          const t = (r - arc.r) / arc.w;
          if (t < -5 || t > 5) continue;
          let d = Math.atan2(dy, dx) - arc.angle;
          d -= 2 * Math.PI * Math.round(d / (2 * Math.PI));
          const s = d / arc.span;
          feature += arc.peak * Math.exp(-0.5 * (t * t + s * s));
        }
      }
      if (feature > 0) {
        R += feature * featureColour[0];
        G += feature * featureColour[1];
        B += feature * featureColour[2];
      }

      const o = (py * S + px) * 3;
      data[o] += R;
      data[o + 1] += G;
      data[o + 2] += B;
    }
  }

  // Star-forming knots / irregular clumps, in the disk plane.
  if (isDisk) {
    const knotSigma = Math.max(h * (odd === 'irregular' ? 0.32 : 0.16), 0.6);
    for (const k of m.knots) {
      const u = k.x * S;
      const v = k.y * S * qd;
      const x = cx + u * cosPa - v * sinPa;
      const y = cy + u * sinPa + v * cosPa;
      addGaussian(canvas, x, y, knotSigma, k.flux, mix(k.colour, k.colour, 0, tint));
    }
  }

  // Companion galaxy.
  if (m.companion) {
    const c = m.companion;
    drawSersic(canvas, cx + c.x * S, cy + c.y * S, c.radius * S, 3, c.axisRatio, c.positionAngle, c.brightness, mix(OLD, DISK, 0.4, tint));
  }
}

/** Adds a Sérsic galaxy (used for companions) evaluated over its bounding box. */
function drawSersic(canvas: Canvas, x: number, y: number, re: number, n: number, q: number, pa: number, ie: number, colour: RGB): void {
  const { size, data } = canvas;
  const radius = Math.min(size, 10 * re + 2);
  const bn = sersicB(n);
  const cosPa = Math.cos(pa);
  const sinPa = Math.sin(pa);
  const x0 = Math.max(0, Math.floor(x - radius));
  const x1 = Math.min(size - 1, Math.ceil(x + radius));
  const y0 = Math.max(0, Math.floor(y - radius));
  const y1 = Math.min(size - 1, Math.ceil(y + radius));
  for (let py = y0; py <= y1; py++) {
    for (let px = x0; px <= x1; px++) {
      const dx = px + 0.5 - x;
      const dy = py + 0.5 - y;
      const u = dx * cosPa + dy * sinPa;
      const v = (-dx * sinPa + dy * cosPa) / q;
      const r = Math.sqrt(u * u + v * v + 0.25) / re;
      const val = ie * Math.exp(-bn * (Math.pow(r, 1 / n) - 1));
      const o = (py * size + px) * 3;
      data[o] += val * colour[0];
      data[o + 1] += val * colour[1];
      data[o + 2] += val * colour[2];
    }
  }
}

/** Star or artifact object at the centre. */
function drawStarObject(canvas: Canvas, m: Morphology, psfSigma: number): void {
  const S = canvas.size;
  const cx = S / 2 + m.centreX * S;
  const cy = S / 2 + m.centreY * S;
  const colour = mix([1, 0.85, 0.7], [0.75, 0.85, 1], m.blueness, m.tint);
  if (m.starKind === 'star') {
    const alpha = Math.max(psfSigma * 1.7, 0.7) * (1 + 0.15 * Math.log(m.brightness));
    addMoffat(canvas, cx, cy, alpha, m.brightness, colour);
    // Diffraction spikes.
    const spikeLength = 0.02 * S * Math.log(1 + m.brightness);
    const width = Math.max(psfSigma, 0.5);
    for (const angle of [Math.PI / 4, (3 * Math.PI) / 4]) {
      drawLine(canvas, cx, cy, angle, spikeLength, width, m.brightness * 0.08, colour, 0);
    }
  } else {
    // Satellite trail: a long line crossing near the centre, offset slightly per band.
    const angle = m.positionAngle;
    const width = Math.max(0.003 * S, 0.6);
    const offset = 0.004 * S;
    const shape = m.oddShape;
    drawLine(canvas, cx, cy, angle, S, width, m.brightness, [1, 0, 0], -offset * (shape[0] ?? 0.5));
    drawLine(canvas, cx, cy, angle, S, width, m.brightness, [0, 1, 0], 0);
    drawLine(canvas, cx, cy, angle, S, width, m.brightness, [0, 0, 1], offset * (shape[1] ?? 0.5));
    // A faint smudge where the trail crosses the centre.
    addGaussian(canvas, cx, cy, 0.01 * S, m.brightness * 0.25 * (shape[2] ?? 0.5), colour);
  }
}

/** A line through (x, y) at `angle`, half-length `length`, Gaussian cross-section, fading ends. */
function drawLine(canvas: Canvas, x: number, y: number, angle: number, length: number, width: number, peak: number, colour: RGB, shift: number): void {
  const { size, data } = canvas;
  const ca = Math.cos(angle);
  const sa = Math.sin(angle);
  const inv = 1 / (2 * width * width);
  const reach = 3.5 * width;
  for (let py = 0; py < size; py++) {
    for (let px = 0; px < size; px++) {
      const dx = px + 0.5 - x;
      const dy = py + 0.5 - y;
      const along = dx * ca + dy * sa;
      const across = -dx * sa + dy * ca - shift;
      if (across > reach || across < -reach || Math.abs(along) > length) continue;
      const fade = length >= size ? 1 : Math.exp((-3 * Math.abs(along)) / length);
      const v = peak * fade * Math.exp(-across * across * inv);
      const o = (py * size + px) * 3;
      data[o] += v * colour[0];
      data[o + 1] += v * colour[1];
      data[o + 2] += v * colour[2];
    }
  }
}

function drawPointSources(canvas: Canvas, sources: readonly PointSource[], psfSigma: number): void {
  const S = canvas.size;
  for (const s of sources) {
    // Brighter stars look bigger (wings and saturation), as on survey images.
    const alpha = Math.max(psfSigma * 1.7, 0.6) * (1 + 0.12 * Math.log(1 + s.flux));
    addMoffat(canvas, S / 2 + s.x * S, S / 2 + s.y * S, alpha, s.flux, s.colour);
  }
}

/**
 * Render one object as a display-ready RGB image in [0, 1] (HWC, Float32Array of size²×3).
 * `rng` drives only the pixel noise, so the same morphology and noise seed give the same pixels.
 */
export function renderGalaxy(m: Morphology, rng: Random, options: RenderOptions = {}): Float32Array {
  const size = options.size ?? DEFAULT_RENDER_SIZE;
  if (!Number.isInteger(size) || size < 8) throw new RangeError(`image size must be an integer ≥ 8, got ${size}`);
  const psfSigma = (options.psf ?? DEFAULT_PSF) * size;
  const canvas: Canvas = { size, data: new Float32Array(size * size * 3) };
  if (m.kind === 'star') drawStarObject(canvas, m, psfSigma);
  else drawGalaxy(canvas, m);
  blur(canvas, psfSigma);
  drawPointSources(canvas, m.stars, psfSigma);
  addNoiseAndStretch(canvas, rng, options.skyNoise ?? DEFAULT_SKY_NOISE);
  return canvas.data;
}

/** Inverse normal CDF (Acklam's rational approximation, |error| < 1.2e-9). */
function inverseNormal(p: number): number {
  const a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239];
  const b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572];
  const c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783];
  const d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416];
  const low = 0.02425;
  if (p < low) {
    const q = Math.sqrt(-2 * Math.log(p));
    return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  if (p > 1 - low) return -inverseNormal(1 - p);
  const q = p - 0.5;
  const r = q * q;
  return ((((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q) / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
}

const NORMAL_BITS = 14;
/** Standard normal quantiles at the midpoints of 2^14 equal-probability bins: fast pixel noise. */
const NORMAL_TABLE: Float32Array = (() => {
  const n = 1 << NORMAL_BITS;
  const table = new Float32Array(n);
  for (let i = 0; i < n; i++) table[i] = inverseNormal((i + 0.5) / n);
  return table;
})();

/**
 * Sky + photon-like noise, then the Lupton asinh stretch to [0, 1] preserving colour. Pixel noise
 * comes from an xorshift stream seeded by `rng` and a quantile table (per-pixel Box–Muller would
 * cost more than drawing the galaxy).
 */
function addNoiseAndStretch(canvas: Canvas, rng: Random, skyNoise: number): void {
  const { data } = canvas;
  const table = NORMAL_TABLE;
  const shift = 32 - NORMAL_BITS;
  let state = rng.nextUint32() | 1;
  const sky2 = skyNoise * skyNoise;
  const gain = 0.0006;
  const norm = 1 / Math.asinh(STRETCH_MAX / STRETCH_BETA);
  const invBeta = 1 / STRETCH_BETA;
  for (let i = 0; i < data.length; i += 3) {
    let r = data[i];
    let g = data[i + 1];
    let b = data[i + 2];
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    r += table[state >>> shift] * (r > 0 ? Math.sqrt(sky2 + gain * r) : skyNoise);
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    g += table[state >>> shift] * (g > 0 ? Math.sqrt(sky2 + gain * g) : skyNoise);
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    b += table[state >>> shift] * (b > 0 ? Math.sqrt(sky2 + gain * b) : skyNoise);
    const mean = (r + g + b) / 3;
    const f = mean > 1e-6 ? (Math.asinh(mean * invBeta) * norm) / mean : norm * invBeta;
    r *= f;
    g *= f;
    b *= f;
    const max = r > g ? (r > b ? r : b) : g > b ? g : b;
    if (max > 1) {
      r /= max;
      g /= max;
      b /= max;
    }
    data[i] = r > 0 ? r : 0;
    data[i + 1] = g > 0 ? g : 0;
    data[i + 2] = b > 0 ? b : 0;
  }
}

/** [0, 1] floats to uint8 (rounded, clamped). */
export function toUint8(image: Float32Array): Uint8Array {
  const out = new Uint8Array(image.length);
  for (let i = 0; i < image.length; i++) {
    const v = Math.round(image[i] * 255);
    out[i] = v < 0 ? 0 : v > 255 ? 255 : v;
  }
  return out;
}

/** Encode an HWC RGB uint8 image of size×size as a baseline JPEG. */
export async function encodeJpeg(pixels: Uint8Array, size: number, quality = 90): Promise<Buffer> {
  return sharp(pixels, { raw: { width: size, height: size, channels: 3 } })
    .jpeg({ quality, chromaSubsampling: '4:4:4', mozjpeg: false })
    .toBuffer();
}
