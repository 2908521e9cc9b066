// Browser entry point: global error handlers, breadcrumbs, and delivery by fetch, sendBeacon and localStorage.
import { Client, serialize, VERSION } from './client';
import { addBreadcrumb, captureException, getClient, setClient } from './core';
import { envelopeUrl, parseDsn } from './dsn';
import { parseRetryAfter } from './transport';
import type { FaultlineEvent, Level, Options } from './types';

export * from './core';

const STORE = 'faultline.queue';
const MAX_STORED = 30;
let installed = false;
let url = '';
// Kept before any instrumentation so our own requests neither loop nor make breadcrumbs.
const nativeFetch = typeof fetch === 'function' ? fetch.bind(globalThis) : undefined;

/** Starts the SDK. Without a valid `dsn` (or a custom `sender`) it stays inactive. */
export function init(options: Options): Client | undefined {
  const dsn = options.dsn ? parseDsn(options.dsn) : undefined;
  if (!dsn && !options.sender) return undefined;
  url = dsn ? envelopeUrl(dsn) : '';
  const client = new Client(options, 'javascript', url ? send : undefined, enrich, store);
  setClient(client);
  // Events kept while offline (or left when a page closed) go out with this page.
  for (const event of take()) client.transport?.add(event);
  if (!installed && typeof window !== 'undefined') {
    installed = true;
    if (options.autoCapture !== false) handlers();
    if (options.breadcrumbs !== false) breadcrumbs();
  }
  return client;
}

/** Sentry's envelope: a header line, then an item header and a payload per event. */
function envelope(events: FaultlineEvent[]): string {
  let body = JSON.stringify({ sent_at: new Date().toISOString(), sdk: { name: 'faultline.javascript', version: VERSION } });
  for (const e of events) body += `\n{"type":"event"}\n${serialize(e)}`;
  return body;
}

// A string body is sent as text/plain and the key is in the query: a "simple" request, no CORS preflight.
async function send(events: FaultlineEvent[]): Promise<{ status: number; retryAfter?: number }> {
  if (!nativeFetch) throw new Error('no fetch');
  const body = envelope(events);
  // keepalive lets a request outlive the page, but browsers cap such bodies at 64 KB.
  const res = await nativeFetch(url, { method: 'POST', body, keepalive: body.length < 60000, credentials: 'omit' });
  return { status: res.status, retryAfter: parseRetryAfter(res.headers.get('Retry-After')) };
}

function enrich(event: FaultlineEvent): void {
  event.request = { url: location.href, headers: { 'User-Agent': navigator.userAgent, ...(document.referrer ? { Referer: document.referrer } : {}) }, ...event.request };
}

/** Keeps undeliverable events in localStorage, newest MAX_STORED only. */
function store(events: FaultlineEvent[]): void {
  try {
    localStorage.setItem(STORE, JSON.stringify(take().concat(events).slice(-MAX_STORED)));
  } catch {}
}

function take(): FaultlineEvent[] {
  try {
    const raw = localStorage.getItem(STORE);
    localStorage.removeItem(STORE);
    const list: unknown = raw ? JSON.parse(raw) : [];
    return Array.isArray(list) ? (list as FaultlineEvent[]) : [];
  } catch {
    return [];
  }
}

/** The page is going away: hand what is queued to sendBeacon, which survives unload. */
function beacon(): void {
  const transport = getClient()?.transport;
  const events = transport?.drain() ?? [];
  if (!events.length) return;
  let ok = false;
  try {
    ok = !!url && Date.now() >= (transport?.pausedUntil ?? 0) && navigator.sendBeacon(url, envelope(events));
  } catch {}
  if (!ok) store(events);
}

function handlers(): void {
  // addEventListener leaves any window.onerror the app installed (before or after us) working.
  addEventListener('error', (e) => {
    if (!(e instanceof ErrorEvent)) return; // resource load failures, not script errors
    const error: unknown = e.error ?? Object.assign(new Error(e.message || 'Script error'), { stack: `at ? (${e.filename}:${e.lineno}:${e.colno})` });
    captureException(error, { mechanism: 'onerror', handled: false });
  });
  addEventListener('unhandledrejection', (e) => {
    captureException(e.reason, { mechanism: 'onunhandledrejection', handled: false });
  });
  addEventListener('visibilitychange', () => {
    if (document.visibilityState === 'hidden') beacon();
  });
  addEventListener('pagehide', beacon);
  addEventListener('online', () => {
    const c = getClient();
    for (const event of take()) c?.transport?.add(event);
  });
}

function breadcrumbs(): void {
  const levels: Record<string, Level> = { debug: 'debug', info: 'info', log: 'info', warn: 'warning', error: 'error' };
  for (const name of Object.keys(levels)) {
    const c = console as unknown as Record<string, (...args: unknown[]) => void>;
    const original = c[name];
    if (typeof original !== 'function') continue;
    c[name] = function (...args: unknown[]) {
      try {
        addBreadcrumb({ category: 'console', level: levels[name], message: args.map(String).join(' ').slice(0, 500) });
      } catch {} // String() throws for some objects; the app's console call must still happen
      original.apply(console, args);
    };
  }

  const http = (method: string, target: string, status?: number): void => {
    if (url && target.startsWith(url.split('?')[0] ?? url)) return; // our own requests
    addBreadcrumb({ type: 'http', category: 'fetch', data: { method, url: target, status_code: status } });
  };
  // Wrap whatever fetch is installed now (it may be another library's wrapper), not the one we send with.
  const appFetch = typeof fetch === 'function' ? fetch : undefined;
  if (appFetch) {
    window.fetch = function (this: unknown, input: RequestInfo | URL, init?: RequestInit) {
      const target = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
      const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
      return appFetch.call(this, input, init).then(
        (res) => (http(method, target, res.status), res),
        (err: unknown) => {
          http(method, target);
          throw err;
        },
      );
    };
  }
  const xhr = XMLHttpRequest.prototype;
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called below with the request as `this`
  const open = xhr.open as (...a: unknown[]) => void;
  xhr.open = function (this: XMLHttpRequest & { _fl?: string[] }, ...args: unknown[]) {
    if (!this._fl) {
      this.addEventListener('loadend', () => {
        http(this._fl?.[0] ?? '', this._fl?.[1] ?? '', this.status);
      });
    }
    this._fl = [String(args[0]).toUpperCase(), String(args[1])];
    open.apply(this, args);
  } as typeof xhr.open;

  let last = location.href;
  const navigated = (): void => {
    const to = location.href;
    if (to !== last) addBreadcrumb({ category: 'navigation', data: { from: last, to } });
    last = to;
  };
  for (const name of ['pushState', 'replaceState'] as const) {
    const original = history[name];
    history[name] = function (this: History, ...args: Parameters<History['pushState']>) {
      original.apply(this, args);
      navigated();
    };
  }
  addEventListener('popstate', navigated);
  addEventListener('hashchange', navigated);

  document.addEventListener('click', (e) => {
    addBreadcrumb({ category: 'ui.click', message: describe(e.target) });
  }, true);
}

/** A short CSS-like description of a clicked element: tag#id.class[name]. */
function describe(target: EventTarget | null): string {
  if (!(target instanceof Element)) return '?';
  let s = target.tagName.toLowerCase();
  if (target.id) s += `#${target.id}`;
  const cls = target.getAttribute('class');
  if (cls) s += `.${cls.trim().split(/\s+/).slice(0, 2).join('.')}`;
  const name = target.getAttribute('name');
  if (name) s += `[name="${name}"]`;
  return s;
}
