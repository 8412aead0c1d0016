import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';

/**
 * Browser tests drive Debian's Chromium through playwright-core. Where no Chromium exists they
 * skip with a one-line notice, unless REQUIRE_BROWSER=1 (CI), where a missing browser fails.
 */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const browserAvailable = fs.existsSync(CHROMIUM_PATH);

if (!browserAvailable) {
  if (process.env.REQUIRE_BROWSER === '1') {
    throw new Error(
      `REQUIRE_BROWSER=1 but no Chromium at ${CHROMIUM_PATH}: apt-get install -y chromium, or set CHROMIUM_PATH`,
    );
  }
  process.stderr.write(
    `browser tests skipped: no Chromium at ${CHROMIUM_PATH} (apt-get install -y chromium, or set CHROMIUM_PATH)\n`,
  );
}

const FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

export const ARTIFACTS_DIR = path.resolve('test-artifacts');

/** A fresh browser profile; close it with context.close(). */
export async function launchBrowser(viewport = { width: 390, height: 844 }): Promise<BrowserContext> {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: FLAGS,
    viewport,
  });
  // Chromium may still be writing its profile as it exits: retry, and never fail a test over it.
  context.once('close', () =>
    fs.rm(userDataDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 }, () => undefined),
  );
  return context;
}
