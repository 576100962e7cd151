import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './helpers/server-process.ts';

// `npm install` and `npm start` print no warnings: no project config npm does not know (npm 11 warns about each on
// every command), and every dependency with an install script is approved or denied in package.json's allowScripts
// (npm 11 lists unreviewed ones after each install). onnxruntime-node's script, which downloads CUDA binaries from
// a host CI cannot reach, stays denied.

const INSTALL_SCRIPTS = ['preinstall', 'install', 'postinstall'];

/** Every installed package (scoped ones included) whose package.json has an install script. */
function packagesWithInstallScripts(): string[] {
  const root = path.join(repoRoot, 'node_modules');
  const names = readdirSync(root).flatMap((n) =>
    n.startsWith('@') ? readdirSync(path.join(root, n)).map((s) => `${n}/${s}`) : n.startsWith('.') ? [] : [n],
  );
  return names.filter((name) => {
    const file = path.join(root, name, 'package.json');
    if (!existsSync(file)) return false;
    const scripts = (JSON.parse(readFileSync(file, 'utf8')) as { scripts?: Record<string, string> }).scripts ?? {};
    return INSTALL_SCRIPTS.some((s) => s in scripts);
  });
}

describe('install configuration', () => {
  it('keeps no project config that npm does not know', () => {
    const npmrc = path.join(repoRoot, '.npmrc');
    const keys = existsSync(npmrc)
      ? readFileSync(npmrc, 'utf8')
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l && !l.startsWith('#') && !l.startsWith(';'))
          .map((l) => l.split('=')[0]!.trim())
      : [];
    expect(keys.filter((k) => k.startsWith('onnxruntime'))).toEqual([]);
    // and npm itself, on any command here, says nothing on stderr
    const r = spawnSync('npm', ['pkg', 'get', 'name'], { cwd: repoRoot, encoding: 'utf8' });
    expect(r.stderr).toBe('');
    expect(r.stdout.trim()).toBe('"sdflow"');
  });

  it('reviews every install script in allowScripts, and denies the CUDA download', () => {
    const { allowScripts } = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as {
      allowScripts: Record<string, boolean>;
    };
    const reviewed = new Set(Object.keys(allowScripts).map((k) => k.replace(/(.)@.*$/, '$1')));
    expect(packagesWithInstallScripts().filter((name) => !reviewed.has(name))).toEqual([]);
    expect(allowScripts['onnxruntime-node']).toBe(false);
  });
});
