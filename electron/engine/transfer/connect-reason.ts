// Why a probe failed, in a few words an operator can act on ("connection refused", "host not found"), from
// the system code under an engine error (see http.ts) or the error's own code.
import type { EngineError } from '../errors';

const SYSTEM_REASONS: Record<string, string> = {
  ECONNREFUSED: 'connection refused',
  ENOTFOUND: 'host name not found',
  EAI_AGAIN: 'host name lookup failed',
  EHOSTUNREACH: 'host unreachable',
  ENETUNREACH: 'network unreachable',
  ENETDOWN: 'network down',
  ECONNRESET: 'connection reset',
  UND_ERR_CONNECT_TIMEOUT: 'connection timed out',
  ETIMEDOUT: 'connection timed out',
};

export function systemCodeOf(err: unknown): string | null {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 5; e = e.cause as typeof e, depth++) {
    if (typeof e.code === 'string' && SYSTEM_REASONS[e.code]) return e.code;
  }
  return null;
}

export function connectReason(e: EngineError): string {
  const sys = systemCodeOf(e);
  if (sys) return SYSTEM_REASONS[sys]!;
  const status = (e as { status?: unknown }).status;
  if (typeof status === 'number') return `HTTP ${status}`;
  if (e.code === 'E_IDLE_TIMEOUT') return 'no answer';
  return e.code;
}
