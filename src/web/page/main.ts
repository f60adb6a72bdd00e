/// <reference lib="dom" />
/**
 * The page: loads the site's model with the shared predictor, takes dropped or chosen images,
 * and shows for each the image with its crops, the most likely path, the uncertainty and the
 * tree; for several, a table and a Kaggle-format CSV. `window.gzh` exposes the results and
 * timings to tests and benchmarks.
 */
import { kaggleCsvHeader, kaggleCsvRow } from '../../ensemble/kaggle-csv.js';
import { WebPredictor } from '../predictor.js';
import { type PathStep, mostLikelyPath, pathInWords } from '../path.js';
import { chooseBackend } from './backend.js';
import { type BrowserImage, decodeImage } from './decode.js';
import { renderDetail, renderTable } from './render.js';

export type Entry =
  | {
      readonly index: number;
      readonly name: string;
      readonly ok: true;
      readonly id: string;
      readonly image: BrowserImage;
      readonly pixels: readonly Uint8Array[];
      readonly cumulative: number[];
      readonly conditional: number[];
      readonly uncertainty: number[];
      readonly conditionalUncertainty: number[];
      readonly path: PathStep[];
      readonly words: string;
    }
  | { readonly index: number; readonly name: string; readonly ok: false; readonly error: string };

interface PageApi {
  backend?: string;
  /** Why that backend. */
  backendNote?: string;
  /** performance.now() when the model was ready, and when the first prediction was shown. */
  readyMs?: number;
  firstPredictionMs?: number;
  /** The last batch of files: how many and how long from receiving them to the last result shown. */
  lastRun?: { images: number; ms: number };
  results: Array<Omit<Entry, 'image' | 'pixels'>>;
  /** The preprocessed pixels (uint8 values) the networks of preprocessing group `group` saw for image `index`. */
  pixels(index: number, group?: number): number[] | null;
  error?: string;
}

declare global {
  interface Window {
    gzh: PageApi;
  }
}

const BATCH = 16;
const api: PageApi = {
  results: [],
  pixels: (index, group = 0) => {
    const e = entries.find((x) => x.index === index);
    return e?.ok ? Array.from(e.pixels[group]) : null;
  },
};
window.gzh = api;
const entries: Entry[] = [];
let predictor: WebPredictor | null = null;
let pending: File[] = [];
let busy = false;
let selected = 0;

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const setState = (state: string) => (document.body.dataset.state = state);
const status = (text: string) => ($('status').textContent = text);

function galaxyIdOf(name: string): string {
  return name.replace(/^.*[\\/]/, '').replace(/\.[^.]*$/, '');
}

async function predictBatch(files: File[], first: number): Promise<void> {
  const decoded = await Promise.all(
    files.map((f) =>
      decodeImage(f).then(
        (image) => ({ image }),
        (error: Error) => ({ error }),
      ),
    ),
  );
  const good: Array<{ k: number; image: BrowserImage }> = [];
  const preprocessed: Uint8Array[][] = [];
  decoded.forEach((d, k) => {
    const name = files[k].name;
    if ('error' in d)
      return void entries.push({ index: first + k, name, ok: false, error: `${name}: ${d.error.message}` });
    try {
      preprocessed.push(predictor!.preprocess(d.image));
      good.push({ k, image: d.image });
    } catch (error) {
      entries.push({ index: first + k, name, ok: false, error: `${name}: ${(error as Error).message}` });
    }
  });
  const predictions = await predictor!.predict(good.map((g) => g.image));
  predictions.forEach(({ prediction: p, pixels }, n) => {
    const { k, image } = good[n];
    const path = mostLikelyPath(p.conditional, p.cumulative);
    entries.push({
      index: first + k,
      name: files[k].name,
      ok: true,
      id: galaxyIdOf(files[k].name),
      image,
      pixels,
      cumulative: Array.from(p.cumulative),
      conditional: Array.from(p.conditional),
      uncertainty: Array.from(p.uncertainty),
      conditionalUncertainty: Array.from(p.conditionalUncertainty),
      path,
      words: pathInWords(path),
    });
  });
  entries.sort((a, b) => a.index - b.index);
}

async function drain(): Promise<void> {
  if (busy || !predictor || pending.length === 0) return;
  busy = true;
  setState('busy');
  const files = pending;
  pending = [];
  const started = performance.now();
  const first = entries.length;
  try {
    for (let s = 0; s < files.length; s += BATCH) {
      status(`Classifying ${Math.min(s + BATCH, files.length)} of ${files.length} image(s)…`);
      await predictBatch(files.slice(s, s + BATCH), first + s);
      show(first);
      api.firstPredictionMs ??= entries.some((e) => e.ok) ? performance.now() : undefined;
    }
    const ms = performance.now() - started;
    api.lastRun = { images: files.length, ms };
    const failed = entries.slice(first).filter((e) => !e.ok).length;
    status(
      `${files.length} image(s) in ${(ms / 1000).toFixed(2)} s on ` +
        `${api.backend}${failed ? `; ${failed} could not be read` : ''}. ${modelLine()}`,
    );
  } catch (error) {
    api.error = (error as Error).message;
    status(`Prediction failed: ${api.error}`);
    setState('error');
    busy = false;
    return;
  }
  busy = false;
  setState('done');
  if (pending.length > 0) void drain();
}

function show(first: number): void {
  api.results = entries.map(
    ({ image: _i, pixels: _p, ...rest }: Entry & { image?: unknown; pixels?: unknown }) =>
      rest as PageApi['results'][number],
  );
  const errors = $('errors');
  errors.replaceChildren(
    ...entries
      .filter((e) => !e.ok)
      .map((e) =>
        Object.assign(document.createElement('p'), { className: 'error', textContent: (e as { error: string }).error }),
      ),
  );
  const ok = entries.filter((e): e is Extract<Entry, { ok: true }> => e.ok);
  if (ok.length === 0) return;
  if (!ok.some((e) => e.index === selected)) selected = (ok.find((e) => e.index >= first) ?? ok[0]).index;
  $('summary').hidden = ok.length < 2;
  renderTable($('table'), ok, selected, (index) => {
    selected = index;
    show(first);
  });
  renderDetail(
    $('detail'),
    ok.find((e) => e.index === selected)!,
    predictor!,
  );
}

function modelLine(): string {
  const p = predictor!;
  return `${p.members.length} member(s) × ${p.views.length} view(s)`;
}

function downloadCsv(): void {
  const rows = entries
    .filter((e): e is Extract<Entry, { ok: true }> => e.ok)
    .map((e) => kaggleCsvRow(e.id, e.cumulative));
  const blob = new Blob([`${kaggleCsvHeader()}\n${rows.join('\n')}\n`], { type: 'text/csv' });
  const a = Object.assign(document.createElement('a'), {
    href: URL.createObjectURL(blob),
    download: 'galaxy-zoo-predictions.csv',
  });
  a.click();
  setTimeout(() => URL.revokeObjectURL(a.href), 10_000);
}

function accept(files: FileList | null): void {
  if (!files || files.length === 0) return;
  pending.push(...Array.from(files));
  if (!predictor) status(`${pending.length} image(s) waiting for the model to load…`);
  void drain();
}

function wire(): void {
  const input = $<HTMLInputElement>('files');
  input.addEventListener('change', () => {
    accept(input.files);
    input.value = '';
  });
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    accept(e.dataTransfer?.files ?? null);
  });
  $('csv').addEventListener('click', downloadCsv);
}

async function start(): Promise<void> {
  wire();
  if ('serviceWorker' in navigator && location.protocol !== 'file:')
    navigator.serviceWorker.register('sw.js').catch(() => {});
  try {
    const choice = await chooseBackend(new URLSearchParams(location.search).get('backend'));
    api.backend = choice.name;
    api.backendNote = choice.note;
    predictor = await WebPredictor.load(new URL('model/', document.baseURI).href);
  } catch (error) {
    api.error = (error as Error).message;
    status(`The model could not be loaded: ${api.error}`);
    setState('error');
    return;
  }
  api.readyMs = performance.now();
  {
    const kinds = predictor.members.map((m) => m.manifest.kind).join(', ');
    const preprocessing = predictor.groups
      .map(
        (g) =>
          `${g.mode}${g.mode === 'center' ? ` ${g.centerCrop} px` : ''} → ` +
          `${g.size} px ${g.channels === 1 ? 'gray' : 'RGB'}`,
      )
      .join(', ');
    $('about').textContent =
      `Model: ${kinds}; ${modelLine()}; preprocessing ${preprocessing}. ` +
      `TensorFlow.js on ${api.backend} (${api.backendNote}). ` +
      'JPEGs are decoded by this browser, so values can differ slightly from gzh predict (see the README).';
  }
  status(
    `Ready (${api.backend}, ${modelLine()}, loaded in ${(api.readyMs / 1000).toFixed(2)} s). Drop images to ` +
      'classify them.',
  );
  setState('ready');
  void drain();
}

if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', () => void start());
else void start();
