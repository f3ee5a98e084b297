#!/usr/bin/env node
// `npm start`: the desktop app. Electron's binary is fetched on first start; where it cannot be (offline, a
// proxy, a mirror down) the reason is said in one line and the same window opens in the default browser through
// `snapshot-manager serve`, so the operator can still add and watch snapshots. BROWSER=<command> picks the
// program that opens the URL; with none available the URL is printed to open by hand.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createInterface } from 'node:readline';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const INSTALL_TIMEOUT_MS = Number(process.env.ELECTRON_INSTALL_TIMEOUT_MS ?? 180_000);

/** The Electron executable, fetching it when missing; or the reason it cannot be had. */
function electronBinary() {
  let pkgDir;
  try {
    pkgDir = dirname(require.resolve('electron/package.json', { paths: [root] }));
  } catch {
    return { reason: 'the electron package is not installed (run npm install)' };
  }
  const installed = () => {
    const pathFile = join(pkgDir, 'path.txt');
    if (!existsSync(pathFile)) return null;
    const bin = join(pkgDir, 'dist', readFileSync(pathFile, 'utf8'));
    return existsSync(bin) ? bin : null;
  };
  const ready = installed();
  if (ready) return { bin: ready };
  console.log('Fetching the Electron binary (first start)...');
  const env = { ...process.env };
  delete env.ELECTRON_SKIP_BINARY_DOWNLOAD; // set for CI installs; a start wants the binary
  const r = spawnSync(process.execPath, [join(pkgDir, 'install.js')], { env, encoding: 'utf8', timeout: INSTALL_TIMEOUT_MS });
  const bin = installed();
  if (r.status === 0 && bin) return { bin };
  return { reason: downloadFailure(r) };
}

/** One line from install.js's output: its last error message, not its stack. */
function downloadFailure(r) {
  if (r.error?.code === 'ETIMEDOUT') return `its download did not finish within ${Math.round(INSTALL_TIMEOUT_MS / 1000)} s`;
  const lines = String(r.stderr ?? '')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('at '));
  const cause = lines.find((l) => /^(\w*Error|RequestError|HTTPError)\b/.test(l)) ?? lines[lines.length - 1] ?? `install exited with ${r.status}`;
  return `its binary could not be downloaded (${cause.replace(/^\w*Error:\s*/, '')})`;
}

function opener(url) {
  if (process.env.BROWSER) return [process.env.BROWSER, [url]];
  if (process.platform === 'darwin') return ['open', [url]];
  if (process.platform === 'win32') return ['cmd', ['/c', 'start', '', url]];
  if (!process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) return null;
  return ['xdg-open', [url]];
}

function openInBrowser(url) {
  const how = opener(url);
  if (!how) return Promise.resolve(false);
  return new Promise((resolve) => {
    const child = spawn(how[0], how[1], { stdio: 'ignore', detached: true });
    child.once('error', () => resolve(false));
    child.once('exit', (code) => resolve(code === 0));
    child.unref();
  });
}

function serveInBrowser(reason) {
  console.log(`Electron cannot start here: ${reason}. Opening the same window in your browser instead (snapshot-manager serve).`);
  const serve = spawn(process.execPath, [join(root, 'dist/electron/cli.js'), 'serve'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = createInterface({ input: serve.stdout });
  let first = true;
  lines.on('line', async (line) => {
    if (!first) return void console.log(line);
    first = false;
    const opened = await openInBrowser(line);
    console.log(opened ? `Opened ${line}` : `Open this address in a browser: ${line}`);
  });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => serve.kill(sig));
  serve.on('exit', (code, signal) => process.exit(code ?? (signal ? 0 : 1)));
}

const found = electronBinary();
if (found.bin) {
  const app = spawn(found.bin, [root], { stdio: 'inherit' });
  for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => app.kill(sig));
  app.on('exit', (code) => process.exit(code ?? 0));
} else {
  serveInBrowser(found.reason);
}
