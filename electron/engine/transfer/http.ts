// The job's HTTP dispatcher and the mapping of transport failures to engine errors.
import type { Dispatcher } from 'undici';
// undici's index loads fetch, WebSocket, caches, mocks and proxies: ~100 ms before a job's first request, 2.5x
// what these files take. They are what the index itself re-exports (undici has no "exports" map); a test pins
// them to the index's own classes.
import Agent = require('undici/lib/dispatcher/agent');
import undiciErrors = require('undici/lib/core/errors');
import request = require('undici/lib/api/api-request');
import { EngineError, NetworkError } from '../errors';

export interface HttpOptions {
  /** Connections per origin: the number of ranges in flight. */
  connections: number;
  connectTimeoutMs: number;
  /** No byte for this long (headers or body) tears the request down. Never a total timeout. */
  idleTimeoutMs: number;
}

/** undici's Agent with the `request` its index gives every dispatcher (here on our subclass, not undici's prototype). */
class EngineAgent extends Agent {
  override request = request as Dispatcher['request'];
}

/** An undici Agent: one keep-alive Pool per origin (a redirect may move us to another host). */
export function createDispatcher(options: HttpOptions): Dispatcher {
  return new EngineAgent({
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
  const tls = tlsFailure(err);
  if (tls) {
    return new EngineError(
      'E_TLS',
      `The TLS connection to ${host} was refused: ${tls.reason} (${tls.code}). Retrying cannot help. Check the URL's host name and the machine's clock; ` +
        'a server with a private certificate authority needs it trusted (NODE_EXTRA_CA_CERTS=<file.pem>).',
      { cause: err, retryable: false, details: { tlsCode: tls.code } },
    );
  }
  if (e?.code === 'UND_ERR_HEADERS_OVERFLOW' || (err as { cause?: { code?: string } })?.cause?.code === 'UND_ERR_HEADERS_OVERFLOW') {
    return new EngineError(
      'E_HEADERS_TOO_LARGE',
      `${host} sent response headers larger than the client accepts (16 KiB); retrying cannot help. The server or a proxy in between is misconfigured (often a cookie or header loop); try another mirror or report it to the server's operator.`,
      { cause: err, retryable: false },
    );
  }
  const connectCodes = ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ENETDOWN', 'UND_ERR_CONNECT_TIMEOUT'];
  if (e?.code && connectCodes.includes(e.code)) {
    return new NetworkError('E_CONNECT', `Cannot reach ${host} (${e.code}). Check the network; the job resumes when the server is reachable.`, {
      cause: err,
    });
  }
  return new NetworkError(
    'E_SHORT_BODY',
    `The connection to ${host} broke mid-transfer (${e?.code ?? e?.message ?? 'unknown'}); the range will resume from its last committed byte.`,
    {
      cause: err,
      details: { committedBytes },
    },
  );
}

/** Certificate verification and handshake failures: the same answer on every retry. */
const TLS_REASONS: Record<string, string> = {
  DEPTH_ZERO_SELF_SIGNED_CERT: 'the server presents a self-signed certificate',
  SELF_SIGNED_CERT_IN_CHAIN: 'the certificate chain ends in a self-signed certificate that is not trusted',
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: 'the certificate cannot be verified (no trusted issuer)',
  UNABLE_TO_GET_ISSUER_CERT: 'the certificate issuer is unknown',
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: 'the certificate issuer is not trusted on this machine',
  CERT_HAS_EXPIRED: 'the certificate has expired',
  CERT_NOT_YET_VALID: 'the certificate is not valid yet',
  CERT_REVOKED: 'the certificate was revoked',
  CERT_UNTRUSTED: 'the certificate is not trusted',
  CERT_REJECTED: 'the certificate was rejected',
  ERR_TLS_CERT_ALTNAME_INVALID: 'the certificate is for another host name',
  HOSTNAME_MISMATCH: 'the certificate is for another host name',
};

function tlsFailure(err: unknown): { code: string; reason: string } | null {
  for (let e = err as { code?: unknown; cause?: unknown } | undefined, depth = 0; e && depth < 4; e = e.cause as typeof e, depth++) {
    const code = typeof e.code === 'string' ? e.code : '';
    if (TLS_REASONS[code]) return { code, reason: TLS_REASONS[code]! };
    if (code.startsWith('ERR_SSL_')) return { code, reason: 'the TLS handshake failed' };
  }
  return null;
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
