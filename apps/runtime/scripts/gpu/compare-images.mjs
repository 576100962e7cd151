// Compares the newest images of two workflows' outputs (same seed and prompt, other settings), pixel by pixel:
// node compare-images.mjs <dir> <prefixA> <prefixB> [count]. Resolves sharp from /opt/sdflow's node_modules.
import { readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const [dir, a, b, count = '4'] = process.argv.slice(2);
const sharp = createRequire(path.join(process.env.SDFLOW_GPU_ROOT ?? '/opt', 'sdflow', 'x.js'))('sharp');
const newest = (prefix) =>
  readdirSync(dir)
    .filter((f) => f.startsWith(`${prefix}_`) && f.endsWith('.png'))
    .sort()
    .slice(-Number(count));
const [fa, fb] = [newest(a), newest(b)];
if (fa.length === 0 || fa.length !== fb.length) throw new Error(`${a}: ${fa.length} images, ${b}: ${fb.length}`);
for (const [i, f] of fa.entries()) {
  const [x, y] = await Promise.all([f, fb[i]].map((n) => sharp(path.join(dir, n)).raw().toBuffer()));
  let sum = 0;
  let max = 0;
  for (let k = 0; k < x.length; k++) {
    const d = Math.abs(x[k] - y[k]);
    sum += d;
    if (d > max) max = d;
  }
  console.log(`${f} vs ${fb[i]}: mean |diff| ${(sum / x.length).toFixed(3)} of 255, max ${max}`);
}
