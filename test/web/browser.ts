import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser } from 'puppeteer-core';

/** Debian's chromium (`apt-get install chromium`), or GZH_CHROMIUM. */
export const CHROMIUM = process.env.GZH_CHROMIUM ?? '/usr/bin/chromium';

export function chromiumAvailable(): { available: boolean; reason: string } {
  const available = existsSync(CHROMIUM);
  return {
    available,
    reason: available
      ? ''
      : `headless Chromium not found at ${CHROMIUM} (apt-get install chromium, or set GZH_CHROMIUM)`,
  };
}

/** A headless Chromium with a fresh profile and no background networking. */
export function launchChromium(): Promise<Browser> {
  return puppeteer.launch({
    executablePath: CHROMIUM,
    headless: true,
    userDataDir: mkdtempSync(join(tmpdir(), 'gzh-chromium-')),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--disable-dev-shm-usage',
    ],
  });
}

export const ARTIFACTS = join(process.cwd(), '.cache', 'test-artifacts');
