import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseSpec } from '../../core/spec/load.ts';
import { EXAMPLE_SPEC } from '../commands/demo.ts';
import { demoCast } from './run-demo.ts';

describe('demoCast', () => {
  const spec = parseSpec(readFileSync(EXAMPLE_SPEC, 'utf8'), 'example.yaml');

  it('loses the last gateway by name and fails the VIP\'s first backend at its location', () => {
    expect(demoCast(spec, 'api')).toEqual({ failingVm: 'vm-b1', lostGateway: 'gw-west' });
  });

  it('with one gateway loses none; without locations fails the VIP\'s last backend', () => {
    const one = { ...spec, gateways: spec.gateways.slice(0, 1) };
    expect(demoCast(one, 'api')).toEqual({ failingVm: 'vm-b2', lostGateway: undefined });
    const nowhere = { ...spec, gateways: spec.gateways.map((g) => ({ ...g, location: undefined })) };
    expect(demoCast(nowhere, 'api').failingVm).toBe('vm-b2');
  });
});
