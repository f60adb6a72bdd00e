/**
 * The galaxy body of a synthetic image: smooth Sérsic or bulge + inclined exponential disk, with
 * logarithmic spiral arms, bar, ring, arcs and tails, polar structure, dust lane, star-forming
 * knots and a merger companion. Each component is its own small function or class evaluated at a
 * point; one pass over the pixels (drawBody) sums them, so no component needs an image of its own.
 */
import type { Morphology } from './morphology.js';
import {
  DISK,
  OLD,
  YOUNG,
  addGaussian,
  armMean,
  drawSersic,
  mix,
  sersicB,
  sersicFlux,
  type Canvas,
  type RGB,
} from './profiles.js';

/** 1 / (angle in radians over which spiral arms fade by 1/e): about 1.3 turns. */
const ARM_TURN_FADE = 1 / (2 * Math.PI * 1.3);
/** Pixel² softening of the central cusp. */
const SOFT2 = 0.25;
/** Light level below which a component's outskirts are skipped (far below the sky noise). */
const FLOOR = 0.001;

/** The smooth galaxy, or a disk's bulge: a Sérsic profile, elliptical or boxy. */
interface Bulge {
  readonly ie: number;
  readonly re: number;
  readonly q: number;
  readonly n: number;
  readonly boxy: boolean;
  readonly colour: RGB;
}

/** An inclined exponential disk (i0 = 0: none). */
interface Disk {
  readonly i0: number;
  /** Scale length in pixels. */
  readonly h: number;
  /** Axis ratio (cos of the inclination, floored). */
  readonly q: number;
  readonly colour: RGB;
}

/** Bulge and disk of a morphology, at image size S. */
function bulgeAndDisk(m: Morphology, S: number, colours: BodyColours): { bulge: Bulge; disk: Disk } {
  const bulge = { ie: 0, re: 1, q: 1, n: m.sersicN, boxy: false, colour: colours.bulge };
  const disk = { i0: 0, h: 1, q: 1, colour: colours.disk };
  if (m.kind === 'smooth') {
    bulge.re = m.scale * S;
    bulge.ie = m.brightness;
    bulge.q = m.axisRatio;
  } else if (m.kind === 'disk') {
    disk.h = m.scale * S;
    disk.q = m.axisRatio;
    // Inclined disks get brighter in projection (partly offset by dust).
    disk.i0 = m.brightness * Math.min(Math.pow(1 / disk.q, 0.6), 2.6);
    if (m.odd === 'irregular') disk.i0 *= 0.55;
    const bt = m.bulgeFraction;
    if (bt > 0.005) {
      bulge.re = disk.h * (0.22 + 0.45 * bt);
      bulge.q = m.edgeOn ? (m.bulgeShape === 'boxy' ? 0.62 : 0.78) : 0.85 + 0.15 * disk.q;
      bulge.boxy = m.bulgeShape === 'boxy';
      bulge.n = m.bulgeShape === 'boxy' ? Math.min(bulge.n, 2) : bulge.n;
      const diskFlux = 2 * Math.PI * disk.h * disk.h * m.brightness;
      bulge.ie = ((bt / (1 - bt)) * diskFlux) / sersicFlux(bulge.n, bulge.re, bulge.q);
    }
  }
  return { bulge, disk };
}

/** The bulge's profile, precomputed for the pixel loop. */
class BulgeLight {
  readonly ie: number;
  readonly bn: number;
  readonly invN: number;
  readonly invRe: number;
  readonly invQ: number;
  /** Squared radius (in units of re) beyond which the profile is below FLOOR. */
  readonly cut2: number;
  readonly boxy: boolean;

  constructor(b: Bulge) {
    this.ie = b.ie;
    this.bn = sersicB(b.n);
    this.invN = 1 / b.n;
    this.invRe = 1 / b.re;
    this.invQ = 1 / b.q;
    this.cut2 = b.ie > 0 ? Math.pow(Math.pow(1 + Math.log(Math.max(b.ie / FLOOR, 1)) / this.bn, b.n), 2) : 0;
    this.boxy = b.boxy;
  }

  /** Surface brightness at galaxy-frame (u, v); 0 beyond the cut. */
  at(u: number, v: number): number {
    const vb = v * this.invQ;
    let rb2: number;
    if (this.boxy) {
      const au = Math.abs(u);
      const av = Math.abs(vb);
      rb2 = Math.pow(au * au * au + av * av * av, 2 / 3);
    } else {
      rb2 = u * u + vb * vb;
    }
    if (!(rb2 * this.invRe * this.invRe < this.cut2)) return 0;
    const rb = Math.sqrt(rb2 + SOFT2) * this.invRe;
    return this.ie * Math.exp(-this.bn * (Math.exp(Math.log(rb) * this.invN) - 1));
  }

  /** Radius in pixels the profile reaches. */
  extent(re: number): number {
    return Math.sqrt(this.cut2) * re;
  }
}

/** Logarithmic spiral arms in the disk plane (count 0: none). */
class Arms {
  readonly count: number;
  readonly power: number;
  readonly norm: number;
  readonly tanPitch: number;
  readonly inner: number;
  readonly phase: number;
  readonly strength: number;

  constructor(m: Morphology, S: number, h: number) {
    this.count = m.spiral ? m.renderedArms : 0;
    this.power = this.count >= 5 ? 4 : 3;
    this.norm = 1 / armMean(this.power);
    this.tanPitch = Math.tan((Math.max(m.pitch, 1) * Math.PI) / 180);
    this.inner = Math.max(m.bar ? m.barLength * S : 0, 0.6 * h);
    this.phase = m.bar ? m.barAngle : m.armPhase;
    this.strength = m.armStrength;
  }

  /** Radians the arm has turned at disk radius rd. */
  wound(rd: number): number {
    return Math.log(rd / this.inner) / this.tanPitch;
  }

  /** Share of the disk light moved into the arms at radius rd: rises from 0.5·inner, fades after about a turn. */
  amplitude(rd: number, wound: number): number {
    const inner = this.inner;
    const ramp = rd >= 1.6 * inner ? 1 : (rd - 0.5 * inner) / (1.1 * inner);
    const turns = wound * ARM_TURN_FADE;
    // Arms fade after about one turn, as real arms do (and tight multi-arm patterns don't alias).
    return this.strength * ramp * ramp * (3 - 2 * ramp) * Math.exp(-turns * turns);
  }

  /** The arm pattern (0 … 1) at disk-plane (a, b). */
  pattern(a: number, b: number, wound: number): number {
    const theta = Math.atan2(b, a);
    const phase = this.count * (theta - this.phase - wound);
    const c = 0.5 + 0.5 * Math.cos(phase);
    let s = c * c * c;
    if (this.power === 4) s *= c;
    return s;
  }
}

/** A bar in the disk plane (intensity 0: none). */
class Bar {
  readonly length: number;
  readonly width: number;
  readonly intensity: number;
  readonly cos: number;
  readonly sin: number;

  constructor(m: Morphology, S: number) {
    this.length = m.barLength * S;
    this.width = this.length * 0.26;
    this.intensity = m.bar ? m.barStrength * m.brightness * 1.3 : 0;
    this.cos = Math.cos(m.barAngle);
    this.sin = Math.sin(m.barAngle);
  }

  at(a: number, b: number): number {
    const ab = (a * this.cos + b * this.sin) / this.length;
    const bb = (-a * this.sin + b * this.cos) / this.width;
    const t = 1 - ab * ab - bb * bb;
    return t > 0 ? this.intensity * t * t : 0;
  }
}

/** A Gaussian-profile ring of radius r and width w, squashed by q along v (intensity 0: none). */
interface Ring {
  readonly on: boolean;
  readonly r: number;
  readonly w: number;
  readonly intensity: number;
  readonly q: number;
}

function ringOf(m: Morphology, S: number, disk: Disk, shape: readonly number[]): Ring {
  const isDisk = m.kind === 'disk';
  const r = (isDisk ? disk.h * (2.0 + 1.3 * (shape[1] ?? 0)) : m.scale * S * (1.6 + 1.2 * (shape[1] ?? 0))) + 1;
  const on = m.odd === 'ring';
  const intensity = on ? m.oddStrength * Math.max(m.brightness, 0.25) * 0.55 : 0;
  return { on, r, w: 0.13 * r + 0.6, intensity, q: isDisk ? disk.q : m.axisRatio };
}

function ringAt(ring: Ring, u: number, v: number): number {
  const rr = Math.sqrt(u * u + (v / ring.q) * (v / ring.q));
  const t = (rr - ring.r) / ring.w;
  return t > -5 && t < 5 ? ring.intensity * Math.exp(-0.5 * t * t) : 0;
}

/** A polar ring or plume across the minor axis ("other"; intensity 0: none). */
function polarOf(m: Morphology, base: number, shape: readonly number[]): Ring {
  const r = base * (0.9 + 0.5 * (shape[1] ?? 0));
  const on = m.odd === 'other';
  const intensity = on ? m.oddStrength * 0.4 * Math.max(m.brightness, 0.3) : 0;
  return { on, r, w: 0.1 * r + 0.6, intensity, q: 1 };
}

function polarAt(polar: Ring, u: number, v: number): number {
  const rr = Math.sqrt((u / 0.3) * (u / 0.3) + v * v);
  const t = (rr - polar.r) / polar.w;
  return t > -5 && t < 5 ? polar.intensity * Math.exp(-0.5 * t * t) : 0;
}

/** An arc on the sky: radius, width, centre angle, angular half-width, peak. */
interface Arc {
  readonly r: number;
  readonly w: number;
  readonly angle: number;
  readonly span: number;
  readonly peak: number;
}

/** Lens/arc (sky plane), tidal tail for mergers, plume for disturbed galaxies. */
function arcsOf(m: Morphology, S: number, base: number, warpAngle: number): Arc[] {
  const { odd, oddShape: shape, oddStrength: strength } = m;
  const arcs: Arc[] = [];
  if (odd === 'lens_or_arc') {
    const r = base * (1.3 + 0.8 * (shape[1] ?? 0));
    const angle = 2 * Math.PI * (shape[2] ?? 0);
    const peak = strength * 0.5 * Math.max(m.brightness, 0.3);
    arcs.push({ r, w: 0.07 * r + 0.5, angle, span: 0.45, peak });
    if ((shape[3] ?? 0) > 0.5) arcs.push({ r, w: 0.07 * r + 0.5, angle: angle + Math.PI, span: 0.3, peak: peak * 0.6 });
  } else if (odd === 'disturbed') {
    const r = base * (1.0 + 0.5 * (shape[1] ?? 0));
    const peak = strength * 0.18 * Math.max(m.brightness, 0.4);
    arcs.push({ r, w: 0.25 * r, angle: warpAngle + Math.PI * 0.7, span: 0.7, peak });
  } else if (odd === 'merger' && m.companion?.tail) {
    const c = m.companion;
    const r = Math.hypot(c.x, c.y) * S * 1.05;
    const angle = Math.atan2(c.y, c.x) + ((shape[2] ?? 0) > 0.5 ? 0.9 : -0.9);
    arcs.push({ r, w: 0.16 * r + 0.5, angle, span: 0.8, peak: 0.22 * Math.max(m.brightness, 0.4) });
  }
  return arcs;
}

/** `light` plus the arcs' light at sky offset (dx, dy), added arc by arc. */
function addArcs(arcs: readonly Arc[], dx: number, dy: number, light: number): number {
  const r = Math.sqrt(dx * dx + dy * dy);
  for (const arc of arcs) {
    const t = (r - arc.r) / arc.w;
    if (t < -5 || t > 5) continue;
    let d = Math.atan2(dy, dx) - arc.angle;
    d -= 2 * Math.PI * Math.round(d / (2 * Math.PI));
    const s = d / arc.span;
    light += arc.peak * Math.exp(-0.5 * (t * t + s * s));
  }
  return light;
}

/** A dust lane along the major axis of an edge-on disk (depth 0: none). */
interface Dust {
  readonly depth: number;
  readonly w: number;
  readonly length: number;
}

function dustOf(m: Morphology, S: number, disk: Disk): Dust {
  return {
    depth: m.odd === 'dust_lane' ? 0.55 + 0.4 * m.oddStrength : 0,
    w: Math.max(0.35 * disk.h * disk.q, 0.0025 * S),
    length: 3.5 * disk.h,
  };
}

/** Optical depth of the lane at galaxy-frame (u, v); 0 beyond 1.5 lane lengths. */
function dustAt(dust: Dust, u: number, v: number): number {
  if (!(Math.abs(u) < dust.length * 1.5)) return 0;
  const along = Math.abs(u) / dust.length;
  return dust.depth * Math.exp(-0.5 * (v / dust.w) * (v / dust.w)) * (along < 1 ? 1 : Math.exp(-4 * (along - 1)));
}

interface BodyColours {
  readonly bulge: RGB;
  readonly disk: RGB;
  readonly arm: RGB;
  readonly feature: RGB;
}

function bodyColours(m: Morphology): BodyColours {
  return {
    bulge: mix(OLD, DISK, 0.15 * m.blueness, m.tint),
    disk: mix(DISK, YOUNG, 0.55 * m.blueness, m.tint),
    arm: mix(DISK, YOUNG, 0.55 + 0.45 * m.blueness, m.tint),
    feature: mix(DISK, YOUNG, 0.8, m.tint),
  };
}

/** Everything the pixel loop of one galaxy body needs, computed once. */
interface Body {
  readonly cx: number;
  readonly cy: number;
  readonly cosPa: number;
  readonly sinPa: number;
  /** Lopsided warp for disturbed / irregular / merging galaxies (0: none). */
  readonly warp: number;
  readonly warpX: number;
  readonly warpY: number;
  readonly colours: BodyColours;
  readonly bulge: Bulge;
  readonly bulgeLight: BulgeLight;
  readonly disk: Disk;
  readonly diskCut: number;
  readonly diskCut2: number;
  readonly arms: Arms;
  readonly bar: Bar;
  readonly ring: Ring;
  readonly polar: Ring;
  readonly arcs: readonly Arc[];
  readonly dust: Dust;
}

function bodyOf(m: Morphology, S: number): Body {
  const shape = m.oddShape;
  const warp =
    m.odd === 'disturbed'
      ? 0.3 * m.oddStrength
      : m.odd === 'irregular'
        ? 0.2 * m.oddStrength
        : m.odd === 'merger'
          ? 0.12
          : 0;
  const warpAngle = 2 * Math.PI * (shape[0] ?? 0);
  const colours = bodyColours(m);
  const { bulge, disk } = bulgeAndDisk(m, S, colours);
  const base = (m.kind === 'disk' ? 2.2 * disk.h : 1.6 * m.scale * S) + 2;
  const diskCut = disk.i0 > 0 ? Math.log(Math.max(disk.i0 / FLOOR, 1)) * disk.h : 0;
  return {
    cx: S / 2 + m.centreX * S,
    cy: S / 2 + m.centreY * S,
    cosPa: Math.cos(m.positionAngle),
    sinPa: Math.sin(m.positionAngle),
    warp,
    warpX: warp * Math.cos(warpAngle),
    warpY: warp * Math.sin(warpAngle),
    colours,
    bulge,
    bulgeLight: new BulgeLight(bulge),
    disk,
    diskCut,
    diskCut2: diskCut * diskCut,
    arms: new Arms(m, S, disk.h),
    bar: new Bar(m, S),
    ring: ringOf(m, S, disk, shape),
    polar: polarOf(m, base, shape),
    arcs: arcsOf(m, S, base, warpAngle),
    dust: dustOf(m, S, disk),
  };
}

/** Radius around the centre worth evaluating: where some component is above the floor. */
function bodyExtent(body: Body, S: number, isDisk: boolean): number {
  const { ring, polar, arcs } = body;
  const reach = Math.max(
    isDisk ? body.diskCut : body.bulgeLight.extent(body.bulge.re),
    ring.on ? ring.r + 4 * ring.w : 0,
    arcs.length ? Math.max(...arcs.map((a) => a.r + 4 * a.w)) : 0,
    polar.on ? polar.r + 4 * polar.w : 0,
  );
  return Math.min(S, reach + 2);
}

/** Light of the rings, polar structure and arcs at galaxy-frame (u, v), sky offset (dx, dy). */
function featureLight(body: Body, u: number, v: number, dx: number, dy: number): number {
  let feature = 0;
  if (body.ring.intensity > 0) feature += ringAt(body.ring, u, v);
  if (body.polar.intensity > 0) feature += polarAt(body.polar, u, v);
  if (body.arcs.length > 0) feature = addArcs(body.arcs, dx, dy, feature);
  return feature;
}

/** Galaxy body: smooth Sérsic or bulge + disk (+ bar, arms, ring, arcs, dust), linear RGB. */
export function drawGalaxy(canvas: Canvas, m: Morphology): void {
  const { size: S } = canvas;
  const body = bodyOf(m, S);
  drawBody(canvas, body, bodyExtent(body, S, m.kind === 'disk'));
  if (m.kind === 'disk') drawKnots(canvas, m, body);
  // Companion galaxy.
  if (m.companion) {
    const c = m.companion;
    const colour = mix(OLD, DISK, 0.4, m.tint);
    drawSersic(
      canvas,
      body.cx + c.x * S,
      body.cy + c.y * S,
      c.radius * S,
      3,
      c.axisRatio,
      c.positionAngle,
      c.brightness,
      colour,
    );
  }
}

/**
 * One pass over the pixels within `extent` of the centre: every component is evaluated per pixel
 * (none gets its own image), in the order bulge, arms, disk, bar, dust, features.
 */
function drawBody(canvas: Canvas, body: Body, extent: number): void {
  const { size: S, data } = canvas;
  const { cx, cy, cosPa, sinPa, warp, warpX, warpY, bulge, bulgeLight, disk, arms, bar, dust, colours } = body;
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
      if (bulge.ie > 0) {
        const ib = bulgeLight.at(u, v);
        R += ib * bulge.colour[0];
        G += ib * bulge.colour[1];
        B += ib * bulge.colour[2];
      }
      const b = v / disk.q;
      const rd2 = u * u + b * b;
      if (disk.i0 > 0 && rd2 < body.diskCut2) {
        const rd = Math.sqrt(rd2 + SOFT2);
        const id = disk.i0 * Math.exp(-rd / disk.h);
        let smooth = id;
        if (arms.count > 0 && rd > 0.5 * arms.inner) {
          const wound = arms.wound(rd);
          const amp = arms.amplitude(rd, wound);
          const armLight = id * amp * arms.pattern(u, b, wound) * arms.norm;
          smooth = id * (1 - amp);
          R += armLight * colours.arm[0];
          G += armLight * colours.arm[1];
          B += armLight * colours.arm[2];
        }
        R += smooth * disk.colour[0];
        G += smooth * disk.colour[1];
        B += smooth * disk.colour[2];
        if (bar.intensity > 0) {
          const ibar = bar.at(u, b);
          R += ibar * colours.bulge[0];
          G += ibar * colours.bulge[1];
          B += ibar * colours.bulge[2];
        }
      }
      if (dust.depth > 0) {
        const depth = dustAt(dust, u, v);
        R *= 1 - 0.75 * depth;
        G *= 1 - 0.88 * depth;
        B *= 1 - depth;
      }
      const feature = featureLight(body, u, v, dx, dy);
      if (feature > 0) {
        R += feature * colours.feature[0];
        G += feature * colours.feature[1];
        B += feature * colours.feature[2];
      }
      const o = (py * S + px) * 3;
      data[o] += R;
      data[o + 1] += G;
      data[o + 2] += B;
    }
  }
}

/** Star-forming knots / irregular clumps, in the disk plane. */
function drawKnots(canvas: Canvas, m: Morphology, body: Body): void {
  const S = canvas.size;
  const { disk, cx, cy, cosPa, sinPa } = body;
  const knotSigma = Math.max(disk.h * (m.odd === 'irregular' ? 0.32 : 0.16), 0.6);
  for (const k of m.knots) {
    const u = k.x * S;
    const v = k.y * S * disk.q;
    const x = cx + u * cosPa - v * sinPa;
    const y = cy + u * sinPa + v * cosPa;
    addGaussian(canvas, x, y, knotSigma, k.flux, mix(k.colour, k.colour, 0, m.tint));
  }
}
