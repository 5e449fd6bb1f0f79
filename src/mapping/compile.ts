import jsonata from 'jsonata'
import { BridgeError } from '../errors.ts'
import {
  DEFAULT_MAPPING_TIMEOUT_MS,
  forEachNode,
  guard,
  jsonataOptions,
  type MappingLimits,
  regexProblem,
} from './guardrails.ts'
import { describeJsonataError, Mapping } from './mapping.ts'
import { type MappingExpressions, readMappingFile } from './mapping-file.ts'
import { EXPECTED, type MappingKey, TARGET_NAMES, TARGETS, type ValueType } from './targets.ts'

/**
 * Reads and compiles `MAPPING_FILE` (src/mapping/mapping-file.ts, then {@link compileMapping}).
 * @param path the mapping file
 * @param problems receives one line per problem, each starting with `MAPPING_FILE: <path>: `
 * @param limits the bounds of one event's evaluation (`MAPPING_TIMEOUT_MS`; src/mapping/guardrails.ts)
 * @returns the compiled mapping, or undefined after pushing at least one problem
 */
export function loadMapping(
  path: string,
  problems: string[],
  limits: MappingLimits = { timeoutMs: DEFAULT_MAPPING_TIMEOUT_MS },
): Mapping | undefined {
  const own: string[] = []
  const expressions = readMappingFile(path, own)
  const mapping = expressions === undefined ? undefined : compileMapping(expressions, own, limits)
  for (const p of own) problems.push(`MAPPING_FILE: ${path}: ${p}`)
  return own.length === 0 ? mapping : undefined
}

/**
 * {@link loadMapping} for tools (the dry run, the bench).
 * @throws BridgeError `CONFIG_INVALID` listing every problem, one per line
 */
export function loadMappingOrThrow(path: string): Mapping {
  const problems: string[] = []
  const mapping = loadMapping(path, problems)
  if (mapping === undefined)
    throw new BridgeError('CONFIG_INVALID', `invalid mapping:\n  ${problems.join('\n  ')}`, {
      context: { problems },
    })
  return mapping
}

/**
 * Compiles every expression once (JSONata 2), and refuses a mapping that cannot work:
 *
 * - a syntax error, naming the field, the line and column within its expression, and JSONata's code;
 * - a required field (`externalId`, `url`, `fileName`) missing;
 * - a constant that is null or of the wrong type where a field needs another (e.g. `url: 42`), or a
 *   filter that is not a boolean or always `false`;
 * - a regular expression the linear-time engine cannot run (a backreference, a lookahead).
 *
 * Every expression is compiled with the bounds of src/mapping/guardrails.ts (time, depth, sequence and
 * string sizes, linear-time regular expressions): an event that meets one is that event's
 * `MAPPING_FAILED`.
 *
 * The fields' expressions are also joined into one object constructor, `{"externalId": (…), …}`, which
 * each event evaluates once (one evaluation rather than one per field); the single expressions serve
 * only to find which field failed when that evaluation throws.
 *
 * @param problems receives one line per problem, naming the field
 * @returns the mapping, or undefined after pushing at least one problem
 */
export function compileMapping(
  expressions: MappingExpressions,
  problems: string[],
  limits: MappingLimits = { timeoutMs: DEFAULT_MAPPING_TIMEOUT_MS },
): Mapping | undefined {
  const before = problems.length
  const options = jsonataOptions(limits)
  const compiled = new Map<MappingKey, jsonata.Expression>()
  for (const [field, source] of Object.entries(expressions) as Array<[MappingKey, string]>) {
    let expression: jsonata.Expression
    try {
      expression = guard(jsonata(source, options))
    } catch (err) {
      problems.push(`${field}: syntax error ${describeJsonataError(err, source)}`)
      continue
    }
    const problem = constantProblem(expression.ast(), field === 'filter' ? 'boolean' : TARGETS[field].type)
    if (problem !== undefined) problems.push(`${field}: ${problem}`)
    for (const regex of regexesOf(expression.ast())) {
      const unsupported = regexProblem(regex)
      if (unsupported !== undefined) problems.push(`${field}: ${unsupported}`)
    }
    compiled.set(field, expression)
  }
  for (const target of TARGET_NAMES) {
    if (TARGETS[target].required && expressions[target] === undefined)
      problems.push(`${target}: is required (every mapping gives externalId, url and fileName)`)
  }
  if (problems.length > before) return undefined

  const targets = TARGET_NAMES.filter((t) => expressions[t] !== undefined)
  // Each expression in a block of its own: its variables stay its own, and the text between the
  // parentheses is exactly the expression that compiled alone above.
  const entrySource = `{${targets.map((t) => `${JSON.stringify(t)}: (\n${expressions[t]}\n)`).join(',\n')}}`
  const variables = new Set<string>()
  for (const expression of compiled.values()) collectVariables(expression.ast(), variables)
  return new Mapping({
    expressions,
    filter: compiled.get('filter'),
    entry: guard(jsonata(entrySource, options)),
    single: new Map(targets.map((t) => [t, compiled.get(t) as jsonata.Expression])),
    variables,
  })
}

/**
 * The JSON type an expression always gives, whatever the event, with the literal itself when it is
 * one; undefined when the type depends on the event.
 */
function constantOf(ast: jsonata.ExprNode): { type: string; value?: unknown } | undefined {
  const node = ast as jsonata.ExprNode & { predicate?: unknown; stages?: unknown; group?: unknown }
  if (node.predicate !== undefined || node.stages !== undefined || node.group !== undefined) return undefined
  switch (node.type as string) {
    case 'string':
      return { type: 'string', value: node.value }
    case 'number':
      return { type: 'number', value: node.value }
    case 'value':
      return { type: node.value === null ? 'null' : 'boolean', value: node.value }
    case 'regex':
    case 'lambda':
      return { type: 'function' }
    case 'unary':
      if (node.value === '{') return { type: 'object' }
      return node.value === '[' ? { type: 'array' } : undefined
    case 'block': {
      const last = node.expressions?.at(-1)
      return last === undefined ? undefined : constantOf(last)
    }
    default:
      return undefined
  }
}

/** Why a constant expression cannot give a `type`, or undefined when it can (or is not constant). */
function constantProblem(ast: jsonata.ExprNode, type: ValueType): string | undefined {
  const constant = constantOf(ast)
  if (constant === undefined) return undefined
  if (type === 'boolean' && constant.value === false) return 'is always false: it would skip every event'
  const fits =
    constant.type === type ||
    (type === 'instant' && (constant.type === 'string' || constant.type === 'number'))
  if (fits) return undefined
  const quoteHint = type === 'string' ? ` (a text constant is quoted inside the expression: '"file"')` : ''
  const what =
    constant.type === 'null' ? 'null' : `${/^[aeiou]/.test(constant.type) ? 'an' : 'a'} ${constant.type}`
  return `is always ${what}, but must give ${EXPECTED[type]}${quoteHint}`
}

/** The regular expression literals of `ast` (JSONata parses each `/…/` into a `RegExp`, node type `regex`). */
function regexesOf(ast: unknown): RegExp[] {
  const regexes: RegExp[] = []
  forEachNode(ast, (node) => {
    if (node.type === 'regex' && node.value instanceof RegExp) regexes.push(node.value)
  })
  return regexes
}

/** Adds the names of every variable `ast` refers to (`$key` → `key`). */
function collectVariables(ast: unknown, into: Set<string>): void {
  forEachNode(ast, (node) => {
    if (node.type === 'variable' && typeof node.value === 'string') into.add(node.value)
  })
}
