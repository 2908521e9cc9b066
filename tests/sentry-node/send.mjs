// Sends events to a Sentry DSN with the official @sentry/node SDK and prints the captured event ids as JSON.
// Usage: node send.mjs DSN SCENARIO   (SCENARIO: events | large)
// Run by tests/Faultline.Tests/Sentry/SentryNodeSdkTests.cs against a Faultline server; also used to
// capture the fixture corpus (tests/Faultline.Tests/Fixtures/sentry-envelopes/README.md).
import * as Sentry from '@sentry/node';

const [dsn, scenario = 'events'] = process.argv.slice(2);
if (!dsn) {
  console.error('usage: node send.mjs DSN [events|large]');
  process.exit(2);
}

Sentry.init({
  dsn,
  release: 'faultline-node-test@1.0.0',
  environment: 'sdk-test',
  tracesSampleRate: 0,
  // The default integrations hook process events, console and OpenTelemetry, none of which a
  // one-shot script needs; these add what shapes the events (chained errors, source context, runtime).
  defaultIntegrations: false,
  integrations: [
    Sentry.linkedErrorsIntegration(),
    Sentry.contextLinesIntegration(),
    Sentry.nodeContextIntegration(),
    Sentry.dedupeIntegration(),
  ],
});

class PaymentDeclinedError extends Error {
  constructor(message) {
    super(message);
    this.name = 'PaymentDeclinedError';
  }
}

function chargeCard(attempt) {
  throw new PaymentDeclinedError(`card declined on attempt ${attempt}`);
}

const ids = {};

if (scenario === 'events') {
  // The same throw site twice: one issue with two events.
  ids.exceptions = [];
  for (let attempt = 1; attempt <= 2; attempt++) {
    try {
      chargeCard(attempt);
    } catch (error) {
      ids.exceptions.push(Sentry.captureException(error));
    }
  }

  ids.message = Sentry.captureMessage('Node SDK message: queue is backing up', 'warning');

  Sentry.withScope(scope => {
    scope.setTag('region', 'eu-west');
    scope.setTag('feature', 'checkout');
    scope.setUser({ id: 'u-42', email: 'ada@example.com', username: 'ada', ip_address: '10.1.2.3' });
    scope.addBreadcrumb({ category: 'ui.click', message: 'pressed Pay', level: 'info' });
    scope.addBreadcrumb({ category: 'http', message: 'POST /api/checkout', level: 'warning' });
    ids.scoped = Sentry.captureMessage('Node SDK scoped event', 'error');
  });
} else if (scenario === 'large') {
  // Over the SDK's 32 KiB threshold, so the transport gzips the body and streams it chunked.
  Sentry.withScope(scope => {
    scope.setExtra('payload', 'x'.repeat(48 * 1024));
    ids.large = Sentry.captureMessage('Node SDK large event', 'info');
  });
} else {
  console.error(`unknown scenario ${scenario}`);
  process.exit(2);
}

// Generous: the tests check what is stored, not speed, and a loaded 2-core CI machine can take seconds per request.
const flushed = await Sentry.flush(30000);
if (!flushed) {
  console.error('Sentry.flush timed out');
  process.exit(1);
}
process.stdout.write(JSON.stringify(ids) + '\n');
