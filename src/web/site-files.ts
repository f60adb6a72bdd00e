/**
 * The static files of the exported site other than the bundle and the models: the page, its
 * style sheet and a service worker that keeps every file for offline use. Kept as strings so the
 * built package carries them without copying assets.
 */

/** Nothing may leave the machine: every fetch, script, image and worker comes from the site itself. */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "connect-src 'self'",
  "worker-src 'self' blob:",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

export function indexHtml(title: string): string {
  const t = title.replace(/&/g, '&amp;').replace(/</g, '&lt;');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${CONTENT_SECURITY_POLICY}">
<title>Galaxy Zoo decision tree: ${t}</title>
<link rel="stylesheet" href="style.css">
<script type="module" src="app.js"></script>
</head>
<body data-state="loading">
<header>
  <h1>Galaxy Zoo decision tree</h1>
  <p class="lede">The 37 Galaxy Zoo 2 answers predicted for your galaxy images by <span id="model-name">${t}</span>,
    computed in this browser. Nothing is uploaded.</p>
  <p id="status" role="status">Loading the model…</p>
</header>
<main>
  <section id="drop" class="drop" tabindex="0">
    <p><strong>Drop JPEG or PNG galaxy images here</strong> or
      <label class="button">choose files<input id="files" type="file"
        accept="image/jpeg,image/png,.jpg,.jpeg,.png" multiple></label></p>
    <p class="note">Best with the cutouts the model was trained on
      (e.g. 424×424 Kaggle / SDSS colour images, galaxy centred).</p>
  </section>
  <section id="errors" aria-live="polite"></section>
  <section id="summary" hidden>
    <div class="summary-head"><h2>All images</h2><button id="csv" type="button">Download Kaggle CSV</button></div>
    <div class="table-wrap"><table id="table"></table></div>
  </section>
  <section id="detail"></section>
</main>
<footer id="about"></footer>
</body>
</html>
`;
}

export const STYLE_CSS = `
:root { font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #101828; background: #f7f8fa; }
body { margin: 0 auto; max-width: 1240px; padding: 16px 24px 40px; }
h1 { margin: 8px 0 4px; font-size: 24px; }
h2 { font-size: 18px; margin: 0; }
.lede { margin: 0 0 4px; color: #475467; }
#status { margin: 4px 0 12px; font-size: 13px; color: #344054; }
body[data-state="error"] #status { color: #b42318; font-weight: 600; }
.drop { border: 2px dashed #98a2b3; border-radius: 10px; padding: 14px 18px; background: #fff; }
.drop.over { border-color: #1d4ed8; background: #eff4ff; }
.drop p { margin: 4px 0; }
.note { color: #667085; font-size: 13px; }
.button, button { display: inline-block; border: 1px solid #1d4ed8; color: #1d4ed8; background: #fff;
  border-radius: 6px; padding: 3px 10px; cursor: pointer; font: inherit; }
.button input { display: none; }
#errors .error { margin: 8px 0; padding: 8px 12px; border-left: 4px solid #b42318; background: #fef3f2; color: #7a271a;
  border-radius: 4px; }
#summary { margin-top: 16px; }
.summary-head { display: flex; gap: 16px; align-items: center; margin-bottom: 6px; }
.table-wrap { max-height: 320px; overflow: auto; background: #fff; border: 1px solid #d0d5dd; border-radius: 6px; }
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { padding: 4px 8px; border-bottom: 1px solid #eaecf0; text-align: left; white-space: nowrap; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.selected td { background: #eff4ff; }
tbody tr { cursor: pointer; }
.card { margin-top: 16px; background: #fff; border: 1px solid #d0d5dd; border-radius: 10px; padding: 14px 18px;
  display: grid; grid-template-columns: 300px 1fr; gap: 18px; }
.card h2 { grid-column: 1 / -1; word-break: break-all; }
.images figure { margin: 0 0 10px; }
.images canvas { width: 280px; height: 280px; image-rendering: pixelated; border-radius: 4px; background: #000; }
figcaption { font-size: 12px; color: #475467; margin-top: 3px; }
.path { font-size: 16px; font-weight: 600; color: #d9480f; margin: 0 0 4px; }
.uncertainty { font-size: 13px; color: #344054; margin: 0 0 10px; }
.tree-wrap { overflow-x: auto; }
svg.tree { display: block; width: 100%; height: auto; max-width: 900px; }
footer { margin-top: 24px; font-size: 12px; color: #667085; }
`;

/** Caches every file of the site on install and answers from the cache first: the page works offline once loaded. */
export function serviceWorker(files: readonly string[], version: string): string {
  return `const CACHE = ${JSON.stringify(`gzh-web-${version}`)};
const FILES = ${JSON.stringify(['./', ...files])};
self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(FILES)).then(() => self.skipWaiting()));
});
self.addEventListener('activate', (event) => {
  const stale = (keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k)));
  event.waitUntil(caches.keys().then(stale).then(() => self.clients.claim()));
});
self.addEventListener('fetch', (event) => {
  if (event.request.method !== 'GET' || new URL(event.request.url).origin !== self.location.origin) return;
  event.respondWith(caches.match(event.request, { ignoreSearch: true }).then((hit) => hit || fetch(event.request)));
});
`;
}
