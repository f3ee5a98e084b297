// Exit codes and how a failure is reported: 0 done, 1 failed, 2 usage, 3 interrupted (resumable), 4 integrity
// (checksum mismatch, upstream changed), 5 link expired (state kept: run again with a fresh link).
import { EngineError, serializeError, type SerializedError } from '../engine/errors';

export const EXIT = { ok: 0, failed: 1, usage: 2, interrupted: 3, integrity: 4, linkExpired: 5 } as const;

export function exitCodeFor(err: unknown): number {
  const code = err instanceof EngineError ? err.code : undefined;
  switch (code) {
    case 'E_USAGE':
    case 'E_BAD_URL':
    case 'E_DEST_NOT_EMPTY':
    case 'E_DEST_NOT_WRITABLE':
    case 'E_LOCKED':
    case 'E_STATE_UNREADABLE':
    // Run again with a larger --zstd-max-window: the operator's call, like any other option.
    case 'E_WINDOW_TOO_LARGE':
      return EXIT.usage;
    case 'E_CHECKSUM_MISMATCH':
    case 'E_UPSTREAM_CHANGED':
      return EXIT.integrity;
    case 'E_ABORTED':
      return EXIT.interrupted;
    case 'E_LINK_EXPIRED':
      return EXIT.linkExpired;
    default:
      return EXIT.failed;
  }
}

export function describeError(err: SerializedError): string {
  const lines = [`error ${err.code}: ${err.message}`];
  for (const c of err.causes) lines.push(`  caused by${c.code ? ` ${c.code}` : ''}: ${c.message}`);
  return lines.join('\n');
}

export function reportFailure(err: unknown, json: boolean): number {
  const serialized = serializeError(err);
  if (json) process.stdout.write(JSON.stringify({ type: 'error', ...serialized }) + '\n');
  else process.stderr.write(describeError(serialized) + '\n');
  if (serialized.code === 'E_USAGE' && !json) process.stderr.write('Run "snapshot-manager --help" for usage.\n');
  return exitCodeFor(err);
}
