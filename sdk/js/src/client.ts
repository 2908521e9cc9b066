// Turns errors and messages into events, enriches them, filters them and hands them to the transport.
import { Scope } from './scope';
import { parseStack } from './stack';
import { Transport } from './transport';
import type { EventHint, ExceptionValue, FaultlineEvent, Level, Options, Sender } from './types';

export const VERSION = '0.1.0';

export class Client {
  readonly transport: Transport | undefined;
  private last: FaultlineEvent | undefined;
  /** Set while an event is being processed: an error raised by our own code (or beforeSend) is not captured again. */
  private busy = false;

  constructor(
    readonly options: Options,
    readonly platform: string,
    sender: Sender | undefined,
    /** Platform details (page URL, hostname...), added to each event. */
    private readonly enrich: (event: FaultlineEvent) => void = () => {},
    onGiveUp?: (events: FaultlineEvent[]) => void,
  ) {
    const s = options.sender ?? sender;
    this.transport = s && new Transport(s, options, onGiveUp);
  }

  /** Builds, filters and queues an event; returns its id, or undefined when it was dropped. */
  capture(event: Partial<FaultlineEvent>, hint: EventHint, scope: Scope): string | undefined {
    if (this.busy || !this.transport) return undefined;
    this.busy = true;
    try {
      return this.process(event, hint, scope);
    } catch {
      return undefined; // never into the host app
    } finally {
      this.busy = false;
    }
  }

  private process(partial: Partial<FaultlineEvent>, hint: EventHint, scope: Scope): string | undefined {
    const o = this.options;
    let event: FaultlineEvent | null = {
      event_id: uuid(),
      timestamp: Date.now() / 1000,
      level: hint.level ?? 'error',
      platform: this.platform,
      ...partial,
    };
    if (o.release) event.release = o.release;
    if (o.environment) event.environment = o.environment;
    event.sdk = { name: `faultline.${this.platform}`, version: VERSION };
    scope.apply(event);
    try {
      this.enrich(event);
    } catch {} // e.g. no document in a worker: the event is still worth sending

    if (o.dedupe !== false && this.last && same(this.last, event)) return undefined;
    if (o.sampleRate !== undefined && Math.random() >= o.sampleRate) return undefined;
    if (o.beforeSend) {
      try {
        event = o.beforeSend(event, hint);
      } catch {
        event = null; // a broken beforeSend must not leak data it meant to scrub
      }
      if (!event) return undefined;
    }
    this.last = event;
    this.transport?.add(event);
    return event.event_id;
  }
}

/** Exception values for a thrown value, its `cause` chain first (oldest first, as Sentry lists them). */
export function exceptionsFrom(error: unknown, hint: EventHint): ExceptionValue[] {
  const values: ExceptionValue[] = [];
  let current: unknown = error;
  for (let depth = 0; depth < 5 && current !== undefined; depth++) {
    values.unshift(exceptionFrom(current, hint, depth === 0));
    current = isError(current) ? (current as { cause?: unknown }).cause : undefined;
  }
  return values;
}

function exceptionFrom(error: unknown, hint: EventHint, top: boolean): ExceptionValue {
  const ex: ExceptionValue = isError(error)
    ? { type: error.name || 'Error', value: String(error.message as unknown) }
    : { type: hint.mechanism === 'onunhandledrejection' ? 'UnhandledRejection' : 'Error', value: describe(error) };
  if (top) ex.mechanism = { type: hint.mechanism ?? 'generic', handled: hint.handled ?? true };
  const frames = parseStack(isError(error) ? error.stack : undefined);
  if (frames.length) ex.stacktrace = { frames };
  return ex;
}

export function isError(value: unknown): value is Error {
  return value instanceof Error || (typeof value === 'object' && value !== null && 'message' in value && 'stack' in value);
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value;
  try {
    if (value && typeof value === 'object') return `Non-Error captured with keys: ${Object.keys(value).slice(0, 10).join(', ')}`;
  } catch {}
  return String(value);
}

/** The same error again: equal message, exception types, values and frames. */
function same(a: FaultlineEvent, b: FaultlineEvent): boolean {
  const key = (e: FaultlineEvent): string =>
    JSON.stringify([e.message, e.exception?.map((x) => [x.type, x.value, x.stacktrace?.frames.map((f) => [f.filename, f.lineno, f.colno, f.function])])]);
  return key(a) === key(b);
}

/** JSON for one event; data that cannot be serialised (cycles, BigInt) is dropped rather than the event. */
export function serialize(event: FaultlineEvent): string {
  try {
    return JSON.stringify(event);
  } catch {
    return JSON.stringify({ ...event, extra: undefined, contexts: undefined, breadcrumbs: undefined });
  }
}

export function uuid(): string {
  const bytes = new Uint8Array(16);
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (c?.getRandomValues) c.getRandomValues(bytes);
  else for (let i = 0; i < 16; i++) bytes[i] = Math.floor(Math.random() * 256);
  let hex = '';
  for (const b of bytes) hex += (b + 256).toString(16).slice(1);
  return hex;
}

export type { Level };
