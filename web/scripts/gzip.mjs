// Post-build: writes "<file>.gz" (gzip -9) beside every compressible file in the given directory,
// so nuanxin's static handler can send the precompressed copy to clients that accept gzip.
// Files smaller than 1 KiB or that do not shrink are left alone. Usage: node scripts/gzip.mjs dist
import { readdirSync, readFileSync, writeFileSync, statSync, unlinkSync } from 'node:fs'
import { join } from 'node:path'
import { gzipSync, constants } from 'node:zlib'

const exts = /\.(js|mjs|css|html|svg|json|txt|map)$/
let files = 0, before = 0, after = 0

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name)
    const st = statSync(p)
    if (st.isDirectory()) { walk(p); continue }
    if (name.endsWith('.gz')) { unlinkSync(p); continue }
    if (!exts.test(name) || st.size < 1024) continue
    const raw = readFileSync(p)
    const gz = gzipSync(raw, { level: constants.Z_BEST_COMPRESSION })
    if (gz.length >= raw.length) continue
    writeFileSync(p + '.gz', gz)
    files++; before += raw.length; after += gz.length
  }
}

const root = process.argv[2] || 'dist'
walk(root)
console.log(`gzip: ${files} files, ${(before / 1024).toFixed(1)} KiB -> ${(after / 1024).toFixed(1)} KiB`)
