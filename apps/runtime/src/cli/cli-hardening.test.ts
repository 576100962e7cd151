import { spawn } from 'node:child_process';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { ortNativeDir } from '../onnx/cuda-provider.ts';

// The real `sdflow` command on the audit's findings: unusable output folders fail at once (exit 2) before any work,
// user errors carry no stack, CUDA without its provider is one line, and every command answers --help.

const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url));
const bin = path.join(repoRoot, 'apps/runtime/bin/sdflow.mjs');
const textToImage = path.join(repoRoot, 'workflows/text-to-image.workflow.json');
const tmp = mkdtempSync(path.join(tmpdir(), 'sdflow-cli-hard-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function sdflow(args: string[], timeoutMs = 30_000): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [bin, ...args], { cwd: tmp, env: { ...process.env, SDFLOW_BACKEND: '' } });
    let stdout = '';
    let stderr = '';
    // The /proc case used to spin forever: a hung process fails the test instead of hanging it.
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

describe('sdflow run: unusable output folders', () => {
  it.each([
    ['/proc/x', /--out \/proc\/x: cannot create \/proc\/x/],
    ['/etc/hostname/sub', /--out \/etc\/hostname\/sub: \/etc\/hostname is a file, not a folder/],
  ])('--out %s fails at once with exit 2 and one clear line, no stack', async (out, message) => {
    const started = Date.now();
    const r = await sdflow(['run', textToImage, '--out', out, '--set', 'denoise.steps=1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(r.stderr.trim().split('\n')).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('an unwritable output folder is found before the pipeline runs', async () => {
    // /sys refuses new files even to root (a plain folder would not, under CI's root user)
    const r = await sdflow(['run', textToImage, '--out', '/sys', '--set', 'denoise.steps=1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /^sdflow run: --out \/sys: cannot write there \((permission denied|read-only file system)\)\n$/,
    );
  });
});

describe('sdflow run: a failing run', () => {
  it('says "run failed" once, without a stack', async () => {
    const file = path.join(tmp, 'missing-latent.workflow.json');
    const workflow = {
      version: 1,
      nodes: {
        model: { type: 'loadModel', params: { model: 'default', device: 'cpu' }, inputs: {} },
        load: { type: 'loadLatent', params: { file: 'missing.latent.safetensors' }, inputs: {} },
        decode: {
          type: 'vaeDecode',
          params: {},
          inputs: { vae: { node: 'model', output: 'vae' }, latent: { node: 'load', output: 'latent' } },
        },
        save: { type: 'saveImage', params: {}, inputs: { image: { node: 'decode', output: 'image' } } },
      },
    };
    writeFileSync(file, JSON.stringify(workflow));
    const r = await sdflow(['run', file, '--out', path.join(tmp, 'failing')], 120_000);
    expect(r.code).toBe(1);
    const report = JSON.parse(readFileSync(/report: (.*)/.exec(r.stdout)![1]!, 'utf8'));
    expect(report).toMatchObject({ status: 'failed', failedNode: 'load' });
    expect(r.stderr.match(/run failed/g)).toEqual(['run failed']);
    expect(r.stderr).toContain('no file "missing.latent.safetensors" in the output folder');
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });
});

describe('sdflow validate and run: models', () => {
  it('name a missing model with the available ones, and a size the VAE cannot make; nothing runs', async () => {
    const out = path.join(tmp, 'model-out');
    const [missing, validateMissing, size] = await Promise.all([
      sdflow(['run', textToImage, '--out', out, '--set', 'model.model="nonexistent"']),
      sdflow(['validate', textToImage, '--models', path.join(tmp, 'no-models')]),
      sdflow(['run', textToImage, '--out', out, '--set', 'latent.height=100']),
    ]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain(
      'node "model" (loadModel): param "model": no model "nonexistent" in the models folder; available: "sdxl-base-random", "default" [unknownModel]',
    );
    expect(validateMissing).toMatchObject({ code: 0, stdout: 'ok\n' });
    expect(size.code).toBe(2);
    expect(size.stderr).toContain(
      'node "latent" (emptyLatent): param "height" is 100, not a multiple of 8 (the VAE scale factor of model "default"); try 104 [latentSize]',
    );
    expect(existsSync(out)).toBe(false);
  });
});

describe('sdflow run: memory', () => {
  it('warns before starting when the estimate passes the free memory', async () => {
    // a model folder whose weights (a sparse file: no disk used) no machine has free memory for
    const models = path.join(tmp, 'big-models');
    mkdirSync(path.join(models, 'big', 'unet'), { recursive: true });
    writeFileSync(path.join(models, 'big', 'model_index.json'), '{"_class_name": "StableDiffusionXLPipeline"}');
    const weights = path.join(models, 'big', 'unet', 'diffusion_pytorch_model.fp16.safetensors');
    closeSync(openSync(weights, 'w'));
    truncateSync(weights, 64 * 1024 ** 3);
    const r = await sdflow([
      'run',
      textToImage,
      '--models',
      models,
      '--out',
      path.join(tmp, 'big-out'),
      '--set',
      'model.model="big"',
    ]);
    const lines = r.stderr.split('\n');
    expect(lines[0]).toMatch(
      /^warning: this run may need about 256\.0 GiB of memory \(model "big": 128\.0 GiB of fp32 weights, held twice while its graphs are built, plus [\d.]+ GiB of working memory\) and this machine has [\d.]+ GiB free/,
    );
    // the folder is no real model: the run fails at Load Model, after the warning
    expect(r.code).toBe(1);
  });
});

describe('sdflow: CUDA without its provider', () => {
  it.skipIf(existsSync(path.join(ortNativeDir(), 'libonnxruntime_providers_cuda.so')))(
    '--device cuda prints one line pointing to the README, before any work',
    async () => {
      const out = path.join(tmp, 'cuda-out');
      const r = await sdflow(['run', textToImage, '--out', out, '--device', 'cuda']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(
        /^sdflow run: the CUDA device needs ONNX Runtime's CUDA provider .*README\.md, section "GPU"/,
      );
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(existsSync(out)).toBe(false);
    },
  );
});

describe('sdflow: version and help', () => {
  it('--version prints the package version', async () => {
    const { version } = JSON.parse(readFileSync(path.join(repoRoot, 'apps/runtime/package.json'), 'utf8'));
    expect(await sdflow(['--version'])).toMatchObject({ code: 0, stdout: `sdflow ${version}\n` });
  });

  it.each(['validate', 'export', 'run'])('%s --help prints its usage and exits 0', async (command) => {
    const r = await sdflow([command, '--help']);
    expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(new RegExp(`^usage: sdflow ${command} `));
  });

  it('run --help explains --set and --device', async () => {
    const { stdout } = await sdflow(['run', '--help']);
    expect(stdout).toMatch(/--set NODE\.PARAM=VALUE[\s\S]*JSON[\s\S]*--set denoise\.steps=20/);
    expect(stdout).toMatch(/--device D\s+cpu, cuda or webgpu[\s\S]*"auto"[\s\S]*README\.md, "GPU"/);
  });
});
