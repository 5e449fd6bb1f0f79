/** Path Livingdocs POSTs import job webhooks to (under `WEBHOOK_PUBLIC_URL`). */
export const WEBHOOK_PATH = '/webhooks/livingdocs/import-jobs'
