// Event shapes as Faultline's ingest API reads them (snake_case, Sentry-compatible).

export type Level = 'fatal' | 'error' | 'warning' | 'info' | 'debug';

export interface Frame {
  filename?: string;
  function?: string;
  module?: string;
  lineno?: number;
  colno?: number;
  in_app?: boolean;
}

export interface ExceptionValue {
  type: string;
  value: string;
  mechanism?: { type: string; handled: boolean };
  /** Frames caller first, crash site last (Sentry's order). */
  stacktrace?: { frames: Frame[] };
}

export interface User {
  id?: string;
  email?: string;
  username?: string;
  ip_address?: string;
}

export interface Breadcrumb {
  timestamp?: number;
  type?: string;
  category?: string;
  message?: string;
  level?: Level;
  data?: Record<string, unknown>;
}

export interface FaultlineEvent {
  event_id: string;
  timestamp: number;
  level: Level;
  platform: string;
  message?: string;
  logger?: string;
  release?: string;
  environment?: string;
  server_name?: string;
  tags?: Record<string, string>;
  user?: User;
  exception?: ExceptionValue[];
  breadcrumbs?: Breadcrumb[];
  contexts?: Record<string, Record<string, unknown>>;
  request?: { url?: string; headers?: Record<string, string> };
  extra?: Record<string, unknown>;
  fingerprint?: string[];
  sdk?: { name: string; version: string };
}

/** Extra information for one capture call. */
export interface EventHint {
  /** The thrown value, when the event comes from one. */
  originalException?: unknown;
  /** How the error was caught: 'onerror', 'onunhandledrejection', 'generic'... */
  mechanism?: string;
  handled?: boolean;
  level?: Level;
}

export interface TransportOptions {
  /** Events sent in one request at most (default 30). */
  maxBatch?: number;
  /** Events kept in memory while waiting to be sent; the oldest are dropped past it (default 100). */
  maxQueue?: number;
  /** How long events wait to be batched, in ms (default 1000). */
  batchDelay?: number;
  /** Attempts on a network error before giving up on a batch (default 5). */
  maxRetries?: number;
  /** First backoff delay in ms; doubled at each retry, capped at 30 s (default 1000). */
  backoffBase?: number;
}

export interface Options extends TransportOptions {
  /** `http(s)://KEY@host[:port][/path]/PROJECT_ID`. Without it the SDK stays inactive. */
  dsn?: string;
  release?: string;
  environment?: string;
  user?: User;
  tags?: Record<string, string>;
  /** Share of error events sent, 0 to 1 (default 1). */
  sampleRate?: number;
  /** Last chance to change an event; return null to drop it. Exceptions thrown here drop the event. */
  beforeSend?: (event: FaultlineEvent, hint: EventHint) => FaultlineEvent | null;
  maxBreadcrumbs?: number;
  /** Drop an error equal to the one just captured (default true). */
  dedupe?: boolean;
  /** Install the automatic capture handlers (default true). */
  autoCapture?: boolean;
  /** Browser: breadcrumbs for console, fetch/XHR, navigation and clicks (default true). */
  breadcrumbs?: boolean;
  /** Node: exit with code 1 after reporting an uncaught exception, as Node does (default true). */
  exitOnUncaught?: boolean;
  /** Replaces the default HTTP sender (tests, custom delivery). */
  sender?: Sender;
}

/** The outcome of one HTTP request: its status and Retry-After in seconds, if any. */
export interface SendResult {
  status: number;
  retryAfter?: number;
}

/** Sends one batch; rejects on a network error (the only case retried). */
export type Sender = (events: FaultlineEvent[]) => Promise<SendResult>;
