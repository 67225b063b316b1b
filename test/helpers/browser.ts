// A real headless browser for the status page: Debian's chromium driven by playwright-core (no
// browser download), with a fresh empty profile per test. Absent chromium skips the test with the
// reason, unless CI is set: then it fails, so CI can never pass without having looked at the page.
import assert from 'node:assert/strict';
import { access, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestContext } from 'node:test';
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM = '/usr/bin/chromium';

/** Where screenshots go: test-artifacts/ at the repository's top (gitignored), kept after the test. */
export const ARTIFACTS = fileURLToPath(new URL('../../test-artifacts/', import.meta.url));

/** The browser (a context on a new empty profile), closed and removed when the test ends; undefined when skipped. */
export async function launchBrowser(t: TestContext): Promise<BrowserContext | undefined> {
  const present = await access(CHROMIUM).then(() => true, () => false);
  if (!present) {
    if (process.env.CI) assert.fail(`${CHROMIUM} is missing, and CI must run the browser tests: apt-get install -y chromium (.ci/run does)`);
    t.skip(`${CHROMIUM} is missing: apt-get install -y chromium to run the status page in a real browser`);
    return undefined;
  }
  const profile = await mkdtemp(join(tmpdir(), 'mfd-chromium-'));
  // The profile is given as playwright wants it (it refuses --user-data-dir in args), so it is ours and empty.
  const browser = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM,
    headless: true,
    // Tests run as root (no sandbox then); nothing of the browser may reach beyond loopback.
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 390, height: 844 },
    timeout: 60_000,
  });
  t.after(async () => {
    // Bounded: a browser that died under load can leave close() waiting on nothing (seen once in a
    // loaded CI run), and a hung hook would hold the whole file open instead of failing its test.
    let timer: NodeJS.Timeout | undefined;
    const gone = new Promise<void>((resolve) => (timer = setTimeout(resolve, 15_000)));
    await Promise.race([browser.close(), gone]).finally(() => clearTimeout(timer));
    await rm(profile, { recursive: true, force: true });
  });
  return browser;
}

/** A file for one state's screenshot: test-artifacts/<group>/<name>.png. */
export async function artifact(group: string, name: string): Promise<string> {
  const dir = join(ARTIFACTS, group);
  await mkdir(dir, { recursive: true });
  return join(dir, `${name}.png`);
}
