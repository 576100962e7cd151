import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestServer, type TestServer } from './test/test-server.ts';

// Uploads for Load Image on a real server: images only, safe flat names, never replacing another picture.

describe('serve: input images', () => {
  let s: TestServer;
  let png: Buffer;
  beforeAll(async () => {
    s = await startTestServer();
    png = await sharp({ create: { width: 8, height: 8, channels: 3, background: { r: 200, g: 30, b: 30 } } })
      .png()
      .toBuffer();
  });
  afterAll(async () => {
    await s?.stop();
  });

  const upload = (name: string, body: Buffer) =>
    fetch(`${s.url}/api/inputs?name=${encodeURIComponent(name)}`, {
      method: 'POST',
      headers: { 'content-type': 'application/octet-stream' },
      body,
    });

  it('stores an uploaded image under its name, then under a counted one, and lists and serves them', async () => {
    const first = await upload('photo.png', png);
    expect(first.status).toBe(201);
    expect(await first.json()).toEqual({ name: 'photo.png' });
    expect(await (await upload('photo.png', png)).json()).toEqual({ name: 'photo_1.png' });
    const list = (await (await fetch(`${s.url}/api/inputs`)).json()) as { files: { name: string }[] };
    expect(list.files.map((f) => f.name).sort()).toEqual(['photo.png', 'photo_1.png']);
    const served = await fetch(`${s.url}/api/inputs/photo_1.png`);
    expect(served.headers.get('content-type')).toBe('image/png');
    expect(Buffer.from(await served.arrayBuffer())).toEqual(png);
  });

  it('refuses what is not an image, and names that are not flat image names', async () => {
    const text = await upload('notes.png', Buffer.from('not an image'));
    expect(text.status).toBe(415);
    expect(await text.json()).toMatchObject({ error: { code: 'notAnImage' } });
    for (const name of ['../escape.png', 'sub/x.png', '.hidden.png', 'script.svg']) {
      const r = await upload(name, png);
      expect(r.status, name).toBe(400);
      expect(JSON.stringify(await r.json())).not.toContain(s.dirs.root);
    }
    const list = (await (await fetch(`${s.url}/api/inputs`)).json()) as { files: { name: string }[] };
    expect(list.files.map((f) => f.name)).not.toContain('notes.png');
  });
});
