import type { TestBridge } from './bridge-harness.ts'

/** The admin token of test bridges (tests check that it never appears in the logs). */
export const TEST_ADMIN_TOKEN = 'integration-admin-token-3f9a'

/** Settings that turn the admin API on, with a control topic of the test's own (created at start-up). */
export function adminEnv(prefix: string): Record<string, string> {
  return {
    ADMIN_TOKEN: TEST_ADMIN_TOKEN,
    CONTROL_TOPIC: `${prefix}-${Date.now()}.control`,
    CREATE_MISSING_TOPICS: 'true',
  }
}

/** The bridge's operations base URL (the admin API and the status page live there). */
export function opsUrl(bridge: TestBridge): string {
  return bridge.metricsUrl.replace(/\/metrics$/, '')
}

/** Calls `/admin/<path>` with the test token (or `init.token`); POSTs carry `{reason}`. */
export async function adminRequest(
  bridge: TestBridge,
  method: 'GET' | 'POST',
  path: string,
  init: { token?: string; reason?: string } = {},
) {
  const res = await fetch(`${opsUrl(bridge)}/admin/${path}`, {
    method,
    headers: {
      authorization: `Bearer ${init.token ?? TEST_ADMIN_TOKEN}`,
      'content-type': 'application/json',
    },
    ...(method === 'POST' ? { body: JSON.stringify({ reason: init.reason ?? 'test' }) } : {}),
  })
  return { status: res.status, json: (await res.json()) as Record<string, unknown> & { places?: unknown[] } }
}
