// Checks on the destination before a byte is fetched: it must be writable, and a non-empty folder that is not
// this job's own is refused (extracting a snapshot over unrelated data is how operators lose a node's state).
import { constants, promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import { EngineError } from '../errors';

export interface PreflightInput {
  dest: string | null;
  output: string | null;
  /** The state directory names this target: a re-run of the same job may find it non-empty. */
  ownedByJob: boolean;
  force: boolean;
}

export async function preflightDestination(input: PreflightInput): Promise<void> {
  if (input.dest) {
    const dest = input.dest;
    const stat = await fsp.stat(dest).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') return null;
      throw new EngineError('E_DEST_NOT_WRITABLE', `The destination ${dest} cannot be used (${err.code}): part of its path is not a folder or is not accessible.`, {
        cause: err,
        details: { path: dest },
      });
    });
    if (stat && !stat.isDirectory()) {
      throw new EngineError('E_DEST_NOT_WRITABLE', `The destination ${dest} exists and is not a folder; choose a folder.`, { details: { path: dest } });
    }
    if (!stat) {
      await fsp.mkdir(dest, { recursive: true }).catch((err) => {
        throw new EngineError('E_DEST_NOT_WRITABLE', `Cannot create the destination folder ${dest} (${(err as NodeJS.ErrnoException).code}); check the path and permissions.`, {
          cause: err,
          details: { path: dest },
        });
      });
    } else if (!input.ownedByJob && !input.force) {
      const entries = await fsp.readdir(dest);
      if (entries.length > 0) {
        throw new EngineError(
          'E_DEST_NOT_EMPTY',
          `The destination ${dest} is not empty (${entries.length} entries) and was not started by this job (a job that completed there has removed its state: nothing of it is left to resume). Choose an empty folder, or pass --force to extract over it.`,
          { details: { path: dest, entries: entries.length } },
        );
      }
    }
    await assertWritable(dest);
  } else if (input.output) {
    const dir = dirname(input.output);
    await fsp.mkdir(dir, { recursive: true }).catch(() => undefined);
    await assertWritable(dir);
    const stat = await fsp.stat(input.output).catch(() => null);
    if (stat && !stat.isFile()) {
      throw new EngineError('E_DEST_NOT_WRITABLE', `The output ${input.output} exists and is not a regular file.`, { details: { path: input.output } });
    }
    if (stat && stat.size > 0 && !input.ownedByJob && !input.force) {
      throw new EngineError(
        'E_DEST_NOT_EMPTY',
        `The output file ${input.output} already exists and was not started by this job. Remove it, choose another name, or pass --force.`,
        {
          details: { path: input.output },
        },
      );
    }
  }
}

async function assertWritable(dir: string): Promise<void> {
  try {
    await fsp.access(dir, constants.W_OK | constants.X_OK);
  } catch (err) {
    throw new EngineError('E_DEST_NOT_WRITABLE', `The folder ${dir} is not writable by this user; choose another destination or fix its permissions.`, {
      cause: err,
      details: { path: dir },
    });
  }
}
