// accessTokenSource: the access token, read again from its file (a mounted Secret) after a refusal.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { accessTokenSource, TOKEN_REREAD_INTERVAL_MS } from '../../src/secrets.ts'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bridge-secrets-'))
})
afterEach(() => {
  rmSync(dir, { recursive: true, force: true })
})

describe('accessTokenSource', () => {
  it('reads the file again, at most every TOKEN_REREAD_INTERVAL_MS, and reports a changed token', () => {
    const file = join(dir, 'token')
    writeFileSync(file, 'one\n')
    const token = accessTokenSource('one', file)
    expect(token.reread(0)).toBe(false) // unchanged
    writeFileSync(file, 'two\n')
    expect(token.reread(TOKEN_REREAD_INTERVAL_MS - 1)).toBe(false) // too soon
    expect(token.value).toBe('one')
    expect(token.reread(TOKEN_REREAD_INTERVAL_MS)).toBe(true)
    expect(token.value).toBe('two')
  })

  it('keeps the current token when the file is empty or gone (a Secret being replaced)', () => {
    const file = join(dir, 'token')
    writeFileSync(file, '  \n')
    const token = accessTokenSource('kept', file, { minIntervalMs: 0 })
    expect(token.reread(1)).toBe(false)
    rmSync(file)
    expect(token.reread(2)).toBe(false)
    expect(token.value).toBe('kept')
  })

  it('never reads anything for a token given as a value', () => {
    const token = accessTokenSource('fixed', undefined, { minIntervalMs: 0 })
    expect(token.reread(1)).toBe(false)
    expect(token.value).toBe('fixed')
  })
})
