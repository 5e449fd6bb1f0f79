/**
 * Converts Kubernetes' OpenAPI v2 document (`api/openapi-spec/swagger.json` of the k8s.io/kubernetes
 * module) and CustomResourceDefinitions (YAML or JSON) into the standalone, strict JSON schemas that
 * kubeconform reads, one file per kind and version, named as kubeconform's schema-location template
 * `{{ .ResourceKind }}{{ .KindSuffix }}.json` expects (e.g. `deployment-apps-v1.json`, `configmap-v1.json`,
 * `scaledobject-keda-v1alpha1.json`). Offline replacement for yannh/kubernetes-json-schema and the CRD
 * catalog, which kubeconform would fetch from GitHub.
 *
 * What "strict" adds, as openapi2jsonschema --strict does: every object schema that lists properties and
 * allows no others in Kubernetes gets `additionalProperties: false`, so a misspelt field fails. Also
 * `int-or-string` and Quantity accept a string or a number, as the API server does; CRD objects marked
 * `x-kubernetes-preserve-unknown-fields` stay open, `nullable` adds `null`.
 *
 * Usage: node scripts/deploy/k8s-json-schemas.ts --swagger swagger.json [--crd file.yaml ...] --out dir
 * Exit 1 with a message when an input is missing or has no kinds.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import { parseAllDocuments } from 'yaml'

type Schema = Record<string, unknown>

const DROP = new Set(['description', 'example', 'externalDocs'])

/** Rewrites one schema node (recursively) into strict draft-4 JSON schema; collects `$ref` targets. */
function strict(node: unknown, refs: Set<string>, crd: boolean): unknown {
  if (Array.isArray(node)) return node.map((n) => strict(n, refs, crd))
  if (node === null || typeof node !== 'object') return node
  const s = node as Schema
  const out: Schema = {}
  for (const [key, value] of Object.entries(s)) {
    if (DROP.has(key) || key.startsWith('x-kubernetes-')) continue
    if (key === 'properties' || key === 'patternProperties' || key === 'definitions') {
      const props: Schema = {}
      for (const [name, sub] of Object.entries(value as Schema)) props[name] = strict(sub, refs, crd)
      out[key] = props
    } else if (key === '$ref' && typeof value === 'string') {
      refs.add(value.replace('#/definitions/', ''))
      out[key] = value
    } else {
      out[key] = strict(value, refs, crd)
    }
  }
  const intOrString = s.format === 'int-or-string' || s['x-kubernetes-int-or-string'] === true
  if (intOrString) {
    delete out.type
    delete out.format
    out.oneOf = [{ type: 'string' }, { type: 'integer' }]
  }
  const open = s['x-kubernetes-preserve-unknown-fields'] === true
  if (s.properties !== undefined && s.additionalProperties === undefined && !open) {
    out.additionalProperties = false
  }
  if (crd && s.nullable === true && typeof out.type === 'string') out.type = [out.type, 'null']
  delete out.nullable
  return out
}

/** kubeconform's file name for a kind: `{{ .ResourceKind }}{{ .KindSuffix }}.json` (see its registry.go). */
function fileName(group: string, version: string, kind: string): string {
  const suffix = group === '' ? `-${version}` : `-${group.split('.')[0]}-${version}`
  return `${kind.toLowerCase()}${suffix}.json`.toLowerCase()
}

function apiVersion(group: string, version: string): string {
  return group === '' ? version : `${group}/${version}`
}

/** Pins `apiVersion` and `kind` of a root schema to the one kind it describes. */
function pinKind(root: Schema, group: string, version: string, kind: string): Schema {
  const props = { ...((root.properties as Schema | undefined) ?? {}) }
  props.apiVersion = { type: 'string', enum: [apiVersion(group, version)] }
  props.kind = { type: 'string', enum: [kind] }
  return { ...root, properties: props }
}

function fromSwagger(path: string, out: string): number {
  const doc = JSON.parse(readFileSync(path, 'utf8')) as { definitions: Record<string, Schema> }
  const converted = new Map<string, { schema: Schema; refs: Set<string> }>()
  for (const [name, def] of Object.entries(doc.definitions)) {
    const refs = new Set<string>()
    let schema = strict(def, refs, false) as Schema
    if (name === 'io.k8s.apimachinery.pkg.api.resource.Quantity') {
      schema = { oneOf: [{ type: 'string' }, { type: 'number' }] }
    }
    converted.set(name, { schema, refs })
  }
  let written = 0
  for (const [name, def] of Object.entries(doc.definitions)) {
    const gvks = def['x-kubernetes-group-version-kind'] as
      | Array<{ group: string; version: string; kind: string }>
      | undefined
    if (gvks === undefined) continue
    // Only the definitions reachable from this kind, so each file stands alone.
    const reachable = new Set<string>()
    const stack = [...(converted.get(name)?.refs ?? [])]
    while (stack.length > 0) {
      const ref = stack.pop() as string
      if (reachable.has(ref)) continue
      reachable.add(ref)
      stack.push(...(converted.get(ref)?.refs ?? []))
    }
    const definitions: Schema = {}
    for (const ref of [...reachable].sort()) definitions[ref] = converted.get(ref)?.schema
    for (const { group, version, kind } of gvks) {
      const root = pinKind(converted.get(name)?.schema as Schema, group, version, kind)
      const file = {
        $schema: 'http://json-schema.org/draft-04/schema#',
        ...root,
        definitions,
      }
      writeFileSync(join(out, fileName(group, version, kind)), JSON.stringify(file))
      written++
    }
  }
  return written
}

function fromCrd(path: string, out: string): number {
  const text = readFileSync(path, 'utf8')
  const docs = path.endsWith('.json') ? [JSON.parse(text)] : parseAllDocuments(text).map((d) => d.toJS())
  let written = 0
  for (const crd of docs) {
    if (crd?.kind !== 'CustomResourceDefinition') continue
    const { group, names, versions } = crd.spec as {
      group: string
      names: { kind: string }
      versions: Array<{ name: string; schema?: { openAPIV3Schema?: Schema } }>
    }
    for (const v of versions) {
      const openApi = v.schema?.openAPIV3Schema
      if (openApi === undefined) continue
      const root = pinKind(strict(openApi, new Set(), true) as Schema, group, v.name, names.kind)
      const file = { $schema: 'http://json-schema.org/draft-04/schema#', ...root }
      writeFileSync(join(out, fileName(group, v.name, names.kind)), JSON.stringify(file))
      written++
    }
  }
  return written
}

const { values } = parseArgs({
  options: {
    swagger: { type: 'string' },
    crd: { type: 'string', multiple: true, default: [] },
    out: { type: 'string' },
  },
})
if (values.swagger === undefined || values.out === undefined) {
  process.stderr.write('usage: k8s-json-schemas.ts --swagger swagger.json [--crd crd.yaml ...] --out dir\n')
  process.exit(1)
}
mkdirSync(values.out, { recursive: true })
const kinds = fromSwagger(values.swagger, values.out)
let crds = 0
for (const file of values.crd ?? []) {
  const n = fromCrd(file, values.out)
  if (n === 0) {
    process.stderr.write(`k8s-json-schemas: no CustomResourceDefinition with a schema in ${file}\n`)
    process.exit(1)
  }
  crds += n
}
if (kinds === 0) {
  process.stderr.write(`k8s-json-schemas: no kinds in ${values.swagger}\n`)
  process.exit(1)
}
process.stdout.write(`k8s-json-schemas: ${kinds} Kubernetes kinds, ${crds} CRD versions -> ${values.out}\n`)
