/**
 * Rows of a synthetic data set in the layout of the Galaxy Zoo 2 download (Hart et al. 2016):
 *
 *   gz2_hart16.csv.gz           dr7objid, ra, dec, rastring, decstring, sample, gz2class,
 *                               total_classifications, total_votes, then for each of the 37
 *                               answers `<column>_count, _weight, _fraction, _weighted_fraction,
 *                               _debiased, _flag` (the column scheme of the real table)
 *   gz2_filename_mapping.csv    objid, sample, asset_id: the image of each galaxy
 *   images/<asset_id>.jpg
 *
 * Galaxy i has asset_id idStart + i and dr7objid 588000000000000000 + asset_id.
 */
import { join } from 'node:path';
import { ANSWERS } from '../../questions/index.js';
import { Random } from '../../util/random.js';
import type { SyntheticGalaxy } from './galaxy.js';
import { gz2Class } from './gz2-class.js';
import { gz2Values } from './gz2-values.js';
import { type LabelFiles, LineSink } from './line-sink.js';

/** File names of the GZ2 layout. */
export const GZ2_FILES = {
  images: 'images',
  labels: 'gz2_hart16.csv.gz',
  mapping: 'gz2_filename_mapping.csv',
} as const;

const LEADING = [
  'dr7objid',
  'ra',
  'dec',
  'rastring',
  'decstring',
  'sample',
  'gz2class',
  'total_classifications',
  'total_votes',
];
const FAMILIES = ['count', 'weight', 'fraction', 'weighted_fraction', 'debiased', 'flag'] as const;
const OBJID_BASE = 588000000000000000n;

/** The header of gz2_hart16.csv (231 columns). */
function gz2Header(): string {
  return [...LEADING, ...ANSWERS.flatMap((a) => FAMILIES.map((f) => `${a.gz2Column}_${f}`))].join(',');
}

/** The header of gz2_filename_mapping.csv. */
function gz2MappingHeader(): string {
  return 'objid,sample,asset_id';
}

/** `x` with at most `places` decimals and at least one ("0.0", "0.625", "1.0"), as the real table prints floats. */
function decimal(x: number, places: number): string {
  const text = x.toFixed(places).replace(/0+$/, '');
  return text.endsWith('.') ? `${text}0` : text;
}

/** `x` with at most `places` decimals, none when it is whole ("10", "9.743"). */
function plain(x: number, places: number): string {
  return x.toFixed(places).replace(/\.?0+$/, '');
}

/** Sexagesimal `HH:MM:SS.ss` (hours) or `±DD:MM:SS.s` (degrees), as rastring / decstring. */
function sexagesimal(value: number, decimals: number, signed: boolean): string {
  const sign = value < 0 ? '-' : '+';
  const scale = 10 ** decimals;
  const total = Math.round(Math.abs(value) * 3600 * scale);
  const whole = Math.floor(total / scale);
  const fraction = decimals > 0 ? `.${String(total % scale).padStart(decimals, '0')}` : '';
  const pad = (n: number) => String(n).padStart(2, '0');
  const text = `${pad(Math.floor(whole / 3600))}:${pad(Math.floor(whole / 60) % 60)}:${pad(whole % 60)}${fraction}`;
  return signed ? sign + text : text;
}

/** Sky position and sub-sample of a galaxy: most in the main (`original`) sample, some `extra`, a few on Stripe 82. */
function skyOf(rng: Random): { ra: number; dec: number; sample: string } {
  const u = rng.next();
  if (u < 0.03) return { ra: (rng.uniform(-60, 60) + 360) % 360, dec: rng.uniform(-1.25, 1.25), sample: 'stripe82' };
  // uniform on the sphere between declinations -10° and +70°
  const dec = (Math.asin(rng.uniform(Math.sin(-Math.PI / 18), Math.sin((7 * Math.PI) / 18))) * 180) / Math.PI;
  return { ra: rng.uniform(0, 360), dec, sample: u < 0.2 ? 'extra' : 'original' };
}

/** One galaxy's gz2_hart16 row and its filename-mapping row. */
function gz2Rows(seed: number, galaxy: SyntheticGalaxy): { label: string; mapping: string } {
  const rng = Random.derive(seed, 'gz2', galaxy.index);
  const sky = skyOf(rng);
  const values = gz2Values(galaxy, rng);
  const objid = String(OBJID_BASE + BigInt(galaxy.id));
  const totalVotes = values.count.reduce((s, c) => s + c, 0);
  const cells = [
    objid,
    sky.ra.toFixed(6),
    sky.dec.toFixed(6),
    sexagesimal(sky.ra / 15, 2, false),
    sexagesimal(sky.dec, 1, true),
    sky.sample,
    gz2Class(values.weightedFraction),
    String(galaxy.votes.volunteers),
    String(totalVotes),
  ];
  for (let a = 0; a < ANSWERS.length; a++) {
    cells.push(
      String(values.count[a]),
      plain(values.weight[a], 3),
      decimal(values.fraction[a], 3),
      decimal(values.weightedFraction[a], 3),
      decimal(values.debiased[a], 8),
      String(values.flag[a]),
    );
  }
  return { label: cells.join(','), mapping: `${objid},${sky.sample},${galaxy.id}` };
}

/**
 * Streams the GZ2 label files (the gzipped Hart16 table and the filename mapping) of a data set being written
 * in `dir`.
 */
export async function openGz2Labels(dir: string, seed: number): Promise<LabelFiles> {
  const labels = new LineSink(join(dir, GZ2_FILES.labels));
  const mapping = new LineSink(join(dir, GZ2_FILES.mapping));
  await labels.write(gz2Header());
  await mapping.write(gz2MappingHeader());
  return {
    async write(galaxy) {
      const rows = gz2Rows(seed, galaxy);
      await labels.write(rows.label);
      await mapping.write(rows.mapping);
    },
    sinks: [labels, mapping],
  };
}
