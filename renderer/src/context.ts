// What every component reaches through React context: the Api, the store, and what the host can do.
import { createContext, useCallback, useContext } from 'react';
import { useStore } from 'zustand';
import { asSerializedError, type Api, type HostInfo } from '../../shared/contract';
import type { AppActions, AppState, AppStore } from './store/store';

export interface AppContextValue {
  api: Api;
  store: AppStore;
  transport: 'electron' | 'websocket';
  info: HostInfo | null;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error('AppContext is missing');
  return value;
}

export function useAppState<T>(selector: (state: AppState & AppActions) => T): T {
  return useStore(useApp().store, selector);
}

/** Runs a call the operator asked for; a failure becomes the notice at the top of the window. */
export function useAction(): (title: string, call: () => Promise<unknown>) => Promise<boolean> {
  const { store } = useApp();
  return useCallback(
    async (title, call) => {
      try {
        await call();
        return true;
      } catch (err) {
        store.getState().setNotice({ title, error: asSerializedError(err) });
        return false;
      }
    },
    [store],
  );
}
