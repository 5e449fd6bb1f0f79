// Small, real file contents for the emulator's tests: each starts with its format's signature, so the
// emulator's MIME sniffing (file-type) and image-size read them as the real thing.
import { crc32, deflateSync } from 'node:zlib'

const pngChunk = (type: string, data: Buffer): Buffer => {
  const length = Buffer.alloc(4)
  length.writeUInt32BE(data.length)
  const typed = Buffer.concat([Buffer.from(type, 'latin1'), data])
  const crc = Buffer.alloc(4)
  crc.writeUInt32BE(crc32(typed))
  return Buffer.concat([length, typed, crc])
}

/** A valid grayscale PNG of `width` × `height` black pixels (PNG spec: signature, IHDR, IDAT, IEND). */
export const png = (width: number, height: number): Buffer => {
  const header = Buffer.alloc(13)
  header.writeUInt32BE(width, 0)
  header.writeUInt32BE(height, 4)
  header[8] = 8 // bit depth; colour type 0 (grayscale), compression, filter, interlace all 0
  const rows = Buffer.alloc((width + 1) * height) // each row: filter byte 0, then the pixels
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(rows)),
    pngChunk('IEND', Buffer.alloc(0)),
  ])
}

/** A GIF89a header of `width` × `height` (logical screen descriptor and one image descriptor). */
export const gif = (width: number, height: number): Buffer => {
  const size = Buffer.alloc(4)
  size.writeUInt16LE(width, 0)
  size.writeUInt16LE(height, 2)
  return Buffer.concat([
    Buffer.from('GIF89a', 'latin1'),
    size,
    Buffer.from([0, 0, 0, 0x2c, 0, 0, 0, 0]),
    size,
    Buffer.from([0, 2, 0, 0x3b]),
  ])
}

/** A JPEG skeleton of `width` × `height`: SOI, a JFIF APP0, a baseline SOF0 frame header, EOI. */
export const jpeg = (width: number, height: number): Buffer => {
  const frame = Buffer.from([0xff, 0xc0, 0x00, 0x0b, 0x08, 0, 0, 0, 0, 0x01, 0x01, 0x11, 0x00])
  frame.writeUInt16BE(height, 5)
  frame.writeUInt16BE(width, 7)
  return Buffer.concat([
    Buffer.from('ffd8ffe000104a46494600010100000100010000', 'hex'),
    frame,
    Buffer.from([0xff, 0xd9]),
  ])
}

/** An SVG document (XML text) of `width` × `height`. */
export const svg = (width: number, height: number): Buffer =>
  Buffer.from(
    `<?xml version="1.0" encoding="UTF-8"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}"><rect width="1" height="1"/></svg>\n`,
  )

/** A minimal PDF whose body text is `text` (so two PDFs can differ). */
export const pdf = (text = 'hello'): Buffer =>
  Buffer.from(`%PDF-1.4\n1 0 obj\n<< /Title (${text}) >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n`)

/** The start of an MP4 file: an `ftyp` box (brand isom), then `tag` so two videos can differ. */
export const mp4 = (tag = 'a'): Buffer =>
  Buffer.concat([
    Buffer.from('0000001866747970', 'hex'),
    Buffer.from('isom', 'latin1'),
    Buffer.from('00000200', 'hex'),
    Buffer.from('isomiso2', 'latin1'),
    Buffer.from(`0000000866726565${Buffer.from(tag).toString('hex')}`, 'hex'),
  ])
