import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { specJsonSchema, specJsonSchemaText } from './json-schema.ts';

const FILE = fileURLToPath(new URL('../../docs/spec.schema.json', import.meta.url));

describe('docs/spec.schema.json', () => {
  it('is up to date (regenerate with UPDATE_GOLDEN=1 npx vitest run core/spec)', () => {
    const text = specJsonSchemaText();
    if (process.env.UPDATE_GOLDEN === '1') writeFileSync(FILE, text);
    const committed = existsSync(FILE) ? readFileSync(FILE, 'utf8') : '';
    expect(committed, 'docs/spec.schema.json is stale: run UPDATE_GOLDEN=1 npx vitest run core/spec').toBe(text);
  });

  it('rejects unknown fields and marks defaulted fields optional', () => {
    const schema = specJsonSchema() as {
      additionalProperties: boolean;
      required: string[];
      properties: { vips: { items: { required: string[]; properties: Record<string, { default?: unknown }> } } };
    };
    expect(schema.additionalProperties).toBe(false);
    expect(schema.required).toEqual(['deployment', 'gateways', 'hosts', 'vms', 'vips']);
    const vip = schema.properties.vips.items;
    expect(vip.required).not.toContain('slots');
    expect(vip.properties.slots!.default).toBe(65536);
  });

  it('requires host ports and VM NIC ports, and leaves VM MACs and VIP target ports optional', () => {
    type Obj = { required: string[]; properties: Record<string, unknown> };
    const schema = specJsonSchema() as { properties: Record<'hosts' | 'vms' | 'vips', { items: Obj }> };
    const { hosts, vms, vips } = schema.properties;
    expect(hosts.items.required).toContain('ports');
    expect((hosts.items.properties.ports as Obj).required).toEqual(['underlay']);
    expect(vms.items.required).toContain('nicPort');
    expect(vms.items.required).not.toContain('mac');
    expect(vms.items.properties).toHaveProperty('mac');
    expect(vips.items.required).not.toContain('targetPort');
    expect(vips.items.properties).toHaveProperty('targetPort');
  });
});
