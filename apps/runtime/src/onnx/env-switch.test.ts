import { afterEach, describe, expect, it } from 'vitest';
import { cudaDecoderLayout } from './builders/decoder-layout.ts';
import { envJsonObject, envSwitch } from './env-switch.ts';

describe('experiment switches', () => {
  afterEach(() => {
    delete process.env.SDFLOW_TEST_SWITCH;
    delete process.env.SDFLOW_CUDA_DECODER_LAYOUT;
  });

  it('gives the value when it is one of the allowed ones, undefined when unset or empty', () => {
    expect(envSwitch('SDFLOW_TEST_SWITCH', ['0', 'same'])).toBeUndefined();
    process.env.SDFLOW_TEST_SWITCH = '';
    expect(envSwitch('SDFLOW_TEST_SWITCH', ['0', 'same'])).toBeUndefined();
    process.env.SDFLOW_TEST_SWITCH = 'same';
    expect(envSwitch('SDFLOW_TEST_SWITCH', ['0', 'same'])).toBe('same');
  });

  it('rejects a mistyped value, naming the variable and what it takes', () => {
    process.env.SDFLOW_TEST_SWITCH = 'off';
    expect(() => envSwitch('SDFLOW_TEST_SWITCH', ['0', 'same'])).toThrow(
      "SDFLOW_TEST_SWITCH must be one of 0, same (or unset), got 'off'",
    );
    process.env.SDFLOW_CUDA_DECODER_LAYOUT = 'NCHW';
    expect(() => cudaDecoderLayout()).toThrow(/SDFLOW_CUDA_DECODER_LAYOUT must be one of nhwc, nchw/);
    process.env.SDFLOW_CUDA_DECODER_LAYOUT = 'nchw';
    expect(cudaDecoderLayout()).toBe('nchw');
  });

  it('reads a JSON object variable, and names the variable when it holds anything else', () => {
    delete process.env.SDFLOW_TEST_JSON;
    expect(envJsonObject('SDFLOW_TEST_JSON', 'options')).toEqual({});
    process.env.SDFLOW_TEST_JSON = '{"a":1}';
    expect(envJsonObject('SDFLOW_TEST_JSON', 'options')).toEqual({ a: 1 });
    for (const bad of ['{a:1}', '[1]', '3'])
      expect(() => {
        process.env.SDFLOW_TEST_JSON = bad;
        envJsonObject('SDFLOW_TEST_JSON', 'options');
      }).toThrow(`SDFLOW_TEST_JSON must be a JSON object of options, got: ${bad}`);
    delete process.env.SDFLOW_TEST_JSON;
  });
});
