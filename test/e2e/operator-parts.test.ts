// "Add from manifest" in the window (Debian's Chromium against the real `snapshot-manager serve`): a snapshot
// published in three parts, its CSV manifest (filename, URL, sha256, size) served by the fault server; the job
// runs the parts in order into one folder, the parts view shows each part's size, state and verified checksum,
// and the folder holds every part's files. A pasted manifest that is not one is refused next to the field.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { createWriteStream, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import * as tar from 'tar-stream';
import { FaultServer } from '../../harness/fault-server';
import { readTree, type Tree } from './helpers/archive';
import { browserSkipped, openBrowser } from './helpers/browser';
import { ensureRendererBuilt, screenshotPath } from './helpers/paths';
import { pill, withFailureShot } from './helpers/window';
import { startServe } from './helpers/serve-process';

const MiB = 1024 * 1024;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

/** One part: its own files under node/data/part-N/, as a provider splits a snapshot by folder. */
async function makePart(path: string, n: number, bytes: number): Promise<Tree> {
  const files: Array<[string, Buffer]> = [
    [`node/data/part-${n}/blocks.ldb`, randomBytes(bytes)],
    [`node/data/part-${n}/MANIFEST`, Buffer.from(`part ${n}\n`)],
  ];
  const pack = tar.pack();
  const done = pipeline(pack, createGzip({ level: 1 }), createWriteStream(path));
  for (const [name, data] of files) await new Promise<void>((resolve, reject) => pack.entry({ name, size: data.length, mode: 0o644 }, data, (e) => (e ? reject(e) : resolve())));
  pack.finalize();
  await done;
  return new Map(files.map(([name, data]) => [name, sha256(data)]));
}

test('Add from manifest: three parts in order into one folder, each verified, shown in the parts view', {
  skip: browserSkipped(),
  timeout: 120_000,
}, async () => {
  ensureRendererBuilt();
  const work = mkdtempSync(join(tmpdir(), 'sm-e2e-parts-'));
  const origin = await FaultServer.start();
  const expected: Tree = new Map();
  const rows: string[] = ['filename,URL,sha256,size'];
  for (const n of [1, 2, 3]) {
    const file = join(work, `snap.part${n}.tar.gz`);
    for (const [k, v] of await makePart(file, n, n * MiB)) expected.set(k, v);
    const url = await origin.serve(`/parts/snap.part${n}.tar.gz`, { file });
    rows.push(`snap.part${n}.tar.gz,${url},${sha256(readFileSync(file))},${statSync(file).size}`);
  }
  const manifestUrl = await origin.serve('/parts/manifest.csv', Buffer.from(rows.join('\n') + '\n'));
  const serve = await startServe(join(work, 'state'));
  const browser = await openBrowser();
  const { page } = browser;
  const dest = join(work, 'node');
  try {
    await withFailureShot(page, serve.stderr, async () => {
      await page.goto(serve.url);
      await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
      await page.getByRole('button', { name: 'Add from manifest' }).click();
      const form = page.getByRole('region', { name: 'Add from manifest' });
      const field = form.getByLabel('Manifest (its URL, or paste it)');
      // Pasted text that is not a manifest: refused next to the field, no job.
      await field.fill('filename,size\nsnap.part1.tar.gz,12\n');
      await form.getByLabel('Destination').fill(dest);
      await form.getByRole('button', { name: 'Start' }).click();
      await form
        .locator('.field-error')
        .filter({ hasText: /names the URL/ })
        .waitFor();
      assert.equal(await page.locator('li.job').count(), 0);

      await field.fill(manifestUrl);
      await form.getByRole('button', { name: 'Start' }).click();
      await form.waitFor({ state: 'detached' });
      const name = 'manifest.csv';
      await pill(page, name, /^Done$/).waitFor({ timeout: 60_000 });
      const parts = page.getByRole('region', { name: 'Parts' });
      await parts.getByText('3 of 3 done').waitFor();
      const text = (await parts.locator('tbody').textContent()) ?? '';
      for (const n of [1, 2, 3]) assert.match(text, new RegExp(`${n}snap\\.part${n}\\.tar\\.gz[\\d.]+ (KiB|MiB)doneverified`));
      assert.match((await page.getByRole('region', { name: 'Summary' }).textContent()) ?? '', /SHA-256per part: see Parts/);
      await page.screenshot({ path: screenshotPath('parts.png') });
      assert.deepEqual([...(await readTree(dest)).entries()].sort(), [...expected.entries()].sort());
      // In order: each part's first request came after the one before it was done.
      const firsts = [1, 2, 3].map((n) => origin.requestsFor(`/parts/snap.part${n}.tar.gz`)[0]!.startedAt);
      assert.ok(firsts[0]! <= firsts[1]! && firsts[1]! <= firsts[2]!, firsts.join(' '));
      assert.deepEqual(browser.pageErrors, []);
    });
  } finally {
    await browser.close();
    await serve.stop();
    await origin.close();
    rmSync(work, { recursive: true, force: true });
  }
});
