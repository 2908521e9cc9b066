// End-to-end driver for tests/Faultline.Tests/Sdk/JsSdkEndToEndTests.cs: a Node process with the SDK
// (the ESM build in dist/) crashes with an uncaught exception. The SDK must deliver the event to the
// real Faultline before the process exits, and keep Node's default behaviour: print the error, exit 1.
// Prints one JSON line with the event id (from beforeSend) before the crash is reported.
//   node scripts/e2e-node-crash.mjs --dsn http://KEY@127.0.0.1:PORT/PROJECT --release R
import { parseArgs } from 'node:util';
import { init } from '../dist/node.js';

const { values: args } = parseArgs({ options: { dsn: { type: 'string' }, release: { type: 'string' } } });
if (!args.dsn || !args.release) {
  console.error('usage: node scripts/e2e-node-crash.mjs --dsn DSN --release RELEASE');
  process.exit(2);
}

init({
  dsn: args.dsn,
  release: args.release,
  environment: 'e2e',
  user: { id: 'e2e-node-user' },
  beforeSend(event) {
    console.log(JSON.stringify({ id: event.event_id, message: event.exception?.[0]?.value, level: event.level }));
    return event;
  },
});

// The .NET test expects the crash site: function crashHere, line 28 of this file (the throw).
setTimeout(function crashHere() {
  throw new Error('e2e node crash');
}, 10);
