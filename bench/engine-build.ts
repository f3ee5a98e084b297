// The engine build a run measures, fixed for the whole run: the tree is shared with people rebuilding
// `dist/` while a benchmark runs, so the CLI is copied (or built from a commit) into the work dir first.
import { execSync } from 'node:child_process';
import { existsSync, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { quote, sh } from './shell';

export interface EngineBuild {
  cli: string;
  /** What was measured, e.g. "abc1234 (committed)" or "dist/ of abc1234 plus uncommitted engine changes". */
  describe: string;
}

const REPO = join(__dirname, '..', '..');

function git(args: string): string {
  return execSync(`git ${args}`, { cwd: REPO, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
}

/**
 * `dist`: a copy of the current dist/electron and dist/shared. A commit-ish (e.g. `HEAD`): that commit's
 * electron/ and shared/ compiled with the repository's TypeScript. Dependencies resolve through a link to the
 * repository's node_modules.
 */
export async function prepareEngine(workDir: string, which: string, log: (msg: string) => void): Promise<EngineBuild> {
  const head = git('rev-parse --short HEAD');
  if (which === 'dist') {
    const dirty = git('status --porcelain -- electron shared') !== '';
    const dir = join(workDir, 'engine-dist');
    await fsp.rm(dir, { recursive: true, force: true });
    await fsp.mkdir(join(dir, 'dist'), { recursive: true });
    await fsp.cp(join(REPO, 'dist', 'electron'), join(dir, 'dist', 'electron'), { recursive: true });
    await fsp.cp(join(REPO, 'dist', 'shared'), join(dir, 'dist', 'shared'), { recursive: true });
    await fsp.symlink(join(REPO, 'node_modules'), join(dir, 'node_modules'));
    return { cli: join(dir, 'dist', 'electron', 'cli.js'), describe: `dist/ built from ${head}${dirty ? ' plus uncommitted engine changes' : ''}` };
  }
  const sha = git(`rev-parse --short ${quote(which)}`);
  const dir = join(workDir, `engine-${sha}`);
  const cli = join(dir, 'dist', 'electron', 'cli.js');
  if (!existsSync(cli)) {
    log(`building the engine at ${sha}`);
    await fsp.rm(dir, { recursive: true, force: true });
    await fsp.mkdir(dir, { recursive: true });
    await sh(`git -C ${quote(REPO)} archive ${quote(sha)} electron shared tsconfig.json | tar -x -C ${quote(dir)}`);
    await fsp.symlink(join(REPO, 'node_modules'), join(dir, 'node_modules'));
    const config = { extends: './tsconfig.json', include: ['electron/**/*.ts', 'shared/**/*.ts'], exclude: ['electron/main.ts', 'electron/preload.ts'] };
    await fsp.writeFile(join(dir, 'tsconfig.bench.json'), JSON.stringify(config));
    // Type errors in parts the CLI does not use must not stop the build: tsc still emits.
    await sh(`node ${quote(join(REPO, 'node_modules', 'typescript', 'bin', 'tsc'))} -p ${quote(join(dir, 'tsconfig.bench.json'))} || true`);
    if (!existsSync(cli)) throw new Error(`the engine at ${sha} did not build`);
  }
  return { cli, describe: `${sha} (committed tree, built for this run)` };
}
