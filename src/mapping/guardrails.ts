/**
 * The bounds of one event's mapping (issue 26): whatever an expression does with whatever event, its
 * evaluation ends within a bounded time and memory, as that event's `MAPPING_FAILED`, and the consumer
 * goes on with the next record. Each bound covers one kind of runaway:
 *
 * - **time**: JSONata's `timeout` guardrail, checked before each node of the expression is evaluated
 *   (`MAPPING_TIMEOUT_MS`, default {@link DEFAULT_MAPPING_TIMEOUT_MS}): an endless recursion, a loop over
 *   a huge range;
 * - **depth**: JSONata's `stack` guardrail, {@link MAX_DEPTH} nested evaluations (a recursion that is not
 *   a tail call ends here, not in a JavaScript stack overflow);
 * - **sequences**: JSONata's `sequence` guardrail, {@link MAX_SEQUENCE} items: a range such as
 *   `[1..$n]` is refused before it is built, a sequence while it grows;
 * - **strings and arrays built**: in an expression that defines a function (the only way to loop or
 *   recurse), every node's result is checked as it is made (JSONata's `__evaluate_exit` hook): a string
 *   longer than {@link MAX_STRING_CHARS} characters or an array longer than {@link MAX_SEQUENCE} ends the
 *   evaluation, so that doubling a string in a loop stops at the bound, before anything reads (and so
 *   copies) it. Without a function an expression evaluates each of its nodes at most once per item of
 *   a (bounded) sequence, so what it builds is bounded by its own size times the event's, and its
 *   result is checked once ({@link builtTooLarge}) before anything serialises it. The hook is not free:
 *   JSONata awaits it after each node. `$pad` and `$join`, which build one long string in a single
 *   call, are refused before they do when their result would be longer;
 * - **regular expressions**: a linear-time engine ({@link LinearRegExp}, re2js, a port of RE2), so no
 *   event can make a pattern backtrack for ever, which no time limit could interrupt: a JavaScript
 *   `RegExp` runs to its end without giving JSONata a chance to check the clock.
 *
 * What is left: a single built-in call runs to its end (e.g. `$string` of the whole event, or `$replace`
 * with a long replacement, bounded by the event's own size times that replacement).
 */

import jsonata from 'jsonata'
import { RE2JS } from 're2js'

/** Longest evaluation of one event's expressions by default, ms (`MAPPING_TIMEOUT_MS`). */
export const DEFAULT_MAPPING_TIMEOUT_MS = 1000

/** Most nested evaluations (JSONata's `stack` guardrail). */
export const MAX_DEPTH = 500

/** Most items of a sequence or array an expression builds (JSONata's `sequence` guardrail). */
export const MAX_SEQUENCE = 100_000

/**
 * Longest string an expression builds, characters: 4 Mi, ten times the largest import request
 * (`BATCH_MAX_BYTES` is at most what a Livingdocs server takes, 512,000 bytes by default), so no value
 * that can still be sent is refused.
 */
export const MAX_STRING_CHARS = 4 * 1024 * 1024

/** The bounds a mapping is compiled with. */
export interface MappingLimits {
  /** Longest evaluation of one event's expressions, ms. */
  timeoutMs: number
}

/** JSONata's own guardrail options for `limits`, with the linear-time regular expressions. */
export function jsonataOptions(limits: MappingLimits): jsonata.JsonataOptions {
  return {
    timeout: limits.timeoutMs,
    stack: MAX_DEPTH,
    sequence: MAX_SEQUENCE,
    RegexEngine: LinearRegExp as unknown as RegExpConstructor,
  }
}

/** A guardrail's error, as JSONata's own: a code and a message (the `MAPPING_FAILED` text). */
function limitError(code: string, message: string): Error {
  return Object.assign(new Error(message), { code })
}

/**
 * JSONata calls this after each node of an expression is evaluated: a string or array past its bound
 * ends the evaluation (see the module comment). Synchronous and two checks long: it runs per node.
 */
function checkResult(_node: unknown, _input: unknown, _env: unknown, result: unknown): void {
  if (typeof result === 'string') {
    if (result.length > MAX_STRING_CHARS)
      throw limitError(
        'BRIDGE01',
        `built a string of ${result.length} characters, more than ${MAX_STRING_CHARS}`,
      )
  } else if (Array.isArray(result) && result.length > MAX_SEQUENCE) {
    throw limitError('BRIDGE02', `built an array of ${result.length} items, more than ${MAX_SEQUENCE}`)
  }
}

/** The implementation and signature of a JSONata built-in function, e.g. `$join`. */
interface BuiltIn {
  implementation: (...args: unknown[]) => unknown
  signature?: { definition?: string }
}

/** JSONata's own `$pad` and `$join` (a function is the value of its name), wrapped by {@link guard}. */
const builtIns = {
  pad: (await jsonata('$pad').evaluate(null)) as BuiltIn,
  join: (await jsonata('$join').evaluate(null)) as BuiltIn,
}

/**
 * Puts the bounds that are not options on a compiled expression: the result check after each node,
 * and `$pad` and `$join` checked before they build their string.
 * @returns the same expression
 */
export function guard(expression: jsonata.Expression): jsonata.Expression {
  if (definesFunction(expression.ast()))
    expression.assign(Symbol.for('jsonata.__evaluate_exit') as unknown as string, checkResult)
  const { pad, join } = builtIns
  expression.registerFunction(
    'pad',
    function (this: jsonata.Focus, str: unknown, width: unknown, char: unknown) {
      const chars =
        typeof width === 'number'
          ? Math.abs(width) * Math.max(1, typeof char === 'string' ? char.length : 1)
          : 0
      if (chars > MAX_STRING_CHARS)
        throw limitError('BRIDGE01', `$pad to ${width} characters: more than ${MAX_STRING_CHARS}`)
      return pad.implementation.call(this, str, width, char)
    },
    pad.signature?.definition,
  )
  expression.registerFunction(
    'join',
    function (this: jsonata.Focus, strs: unknown, separator: unknown) {
      if (Array.isArray(strs)) {
        let chars = typeof separator === 'string' ? separator.length * strs.length : 0
        for (const s of strs) chars += typeof s === 'string' ? s.length : 0
        if (chars > MAX_STRING_CHARS)
          throw limitError('BRIDGE01', `$join of ${chars} characters: more than ${MAX_STRING_CHARS}`)
      }
      return join.implementation.call(this, strs, separator)
    },
    join.signature?.definition,
  )
  return expression
}

/** Whether `ast` defines a function (a `lambda` node): the only way an expression loops or recurses. */
function definesFunction(ast: unknown): boolean {
  let found = false
  forEachNode(ast, (node) => {
    if (node.type === 'lambda') found = true
  })
  return found
}

/** A node of a JSONata syntax tree (`expression.ast()`), as far as the walks here read it. */
export interface AstNode {
  type?: unknown
  value?: unknown
}

/**
 * Calls `visit` on every node of the JSONata syntax tree `ast`, depth first: each object in it, found
 * through the values of its fields and the items of its arrays.
 */
export function forEachNode(ast: unknown, visit: (node: AstNode) => void): void {
  if (Array.isArray(ast)) {
    for (const item of ast) forEachNode(item, visit)
    return
  }
  if (ast === null || typeof ast !== 'object') return
  visit(ast as AstNode)
  for (const inner of Object.values(ast)) forEachNode(inner, visit)
}

/**
 * Why a value an expression gave is too large to go on: more than {@link MAX_STRING_CHARS} characters
 * in its strings (keys included) or more than {@link MAX_SEQUENCE} items in an array, counted over the
 * whole value before anything serialises it (an array of many references to one long string of the
 * event would serialise to far more than it holds); undefined when it is not.
 */
export function builtTooLarge(value: unknown): string | undefined {
  if (typeof value === 'string')
    return value.length > MAX_STRING_CHARS
      ? `gave a string of ${value.length} characters, more than ${MAX_STRING_CHARS}`
      : undefined
  if (value === null || typeof value !== 'object') return undefined
  let chars = 0
  const pending: unknown[] = [value]
  while (pending.length > 0) {
    const v = pending.pop()
    if (typeof v === 'string') chars += v.length
    else if (Array.isArray(v)) {
      if (v.length > MAX_SEQUENCE) return `gave an array of ${v.length} items, more than ${MAX_SEQUENCE}`
      for (const item of v) pending.push(item)
    } else if (v !== null && typeof v === 'object') {
      for (const [k, item] of Object.entries(v)) {
        chars += k.length
        pending.push(item)
      }
    }
    if (chars > MAX_STRING_CHARS) return `gave more than ${MAX_STRING_CHARS} characters of text`
  }
  return undefined
}

/** Cache of compiled patterns by source and flags: JSONata makes an engine per evaluation of a regex. */
const compiled = new Map<string, RE2JS>()

/**
 * A regular expression of a JSONata expression (`/…/i`, `/…/m`; JSONata adds `g`), run by re2js, a
 * JavaScript port of RE2: matching is linear in the input's length whatever the pattern, where a
 * backtracking `RegExp` can take exponential time on one unlucky input. What JSONata asks of its
 * `RegexEngine` (jsonata 2.2 `evaluateRegex`): `new Engine(regexp)` with the literal's `RegExp`, a
 * writable `lastIndex` where the search starts, and `exec(str)` giving the match, its `index` and its
 * groups (or null), moving `lastIndex` past the match.
 *
 * RE2's syntax is JavaScript's without backreferences and lookaheads ({@link regexProblem} reports
 * those at start-up). Indexes are UTF-16 code units, as JavaScript's.
 */
export class LinearRegExp {
  lastIndex = 0
  readonly #pattern: RE2JS

  /** @throws Error for a pattern RE2 cannot run (see {@link regexProblem}) */
  constructor(regexp: RegExp) {
    this.#pattern = compile(regexp)
  }

  /** The next match at or after `lastIndex`, as `RegExp.prototype.exec` gives it for a `g` pattern. */
  exec(input: string): RegExpExecArray | null {
    const start = this.lastIndex
    const matcher = this.#pattern.matcher(input)
    if (start > input.length || !matcher.find(start)) {
      this.lastIndex = 0
      return null
    }
    const groups: Array<string | undefined> = [matcher.group(0) ?? '']
    for (let i = 1; i <= matcher.groupCount(); i++) groups.push(matcher.group(i) ?? undefined)
    this.lastIndex = matcher.end()
    return Object.assign(groups, { index: matcher.start(), input }) as unknown as RegExpExecArray
  }
}

function compile(regexp: RegExp): RE2JS {
  const key = `${regexp.flags}/${regexp.source}`
  let pattern = compiled.get(key)
  if (pattern === undefined) {
    const flags = (regexp.ignoreCase ? RE2JS.CASE_INSENSITIVE : 0) | (regexp.multiline ? RE2JS.MULTILINE : 0)
    pattern = RE2JS.compile(RE2JS.translateRegExp(regexp.source), flags)
    compiled.set(key, pattern)
  }
  return pattern
}

/**
 * Why a regular expression of a mapping cannot run in linear time (a backreference such as `\1`, a
 * lookahead `(?=…)`, or other syntax RE2 lacks), for the start-up error; undefined when it can.
 */
export function regexProblem(regexp: RegExp): string | undefined {
  try {
    compile(regexp)
    return undefined
  } catch (err) {
    return `regular expression /${regexp.source}/ cannot run in linear time (RE2 syntax: no backreferences or lookarounds): ${(err as Error).message}`
  }
}
