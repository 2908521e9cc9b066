// Node delivery: one JSON array per batch to Faultline's native API, key in a header.
import { serialize } from './client';
import { parseRetryAfter } from './transport';
import type { Sender } from './types';

export function nodeSender(url: string, key: string): Sender {
  return async (events) => {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Faultline-Key': key },
      body: `[${events.map(serialize).join(',')}]`,
      signal: AbortSignal.timeout(10_000),
    });
    await res.arrayBuffer().catch(() => undefined); // lets the connection be reused
    return { status: res.status, retryAfter: parseRetryAfter(res.headers.get('retry-after')) };
  };
}
