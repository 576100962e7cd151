import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { classifyKernel, KERNEL_CLASSES, parseTrace, splitBursts, summariseTrace } from './kernel-trace.ts';
import { kernelTraceCli } from './kernel-trace-cli.ts';

// A synthetic trace in kernel-trace.c's format, on CUPTI's clock (ns near 1.7e18, past 2^53): session set-up, a
// first warm-up forward inflated by algorithm search, a second warm-up, three timed forwards, a tail.

const GEMM = 'sm90_xmma_gemm_f16f16_f16f32_f32_tn_n_tilesize128x128x64_warpgroupsize1x1x1_execute_kernel';
const NVJET = 'nvjet_hsh_256x128_64x4_1x2_h_bz_coopA_NNT';
const CONV = 'sm90_xmma_fprop_implicit_gemm_f16f16_f16f32_f32_nhwckrsc_nhwc_tilesize128x128x64_cga1x1x1';
const FLASH =
  'void onnxruntime::contrib::cuda::flash::flash_fwd_kernel<Flash_fwd_kernel_traits<64, 128, 64, 4>>(Params)';
const GN = 'void onnxruntime::contrib::cuda::GroupNormNHWCScaleKernel<__half>(GroupNormNHWCParams<__half>)';
const LN = 'void onnxruntime::cuda::cuApplyLayerNorm<__half, float, __half, false>(__half*, float*, int, int)';
const ADD =
  'void onnxruntime::cuda::_BinaryElementWiseSimple<true, true, __half, __half, __half, OP_Add<__half>, 256, 4>';

// [name, duration us, stream]; the stream-2 flash kernel starts OVERLAP_US before the GEMM before it ends
const OVERLAP_US = 150;
const FORWARD: [string, number, number][] = [
  ['[memcpy HtoD]', 100, 7],
  [GEMM, 300, 7],
  [GEMM, 300, 7],
  [FLASH, 250, 7],
  [GEMM, 300, 7],
  [FLASH, 250, 2],
  [NVJET, 200, 7],
  [CONV, 400, 7],
  [CONV, 400, 7],
  [GN, 50, 7],
  [GN, 50, 7],
  [LN, 40, 7],
  ...Array.from({ length: 5 }, (): [string, number, number] => [ADD, 10, 7]),
  ['[memcpy DtoH]', 80, 7],
];
const ORIGIN = 1_760_000_000_000_000_000n;
const US = 1000n;
const LAUNCH_GAP = 2n * US; // kernels of one forward follow each other 2 us apart

function traceText(): string {
  const lines = ['# sdflow-ktrace 1 pid=1 cupti_api=130001 kernel_record=CUpti_ActivityKernel10'];
  let t = ORIGIN;
  const rec = (start: bigint, us: number, stream: number, name: string) => {
    lines.push(`${start}\t${start + BigInt(us) * US}\t${stream}\t${name}`);
    t = start + BigInt(us) * US + LAUNCH_GAP;
  };
  const forward = (searchGemms: number) => {
    const extra = Array.from({ length: searchGemms }, (): [string, number, number] => [GEMM, 300, 7]);
    for (const [name, us, stream] of [...extra, ...FORWARD]) {
      rec(stream === 2 ? t - LAUNCH_GAP - BigInt(OVERLAP_US) * US : t, us, stream, name);
    }
    t += 5_000n * US; // the host's turn between forwards: 5 ms
  };
  rec(t, 5, 7, '[memset]');
  t += 3_000n * US;
  forward(30); // first warm-up with algorithm search: about 4x a forward
  for (let i = 0; i < 4; i++) forward(0);
  rec(t, 20, 7, '[memcpy DtoH]');
  lines.push('# end kernels=0 memcpys=0 memsets=0 untimed=0 dropped=0 flush=0');
  return `${lines.join('\n')}\n`;
}

const expectedUs = (cls: string) => FORWARD.filter(([n]) => classifyKernel(n) === cls).reduce((a, [, us]) => a + us, 0);

describe('kernel trace summary', () => {
  it('classifies kernel names', () => {
    expect(classifyKernel(GEMM)).toBe('gemm');
    expect(classifyKernel(NVJET)).toBe('gemm');
    expect(
      classifyKernel('void cutlass::Kernel2<cutlass_80_tensorop_f16_s16816gemm_relu_f16_64x64_32x6_nn_align8>'),
    ).toBe('gemm');
    expect(classifyKernel('void cublasLt::splitKreduce_kernel<32, 16, int, __half>')).toBe('gemm');
    expect(classifyKernel(CONV)).toBe('conv');
    expect(classifyKernel('void cudnn::engines_precompiled::nchwToNhwcKernel<__half>(...)')).toBe('conv');
    expect(classifyKernel(FLASH)).toBe('attention');
    expect(classifyKernel('fmha_cutlassF_f16_aligned_64x64_rf_sm80(PyTorchMemEffAttention::AttentionKernel)')).toBe(
      'attention',
    );
    expect(classifyKernel(GN)).toBe('group norm');
    expect(classifyKernel(LN)).toBe('layer norm');
    expect(classifyKernel('[memcpy HtoD]')).toBe('memcpy/memset');
    expect(classifyKernel(ADD)).toBe('elementwise/other');
  });

  it('parses exact ns past 2^53 and skips comments and malformed lines', () => {
    const t = parseTrace(
      `# h\n${ORIGIN + 7n}\t${ORIGIN + 10n}\t3\tk a\tb\nbad line\n${ORIGIN}\t${ORIGIN + 1n}\t1\tfirst\r\n1\t0\t1\tbackwards\n# end dropped=4 flush=0\n`,
    );
    expect(t.records).toEqual([
      { start: 0, end: 1, stream: 1, name: 'first' },
      { start: 7, end: 10, stream: 3, name: 'k a\tb' },
    ]);
    expect(t.malformed).toBe(2);
    expect(t.header).toBe('h');
    expect(t.end).toEqual({ dropped: '4', flush: '0' });
  });

  it('splits forwards at GPU gaps, picks the timed ones and sums per class', () => {
    const trace = parseTrace(traceText());
    const bursts = splitBursts(trace.records, 1e6);
    // set-up memset, 2 warm-ups, 3 timed forwards, tail
    expect(bursts.map((b) => b.records.length)).toEqual([1, 48, 18, 18, 18, 18, 1]);
    const r = summariseTrace(trace, { gapMs: 1, forwards: 3, top: 30 });
    expect(r.bursts).toHaveLength(7);
    expect(r.selected).toEqual([3, 4, 5]);
    expect(r.warnings).toEqual([]);
    const sumUs = FORWARD.reduce((a, [, us]) => a + us, 0);
    for (const f of r.perForward) {
      expect(f.records).toBe(18);
      expect(f.sumMs).toBeCloseTo(sumUs / 1000, 9);
      // the overlapping flash kernel counts once in busy time; 2 us launch gaps are idle
      expect(f.busyMs).toBeCloseTo((sumUs - OVERLAP_US) / 1000, 9);
      // one 2 us gap between each pair of records but the overlapping pair
      expect(f.wallMs).toBeCloseTo((sumUs - OVERLAP_US + 2 * (FORWARD.length - 2)) / 1000, 9);
    }
    const cls = Object.fromEntries(r.classes.map((c) => [c.class, c]));
    expect(Object.keys(cls)).toEqual([...KERNEL_CLASSES]);
    expect(cls.gemm!.ms).toBeCloseTo(expectedUs('gemm') / 1000, 9);
    expect(cls.gemm!.count).toBe(4);
    expect(cls.conv!.ms).toBeCloseTo(expectedUs('conv') / 1000, 9);
    expect(cls.attention!.ms).toBeCloseTo(expectedUs('attention') / 1000, 9);
    expect(cls.attention!.count).toBe(2);
    expect(cls['group norm']!.ms).toBeCloseTo(0.1, 9);
    expect(cls['layer norm']!.ms).toBeCloseTo(0.04, 9);
    expect(cls['memcpy/memset']!.ms).toBeCloseTo(0.18, 9);
    expect(cls['elementwise/other']!.ms).toBeCloseTo(0.05, 9);
    expect(cls['elementwise/other']!.count).toBe(5);
    expect(r.classes.reduce((a, c) => a + c.ms, 0)).toBeCloseTo(sumUs / 1000, 9);
    expect(r.classes.reduce((a, c) => a + c.share, 0)).toBeCloseTo(1, 9);
    expect(r.top.map((k) => k.name).slice(0, 3)).toEqual([GEMM, CONV, FLASH]);
    expect(r.top[0]).toMatchObject({ count: 3, class: 'gemm' });
    expect(r.top[0]!.ms).toBeCloseTo(0.9, 9);
  });

  it('warns when the gap threshold merges the forwards', () => {
    const r = summariseTrace(parseTrace(traceText()), { gapMs: 10, forwards: 3, top: 5 });
    expect(r.bursts).toHaveLength(1);
    expect(r.warnings.join(' ')).toMatch(/only 1 of 3 forwards/);
  });

  it('reads a gzipped trace, writes JSON and prints the table', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sdflow-ktrace-'));
    const file = path.join(dir, 'kernels.tsv.gz');
    writeFileSync(file, gzipSync(traceText()));
    let printed = '';
    const json = path.join(dir, 'k.json');
    const { code } = kernelTraceCli([file, '--forwards', '3', '--json', json], (t) => {
      printed += t;
    });
    expect(code).toBe(0);
    expect(JSON.parse(readFileSync(json, 'utf8')).selected).toEqual([3, 4, 5]);
    expect(printed).toMatch(/7 bursts at GPU gaps >= 1 ms/);
    expect(printed).toMatch(/timed forwards: bursts #3 #4 #5/);
    expect(printed).toContain(GEMM);
    const { code: bad } = kernelTraceCli([], () => {});
    expect(bad).toBe(2);
  });
});
