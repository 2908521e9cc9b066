// Batches events and sends them without ever throwing into, or blocking, the host app.
import type { FaultlineEvent, Sender, TransportOptions } from './types';

const MAX_BACKOFF = 30_000;

export class Transport {
  private queue: FaultlineEvent[] = [];
  private timer: ReturnType<typeof setTimeout> | undefined;
  private sending = false;
  private flushing = 0;
  private retries = 0;
  /** Epoch ms before which the server asked us (429) not to send. */
  pausedUntil = 0;
  readonly o: Required<TransportOptions>;

  /** `onGiveUp` receives batches abandoned after network errors (kept in localStorage by browsers). */
  constructor(
    private readonly sender: Sender,
    options: TransportOptions = {},
    private readonly onGiveUp?: (events: FaultlineEvent[]) => void,
  ) {
    this.o = { maxBatch: 30, maxQueue: 100, batchDelay: 1000, maxRetries: 5, backoffBase: 1000, ...options };
  }

  get size(): number {
    return this.queue.length + (this.sending ? 1 : 0);
  }

  add(event: FaultlineEvent): void {
    this.queue.push(event);
    // Bounded: past the limit the oldest events go, so memory stays flat while offline.
    if (this.queue.length > this.o.maxQueue) this.queue.splice(0, this.queue.length - this.o.maxQueue);
    this.schedule(this.queue.length >= this.o.maxBatch ? 0 : this.o.batchDelay);
  }

  /** Takes every waiting event out, for a last synchronous send (sendBeacon on page hide). */
  drain(): FaultlineEvent[] {
    return this.queue.splice(0);
  }

  /** Sends what is queued; resolves true once everything went out, false if `timeout` ms passed first. */
  async flush(timeout = 2000): Promise<boolean> {
    const deadline = Date.now() + timeout;
    this.flushing++;
    try {
      while (this.queue.length || this.sending) {
        if (Date.now() >= deadline) return false;
        if (!this.sending && this.retries === 0) this.schedule(0, true);
        await sleep(Math.min(20, Math.max(1, deadline - Date.now())));
      }
      return true;
    } finally {
      this.flushing--;
    }
  }

  private schedule(delay: number, now = false): void {
    if (this.sending || !this.queue.length) return;
    if (this.timer !== undefined) {
      if (!now) return;
      clearTimeout(this.timer);
    }
    if (this.flushing && this.retries === 0) delay = 0;
    const wait = Math.max(delay, this.pausedUntil - Date.now());
    this.timer = setTimeout(() => void this.run(), wait);
    // In Node, a pending batch must not keep the process alive (the Node client flushes on exit).
    (this.timer as { unref?: () => void }).unref?.();
  }

  private async run(): Promise<void> {
    this.timer = undefined;
    if (this.sending || !this.queue.length) return;
    this.sending = true;
    const batch = this.queue.splice(0, this.o.maxBatch);
    let next = this.o.batchDelay;
    try {
      const r = await this.sender(batch);
      this.retries = 0;
      if (r.status === 429) {
        // Rate limited: keep the batch and wait as long as the server says (60 s if it does not).
        this.pausedUntil = Date.now() + (r.retryAfter ?? 60) * 1000;
        this.requeue(batch);
      }
      // Anything else (sent, or refused as invalid/too large) is final: retrying would not help.
    } catch {
      // Network error: retry with exponential backoff, then give up on this batch.
      if (++this.retries > this.o.maxRetries) {
        this.retries = 0;
        try {
          this.onGiveUp?.(batch);
        } catch {}
      } else {
        next = Math.min(this.o.backoffBase * 2 ** (this.retries - 1), MAX_BACKOFF);
        this.requeue(batch);
      }
    }
    this.sending = false;
    if (this.retries === 0 && this.queue.length >= this.o.maxBatch) next = 0;
    this.schedule(next);
  }

  private requeue(batch: FaultlineEvent[]): void {
    this.queue.unshift(...batch);
    if (this.queue.length > this.o.maxQueue) this.queue.splice(0, this.queue.length - this.o.maxQueue);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Reads Retry-After as seconds (a number or an HTTP date). */
export function parseRetryAfter(value: string | null | undefined): number | undefined {
  if (!value) return undefined;
  const n = Number(value);
  if (!isNaN(n)) return Math.max(0, n);
  const date = Date.parse(value);
  return isNaN(date) ? undefined : Math.max(0, (date - Date.now()) / 1000);
}
