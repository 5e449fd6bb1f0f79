/**
 * A stand-in for an object a test hook makes later: a helper called while vitest collects a `describe`
 * block (where `beforeAll`/`afterAll` can be registered) hands the block the stand-in at once, and sets
 * the real object when its `beforeAll` has made it. The block's tests use the stand-in as the object.
 */

/** A {@link lateBound} stand-in and the setter of the object it stands for. */
export interface LateBound<T extends object> {
  /** Reads, writes and `in` go to the object set; methods are bound to it. @throws Error before `set` */
  readonly value: T
  set(target: T): void
}

/**
 * Makes a stand-in for an object that does not exist yet (a JavaScript Proxy forwarding to it).
 * @param what names the object in the error thrown when it is used before it was set
 */
export function lateBound<T extends object>(what: string): LateBound<T> {
  let target: T | undefined
  const current = (): T => {
    if (target === undefined)
      throw new Error(
        `${what} is not there yet: use it in the tests or hooks after the beforeAll that makes it`,
      )
    return target
  }
  const value = new Proxy({} as T, {
    get(_, key) {
      const t = current()
      const v = Reflect.get(t, key, t) as unknown
      return typeof v === 'function' ? v.bind(t) : v
    },
    set: (_, key, v) => Reflect.set(current(), key, v),
    has: (_, key) => Reflect.has(current(), key),
    ownKeys: () => Reflect.ownKeys(current()),
    getOwnPropertyDescriptor(_, key) {
      const d = Reflect.getOwnPropertyDescriptor(current(), key)
      // A proxy may not report a property of its (empty) target as non-configurable.
      return d === undefined ? undefined : { ...d, configurable: true }
    },
  })
  return {
    value,
    set(t) {
      target = t
    },
  }
}
