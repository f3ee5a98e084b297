// URLs put into text (messages, events, logs) lose what must not leak: userinfo and the query string, which
// for a presigned URL is the signature. The host and path stay, so the operator can still tell which file.

/** `url` with userinfo removed and any query string shown as `?…`; text that is not a URL comes back as is. */
export function redactUrl(url: string): string {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return url;
  }
  const userinfo = u.username || u.password ? '…@' : '';
  return `${u.protocol}//${userinfo}${u.host}${u.pathname}${u.search ? '?…' : ''}`;
}
