// The public API shared by the browser and Node entry points: one client, a stack of scopes.
import { Client, exceptionsFrom, isError } from './client';
import { Scope } from './scope';
import type { Breadcrumb, EventHint, Level, User } from './types';

let client: Client | undefined;
const scopes: Scope[] = [new Scope()];
/** Errors already reported (by wrap), so the global handlers do not report them a second time. */
const reported = new WeakSet();

function scope(): Scope {
  return scopes[scopes.length - 1] as Scope;
}

/** Installs a client with a fresh scope; the platform entry points call it from their `init`. */
export function setClient(c: Client | undefined): void {
  client = c;
  const o = c?.options;
  if (!o) return;
  const s = new Scope(o.maxBreadcrumbs ?? 100);
  scopes.splice(0, scopes.length, s);
  if (o.user) s.setUser(o.user);
  if (o.tags) s.setTags(o.tags);
}

export function getClient(): Client | undefined {
  return client;
}

export function captureException(error: unknown, hint: EventHint = {}): string | undefined {
  try {
    if (error && typeof error === 'object') {
      if (reported.has(error)) return undefined;
      reported.add(error);
    }
    return client?.capture({ exception: exceptionsFrom(error, hint) }, hint, scope());
  } catch {
    return undefined;
  }
}

export function captureMessage(message: string, level: Level = 'info'): string | undefined {
  return client?.capture({ message }, { level }, scope());
}

export function setUser(user: User | null): void {
  scope().setUser(user);
}

export function setTag(key: string, value: string | number | boolean): void {
  scope().setTag(key, value);
}

export function setTags(tags: Record<string, string>): void {
  scope().setTags(tags);
}

export function setContext(name: string, context: Record<string, unknown> | null): void {
  scope().setContext(name, context);
}

export function setExtra(key: string, value: unknown): void {
  scope().setExtra(key, value);
}

export function addBreadcrumb(crumb: Breadcrumb): void {
  try {
    scope().addBreadcrumb(crumb);
  } catch {}
}

/** Runs `fn` with a copy of the current scope; changes made to it end with `fn`. */
export function withScope<T>(fn: (scope: Scope) => T): T {
  const s = scope().clone();
  scopes.push(s);
  try {
    return fn(s);
  } finally {
    scopes.splice(scopes.lastIndexOf(s), 1);
  }
}

/** Sends everything queued; resolves false if `timeout` ms passed first. Never rejects. */
export async function flush(timeout = 2000): Promise<boolean> {
  try {
    return (await client?.transport?.flush(timeout)) ?? true;
  } catch {
    return false;
  }
}

/** Flushes, then stops capturing. */
export async function close(timeout = 2000): Promise<boolean> {
  const ok = await flush(timeout);
  client = undefined;
  return ok;
}

/** Wraps `fn`: an error it throws (or a promise it returns rejects with) is reported, then rethrown. */
export function wrap<A extends unknown[], R>(fn: (...args: A) => R): (...args: A) => R {
  return function (this: unknown, ...args: A): R {
    const report = (e: unknown): never => {
      captureException(e, { mechanism: 'wrap', handled: false });
      throw e;
    };
    try {
      const result = fn.apply(this, args);
      if (result && typeof (result as { then?: unknown }).then === 'function') {
        return (result as unknown as Promise<unknown>).then(undefined, report) as R;
      }
      return result;
    } catch (e) {
      return report(e);
    }
  };
}

/** Runs `fn` now, reporting and rethrowing what it throws. */
export function tryCatch<R>(fn: () => R): R {
  return wrap(fn)();
}

export { Scope, isError };
export type * from './types';
