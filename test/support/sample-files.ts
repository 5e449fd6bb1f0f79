import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { crc32, deflateSync } from 'node:zlib'

/** A file the project made for the demo and tests. */
export interface SampleFile {
  /** File name inside the folder, e.g. `image-0007.png`. */
  name: string
  contentType: 'image/png' | 'application/pdf' | 'video/mp4'
  bytes: number
}

/**
 * Writes `images` PNG pictures, `pdfs` one-page PDF documents and `videos` MP4 containers into `dir`,
 * each different (size, colours, text, payload), so that Livingdocs (the emulator) sees distinct content
 * per file.
 * @returns the files written: images, then PDFs, then videos
 */
export async function writeSampleFiles(
  dir: string,
  counts: { images: number; pdfs: number; videos?: number },
): Promise<SampleFile[]> {
  await mkdir(dir, { recursive: true })
  const files: SampleFile[] = []
  for (let i = 0; i < counts.images; i++) {
    const name = `image-${String(i).padStart(4, '0')}.png`
    const data = png(48 + (i % 5) * 16, 32 + (i % 3) * 16, i)
    await writeFile(join(dir, name), data)
    files.push({ name, contentType: 'image/png', bytes: data.length })
  }
  for (let i = 0; i < counts.pdfs; i++) {
    const name = `document-${String(i).padStart(4, '0')}.pdf`
    const data = pdf(`Legacy archive document ${i}`)
    await writeFile(join(dir, name), data)
    files.push({ name, contentType: 'application/pdf', bytes: data.length })
  }
  for (let i = 0; i < (counts.videos ?? 0); i++) {
    const name = `video-${String(i).padStart(4, '0')}.mp4`
    const data = mp4(i)
    await writeFile(join(dir, name), data)
    files.push({ name, contentType: 'video/mp4', bytes: data.length })
  }
  return files
}

/**
 * An MP4 file (ISO/IEC 14496-12): an `ftyp` box naming the `isom` brand, then an `mdat` box of
 * `seed`-dependent bytes. No tracks: enough for a MIME type sniffed from the bytes (`video/mp4`), not a
 * playable clip.
 */
export function mp4(seed: number): Buffer {
  const box = (type: string, payload: Buffer) => {
    const head = Buffer.alloc(8)
    head.writeUInt32BE(8 + payload.length, 0)
    head.write(type, 4, 'latin1')
    return Buffer.concat([head, payload])
  }
  const ftyp = box('ftyp', Buffer.from('isom\u0000\u0000\u0002\u0000isomiso2mp41', 'latin1'))
  const payload = Buffer.alloc(256 + (seed % 7) * 32)
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 31 + seed * 17) & 0xff
  return Buffer.concat([ftyp, box('mdat', payload)])
}

/** A truecolour PNG (RFC 2083) of `width` x `height` with a gradient seeded by `seed`. */
export function png(width: number, height: number, seed: number): Buffer {
  const raw = Buffer.alloc((width * 3 + 1) * height)
  for (let y = 0; y < height; y++) {
    const row = y * (width * 3 + 1)
    raw[row] = 0 // filter: none
    for (let x = 0; x < width; x++) {
      const p = row + 1 + x * 3
      raw[p] = (x * 5 + seed * 37) & 0xff
      raw[p + 1] = (y * 7 + seed * 11) & 0xff
      raw[p + 2] = (x * y + seed * 3) & 0xff
    }
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(width, 0)
  ihdr.writeUInt32BE(height, 4)
  ihdr.set([8, 2, 0, 0, 0], 8) // 8-bit RGB, deflate, no filter method, no interlace
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(raw)),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

function chunk(type: string, data: Buffer): Buffer {
  const head = Buffer.alloc(8)
  head.writeUInt32BE(data.length, 0)
  head.write(type, 4, 'latin1')
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), data])), 0)
  return Buffer.concat([head, data, crc])
}

/** A one-page PDF 1.4 document showing `text`, with a correct cross-reference table. */
export function pdf(text: string): Buffer {
  const escaped = text.replace(/[\\()]/g, (c) => `\\${c}`)
  const stream = `BT /F1 18 Tf 72 720 Td (${escaped}) Tj ET`
  const objects = [
    '<< /Type /Catalog /Pages 2 0 R >>',
    '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${Buffer.byteLength(stream)} >>\nstream\n${stream}\nendstream`,
    '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>',
  ]
  let body = '%PDF-1.4\n'
  const offsets: number[] = []
  objects.forEach((obj, i) => {
    offsets.push(Buffer.byteLength(body))
    body += `${i + 1} 0 obj\n${obj}\nendobj\n`
  })
  const xref = Buffer.byteLength(body)
  body += `xref\n0 ${objects.length + 1}\n0000000000 65535 f \n`
  for (const o of offsets) body += `${String(o).padStart(10, '0')} 00000 n \n`
  body += `trailer\n<< /Size ${objects.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`
  return Buffer.from(body, 'latin1')
}
