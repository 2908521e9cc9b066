// What the app tells the SDK about the current situation, copied into every event.
import type { Breadcrumb, FaultlineEvent, Level, User } from './types';

export class Scope {
  user: User | undefined;
  tags: Record<string, string> = {};
  contexts: Record<string, Record<string, unknown>> = {};
  extra: Record<string, unknown> = {};
  breadcrumbs: Breadcrumb[] = [];
  level: Level | undefined;
  fingerprint: string[] | undefined;

  constructor(public maxBreadcrumbs = 100) {}

  clone(): Scope {
    const s = new Scope(this.maxBreadcrumbs);
    s.user = this.user && { ...this.user };
    s.tags = { ...this.tags };
    s.contexts = { ...this.contexts };
    s.extra = { ...this.extra };
    s.breadcrumbs = this.breadcrumbs.slice();
    s.level = this.level;
    s.fingerprint = this.fingerprint;
    return s;
  }

  setUser(user: User | null): void {
    this.user = user ?? undefined;
  }

  setTag(key: string, value: string | number | boolean): void {
    this.tags[key] = String(value); // the API stores strings only
  }

  setTags(tags: Record<string, string>): void {
    for (const k of Object.keys(tags)) this.setTag(k, tags[k] ?? '');
  }

  setContext(name: string, context: Record<string, unknown> | null): void {
    if (context) this.contexts[name] = context;
    else delete this.contexts[name];
  }

  setExtra(key: string, value: unknown): void {
    this.extra[key] = value;
  }

  setLevel(level: Level): void {
    this.level = level;
  }

  setFingerprint(fingerprint: string[]): void {
    this.fingerprint = fingerprint;
  }

  addBreadcrumb(crumb: Breadcrumb): void {
    if (this.maxBreadcrumbs <= 0) return;
    this.breadcrumbs.push({ timestamp: Date.now() / 1000, ...crumb });
    if (this.breadcrumbs.length > this.maxBreadcrumbs) this.breadcrumbs.shift();
  }

  /** Fills the event with this scope; what the event already says wins. */
  apply(event: FaultlineEvent): FaultlineEvent {
    if (this.user && !event.user) event.user = { ...this.user };
    event.tags = { ...this.tags, ...event.tags };
    event.extra = { ...this.extra, ...event.extra };
    event.contexts = { ...this.contexts, ...event.contexts };
    if (this.level) event.level = this.level;
    if (this.fingerprint && !event.fingerprint) event.fingerprint = this.fingerprint;
    if (this.breadcrumbs.length) event.breadcrumbs = [...this.breadcrumbs, ...(event.breadcrumbs ?? [])];
    return event;
  }
}
