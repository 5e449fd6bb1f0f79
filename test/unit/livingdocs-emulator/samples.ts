// Small, real file contents for the emulator's tests: each starts with its format's signature, so the
// emulator's MIME sniffing (file-type) and image-size read them as the real thing. PDF, PNG and MP4 are
// test/support/sample-files.ts's, with defaults.
import { mp4 as sampleMp4, pdf as samplePdf, png as samplePng } from '../../support/sample-files.ts'

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

/** A PDF showing `text` (so two PDFs can differ): test/support/sample-files.ts `pdf`. */
export const pdf = (text = 'hello'): Buffer => samplePdf(text)

/** A PNG of `width` × `height`: test/support/sample-files.ts `png`, the pixels seeded by `seed`. */
export const png = (width: number, height: number, seed = 0): Buffer => samplePng(width, height, seed)

/** The start of an MP4 file (`ftyp`, then `mdat`): test/support/sample-files.ts `mp4`, seeded by `seed`. */
export const mp4 = (seed = 0): Buffer => sampleMp4(seed)
