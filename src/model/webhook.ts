/**
 * Where Livingdocs posts import job webhooks ([F] §2): the configuration builds each import request's
 * webhook URL from it (under `WEBHOOK_PUBLIC_URL`), and the HTTP app routes it.
 */

/** Path Livingdocs POSTs import job webhooks to (under `WEBHOOK_PUBLIC_URL`). */
export const WEBHOOK_PATH = '/webhooks/livingdocs/import-jobs'

/**
 * A webhook as the HTTP app received it, for its span (src/telemetry/): the route it came on and its
 * trace headers.
 */
export interface ReceivedWebhook {
  /** The route template, e.g. `/webhooks/livingdocs/import-jobs/:batchId` (never the URL: it holds the signature). */
  route: string
  /** The request's `traceparent`/`tracestate`, if it carried them (the caller's context). */
  traceHeaders: Record<string, string>
}
