/**
 * The 11-question decision tree drawn as SVG markup, with every answer's conditional and
 * cumulative probability and its spread. Pure (a string), so Node tests can check it and the page
 * inserts it. Only presentation attributes and classes: the page's CSP allows no inline styles.
 */
import { ANSWER_COUNT, QUESTIONS, type Question, question } from '../questions/index.js';
import type { PathStep } from './path.js';

export interface TreeValues {
  readonly conditional: ArrayLike<number>;
  readonly cumulative: ArrayLike<number>;
  readonly conditionalUncertainty: ArrayLike<number>;
}

/** Grid cell (row, column of 3) of each question: featured chain left, edge-on bulge middle, smooth right. */
const CELLS: Readonly<Record<number, readonly [number, number]>> = {
  1: [0, 1],
  2: [1, 0],
  7: [1, 2],
  3: [2, 0],
  9: [2, 1],
  4: [3, 0],
  10: [4, 0],
  11: [5, 0],
  5: [6, 0],
  6: [7, 1],
  8: [8, 1],
};

const BOX_W = 272;
const GAP_X = 26;
const MARGIN = 16;
const LINE_H = 16;
const HEAD_H = 22;
const GAP_Y = 30;
const LEGEND_H = 48;

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
const f2 = (x: number) => (Math.round(x * 100) / 100).toFixed(2);

interface Box {
  readonly q: Question;
  readonly x: number;
  readonly y: number;
  readonly h: number;
}

function layout(): { boxes: Map<number, Box>; width: number; height: number } {
  const rows = Math.max(...Object.values(CELLS).map(([r]) => r)) + 1;
  const rowH = new Array<number>(rows).fill(0);
  for (const q of QUESTIONS)
    rowH[CELLS[q.number][0]] = Math.max(rowH[CELLS[q.number][0]], HEAD_H + LINE_H * q.answers.length + 6);
  const rowY: number[] = [];
  let y = MARGIN + LEGEND_H;
  for (const h of rowH) {
    rowY.push(y);
    y += h + GAP_Y;
  }
  const boxes = new Map<number, Box>();
  for (const q of QUESTIONS) {
    const [r, c] = CELLS[q.number];
    boxes.set(q.number, { q, x: MARGIN + c * (BOX_W + GAP_X), y: rowY[r], h: HEAD_H + LINE_H * q.answers.length + 6 });
  }
  return { boxes, width: 2 * MARGIN + 3 * BOX_W + 2 * GAP_X, height: y - GAP_Y + MARGIN };
}

/** Edges between question boxes, one per distinct (question, next question), labelled when the question branches. */
function edges(boxes: Map<number, Box>, onPath: Set<number>): string {
  let out = '';
  for (const q of QUESTIONS) {
    const targets = new Map<number, string[]>();
    for (const a of q.answers)
      if (a.leadsTo !== null) targets.set(a.leadsTo, [...(targets.get(a.leadsTo) ?? []), a.text]);
    const from = boxes.get(q.number)!;
    for (const [to, texts] of targets) {
      const target = boxes.get(to)!;
      const hot = onPath.has(q.number) && onPath.has(to);
      const sameColumn = Math.abs(from.x - target.x) < 1;
      const skipsRows = target.y > from.y + from.h + GAP_Y + 1;
      let d: string;
      let lx: number;
      let ly: number;
      if (sameColumn && skipsRows) {
        // route around the boxes between them, on the column's left
        const x = from.x - GAP_X / 2 + 4;
        d =
          `M${from.x} ${from.y + from.h / 2} C${x} ${from.y + from.h / 2} ${x} ${from.y + from.h / 2} ${x} ` +
          `${from.y + from.h} L${x} ${target.y} C${x} ${target.y + 10} ${x} ${target.y + 10} ${target.x} ` +
          `${target.y + 10}`;
        lx = x + 2;
        ly = from.y + from.h + 12;
      } else {
        const x1 = from.x + BOX_W / 2;
        const y1 = from.y + from.h;
        const x2 = target.x + BOX_W / 2;
        const y2 = target.y;
        d = `M${x1} ${y1} C${x1} ${y1 + 24} ${x2} ${y2 - 24} ${x2} ${y2}`;
        lx = (x1 + x2) / 2 + 4;
        ly = y1 + 14;
      }
      out +=
        `<path class="edge${hot ? ' hot' : ''}" d="${d}" fill="none" stroke="${hot ? '#d9480f' : '#98a2b3'}" ` +
        `stroke-width="${hot ? 2.5 : 1.2}"/>`;
      if (targets.size > 1 || q.answers.some((a) => a.leadsTo === null)) {
        out +=
          `<text class="edge-label" x="${lx}" y="${ly}" font-size="10" ` +
          `fill="#475467">${esc(texts.join(' / '))}</text>`;
      }
    }
  }
  return out;
}

function box(b: Box, v: TreeValues, chosen: Map<number, number>): string {
  const { q, x, y, h } = b;
  const pick = chosen.get(q.number);
  const reach = q.parentAnswers.length === 0 ? 1 : q.parentAnswers.reduce((s, i) => s + v.cumulative[i], 0);
  let out = `<g class="question${pick !== undefined ? ' on-path' : ''}" data-question="${q.number}">`;
  out += `<title>${esc(`Q${q.number}. ${q.text}`)}</title>`;
  out +=
    `<rect x="${x}" y="${y}" width="${BOX_W}" height="${h}" rx="6" fill="#ffffff" ` +
    `stroke="${pick !== undefined ? '#d9480f' : '#d0d5dd'}" stroke-width="${pick !== undefined ? 2 : 1}"/>`;
  const title = `Q${q.number} ${q.name.replace(/_/g, ' ').replace('edgeon', 'edge-on')}`;
  out += `<text x="${x + 8}" y="${y + 15}" font-size="11.5" font-weight="600" fill="#101828">${esc(title)}</text>`;
  out +=
    `<text x="${x + BOX_W - 8}" y="${y + 15}" font-size="10" text-anchor="end" fill="#667085">reached ` +
    `${f2(Math.min(1, reach))}</text>`;
  q.answers.forEach((a, k) => {
    const ly = y + HEAD_H + k * LINE_H;
    const cond = Math.min(1, Math.max(0, v.conditional[a.index]));
    const cum = Math.min(1, Math.max(0, v.cumulative[a.index]));
    const strong = pick === a.index;
    const barX = x + 118;
    const barW = 52;
    const tooltip =
      `${a.kaggleId} ${a.text}: P(answer | question reached) = ${v.conditional[a.index].toFixed(4)} ` +
      `± ${v.conditionalUncertainty[a.index].toFixed(4)}; P(answer) = ${v.cumulative[a.index].toFixed(4)}`;
    out += `<g class="answer" data-answer="${a.kaggleId}"><title>${esc(tooltip)}</title>`;
    out +=
      `<text x="${x + 8}" y="${ly + 11}" font-size="11" ` +
      `fill="#101828"${strong ? ' font-weight="700"' : ''}>${esc(a.text)}</text>`;
    out += `<rect x="${barX}" y="${ly + 3}" width="${barW}" height="10" fill="#eef2f6"/>`;
    out +=
      `<rect class="bar-conditional" x="${barX}" y="${ly + 3}" width="${(barW * cond).toFixed(1)}" height="10" ` +
      'fill="#9ec5fe"/>';
    out +=
      `<rect class="bar-cumulative" x="${barX}" y="${ly + 6}" width="${(barW * cum).toFixed(1)}" height="4" ` +
      'fill="#1d4ed8"/>';
    out +=
      `<text x="${x + BOX_W - 8}" y="${ly + 11}" font-size="10" text-anchor="end" ` +
      `fill="#344054"${strong ? ' font-weight="700"' : ''}>${f2(cond)} ±${f2(v.conditionalUncertainty[a.index])} ` +
      `· ${f2(cum)}</text>`;
    out += '</g>';
  });
  return `${out}</g>`;
}

/** The whole tree for one prediction, with the most likely path highlighted. */
export function treeSvg(values: TreeValues, path: readonly PathStep[]): string {
  if (values.conditional.length !== ANSWER_COUNT || values.cumulative.length !== ANSWER_COUNT)
    throw new RangeError(`expected ${ANSWER_COUNT} values`);
  const { boxes, width, height } = layout();
  const chosen = new Map(path.map((s) => [s.question, s.answer]));
  const onPath = new Set(path.map((s) => s.question));
  const legend =
    `<text x="${MARGIN}" y="${MARGIN + 4}" font-size="11" fill="#475467">Each answer: light bar and first ` +
    'number = conditional P(answer | question reached) ± its spread over members × views;</text>' +
    `<text x="${MARGIN}" y="${MARGIN + 18}" font-size="11" fill="#475467">dark bar and last number = ` +
    `cumulative P(answer), the fraction of all volunteers (Kaggle's Class columns).</text>` +
    `<text x="${MARGIN}" y="${MARGIN + 32}" font-size="11" fill="#475467">Orange: the most likely path, from ` +
    `Q1 (${esc(question(1).text)}) following the likeliest answer.</text>`;
  let body = edges(boxes, onPath);
  for (const b of boxes.values()) body += box(b, values, chosen);
  return `<svg xmlns="http://www.w3.org/2000/svg" class="tree" viewBox="0 0 ${width} ${height}" width="${width}" height="${height}" role="img" aria-label="Galaxy Zoo decision tree with predicted probabilities">${legend}${body}</svg>`;
}
