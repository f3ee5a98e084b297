// Entry point: connect to the host, start syncing the store, render.
import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { connectBridge } from './bridge';
import { AppContext, type AppContextValue } from './context';
import { App } from './components/App';
import { createAppStore } from './store/store';
import { startSync } from './sync';
import './styles.css';

const bridge = connectBridge();
const store = createAppStore();
startSync(bridge.api, store, bridge.onStatus);

const root = createRoot(document.getElementById('root')!);
function render(info: AppContextValue['info']) {
  root.render(
    <StrictMode>
      <AppContext.Provider value={{ api: bridge.api, store, transport: bridge.transport, info }}>
        <App />
      </AppContext.Provider>
    </StrictMode>,
  );
}
render(null);
// What the host can do (native dialog, reveal) arrives once connected; ask again after a reconnect.
bridge.onStatus((status) => {
  if (status === 'open') bridge.api.getInfo().then(render, () => undefined);
});
