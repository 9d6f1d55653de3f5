// Bundled with esbuild into a page on another origin than the tracker (a CORS "simple" request).
import * as Sentry from "@sentry/browser";

window.sendError = async (dsn, marker) => {
  const sentIds = [];
  Sentry.init({
    dsn,
    beforeSend(event) {
      sentIds.push(event.event_id);
      return event;
    },
  });
  try {
    null.renderWidget(marker);
  } catch (err) {
    err.message = `e2e browser ${marker}: ${err.message}`;
    Sentry.captureException(err);
  }
  const flushed = await Sentry.flush(10000);
  return { flushed, sentIds };
};
