/**
 * Where Livingdocs posts import job webhooks ([F] §2): the configuration builds each import request's
 * webhook URL from it (under `WEBHOOK_PUBLIC_URL`), and the HTTP app routes it.
 */

/** Path Livingdocs POSTs import job webhooks to (under `WEBHOOK_PUBLIC_URL`). */
export const WEBHOOK_PATH = '/webhooks/livingdocs/import-jobs'
