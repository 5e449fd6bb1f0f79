import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { once } from 'node:events'
import { promisify } from 'node:util'
import { request } from 'undici'
import { freePort } from './free-port.ts'
import { projectRoot } from './run-script.ts'
import { waitUntil } from './wait-until.ts'

/**
 * Longest wait for `scripts/jaeger build`, ms: a cold Go cache builds Jaeger in 4 to 12 minutes on this
 * machine (CI builds it in a step of its own before `npm test`, so the tests find it cached).
 */
export const JAEGER_BUILD_TIMEOUT_MS = 20 * 60_000

/** OTLP span kinds, as the v3 query API numbers them (`Span.SpanKind` of the OTLP protocol). */
const KINDS = ['UNSPECIFIED', 'INTERNAL', 'SERVER', 'CLIENT', 'PRODUCER', 'CONSUMER'] as const

/** A span as Jaeger's query API gives it back (the v3 API: OTLP JSON), flattened for assertions. */
export interface StoredSpan {
  traceId: string
  spanId: string
  /** Undefined for a root span. */
  parentSpanId: string | undefined
  name: string
  kind: (typeof KINDS)[number]
  /** Attribute values: strings, numbers (ints arrive as strings and are converted), booleans. */
  attributes: Record<string, string | number | boolean>
  links: Array<{ traceId: string; spanId: string }>
  /** `STATUS_CODE_ERROR` is 2. */
  status: { code?: number; message?: string }
  /** Attributes of the resource that sent it (`service.name` …). */
  resource: Record<string, string | number | boolean>
}

/** A Jaeger all-in-one started for one test file; see {@link startJaeger}. */
export interface RunningJaeger {
  /** The bridge's `OTEL_EXPORTER_OTLP_ENDPOINT`: OTLP over HTTP. */
  otlpEndpoint: string
  /** Waits until the spans of `traceId` satisfy `check`. @throws Error naming `what` after `timeoutMs` */
  waitForSpans(
    traceId: string,
    check: (spans: StoredSpan[]) => boolean,
    timeoutMs: number,
    what: string,
  ): Promise<StoredSpan[]>
}

/**
 * Builds Jaeger if it is not cached yet (`scripts/jaeger build`), then starts it (`scripts/jaeger run`:
 * spans in memory) with its OTLP/HTTP receiver and its query API on free ports of 127.0.0.1 (other
 * runs on this machine keep theirs), and waits until its query API answers. Stopped by `world.close()`.
 * @throws Error with Jaeger's output when it exits before answering
 */
export async function startJaeger(world: {
  defer(cleanup: () => Promise<unknown>): void
}): Promise<RunningJaeger> {
  await promisify(execFile)('scripts/jaeger', ['build'], {
    cwd: projectRoot,
    timeout: JAEGER_BUILD_TIMEOUT_MS,
  })
  const [otlp, query, grpc] = [await freePort(), await freePort(), await freePort()]
  const child: ChildProcess = spawn('scripts/jaeger', ['run'], {
    cwd: projectRoot,
    env: {
      ...process.env,
      JAEGER_OTLP_HTTP_PORT: String(otlp),
      JAEGER_QUERY_PORT: String(query),
      JAEGER_QUERY_GRPC_PORT: String(grpc),
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let output = ''
  const keep = (chunk: Buffer) => {
    output = (output + chunk.toString('utf8')).slice(-4000)
  }
  child.stdout?.on('data', keep)
  child.stderr?.on('data', keep)
  const exited = once(child, 'exit')
  let hasExited = false
  void exited.then(() => {
    hasExited = true
  })
  world.defer(async () => {
    if (!hasExited) child.kill('SIGTERM')
    await exited
  })
  const queryUrl = `http://127.0.0.1:${query}`
  await waitUntil(
    async () => {
      if (hasExited) throw new Error(`jaeger exited before it answered:\n${output}`)
      return (await get(`${queryUrl}/api/services`).catch(() => undefined))?.status === 200
    },
    60_000,
    'the Jaeger query API',
  )
  /** The spans of trace `traceId` (GET /api/v3/traces/{traceId}); [] while Jaeger does not know it. */
  const spans = async (traceId: string): Promise<StoredSpan[]> => {
    const res = await get(`${queryUrl}/api/v3/traces/${traceId}`)
    return res.status === 200 ? flatten(res.body) : []
  }
  return {
    otlpEndpoint: `http://127.0.0.1:${otlp}`,
    async waitForSpans(traceId, check, timeoutMs, what) {
      let last: StoredSpan[] = []
      await waitUntil(
        async () => {
          last = await spans(traceId)
          return check(last)
        },
        timeoutMs,
        what,
      )
      return last
    },
  }
}

async function get(url: string): Promise<{ status: number; body: unknown }> {
  const res = await request(url)
  const text = await res.body.text()
  return { status: res.statusCode, body: res.statusCode === 200 ? JSON.parse(text) : text }
}

interface OtlpValue {
  stringValue?: string
  intValue?: string
  doubleValue?: number
  boolValue?: boolean
}
interface OtlpAttribute {
  key: string
  value: OtlpValue
}
interface OtlpSpan {
  traceId: string
  spanId: string
  parentSpanId?: string
  name: string
  kind?: number
  attributes?: OtlpAttribute[]
  links?: Array<{ traceId: string; spanId: string }>
  status?: { code?: number; message?: string }
}
interface OtlpTrace {
  result?: {
    resourceSpans?: Array<{
      resource?: { attributes?: OtlpAttribute[] }
      scopeSpans?: Array<{ spans?: OtlpSpan[] }>
    }>
  }
}

function attributes(list: OtlpAttribute[] | undefined): Record<string, string | number | boolean> {
  const out: Record<string, string | number | boolean> = {}
  for (const { key, value } of list ?? []) {
    const v = value.stringValue ?? value.boolValue ?? value.doubleValue ?? value.intValue
    if (v !== undefined) out[key] = value.intValue !== undefined ? Number(value.intValue) : v
  }
  return out
}

function flatten(body: unknown): StoredSpan[] {
  const out: StoredSpan[] = []
  for (const rs of (body as OtlpTrace).result?.resourceSpans ?? []) {
    const resource = attributes(rs.resource?.attributes)
    for (const ss of rs.scopeSpans ?? [])
      for (const s of ss.spans ?? [])
        out.push({
          traceId: s.traceId,
          spanId: s.spanId,
          parentSpanId: s.parentSpanId || undefined,
          name: s.name,
          kind: KINDS[s.kind ?? 0] ?? 'UNSPECIFIED',
          attributes: attributes(s.attributes),
          links: (s.links ?? []).map(({ traceId, spanId }) => ({ traceId, spanId })),
          status: s.status ?? {},
          resource,
        })
  }
  return out
}
