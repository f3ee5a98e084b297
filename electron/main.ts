// Electron main process: the thin adapter between Electron and the plain modules that hold the logic
// (host, job manager, window options, desktop status). Nothing here is worth testing on its own; it
// is type-checked against Electron's own types.
import { app, BrowserWindow, dialog, ipcMain, net, Notification, powerMonitor, powerSaveBlocker, protocol, session, shell, type WebContents } from 'electron';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { JobManager } from './host/job-manager';
import { WorkerRunner } from './engine/runner/worker-runner';
import { DesktopStatus } from './desktop/desktop-status';
import { attachElectronTransport } from './transport/electron-transport';
import { Host } from './host/host';
import { watchOnline } from './desktop/online-watch';
import { contentTypeOf, resolveRendererFile } from './transport/static-files';
import { APP_ENTRY_URL, APP_HOST, APP_SCHEME, CONTENT_SECURITY_POLICY, isAllowedExternalUrl, isAppUrl, windowOptions } from './desktop/window-options';

const rendererDir = join(__dirname, '..', 'renderer');
const preloadPath = join(__dirname, 'preload.js');

// Must happen before `ready`: app:// behaves like https (standard, secure) for the renderer.
protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

let mainWindow: BrowserWindow | null = null;
let manager: JobManager | null = null;
let host: Host | null = null;
let keepAwakeId: number | null = null;
let quitting = false;

function version(): string {
  try {
    return (JSON.parse(readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return app.getVersion();
  }
}

/** Serves the built renderer on app://renderer/, confined to index.html and assets/, with the CSP. */
function registerAppProtocol(): void {
  protocol.handle(APP_SCHEME, async (request) => {
    const url = new URL(request.url);
    const file = url.host === APP_HOST ? resolveRendererFile(rendererDir, url.pathname) : null;
    if (!file) return new Response('Not Found', { status: 404 });
    const response = await net.fetch(pathToFileURL(file).toString());
    return new Response(response.body, {
      status: response.status,
      headers: {
        'Content-Type': contentTypeOf(file),
        'Content-Security-Policy': CONTENT_SECURITY_POLICY,
        'X-Content-Type-Options': 'nosniff',
      },
    });
  });
}

/** Deny by default: permissions, navigation away from the app, new windows, webviews. */
function lockDown(): void {
  session.defaultSession.setPermissionRequestHandler((_wc, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  app.on('web-contents-created', (_event, contents: WebContents) => {
    contents.on('will-navigate', (event, url) => {
      if (!isAppUrl(url)) event.preventDefault();
    });
    contents.on('will-redirect', (event, url) => {
      if (!isAppUrl(url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
    contents.setWindowOpenHandler(({ url }) => {
      if (isAllowedExternalUrl(url)) void shell.openExternal(url);
      return { action: 'deny' };
    });
  });
}

function createWindow(): BrowserWindow {
  const win = new BrowserWindow(windowOptions(preloadPath));
  win.once('ready-to-show', () => win.show());
  win.on('closed', () => {
    if (mainWindow === win) mainWindow = null;
  });
  void win.loadURL(APP_ENTRY_URL);
  return win;
}

function setKeepAwake(on: boolean): void {
  if (on && keepAwakeId === null) keepAwakeId = powerSaveBlocker.start('prevent-app-suspension');
  if (!on && keepAwakeId !== null) {
    powerSaveBlocker.stop(keepAwakeId);
    keepAwakeId = null;
  }
}

async function start(): Promise<void> {
  registerAppProtocol();
  lockDown();
  manager = await JobManager.open({ dataDir: join(app.getPath('userData'), 'jobs'), runner: new WorkerRunner() });
  const jobs = manager;
  host = new Host(jobs, {
    transport: 'electron',
    version: version(),
    platform: process.platform,
    destinationsFromDialogOnly: true,
    async chooseDestination(options) {
      const dialogOptions = {
        title: options.title ?? 'Choose the destination folder',
        properties: ['openDirectory', 'createDirectory', 'promptToCreate'] as Array<'openDirectory' | 'createDirectory' | 'promptToCreate'>,
        ...(options.defaultPath ? { defaultPath: options.defaultPath } : {}),
      };
      const result = mainWindow ? await dialog.showOpenDialog(mainWindow, dialogOptions) : await dialog.showOpenDialog(dialogOptions);
      return result.canceled ? null : (result.filePaths[0] ?? null);
    },
    revealInFolder(path) {
      shell.showItemInFolder(path);
    },
  });
  attachElectronTransport(host, ipcMain, { target: () => mainWindow?.webContents ?? null });
  // What ran when the app stopped (or crashed) continues; a job the operator paused stays paused.
  jobs.startRestored();

  const status = new DesktopStatus(jobs, {
    setProgress: (fraction) => mainWindow?.setProgressBar(fraction === null ? -1 : fraction),
    setKeepAwake,
    notify: (title, body) => {
      if (Notification.isSupported()) new Notification({ title, body }).show();
    },
  });
  host.subscribe((events) => status.onEvents(events));

  powerMonitor.on('suspend', () => jobs.pauseAll('suspend'));
  powerMonitor.on('resume', () => jobs.resumeAll('suspend'));
  watchOnline(
    () => net.isOnline(),
    (online) => (online ? jobs.resumeAll('offline') : jobs.pauseAll('offline')),
  );

  mainWindow = createWindow();
}

if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (!mainWindow) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('activate', () => {
    if (app.isReady() && !mainWindow && manager) mainWindow = createWindow();
  });
  // Pause the jobs and write their list before leaving: every committed byte stays resumable.
  app.on('before-quit', (event) => {
    if (quitting || !manager) return;
    event.preventDefault();
    quitting = true;
    setKeepAwake(false);
    host?.close();
    void manager.close().finally(() => app.quit());
  });
  app.whenReady().then(start, (err: unknown) => {
    dialog.showErrorBox('Snapshot Manager could not start', err instanceof Error ? err.message : String(err));
    app.exit(1);
  });
}
