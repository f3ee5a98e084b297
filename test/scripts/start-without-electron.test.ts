// Regression: `npm start` where Electron's binary cannot be downloaded printed a stack trace ending in
// "fetch failed". It must say why in one line and open the same window through `serve` in the browser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, chmodSync, existsSync } from 'node:fs';
import { get } from 'node:http';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const repo = join(__dirname, '..', '..', '..');

/** A port on 127.0.0.1 that refuses connections: the Electron mirror that is down. */
async function refusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function fetchStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    get(url, { agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject);
  });
}

test('npm start without a downloadable Electron says why in one line and opens the window through serve', { timeout: 120_000 }, async (t) => {
  const electronDir = join(repo, 'node_modules', 'electron');
  const hasBinary = existsSync(join(electronDir, 'path.txt')) && existsSync(join(electronDir, 'dist', readFileSync(join(electronDir, 'path.txt'), 'utf8')));
  if (hasBinary) return t.skip('Electron is installed here: the fallback path cannot be reached');
  const dir = mkdtempSync(join(tmpdir(), 'start-fallback-'));
  const opened = join(dir, 'opened.txt');
  const browser = join(dir, 'browser.sh');
  writeFileSync(browser, `#!/bin/sh\necho "$1" > '${opened}'\n`);
  chmodSync(browser, 0o755);
  const port = await refusedPort();
  const child = spawn(process.execPath, [join(repo, 'scripts', 'start.mjs')], {
    env: {
      ...process.env,
      BROWSER: browser,
      ELECTRON_MIRROR: `http://127.0.0.1:${port}/`,
      electron_config_cache: join(dir, 'cache'),
      XDG_DATA_HOME: join(dir, 'data'),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  // SIGTERM: start.mjs passes it on to the serve process it started, and both end.
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.after(async () => {
    child.kill('SIGTERM');
    await exited;
    child.stdout.destroy();
    child.stderr.destroy();
    rmSync(dir, { recursive: true, force: true });
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const deadline = Date.now() + 90_000;
  while (!/Opened http/.test(out) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
  const reasonLines = out.split('\n').filter((l) => l.startsWith('Electron cannot start here'));
  assert.equal(reasonLines.length, 1, `one line says why:\n${out}\n${err}`);
  assert.match(reasonLines[0]!, /could not be downloaded/);
  assert.doesNotMatch(out + err, /^\s+at /m, 'no stack trace');
  const url = readFileSync(opened, 'utf8').trim();
  assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/\?token=/);
  assert.equal(await fetchStatus(url), 200, 'the window is served at the opened URL');
});
