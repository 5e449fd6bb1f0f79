import type { Progress } from '../progress/progress.ts'
import type { AdminStatus } from './admin-views.ts'
import type { RecentCounts } from './recent-outcomes.ts'

/** The page's path under `/admin` (`GET /admin/`). */
export const STATUS_PAGE_PATH = '/'

/** How often the page asks for a fresh fragment, ms. */
const PAGE_REFRESH_MS = 3000

/** Escapes text for HTML element content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** A duration in words: `42 s`, `7 min`, `3 h 05 min`, `2 d 04 h`. */
export function durationText(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000))
  if (s < 60) return `${s} s`
  if (s < 3600) return `${Math.round(s / 60)} min`
  if (s < 86_400)
    return `${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} min`
  return `${Math.floor(s / 86_400)} d ${String(Math.floor((s % 86_400) / 3600)).padStart(2, '0')} h`
}

/** A progress bar of `done` out of `total`, with its ETA. */
function bar(
  label: string,
  p: { done: number; total: number; behind: number; etaSeconds: number | null },
): string {
  const pct = p.total === 0 ? 100 : Math.floor((p.done / p.total) * 1000) / 10
  const eta =
    p.behind === 0
      ? 'done'
      : p.etaSeconds === null
        ? 'ETA unknown'
        : `ETA ${durationText(p.etaSeconds * 1000)}`
  return `<tr><th>${escapeHtml(label)}</th><td><progress max="100" value="${pct}">${pct}%</progress></td>
<td class="num">${pct}%</td><td class="num">${p.done} / ${p.total}</td><td>${p.behind} behind, ${eta}</td></tr>`
}

/**
 * The page's live part, rendered on the server for `GET /admin/fragment`: the pause and holds, progress
 * bars and ETA per partition and overall (the whole group's, `progress`; absent before the first
 * reading or with `LAG_INTERVAL_MS=0`), the files of the last hour by state and FAILED reason (this
 * replica's), and the jobs in flight with their age, oldest first. Every value is escaped.
 */
export function statusFragment(
  status: AdminStatus,
  extras: { progress: Progress | null; recent: RecentCounts | null; now: number },
): string {
  const { pause } = status
  const pauseHtml = pause.paused
    ? `<p class="paused" id="pause-state" data-paused="true">Paused for ${durationText(extras.now - pause.at)}: ${escapeHtml(pause.reason)} <small>(by ${escapeHtml(pause.by)})</small></p>`
    : `<p class="running" id="pause-state" data-paused="false">Running${pause.at > 0 ? ` <small>(resumed: ${escapeHtml(pause.reason)})</small>` : ''}</p>`
  const holds =
    status.holds.length === 0
      ? '<p>No hold.</p>'
      : `<ul>${status.holds.map((h) => `<li>${escapeHtml(h)}</li>`).join('')}</ul>`
  const progress =
    extras.progress === null
      ? "<p>No reading of the group's progress yet.</p>"
      : `<table id="progress">${bar('all partitions', extras.progress.total)}${extras.progress.partitions
          .map((p) => bar(`partition ${p.partition}`, p))
          .join('')}</table>`
  const recent =
    extras.recent === null
      ? ''
      : `<table id="recent"><tr><th>state</th><th>files</th></tr>${Object.entries(extras.recent.byState)
          .map(
            ([s, n]) =>
              `<tr><td>${escapeHtml(s)}</td><td class="num" data-state="${escapeHtml(s)}">${n}</td></tr>`,
          )
          .join('')}${Object.entries(extras.recent.failedByReason)
          .map(([r, n]) => `<tr><td>FAILED: ${escapeHtml(r)}</td><td class="num">${n}</td></tr>`)
          .join('')}</table>`
  const jobs =
    status.jobs.length === 0
      ? '<p id="jobs">No job in flight.</p>'
      : `<table id="jobs"><tr><th>job</th><th>batch</th><th>files</th><th>age</th><th>state</th><th>attempts</th></tr>${status.jobs
          .map(
            (j) =>
              `<tr><td>${escapeHtml(j.jobId)}</td><td>${escapeHtml(j.batchId)}</td><td class="num">${j.files}</td><td>${durationText(j.ageMs)}</td><td>${j.state}</td><td class="num">${j.attempts}</td></tr>`,
          )
          .join('')}</table>`
  return `${pauseHtml}
<h2>Holds</h2>${holds}
<h2>Progress (the whole consumer group)</h2>${progress}
<h2>Files of the last hour (this replica)</h2>${recent}
<h2>This replica</h2><p>Partitions ${status.partitions.join(', ') || 'none'}; ${status.filesInFlight} files in flight (${status.bytesInFlight} bytes); ${status.batchesQueued} batches waiting to be submitted.</p>
<h2>Jobs in flight</h2>${jobs}`
}

/**
 * The status page (`GET /admin/`): one HTML document, no front-end build, no data and no secret in it.
 * Its script asks for the token once, keeps it in the tab's `sessionStorage` only, fetches the live part
 * (`fragment`, rendered on the server) every {@link PAGE_REFRESH_MS} with `Authorization: Bearer`, and
 * posts pause and resume (with a reason) to the admin API. Relative URLs: it works behind a path prefix.
 */
export function statusPage(): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>file-import-bridge</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font-family:system-ui,sans-serif;margin:1.5rem;max-width:60rem;color:#222}
table{border-collapse:collapse}td,th{padding:.2rem .6rem;text-align:left;border-bottom:1px solid #ddd}
.num{text-align:right;font-variant-numeric:tabular-nums}progress{width:14rem}
.paused{background:#fff3cd;padding:.5rem;border:1px solid #e0b000}.running{background:#e7f6e7;padding:.5rem}
#error{color:#b00}
</style></head>
<body><h1>file-import-bridge</h1>
<form id="login" hidden><label>Admin token <input id="token" type="password" autocomplete="off"></label> <button>Show</button></form>
<div id="controls" hidden><label>Reason <input id="reason" size="40"></label>
<button id="pause" type="button">Pause every replica</button> <button id="resume" type="button">Resume</button></div>
<p id="error" role="alert"></p>
<main id="live"></main>
<script>
const KEY = 'file-import-bridge.admin-token'
const $ = (id) => document.getElementById(id)
const auth = () => ({ authorization: 'Bearer ' + sessionStorage.getItem(KEY) })
function showLogin(message) {
  $('login').hidden = false; $('controls').hidden = true; $('error').textContent = message || ''
}
async function refresh() {
  if (!sessionStorage.getItem(KEY)) return showLogin()
  try {
    const res = await fetch('fragment', { headers: auth(), cache: 'no-store' })
    if (res.status === 401) { sessionStorage.removeItem(KEY); return showLogin('The token was refused.') }
    if (!res.ok) throw new Error('status ' + res.status)
    $('live').innerHTML = await res.text(); $('login').hidden = true; $('controls').hidden = false; $('error').textContent = ''
  } catch (err) { $('error').textContent = 'Cannot reach the bridge: ' + err.message }
}
async function change(action) {
  const reason = $('reason').value.trim()
  if (!reason) { $('error').textContent = 'Give a reason first.'; return }
  const res = await fetch(action, { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ reason }) })
  $('error').textContent = res.ok ? '' : action + ' failed: ' + res.status
  await refresh()
}
$('login').addEventListener('submit', (e) => { e.preventDefault(); sessionStorage.setItem(KEY, $('token').value); $('token').value = ''; refresh() })
$('pause').addEventListener('click', () => change('pause'))
$('resume').addEventListener('click', () => change('resume'))
refresh(); setInterval(refresh, ${PAGE_REFRESH_MS})
</script></body></html>
`
}
