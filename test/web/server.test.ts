import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InputError } from '../../src/errors.js';
import { type RunningServer, resolveRequest, serveSite } from '../../src/web/server.js';

let dir: string;
let server: RunningServer;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'gzh-serve-'));
  mkdirSync(join(dir, 'site', 'wasm'), { recursive: true });
  writeFileSync(join(dir, 'site', 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(dir, 'site', 'wasm', 'x.wasm'), new Uint8Array([0, 97, 115, 109]));
  writeFileSync(join(dir, 'secret.txt'), 'outside the site');
  server = await serveSite(join(dir, 'site'), { port: 0 });
});

afterAll(async () => {
  await server?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('gzh serve', () => {
  it('binds 127.0.0.1 by default and serves the page and wasm with their types', async () => {
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await fetch(server.url);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toContain('text/html');
    const wasm = await fetch(`${server.url}wasm/x.wasm`);
    expect(wasm.headers.get('content-type')).toBe('application/wasm');
    expect(new Uint8Array(await wasm.arrayBuffer())).toEqual(new Uint8Array([0, 97, 115, 109]));
  });

  it('serves nothing outside the site folder, and only GET / HEAD', async () => {
    expect(resolveRequest(join(dir, 'site'), '/../secret.txt')).toBeNull();
    expect(resolveRequest(join(dir, 'site'), '/%2e%2e/secret.txt')).toBeNull();
    expect(resolveRequest(join(dir, 'site'), '/%E0%A4%A')).toBeNull();
    expect((await fetch(`${server.url}%2e%2e/secret.txt`)).status).toBe(404);
    expect((await fetch(`${server.url}nope.js`)).status).toBe(404);
    expect((await fetch(server.url, { method: 'POST', body: 'x' })).status).toBe(405);
    const head = await fetch(`${server.url}index.html`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe('');
  });

  it('refuses a folder without index.html, and a port in use, as usage errors', async () => {
    await expect(serveSite(dir, { port: 0 })).rejects.toThrow(InputError);
    await expect(serveSite(dir, { port: 0 })).rejects.toThrow(/no index\.html here/);
    await expect(serveSite(join(dir, 'site'), { port: server.port })).rejects.toThrow(/already in use/);
  });
});
