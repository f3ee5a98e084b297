#!/usr/bin/env node
// What `npm test` needs from the operating system, checked before anything is built: a test that cannot run
// because a tool is missing is a failure, never a quiet skip. Missing Debian packages are installed when this
// process may (root, or `sudo -n`); otherwise it stops at once with the one command to run.
// Opting out is by name only: SKIP_BROWSER=1 (the Chromium tests) or SKIP_NGINX=1 (the nginx tests); the
// test summary then lists what was skipped and why.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, readdirSync } from 'node:fs';

/** Each tool: the commands that prove it, the Debian package, and the opt-out that releases it. */
export const TOOLS = [
  { tool: 'chromium', paths: ['/usr/bin/chromium'], pkg: 'chromium', optOut: 'SKIP_BROWSER', for: 'the window tests in a real browser' },
  { tool: 'nginx', paths: ['/usr/sbin/nginx'], pkg: 'nginx-light', optOut: 'SKIP_NGINX', for: 'real HTTP ranges and throttling' },
  { tool: 'pigz', pkg: 'pigz', for: 'parallel-gzip archives' },
  { tool: 'lz4', pkg: 'lz4', for: '.tar.lz4 archives' },
  { tool: 'zstd', pkg: 'zstd', for: '.tar.zst archives' },
  { tool: 'pzstd', pkg: 'zstd', for: 'multi-frame .tar.zst archives' },
  { tool: 'bsdtar', pkg: 'libarchive-tools', for: 'reference archives from libarchive' },
  { tool: 'tar', pkg: 'tar', for: 'GNU tar, the reference extraction' },
  { tool: 'gzip', pkg: 'gzip', for: '.tar.gz archives' },
  { tool: 'curl', pkg: 'curl', for: 'pipelines compared in tests' },
  { tool: 'openssl', pkg: 'openssl', for: 'a self-signed certificate for TLS failure tests' },
  { tool: 'python3', pkg: 'python3', for: "archives written by Python's tarfile" },
];

function executable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

// TEST_PREREQS_DIRS replaces where tools are looked for (the test of this script uses it to see a bare machine).
const searchDirs = process.env.TEST_PREREQS_DIRS?.split(':') ?? (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/sbin', '/bin', '/sbin']);

function present(t) {
  const candidates = process.env.TEST_PREREQS_DIRS === undefined ? (t.paths ?? []) : [];
  if (candidates.some(executable)) return true;
  return searchDirs.some((d) => d && executable(`${d}/${t.tool}`));
}

function optedOut(t) {
  return t.optOut !== undefined && /^(1|true|yes)$/i.test(process.env[t.optOut] ?? '');
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return { ok: r.status === 0, stderr: String(r.stderr ?? '').trim() };
}

function privilege() {
  if (process.getuid?.() === 0) return [];
  if (spawnSync('sudo', ['-n', 'true'], { stdio: 'ignore' }).status === 0) return ['sudo', '-n'];
  return null;
}

function aptListsPresent() {
  try {
    return readdirSync('/var/lib/apt/lists').some((f) => f.endsWith('_Packages'));
  } catch {
    return false;
  }
}

function install(prefix, pkgs) {
  const [cmd, ...pre] = prefix.length ? prefix : ['apt-get'];
  const args = (prefix.length ? [...pre, 'apt-get'] : []).concat(['install', '-y', '-qq', '--no-install-recommends', ...pkgs]);
  const update = (prefix.length ? [...pre, 'apt-get'] : []).concat(['update', '-qq']);
  // Package lists are fetched only when missing or when an install from the present ones fails.
  if (aptListsPresent()) {
    const first = run(cmd, args);
    if (first.ok) return first;
  }
  const up = run(cmd, update);
  if (!up.ok) return up;
  return run(cmd, args);
}

const missing = TOOLS.filter((t) => !optedOut(t) && !present(t));
const skipped = TOOLS.filter(optedOut);
for (const t of skipped) console.log(`test prerequisites: ${t.tool} not required (${t.optOut} is set): ${t.for} are skipped`);

if (missing.length > 0) {
  const pkgs = [...new Set(missing.map((t) => t.pkg))];
  const command = `sudo apt-get install -y --no-install-recommends ${pkgs.join(' ')}`;
  const isDebian = executable('/usr/bin/apt-get');
  const prefix = isDebian ? privilege() : null;
  if (prefix === null) {
    console.error(`npm test needs ${missing.map((t) => t.tool).join(', ')} (${missing.map((t) => t.for).join('; ')}).`);
    console.error(isDebian ? `Install them first:\n  ${command}` : `Install the equivalent of the Debian packages ${pkgs.join(', ')} with this system's package manager.`);
    const outs = [...new Set(missing.filter((t) => t.optOut).map((t) => `${t.optOut}=1`))];
    if (outs.length) console.error(`(or opt out of those tests by name: ${outs.join(' ')} npm test)`);
    process.exit(1);
  }
  console.log(`test prerequisites: installing ${pkgs.join(' ')} (for ${missing.map((t) => t.tool).join(', ')})`);
  const r = install(prefix, pkgs);
  const still = missing.filter((t) => !present(t));
  if (!r.ok || still.length > 0) {
    console.error(`Could not install ${pkgs.join(' ')}${r.stderr ? `: ${r.stderr.split('\n').slice(-3).join(' ')}` : ''}.`);
    console.error(`Install them, then run npm test again:\n  ${command}`);
    process.exit(1);
  }
}
