// Sends an exception and a message with the real @sentry/node (chunked transfer, no content type).
// node node_sdk.cjs DSN MARKER   (NODE_PATH=tests/js/node_modules); prints the event ids as JSON.
const Sentry = require("@sentry/node");

const [dsn, marker] = process.argv.slice(2);
// By kind, not in call order: the exception goes through async processors (context lines) and
// can reach beforeSend after the message.
const sentIds = {};
Sentry.init({
  dsn,
  tracesSampleRate: 0,
  beforeSend(event) {
    // (the message is the "warning"; event.exception alone does not tell them apart in v11)
    sentIds[event.level === "warning" ? "message" : "exception"] = event.event_id;
    return event;
  },
});

function chargeCard() {
  throw new TypeError(`e2e node ${marker}: card declined`);
}

try {
  chargeCard();
} catch (err) {
  Sentry.captureException(err);
}
Sentry.captureMessage(`e2e node message ${marker}`, "warning");

Sentry.flush(10000).then((ok) => {
  console.log(JSON.stringify([sentIds.exception, sentIds.message]));
  process.exit(ok ? 0 : 1);
});
