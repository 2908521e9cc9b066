// DSN in Sentry's form: http(s)://KEY@host[:port][/path]/PROJECT_ID.

export interface Dsn {
  key: string;
  projectId: string;
  /** Scheme, host and any path prefix, without a trailing slash. */
  base: string;
}

export function parseDsn(dsn: string): Dsn | undefined {
  const m = /^(https?):\/\/([^@/]+)@([^/]+)((?:\/[^/]+)*)\/(\w+)\/?$/.exec(dsn.trim());
  if (!m) return undefined;
  return { key: m[2] ?? '', projectId: m[5] ?? '', base: `${m[1] ?? ''}://${m[3] ?? ''}${m[4] ?? ''}` };
}

/** Faultline's native endpoint: a JSON array of events, key in a header (Node). */
export function nativeUrl(d: Dsn): string {
  return `${d.base}/api/v1/events`;
}

/** Sentry's envelope endpoint: key in the query, text/plain body, so browsers send it without a CORS preflight. */
export function envelopeUrl(d: Dsn): string {
  return `${d.base}/api/${d.projectId}/envelope/?sentry_key=${encodeURIComponent(d.key)}&sentry_version=7`;
}
