#!/usr/bin/env node
// `snapshot-manager get|status|serve`: the engine without the window. Exit codes: 0 done, 1 failed, 2 usage,
// 3 interrupted (resumable), 4 integrity (checksum mismatch, upstream changed), 5 link expired (state kept:
// run again with a fresh link).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { USAGE } from './cli/usage';
import { EXIT } from './cli/exit-codes';
import { runGet } from './cli/run-get';

export { EXIT, exitCodeFor } from './cli/exit-codes';
export { parseGetArgs } from './cli/get-args';

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'get':
      return runGet(rest);
    case 'status':
      return (require('./cli/run-status') as typeof import('./cli/run-status')).runStatus(rest);
    case 'serve': {
      const serve = (await import('./serve.js')) as { runServe: (argv: string[]) => Promise<number> };
      return serve.runServe(rest);
    }
    case '--version':
    case '-V': {
      const pkg = JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string };
      process.stdout.write(`${pkg.version}\n`);
      return EXIT.ok;
    }
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE + '\n');
      return command === undefined ? EXIT.usage : EXIT.ok;
    default:
      process.stderr.write(`Unknown command "${command}".\n${USAGE}\n`);
      return EXIT.usage;
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`internal error: ${(err as Error).stack ?? String(err)}\n`);
      process.exitCode = EXIT.failed;
    },
  );
}
