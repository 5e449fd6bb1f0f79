// startTelemetry when the OTLP receiver cannot be reached: one warning, not one per failed export.
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createLogger } from '../../../src/logging.ts'
import { startTelemetry } from '../../../src/telemetry/sdk.ts'
import { freePort } from '../../support/free-port.ts'
import { LogLines } from '../../support/log-lines.ts'
import { waitUntil } from '../../support/wait-until.ts'

afterEach(() => {
  vi.unstubAllEnvs()
})

describe('startTelemetry without a receiver', () => {
  it('says once in the log when spans cannot be exported, never more often', {
    timeout: 30_000,
  }, async () => {
    // Given an endpoint where nothing listens
    const url = `http://127.0.0.1:${await freePort()}`
    vi.stubEnv('OTEL_EXPORTER_OTLP_ENDPOINT', url)
    vi.stubEnv('OTEL_EXPORTER_OTLP_PROTOCOL', 'http/json')
    vi.stubEnv('OTEL_BSP_SCHEDULE_DELAY', '10')
    const logs = new LogLines()
    const telemetry = await startTelemetry(
      { enabled: true, endpoint: url },
      createLogger({ level: 'info', destination: logs.writable() }),
    )
    const warnings = () => logs.lines.filter((l) => l.component === 'opentelemetry')
    // When a span's export fails
    telemetry.tracer?.startSpan('lost-1').end()
    await waitUntil(() => warnings().length > 0, 20_000, 'the first warning')
    // And another's export fails too (the shutdown exports what is left)
    telemetry.tracer?.startSpan('lost-2').end()
    await telemetry.shutdown(10_000)
    // Then one warning in all names the SDK and what it means
    expect(warnings()).toHaveLength(1)
    const [warning] = warnings()
    expect(warning?.msg).toMatch(/^OpenTelemetry SDK: .*ECONNREFUSED.*; spans may be lost/)
    expect(warning?.level).toBe(40)
  })
})
