/// <reference lib="dom" />
/** The table of all images and one image's detail card. */
import { ANSWERS, question } from '../../questions/index.js';
import type { WebPredictor } from '../predictor.js';
import { treeSvg } from '../tree-svg.js';
import { drawOriginal, drawPreprocessed, networkSquare, preprocessSquare } from './crop.js';
import type { Entry } from './main.js';

type Ok = Extract<Entry, { ok: true }>;

function el<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Partial<HTMLElementTagNameMap[K]> = {},
  ...children: Array<Node | string>
): HTMLElementTagNameMap[K] {
  const node = Object.assign(document.createElement(tag), props);
  node.append(...children);
  return node;
}

const f3 = (x: number) => x.toFixed(3);
const mean = (xs: readonly number[]) => xs.reduce((s, x) => s + x, 0) / xs.length;

export function renderTable(
  table: HTMLElement,
  rows: readonly Ok[],
  selected: number,
  onSelect: (index: number) => void,
): void {
  const head = el(
    'tr',
    {},
    ...['#', 'file', 'most likely path', 'P(smooth)', 'P(featured)', 'P(star/artifact)', 'mean spread'].map((t, i) =>
      el('th', { className: i >= 3 ? 'num' : '' }, t),
    ),
  );
  const body = rows.map((r) => {
    const tr = el(
      'tr',
      { className: r.index === selected ? 'selected' : '' },
      el('td', {}, String(r.index + 1)),
      el('td', {}, r.name),
      el('td', {}, r.words),
      ...[0, 1, 2].map((a) => el('td', { className: 'num' }, f3(r.cumulative[a]))),
      el('td', { className: 'num' }, `±${f3(mean(r.uncertainty))}`),
    );
    tr.dataset.galaxy = r.id;
    tr.addEventListener('click', () => onSelect(r.index));
    return tr;
  });
  table.replaceChildren(el('thead', {}, head), el('tbody', {}, ...body));
}

function uncertaintyLine(r: Ok, predictor: WebPredictor): string {
  let worst = 0;
  r.conditionalUncertainty.forEach((u, i) => (worst = u > r.conditionalUncertainty[worst] ? i : worst));
  const a = ANSWERS[worst];
  return (
    `Uncertainty (standard deviation over ${predictor.members.length} member(s) × ${predictor.views.length} ` +
    'view(s)): ' +
    `mean ±${f3(mean(r.uncertainty))} over the 37 answers (cumulative), ` +
    `±${f3(mean(r.path.map((s) => r.conditionalUncertainty[s.answer])))} along the path; ` +
    `largest ±${f3(r.conditionalUncertainty[worst])} on Q${a.question} “${question(a.question).name.replace(/_/g, ' ')}: ${a.text}”.`
  );
}

export function renderDetail(detail: HTMLElement, r: Ok, predictor: WebPredictor): void {
  const member = predictor.members[0];
  const params = predictor.groups[member.group];
  const crop = preprocessSquare(r.image, params);
  const input = networkSquare(crop, params.size, member.inputSize);
  const svgHost = el('div', { className: 'tree-wrap' });
  svgHost.innerHTML = treeSvg(
    { conditional: r.conditional, cumulative: r.cumulative, conditionalUncertainty: r.conditionalUncertainty },
    r.path,
  );
  const pathText = r.path.map((s) => `${s.words} (${s.conditional.toFixed(2)})`).join(' → ');
  const card = el(
    'article',
    { className: 'card' },
    el('h2', {}, r.name),
    el(
      'div',
      { className: 'images' },
      el(
        'figure',
        {},
        drawOriginal(r.image, crop, input),
        el(
          'figcaption',
          {},
          `${r.image.width}×${r.image.height} image; dashed: the ${params.mode} crop (${Math.round(crop.side)} ` +
            'px); solid: what the network sees.',
        ),
      ),
      el(
        'figure',
        {},
        drawPreprocessed(r.pixels[member.group], params.size, params.channels, member.inputSize),
        el(
          'figcaption',
          {},
          `The model's input: ${params.size} px ${params.channels === 1 ? 'gray' : 'RGB'}, network input ` +
            `${member.inputSize} px (solid).`,
        ),
      ),
    ),
    el(
      'div',
      { className: 'answers' },
      el('p', { className: 'path' }, pathText),
      el('p', { className: 'uncertainty' }, uncertaintyLine(r, predictor)),
      svgHost,
    ),
  );
  card.dataset.galaxy = r.id;
  detail.replaceChildren(card);
}
