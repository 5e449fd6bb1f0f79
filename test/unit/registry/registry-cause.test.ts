import { describe, expect, it } from 'vitest'
import { BridgeError } from '../../../src/errors.ts'
import { registryCause } from '../../../src/registry/registry.ts'

describe('registryCause', () => {
  it.each([
    [
      'a refused connection',
      new BridgeError('SCHEMA_REGISTRY_UNAVAILABLE', 'x', { context: { unreachable: 'ECONNREFUSED' } }),
      { reachable: false, wrongUrl: false, message: 'no answer (ECONNREFUSED)' },
    ],
    [
      'a timeout',
      new BridgeError('SCHEMA_REGISTRY_UNAVAILABLE', 'x', { context: { unreachable: 'timeout' } }),
      { reachable: false, wrongUrl: false, message: 'no answer in time' },
    ],
    [
      'a port fetch refuses',
      new BridgeError('CONFIG_INVALID', 'x', { context: { unreachable: 'bad port' } }),
      { reachable: false, wrongUrl: true, message: expect.stringContaining('bad ports') },
    ],
    [
      'a 404: no registry API at that URL',
      new BridgeError('CONFIG_INVALID', 'x', {
        context: { status: 404, request: 'POST /subjects/s/versions' },
      }),
      {
        reachable: true,
        wrongUrl: true,
        message: expect.stringMatching(
          /^HTTP 404 for POST \/subjects\/s\/versions: not a Confluent-compatible/,
        ),
      },
    ],
    [
      'another answer',
      new BridgeError('CONFIG_INVALID', 'x', {
        context: { status: 409, request: 'POST /subjects/s/versions', answer: 'incompatible' },
      }),
      { reachable: true, wrongUrl: false, message: 'HTTP 409 for POST /subjects/s/versions: incompatible' },
    ],
  ])('%s', (_what, err, cause) => {
    expect(registryCause(err)).toEqual(cause)
  })
})
