// Reads a manifest from a file or a URL (one bounded GET, redirects followed as for a download, the
// operator's headers sent to its origin only) and parses it; relative part URLs resolve against the URL.
import { promises as fsp } from 'node:fs';
import { resolve } from 'node:path';
import type { Dispatcher } from 'undici';
import { EngineError, HttpStatusError, UsageError } from '../errors';
import { discardBody, mapTransportError } from '../transfer/http';
import { requestFollowingRedirects } from '../transfer/probe';
import type { HeaderSet } from '../transfer/origin-headers';
import { redactUrl } from '../transfer/redact';
import { parseManifest, type ManifestPart } from './manifest';

/** Larger than any list of parts; a bigger answer is not a manifest. */
export const MANIFEST_MAX_BYTES = 4 * 1024 * 1024;

export async function loadManifest(
  spec: string,
  options: { dispatcher?: Dispatcher; headers?: HeaderSet | null; signal?: AbortSignal; timeoutMs?: number } = {},
): Promise<{ parts: ManifestPart[]; source: string }> {
  if (/^https?:\/\//i.test(spec)) {
    if (!options.dispatcher) throw new EngineError('E_INTERNAL', 'a manifest URL needs a dispatcher');
    const source = redactUrl(spec);
    const text = await fetchText(spec, source, options as { dispatcher: Dispatcher });
    return { parts: parseManifest(text, { base: spec, source }), source };
  }
  const path = resolve(spec);
  const st = await fsp.stat(path).catch((err: NodeJS.ErrnoException) => {
    throw new UsageError(`The manifest ${path} cannot be read (${err.code ?? err.message}).`, { cause: err });
  });
  if (!st.isFile()) throw new UsageError(`The manifest ${path} is not a file.`);
  if (st.size > MANIFEST_MAX_BYTES) throw new UsageError(`The manifest ${path} is ${st.size} bytes; a list of parts is far smaller (at most ${MANIFEST_MAX_BYTES}).`);
  return { parts: parseManifest(await fsp.readFile(path, 'utf8'), { source: path }), source: path };
}

async function fetchText(url: string, source: string, o: { dispatcher: Dispatcher; headers?: HeaderSet | null; signal?: AbortSignal; timeoutMs?: number }): Promise<string> {
  const timeout = AbortSignal.timeout(o.timeoutMs ?? 30_000);
  const signal = o.signal ? AbortSignal.any([o.signal, timeout]) : timeout;
  const { response, finalUrl } = await requestFollowingRedirects(url, { method: 'GET', headers: {} }, { dispatcher: o.dispatcher, signal, headers: o.headers ?? null });
  if (response.statusCode !== 200) {
    discardBody(response.body);
    throw new HttpStatusError(response.statusCode, `The manifest ${source} answered HTTP ${response.statusCode}.`);
  }
  const pieces: Buffer[] = [];
  let got = 0;
  try {
    for await (const piece of response.body as AsyncIterable<Buffer>) {
      got += piece.length;
      if (got > MANIFEST_MAX_BYTES) {
        discardBody(response.body);
        throw new UsageError(`The manifest ${source} is larger than ${MANIFEST_MAX_BYTES} bytes; that is not a list of parts.`);
      }
      pieces.push(piece);
    }
  } catch (err) {
    if (err instanceof EngineError) throw err;
    throw mapTransportError(err, finalUrl);
  }
  return Buffer.concat(pieces).toString('utf8');
}
