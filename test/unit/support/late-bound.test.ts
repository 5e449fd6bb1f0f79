import { describe, expect, it } from 'vitest'
import { lateBound } from '../../support/late-bound.ts'

describe('lateBound (the stand-in useE2eWorld hands a describe block)', () => {
  it('throws, naming the object, when used before it is set', () => {
    const { value } = lateBound<{ url: string }>('the emulator')
    expect(() => value.url).toThrow(/^the emulator is not there yet/)
  })

  it('reads, writes, spreads and binds methods to the object once set', () => {
    // Given an object whose method reads a private field (fails unless called on the object itself)
    class Server {
      #port = 4000
      url = 'http://127.0.0.1'
      port(): number {
        return this.#port
      }
    }
    const bound = lateBound<Server>('the server')
    const server = new Server()
    bound.set(server)

    // Then the stand-in acts as the object
    expect(bound.value.url).toBe('http://127.0.0.1')
    const { port } = bound.value
    expect(port()).toBe(4000)
    expect('url' in bound.value).toBe(true)
    expect({ ...bound.value }).toEqual({ url: 'http://127.0.0.1' })
    bound.value.url = 'http://[::1]'
    expect(server.url).toBe('http://[::1]')
  })
})
