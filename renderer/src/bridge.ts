// Picks the transport: the Api that preload exposes in the desktop app, or a WebSocket to `serve`
// (the page's own origin and token) in a browser. Everything above this file sees only the Api.
import { API_GLOBAL, type Api } from '../../shared/contract';
import { authCheckUrlFromPage, createWebSocketApi, webSocketUrlFromPage, type ConnectionStatus } from '../../shared/ws-client';

export interface Bridge {
  api: Api;
  transport: 'electron' | 'websocket';
  onStatus(listener: (status: ConnectionStatus) => void): void;
}

export function connectBridge(): Bridge {
  const exposed = (window as unknown as Record<string, unknown>)[API_GLOBAL] as Api | undefined;
  const listeners = new Set<(status: ConnectionStatus) => void>();
  if (exposed) {
    return {
      api: exposed,
      transport: 'electron',
      onStatus(listener) {
        listeners.add(listener);
        listener('open');
      },
    };
  }
  let last: ConnectionStatus = 'connecting';
  const ws = createWebSocketApi(webSocketUrlFromPage(window.location.href), {
    // 401: the token is refused; anything else (the host is down, a proxy error): try the socket again.
    checkAuth: () =>
      fetch(authCheckUrlFromPage(window.location.href), { cache: 'no-store' }).then(
        (res) => (res.status === 401 ? false : res.ok ? true : null),
        () => null,
      ),
    onStatus(status) {
      last = status;
      for (const l of listeners) l(status);
    },
  });
  return {
    api: ws.api,
    transport: 'websocket',
    onStatus(listener) {
      listeners.add(listener);
      listener(last);
    },
  };
}
