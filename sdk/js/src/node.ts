// Node entry point: uncaught exceptions and unhandled rejections, sent to Faultline's native API.
import * as os from 'node:os';
import { Client } from './client';
import { captureException, flush, getClient, setClient } from './core';
import { nativeUrl, parseDsn } from './dsn';
import { nodeSender } from './node-sender';
import type { FaultlineEvent, Options } from './types';

export * from './core';

let installed = false;

/** Starts the SDK. Without a valid `dsn` (or a custom `sender`) it stays inactive. */
export function init(options: Options): Client | undefined {
  const dsn = options.dsn ? parseDsn(options.dsn) : undefined;
  if (!dsn && !options.sender) return undefined;
  const client = new Client(options, 'node', dsn && nodeSender(nativeUrl(dsn), dsn.key), enrich);
  setClient(client);
  if (options.autoCapture !== false && !installed) {
    installed = true;
    install();
  }
  return client;
}

function enrich(event: FaultlineEvent): void {
  event.server_name ??= os.hostname();
  event.contexts = {
    runtime: { name: 'node', version: process.version },
    os: { name: os.type(), version: os.release() },
    ...event.contexts,
  };
}

function install(): void {
  let exiting = false;
  // Node's own behaviour for a fatal error: print it and exit with code 1. Adding a listener disables
  // that, so we restore it, after sending, unless another listener (the app's) has taken over.
  const die = (error: unknown, self: (...args: never[]) => void, event: 'uncaughtException' | 'unhandledRejection'): void => {
    const others = (process.listeners(event as 'uncaughtException') as unknown[]).filter((l) => l !== self).length;
    void flush(2000); // start sending now: whoever exits, the event should already be on its way
    if (getClient()?.options.exitOnUncaught === false || others > 0 || exiting) return;
    exiting = true;
    process.stderr.write(`${error instanceof Error && error.stack ? error.stack : String(error)}\n`);
    process.exitCode = 1;
    void flush(2000).then(() => process.exit(1));
  };
  const onUncaught = (error: Error): void => {
    captureException(error, { mechanism: 'onuncaughtexception', handled: false, level: 'fatal' });
    die(error, onUncaught, 'uncaughtException');
  };
  const onRejection = (reason: unknown): void => {
    captureException(reason, { mechanism: 'onunhandledrejection', handled: false });
    // --unhandled-rejections=warn|none keep the process running; Node's default mode exits.
    const mode = /--unhandled-rejections[= ](\w[\w-]*)/.exec(`${process.execArgv.join(' ')} ${process.env.NODE_OPTIONS ?? ''}`)?.[1];
    if (mode !== 'warn' && mode !== 'none' && mode !== 'warn-with-error-code') die(reason, onRejection, 'unhandledRejection');
  };
  process.on('uncaughtException', onUncaught);
  process.on('unhandledRejection', onRejection);
  // The batch timer does not hold the process open; send what is left when the loop empties.
  process.on('beforeExit', () => {
    if (getClient()?.transport?.size) void flush(2000);
  });
}
