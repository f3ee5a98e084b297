// The job's HTTP dispatcher and the mapping of transport failures to engine errors.
import { Agent, errors as undiciErrors, type Dispatcher } from 'undici';
import { EngineError, NetworkError } from './errors';

export interface HttpOptions {
  /** Connections per origin: the number of ranges in flight. */
  connections: number;
  connectTimeoutMs: number;
  /** No byte for this long (headers or body) tears the request down. Never a total timeout. */
  idleTimeoutMs: number;
}

/** An undici Agent: one keep-alive Pool per origin (a redirect may move us to another host). */
export function createDispatcher(options: HttpOptions): Dispatcher {
  return new Agent({
    connections: options.connections,
    pipelining: 1,
    keepAliveTimeout: 10_000,
    connect: { timeout: options.connectTimeoutMs },
    headersTimeout: options.idleTimeoutMs,
    bodyTimeout: options.idleTimeoutMs,
  });
}

export const USER_AGENT = 'snapshot-manager/0.1 (+ranged, resumable)';

/** Classifies what undici or the socket threw into a coded, retryable engine error. */
export function mapTransportError(err: unknown, url: string, committedBytes?: number): EngineError {
  if (err instanceof EngineError) return err;
  const e = err as { code?: string; name?: string; message?: string };
  const host = safeHost(url);
  if (err instanceof undiciErrors.BodyTimeoutError || err instanceof undiciErrors.HeadersTimeoutError) {
    return new NetworkError('E_IDLE_TIMEOUT', `No data from ${host} within the idle timeout; the range will resume from its last committed byte.`, {
      cause: err,
      details: { committedBytes },
    });
  }
  const connectCodes = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'UND_ERR_CONNECT_TIMEOUT'];
  if (e?.code && connectCodes.includes(e.code)) {
    return new NetworkError('E_CONNECT', `Cannot reach ${host} (${e.code}). Check the network; the job resumes when the server is reachable.`, {
      cause: err,
    });
  }
  return new NetworkError('E_SHORT_BODY', `The connection to ${host} broke mid-transfer (${e?.code ?? e?.message ?? 'unknown'}); the range will resume from its last committed byte.`, {
    cause: err,
    details: { committedBytes },
  });
}

export function safeHost(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

export function header(headers: Record<string, string | string[] | undefined>, name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

/** A strong ETag, or null: weak validators cannot be used with If-Range (RFC 9110 §13.1.5). */
export function strongEtag(value: string | undefined): string | null {
  if (!value) return null;
  const v = value.trim();
  return v.startsWith('W/') ? null : v;
}

/** Drops a response body we will not read; undici reports the abort as an error that must not go unhandled. */
export function discardBody(body: NodeJS.ReadableStream & { destroy(err?: Error): void }): void {
  body.on('error', () => undefined);
  body.destroy();
}
